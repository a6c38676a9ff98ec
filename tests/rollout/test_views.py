"""The traffic panel's actions: htmx partials, events, refusals and validation."""

import pytest

from migrations_app.audit import Actor
from migrations_app.models import AuditEvent, MigrationStatus
from migrations_app.rollout import gates, services
from migrations_app.rollout.models import Rollback, RolloutPlan, TrafficChange
from migrations_app.rollout.selectors import current_percent
from tests.factories import put_live
from tests.rollout.conftest import make_ready

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def open_gates(monkeypatch):
    monkeypatch.setattr(gates, "go_live_gate_blocker", lambda migration: None)
    monkeypatch.setattr(gates, "guardrail_blocker", lambda migration: None)


def test_the_migration_page_shows_the_traffic_panel_and_the_red_button(client_for, oncall, live_migration):
    page = client_for(oncall).get("/migrations/card-payments/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="traffic-panel"' in html and "25 %" in html
    assert "Roll back to 0 %" in html and "btn-danger" in html


def test_ops_do_not_get_the_rollback_button(client_for, ops, live_migration):
    html = client_for(ops).get("/migrations/card-payments/").content.decode()
    assert "Confirm rollback" not in html and "On-call and Admin can roll back" in html


def test_the_advance_button_is_disabled_and_says_why(client_for, ops, migration, monkeypatch):
    monkeypatch.setattr(gates, "go_live_gate_blocker", lambda m: "Testing is not signed off by the QA Lead.")
    make_ready(migration)
    html = client_for(ops).get("/migrations/card-payments/").content.decode()
    assert "Advance to 5 %" in html and "Not yet: Testing is not signed off by the QA Lead." in html
    assert 'disabled aria-describedby="advance-why"' in html


def test_it_rolls_back_from_the_button(client_for, oncall, live_migration):
    response = client_for(oncall).post("/migrations/card-payments/rollback/", {"reason": "errors"}, **HX)
    assert response.status_code == 200
    assert "trafficChanged" in response["HX-Trigger"]
    html = response.content.decode()
    assert html.lstrip().startswith("{#") or html.lstrip().startswith("<section")
    assert "<html" not in html and "0 %" in html and "Rolled back at" in html and "by oncall-user" in html
    assert current_percent(live_migration) == 0


def test_a_second_click_is_told_who_rolled_back_first(client_for, oncall, admin_user, live_migration):
    client_for(oncall).post("/migrations/card-payments/rollback/", {"reason": "errors"}, **HX)
    response = client_for(admin_user).post("/migrations/card-payments/rollback/", {"reason": "me too"}, **HX)
    assert response.status_code == 200
    assert (
        "Already rolled back at" in response.content.decode()
        and "by oncall-user." in response.content.decode()
    )
    assert Rollback.objects.count() == 1


def test_rollback_without_a_reason_names_the_field_and_changes_nothing(client_for, oncall, live_migration):
    response = client_for(oncall).post("/migrations/card-payments/rollback/", {"reason": " "}, **HX)
    assert response.status_code == 422
    assert "Reason:" in response.content.decode()
    assert current_percent(live_migration) == 25 and not Rollback.objects.exists()


def test_rollback_without_htmx_redirects_to_the_page(client_for, oncall, live_migration):
    response = client_for(oncall).post("/migrations/card-payments/rollback/", {"reason": "errors"})
    assert response.status_code == 302 and response["Location"] == "/migrations/card-payments/"
    assert current_percent(live_migration) == 0


@pytest.mark.parametrize(
    "path",
    ["rollback/", "traffic/set/", "traffic/plan/", "traffic/pause/", "traffic/resume/"],
)
def test_outsiders_and_wrong_groups_are_refused(client_for, outsider, pm, live_migration, path):
    data = {"reason": "x", "percent": "50", "steps": "5,100", "soak_minutes": "5"}
    assert client_for(outsider).post(f"/migrations/card-payments/{path}", data, **HX).status_code == 403
    assert client_for(pm).post(f"/migrations/card-payments/{path}", data, **HX).status_code == 403
    assert current_percent(live_migration) == 25 and not TrafficChange.objects.exists()


@pytest.mark.parametrize(
    "path",
    ["rollback/", "traffic/set/", "traffic/plan/", "traffic/pause/", "traffic/resume/", "rollback/steps/1/"],
)
def test_get_is_not_allowed_on_actions(client_for, admin_user, live_migration, path):
    assert client_for(admin_user).get(f"/migrations/card-payments/{path}").status_code == 405


def test_it_advances_from_the_button(client_for, ops, migration):
    make_ready(migration)
    response = client_for(ops).post("/migrations/card-payments/traffic/set/", {"percent": "5"}, **HX)
    assert response.status_code == 200 and "trafficChanged" in response["HX-Trigger"]
    assert current_percent(migration) == 5


def test_it_refuses_an_advance_during_the_soak_and_changes_nothing(client_for, ops, migration):
    make_ready(migration)
    client = client_for(ops)
    client.post("/migrations/card-payments/traffic/set/", {"percent": "5"}, **HX)
    response = client.post("/migrations/card-payments/traffic/set/", {"percent": "25"}, **HX)
    assert response.status_code == 422 and "Soaking at 5 %" in response.content.decode()
    assert current_percent(migration) == 5


def test_a_bad_percent_names_the_field(client_for, ops, live_migration):
    response = client_for(ops).post("/migrations/card-payments/traffic/set/", {"percent": "lots"}, **HX)
    assert response.status_code == 422 and "Percent:" in response.content.decode()
    assert current_percent(live_migration) == 25


def test_only_admins_may_override(client_for, ops, admin_user, migration):
    make_ready(migration)
    client_for(ops).post("/migrations/card-payments/traffic/set/", {"percent": "5"}, **HX)
    data = {"percent": "25", "override": "1", "reason": "rehearsal"}
    assert client_for(ops).post("/migrations/card-payments/traffic/set/", data, **HX).status_code == 403
    response = client_for(admin_user).post("/migrations/card-payments/traffic/set/", data, **HX)
    assert response.status_code == 200 and current_percent(migration) == 25
    assert AuditEvent.objects.filter(action="traffic.overridden", reason="rehearsal").exists()


def test_it_pauses_and_resumes(client_for, ops, live_migration):
    client = client_for(ops)
    assert client.post("/migrations/card-payments/traffic/pause/", {"reason": ""}, **HX).status_code == 422
    assert (
        client.post("/migrations/card-payments/traffic/pause/", {"reason": "vendor"}, **HX).status_code == 200
    )
    live_migration.refresh_from_db()
    assert live_migration.status == MigrationStatus.PAUSED
    assert client.post("/migrations/card-payments/traffic/resume/", {"reason": "ok"}, **HX).status_code == 200
    live_migration.refresh_from_db()
    assert live_migration.status == MigrationStatus.ROLLING_OUT


def test_it_saves_the_plan_and_names_bad_fields(client_for, ops, live_migration):
    client = client_for(ops)
    bad = client.post(
        "/migrations/card-payments/traffic/plan/", {"steps": "5, 50", "soak_minutes": "10"}, **HX
    )
    assert bad.status_code == 422 and "ending at 100" in bad.content.decode()
    assert RolloutPlan.objects.get().steps == [5, 25, 50, 100]
    ok = client.post(
        "/migrations/card-payments/traffic/plan/", {"steps": "10, 50, 100", "soak_minutes": "5"}, **HX
    )
    assert ok.status_code == 200
    assert RolloutPlan.objects.get().steps == [10, 50, 100]


def test_the_on_call_ticks_the_playbook(client_for, oncall, live_migration):
    client = client_for(oncall)
    client.post("/migrations/card-payments/rollback/", {"reason": "errors"}, **HX)
    step = Rollback.objects.get().steps.first()
    response = client.post(f"/migrations/card-payments/rollback/steps/{step.pk}/", {"done": "1"}, **HX)
    assert response.status_code == 200
    step.refresh_from_db()
    assert step.done_by == "oncall-user"


def test_outsiders_cannot_tick_the_playbook(client_for, oncall, outsider, ops, live_migration):
    client_for(oncall).post("/migrations/card-payments/rollback/", {"reason": "errors"}, **HX)
    step = Rollback.objects.get().steps.first()
    for user in (outsider, ops):
        assert (
            client_for(user)
            .post(f"/migrations/card-payments/rollback/steps/{step.pk}/", {"done": "1"}, **HX)
            .status_code
            == 403
        )
    step.refresh_from_db()
    assert step.done_at is None


def test_the_panel_refreshes_itself(client_for, pm, live_migration):
    response = client_for(pm).get("/migrations/card-payments/traffic/", **HX)
    assert response.status_code == 200 and 'id="traffic-panel"' in response.content.decode()
    put_live(live_migration, 50)
    assert "50 %" in client_for(pm).get("/migrations/card-payments/traffic/", **HX).content.decode()


def test_the_panel_asks_cheaply_whether_anything_changed(client_for, pm, oncall, live_migration):
    client = client_for(pm)
    html = client.get("/migrations/card-payments/traffic/", **HX).content.decode()
    version = html.split("traffic/version/?v=")[1].split('"')[0]
    same = client.get(f"/migrations/card-payments/traffic/version/?v={version}", **HX)
    assert same.status_code == 204
    services.roll_back(live_migration, by=Actor.for_user(oncall), reason="x")
    changed = client.get(f"/migrations/card-payments/traffic/version/?v={version}", **HX)
    assert changed.status_code == 200 and "trafficStale" in changed["HX-Trigger"]


def test_the_version_poll_refuses_outsiders_and_post(client_for, outsider, pm, live_migration):
    assert client_for(outsider).get("/migrations/card-payments/traffic/version/?v=x").status_code == 403
    assert client_for(pm).post("/migrations/card-payments/traffic/version/").status_code == 405
