"""The iCalendar feed: parsed back with icalendar, local times right across a daylight-saving
change, behind a secret link that a revocation turns into a 404, and `calendar_url` on the API."""

import datetime as dt
import json
import zoneinfo

import icalendar
import pytest
from dateutil.rrule import rrulestr
from django.test import Client

from migrations_app.audit import Actor
from migrations_app.incidents import announcements
from migrations_app.models import AuditEvent
from migrations_app.rollout import schedule
from migrations_app.rollout.models import CalendarFeed
from tests.factories import make_migration, put_live

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
UTC = dt.UTC


def events(response) -> dict[str, icalendar.Event]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(event["summary"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def planned(migration):
    """Steps on both sides of the spring change (29 March 2027 in Paris: 28 March), a weekly
    freeze, a maintenance window and a target date."""
    migration.target_date = dt.date(2027, 4, 15)
    migration.save(update_fields=["target_date"])
    put_live(migration, 5)
    before = dt.datetime(2027, 3, 26, 9, tzinfo=PARIS)  # CET: 08:00 UTC
    after = dt.datetime(2027, 3, 30, 9, tzinfo=PARIS)  # CEST: 07:00 UTC
    now = dt.datetime(2027, 3, 1, tzinfo=UTC)
    for percent, at in ((25, before), (50, after)):
        schedule.schedule_step(
            migration, to=percent, at=at.astimezone(UTC), zone="Europe/Paris", by=SYSTEM, now=now
        )
    schedule.create_freeze(
        migration=migration,
        name="Weekend freeze",
        zone="Europe/Paris",
        by=SYSTEM,
        weekly=(4, dt.time(16), 0, dt.time(8)),
    )
    announcement = announcements.draft(migration, by=SYSTEM, kind="maintenance")
    announcement.starts_at = dt.datetime(2027, 4, 10, 22, tzinfo=UTC)
    announcement.ends_at = dt.datetime(2027, 4, 11, 2, tzinfo=UTC)
    announcement.status = "scheduled"
    announcement.save()
    return migration


def test_the_feed_parses_and_shows_paris_wall_clock_times_across_the_dst_change(client, planned):
    feed = schedule.create_feed(migration=planned, by=SYSTEM)
    found = events(Client().get(feed.path))  # no login: the secret link is the key
    first = found["Traffic to 25 %: Card payments go-live"]["dtstart"].dt
    second = found["Traffic to 50 %: Card payments go-live"]["dtstart"].dt
    assert (first.hour, first.minute, str(first.tzinfo)) == (9, 0, "Europe/Paris")
    assert (second.hour, second.minute, str(second.tzinfo)) == (9, 0, "Europe/Paris")
    assert first.astimezone(UTC).hour == 8 and second.astimezone(UTC).hour == 7
    maintenance = found["Maintenance: Card payments go-live"]
    assert maintenance["dtstart"].dt == dt.datetime(2027, 4, 10, 22, tzinfo=UTC)
    go_live = found["Target go-live: Card payments go-live"]
    assert go_live["dtstart"].dt == dt.date(2027, 4, 15)
    assert found["Traffic to 25 %: Card payments go-live"]["url"].endswith("/migrations/card-payments/")


def test_a_weekly_freeze_is_one_event_whose_occurrences_stay_at_16_00_in_paris(client, planned):
    feed = schedule.create_feed(migration=planned, by=SYSTEM)
    response = Client().get(feed.path)
    assert b"BEGIN:VTIMEZONE" in response.content and b"TZID:Europe/Paris" in response.content
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT15M" in response.content  # calendars fetch it again
    freeze = events(response)["Change freeze: Weekend freeze (Card payments go-live)"]
    start, end = freeze["dtstart"].dt, freeze["dtend"].dt
    assert start.weekday() == 4 and (start.hour, start.minute) == (16, 0)
    assert end.weekday() == 0 and (end.hour, end.minute) == (8, 0)
    rule = freeze["rrule"].to_ical().decode()
    assert rule == "FREQ=WEEKLY;BYDAY=FR"
    # Expanded the way a calendar does: 16:00 in Paris every Friday, 15:00 UTC in winter, 14:00 in summer.
    occurrences = rrulestr(rule, dtstart=start)
    around = occurrences.between(
        dt.datetime(2027, 3, 20, tzinfo=PARIS), dt.datetime(2027, 4, 3, tzinfo=PARIS)
    )
    assert [(o.day, o.hour) for o in around] == [(26, 16), (2, 16)]
    assert [o.astimezone(UTC).hour for o in around] == [15, 14]


def test_the_everything_feed_holds_every_migration(client, planned):
    other = make_migration(name="Wallet go-live", target_date=dt.date(2027, 5, 1))
    schedule.create_freeze(
        migration=None,
        name="Year-end freeze",
        zone="UTC",
        by=SYSTEM,
        starts_at=dt.datetime(2027, 12, 20, tzinfo=UTC),
        ends_at=dt.datetime(2028, 1, 3, tzinfo=UTC),
    )
    found = events(Client().get(schedule.create_feed(migration=None, by=SYSTEM).path))
    assert "Target go-live: Wallet go-live" in found and "Target go-live: Card payments go-live" in found
    assert "Change freeze: Year-end freeze (every migration)" in found
    assert "Traffic to 25 %: Card payments go-live" in found
    mine = events(Client().get(schedule.create_feed(migration=other, by=SYSTEM).path))
    assert "Change freeze: Year-end freeze (every migration)" in mine  # a global freeze holds it too
    assert "Traffic to 25 %: Card payments go-live" not in mine


def test_revoking_the_link_makes_the_feed_404_and_is_audited(client_for, ops, planned):
    client = client_for(ops)
    response = client.post("/migrations/card-payments/traffic/calendar/", follow=True)
    assert "Calendar link created" in response.content.decode()
    feed = CalendarFeed.objects.get()
    assert feed.path in response.content.decode()  # the page shows the address to subscribe to
    assert Client().get(feed.path).status_code == 200
    response = client.post(f"/calendar-links/{feed.pk}/revoke/", follow=True)
    assert "Calendar link revoked" in response.content.decode()
    gone = Client().get(feed.path)
    assert gone.status_code == 404 and b"BEGIN:VCALENDAR" not in gone.content
    assert Client().get("/calendar/not-a-token.ics").status_code == 404
    actions = list(
        AuditEvent.objects.filter(action__startswith="calendar_feed").values_list("action", flat=True)
    )
    assert sorted(actions) == ["calendar_feed.created", "calendar_feed.revoked"]


def test_who_may_create_and_revoke_links(client_for, pm, ops, admin_user, migration):
    assert client_for(pm).post("/migrations/card-payments/traffic/calendar/").status_code == 403
    assert client_for(ops).post("/freezes/calendar/").status_code == 403  # everything's link: Admins
    assert not CalendarFeed.objects.exists()
    assert client_for(admin_user).post("/freezes/calendar/").status_code == 302
    feed = CalendarFeed.objects.get(migration=None)
    assert client_for(ops).post(f"/calendar-links/{feed.pk}/revoke/").status_code == 403
    feed.refresh_from_db()
    assert feed.is_active


def test_the_migration_api_carries_its_calendar_url_and_the_api_manages_links(
    client, operate_token, migration
):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {operate_token}"}
    assert client.get("/api/v1/migrations/card-payments", **headers).json()["calendar_url"] is None
    created = client.post(
        "/api/v1/calendar-feeds", json.dumps({"migration": "card-payments"}), "application/json", **headers
    )
    assert created.status_code == 201, created.content
    url = created.json()["url"]
    assert url.startswith("http://testserver/calendar/") and url.endswith(".ics")
    assert client.get("/api/v1/migrations/card-payments", **headers).json()["calendar_url"] == url
    listed = client.get("/api/v1/migrations", **headers).json()
    assert [m["calendar_url"] for m in listed] == [url]
    everything = client.post("/api/v1/calendar-feeds", json.dumps({}), "application/json", **headers)
    assert everything.status_code == 403  # an Ops token may not make everything's link
    revoked = client.delete(f"/api/v1/calendar-feeds/{created.json()['id']}", **headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get("/api/v1/migrations/card-payments", **headers).json()["calendar_url"] is None
    assert Client().get(url.removeprefix("http://testserver")).status_code == 404
