"""Your settings: theme and time zone, on the page and through /api/v1, each change audited;
every page then shows times in the person's own zone, named, and in their theme."""

import datetime as dt
import json

import pytest

from migrations_app.audit import Actor
from migrations_app.models import AuditEvent, UserPreference
from migrations_app.rollout import tokens

pytestmark = pytest.mark.django_db

SUMMER_NOON_UTC = dt.datetime(2026, 7, 1, 12, 0, tzinfo=dt.UTC)
WINTER_NOON_UTC = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def test_a_person_chooses_dark_and_paris_and_every_page_follows(client_for, ops, migration):
    client = client_for(ops)
    assert 'data-theme="system"' in client.get("/people/me/").content.decode()
    response = client.post("/people/me/", {"theme": "dark", "time_zone": "Europe/Paris"})
    assert response.status_code == 302 and response["Location"] == "/people/me/"
    migration.status_changed_at = SUMMER_NOON_UTC
    migration.save(update_fields=["status_changed_at"])
    page = client.get(migration.get_absolute_url()).content.decode()
    assert '<html lang="en" data-theme="dark">' in page
    assert "14:00 CEST" in page  # noon UTC in Paris in summer, the zone named
    assert "times in Europe/Paris" in page
    migration.status_changed_at = WINTER_NOON_UTC
    migration.save(update_fields=["status_changed_at"])
    assert "13:00 CET" in client.get(migration.get_absolute_url()).content.decode()
    event = AuditEvent.objects.get(action="user.preferences_changed")
    assert event.actor_user == ops
    assert event.before == {"theme": "system", "time_zone": ""}
    assert event.after == {"theme": "dark", "time_zone": "Europe/Paris"}


def test_other_people_keep_golive_s_own_zone(client_for, ops, pm, migration):
    client_for(ops).post("/people/me/", {"theme": "dark", "time_zone": "Asia/Tokyo"})
    migration.status_changed_at = SUMMER_NOON_UTC
    migration.save(update_fields=["status_changed_at"])
    page = client_for(pm).get(migration.get_absolute_url()).content.decode()
    assert "12:00 UTC" in page and 'data-theme="system"' in page


def test_an_unknown_time_zone_is_refused_naming_the_field_and_changes_nothing(client_for, ops):
    client = client_for(ops)
    client.post("/people/me/", {"theme": "light", "time_zone": "Europe/Paris"})
    events = AuditEvent.objects.count()
    for bad in ({"theme": "light", "time_zone": "Mars/Olympus"}, {"theme": "neon", "time_zone": ""}):
        response = client.post("/people/me/", bad)
        assert response.status_code == 422
        assert ("Time zone:" if bad["theme"] == "light" else "Theme:") in response.content.decode()
    assert AuditEvent.objects.count() == events
    assert UserPreference.objects.get(user=ops).time_zone == "Europe/Paris"


def test_saving_the_same_settings_again_records_nothing(client_for, ops):
    client = client_for(ops)
    client.post("/people/me/", {"theme": "dark", "time_zone": ""})
    client.post("/people/me/", {"theme": "dark", "time_zone": ""})
    assert AuditEvent.objects.filter(action="user.preferences_changed").count() == 1


def test_strangers_are_sent_to_log_in(client):
    response = client.get("/people/me/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def _bearer(user, scopes=("operate",)):
    tokens.cache.clear()
    _, raw = tokens.create_token(user=user, name="prefs", scopes=list(scopes), by=Actor.system("tests"))
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_the_api_reads_and_changes_the_token_s_own_user_s_settings(client, ops):
    auth = _bearer(ops)
    assert client.get("/api/v1/me/preferences", **auth).json() == {
        "theme": "system",
        "time_zone": "",
        "shown_in": "UTC",
    }
    body = json.dumps({"theme": "dark", "time_zone": "America/New_York"})
    answer = client.put("/api/v1/me/preferences", body, content_type="application/json", **auth)
    assert answer.status_code == 200
    assert answer.json() == {"theme": "dark", "time_zone": "America/New_York", "shown_in": "America/New_York"}
    event = AuditEvent.objects.get(action="user.preferences_changed")
    assert event.actor_user == ops and event.after["time_zone"] == "America/New_York"


def test_the_api_refuses_an_unknown_zone_naming_the_field(client, ops):
    auth = _bearer(ops)
    for body, field, status in (
        ({"theme": "dark", "time_zone": "Mars/Olympus"}, "time_zone", 409),  # well-formed, unknown
        ({"theme": "neon"}, "theme", 400),
    ):
        answer = client.put(
            "/api/v1/me/preferences", json.dumps(body), content_type="application/json", **auth
        )
        assert answer.status_code == status, answer.content
        assert field in json.dumps(answer.json())
    assert (
        not UserPreference.objects.exists()
        and not AuditEvent.objects.filter(action="user.preferences_changed").exists()
    )


def test_the_api_needs_an_operate_token(client, ops):
    assert client.get("/api/v1/me/preferences").status_code == 401
    assert client.get("/api/v1/me/preferences", **_bearer(ops, scopes=("flags",))).status_code == 403
