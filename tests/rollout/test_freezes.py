"""Change freezes: the weekly window on Paris wall-clock time across daylight-saving changes, no
advance while one holds (button, API), rollback always, an Admin override with its reason audited,
and the freezes page (who may add what, refusals that name the field, delete)."""

import datetime as dt
import json

import pytest

from migrations_app.audit import Actor
from migrations_app.models import AuditEvent
from migrations_app.rollout import freezes, schedule
from migrations_app.rollout.models import ChangeFreeze, RolloutPlan
from tests.factories import make_migration, put_live

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
SYSTEM = Actor.system("tests")
UTC = dt.UTC


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def weekend_freeze(migration=None, *, zone="Europe/Paris", name="Weekend freeze") -> ChangeFreeze:
    return schedule.create_freeze(
        migration=migration, name=name, zone=zone, by=SYSTEM, weekly=(4, dt.time(16), 0, dt.time(8))
    )


def freeze_now(migration=None, *, name="Black Friday", hours=2) -> ChangeFreeze:
    now = dt.datetime.now(UTC)
    return schedule.create_freeze(
        migration=migration,
        name=name,
        zone="Europe/Paris",
        by=SYSTEM,
        reason="peak sales",
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=hours),
    )


# --- the windows ----------------------------------------------------------------------------------


def test_a_weekly_paris_freeze_keeps_friday_16_00_to_monday_08_00_across_the_spring_change(db):
    freeze = weekend_freeze()
    # Clocks went forward on Sunday 29 March 2026 (CET, UTC+1 -> CEST, UTC+2).
    windows = freezes.windows_between(freeze, utc(2026, 3, 17), utc(2026, 4, 7))
    assert [(w.starts_at, w.ends_at) for w in windows] == [
        (utc(2026, 3, 20, 15), utc(2026, 3, 23, 7)),  # winter: 64 h
        (utc(2026, 3, 27, 15), utc(2026, 3, 30, 6)),  # across the change: 63 h
        (utc(2026, 4, 3, 14), utc(2026, 4, 6, 6)),  # summer: 64 h, an hour earlier in UTC
    ]
    assert "Mon 30 Mar 2026, 08:00 Europe/Paris (CEST)" in windows[1].until
    assert "Fri 27 Mar 2026, 16:00 Europe/Paris (CET)" in windows[1].since
    migration = make_migration()
    assert freezes.active_freeze(migration, utc(2026, 3, 27, 14, 59)) is None  # 15:59 in Paris
    assert freezes.active_freeze(migration, utc(2026, 3, 27, 15)).freeze == freeze
    assert freezes.active_freeze(migration, utc(2026, 3, 30, 5, 59)) is not None  # 07:59 CEST
    assert freezes.active_freeze(migration, utc(2026, 3, 30, 6)) is None  # 08:00 CEST: over


def test_the_autumn_change_makes_the_window_an_hour_longer(db):
    freeze = weekend_freeze()
    # Clocks went back on Sunday 25 October 2026.
    (window,) = freezes.windows_between(freeze, utc(2026, 10, 24), utc(2026, 10, 24))
    assert (window.starts_at, window.ends_at) == (utc(2026, 10, 23, 14), utc(2026, 10, 26, 7))
    assert window.ends_at - window.starts_at == dt.timedelta(hours=65)


def test_a_freeze_of_another_migration_does_not_hold_this_one_and_a_global_one_does(db):
    mine, other = make_migration(), make_migration()
    freeze_now(other, name="Their freeze")
    assert freezes.active_freeze(mine, dt.datetime.now(UTC)) is None
    freeze_now(None, name="Company freeze")
    assert freezes.active_freeze(mine, dt.datetime.now(UTC)).freeze.name == "Company freeze"


# --- what a freeze blocks and what it never blocks -------------------------------------------------


def test_a_manual_advance_during_a_freeze_is_refused_naming_the_window(client_for, ops, migration):
    put_live(migration, 25)
    freeze_now(migration)
    response = client_for(ops).post("/migrations/card-payments/traffic/set/", {"percent": "50"}, **HX)
    assert response.status_code == 422
    html = response.content.decode()
    assert "Change freeze on: Black Friday until" in html and "Europe/Paris" in html
    assert RolloutPlan.objects.get(migration=migration).percent == 25
    page = client_for(ops).get("/migrations/card-payments/").content.decode()
    assert "Change freeze on: Black Friday" in page  # the banner on the traffic panel


def test_the_api_refuses_an_advance_during_a_freeze_with_409_naming_it(client, operate_token, migration):
    put_live(migration, 25)
    freeze_now(None, name="Year-end freeze")
    response = client.post(
        "/api/v1/migrations/card-payments/traffic",
        data=json.dumps({"percent": 50}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {operate_token}",
    )
    assert response.status_code == 409
    (error,) = response.json()["detail"]
    assert error["field"] == "percent"
    assert "Change freeze on: Year-end freeze (every migration) until" in error["message"]


def test_a_rollback_during_a_freeze_works(client_for, oncall, migration):
    put_live(migration, 50)
    freeze_now(migration)
    response = client_for(oncall).post("/migrations/card-payments/rollback/", {"reason": "errors"}, **HX)
    assert response.status_code == 200
    assert "Rolled back: traffic is at 0 %" in response.content.decode()
    assert RolloutPlan.objects.get(migration=migration).percent == 0


def test_lowering_traffic_during_a_freeze_works(client_for, ops, migration):
    put_live(migration, 50)
    freeze_now(migration)
    response = client_for(ops).post("/migrations/card-payments/traffic/set/", {"percent": "25"}, **HX)
    assert response.status_code == 200
    assert RolloutPlan.objects.get(migration=migration).percent == 25


def test_an_admin_overrides_a_freeze_with_a_reason_and_the_audit_trail_keeps_both(
    client_for, admin_user, migration
):
    put_live(migration, 25)
    freeze_now(migration)
    client = client_for(admin_user)
    data = {"percent": "50", "override": "1"}
    refused = client.post("/migrations/card-payments/traffic/set/", {**data, "reason": " "}, **HX)
    assert refused.status_code == 422 and "Say why you override the gate" in refused.content.decode()
    response = client.post(
        "/migrations/card-payments/traffic/set/", {**data, "reason": "fix for a checkout bug"}, **HX
    )
    assert response.status_code == 200
    assert RolloutPlan.objects.get(migration=migration).percent == 50
    event = AuditEvent.objects.get(action="traffic.overridden")
    assert event.actor_user == admin_user and event.reason == "fix for a checkout bug"
    assert "Change freeze on: Black Friday" in event.after["gate"]


def test_ops_may_not_override_a_freeze(client_for, ops, migration):
    put_live(migration, 25)
    freeze_now(migration)
    data = {"percent": "50", "override": "1", "reason": "please"}
    assert client_for(ops).post("/migrations/card-payments/traffic/set/", data, **HX).status_code == 403
    assert RolloutPlan.objects.get(migration=migration).percent == 25


# --- the freezes page -------------------------------------------------------------------------------

WEEKLY = {
    "name": "Weekend freeze",
    "zone": "Europe/Paris",
    "kind": "weekly",
    "start_weekday": "4",
    "start_time": "16:00",
    "end_weekday": "0",
    "end_time": "08:00",
}


def test_ops_add_a_weekly_freeze_for_their_migration_and_it_is_listed_and_audited(client_for, ops, migration):
    client = client_for(ops)
    response = client.post("/freezes/", {**WEEKLY, "migration": "card-payments"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Change freeze “Weekend freeze” saved for Card payments go-live" in html
    assert "every Friday 16:00 to Monday 08:00 (Europe/Paris)" in html
    freeze = ChangeFreeze.objects.get()
    assert freeze.migration == migration and freeze.created_by == "ops-user"
    assert AuditEvent.objects.get(action="change_freeze.created").actor_user == ops


def test_only_an_admin_adds_a_freeze_for_every_migration(client_for, ops, admin_user, pm):
    assert client_for(pm).post("/freezes/", WEEKLY).status_code == 403
    assert client_for(ops).post("/freezes/", WEEKLY).status_code == 403
    assert not ChangeFreeze.objects.exists()
    response = client_for(admin_user).post("/freezes/", WEEKLY)
    assert response.status_code == 302
    assert ChangeFreeze.objects.get().migration is None


def test_a_one_off_freeze_is_read_in_its_own_zone(client_for, admin_user):
    data = {"name": "Launch day", "zone": "Asia/Tokyo", "kind": "one_off"}
    data |= {"starts_at": "2030-01-10T09:00", "ends_at": "2030-01-10T18:00"}
    assert client_for(admin_user).post("/freezes/", data).status_code == 302
    freeze = ChangeFreeze.objects.get()
    assert freeze.starts_at == utc(2030, 1, 10, 0) and freeze.ends_at == utc(2030, 1, 10, 9)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"zone": "Mars/Olympus"}, "zone"),
        ({"start_time": ""}, "start_time"),
        ({"kind": "one_off"}, "starts_at"),
        ({"kind": "one_off", "starts_at": "2030-01-10T09:00", "ends_at": "2030-01-10T08:00"}, "ends_at"),
        ({"name": ""}, "name"),
    ],
)
def test_a_bad_freeze_is_refused_naming_the_field_and_nothing_is_saved(client_for, admin_user, change, field):
    response = client_for(admin_user).post("/freezes/", {**WEEKLY, **change})
    assert response.status_code == 422
    assert f'id="error-{field}"' in response.content.decode()
    assert not ChangeFreeze.objects.exists() and not AuditEvent.objects.filter(
        action__startswith="change_freeze"
    )


def test_deleting_a_freeze_lets_traffic_advance_again_and_is_audited(client_for, ops, migration):
    put_live(migration, 25)
    freeze = freeze_now(migration)
    client = client_for(ops)
    assert client.get("/freezes/").content.decode().count("Delete this freeze") == 1
    assert client.get(f"/freezes/{freeze.pk}/delete/").status_code == 405
    response = client.post(f"/freezes/{freeze.pk}/delete/", follow=True)
    assert "Change freeze “Black Friday” deleted" in response.content.decode()
    assert not ChangeFreeze.objects.exists()
    assert AuditEvent.objects.get(action="change_freeze.deleted").before["name"] == "Black Friday"
    assert client.post("/migrations/card-payments/traffic/set/", {"percent": "50"}, **HX).status_code == 200


def test_ops_cannot_delete_a_freeze_holding_every_migration(client_for, ops):
    freeze = freeze_now(None)
    assert client_for(ops).post(f"/freezes/{freeze.pk}/delete/").status_code == 403
    assert ChangeFreeze.objects.filter(pk=freeze.pk).exists()


# --- the API ------------------------------------------------------------------------------------------


def api(client, method, path, token, body=None):
    return client.generic(
        method,
        f"/api/v1{path}",
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_the_api_adds_lists_and_deletes_freezes(client, operate_token, admin_operate_token, migration):
    weekly = {"start_weekday": 4, "start_time": "16:00", "end_weekday": 0, "end_time": "08:00"}
    body = {"migration": "card-payments", "name": "Weekend", "zone": "Europe/Paris", "weekly": weekly}
    created = api(client, "POST", "/freezes", operate_token, body)
    assert created.status_code == 201, created.content
    assert created.json()["weekly"] == "every Friday 16:00 to Monday 08:00 (Europe/Paris)"
    assert created.json()["next_window"] is not None
    assert api(client, "POST", "/freezes", operate_token, {**body, "migration": None}).status_code == 403
    unknown = api(client, "POST", "/freezes", operate_token, {**body, "zone": "Mars/Olympus"})
    assert unknown.status_code == 409 and unknown.json()["detail"][0]["field"] == "zone"
    missing = api(client, "POST", "/freezes", operate_token, {**body, "migration": "nope"})
    assert missing.status_code == 404 and missing.json()["detail"][0]["field"] == "migration"
    listed = api(client, "GET", "/freezes", operate_token)
    assert [f["name"] for f in listed.json()] == ["Weekend"]
    freeze_id = created.json()["id"]
    assert api(client, "DELETE", f"/freezes/{freeze_id}", admin_operate_token).status_code == 204
    assert not ChangeFreeze.objects.exists()
