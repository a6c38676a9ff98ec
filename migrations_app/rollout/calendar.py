"""The iCalendar (RFC 5545) feed behind a secret URL: /calendar/<token>.ics, no login.

One migration's feed, or everything's: scheduled steps, change-freeze windows (a weekly freeze as
one event with a weekly RRULE in its own zone, so calendars keep 16:00 local across a
daylight-saving change), announced maintenance windows and target go-live dates. An unknown or
revoked token answers 404, like a page that never existed."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import icalendar
from django.conf import settings
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from migrations_app.incidents.models import Announcement, AnnouncementKind, AnnouncementStatus
from migrations_app.models import Migration, MigrationStatus
from migrations_app.rollout.freezes import weekly_window_on
from migrations_app.rollout.schedule_models import (
    WEEKDAYS,
    CalendarFeed,
    ChangeFreeze,
    ScheduledStep,
    ScheduledStepState,
)

RRULE_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
STEP_MINUTES = 15  # a scheduled step is a moment; calendars show it as a short event
PAST_DAYS = 30  # steps that ran or were skipped stay in the feed this long
HOST = "golive"
REFRESH = dt.timedelta(minutes=15)


def active_feed(token: str) -> CalendarFeed | None:
    return (
        CalendarFeed.objects.select_related("migration").filter(token=token, revoked_at__isnull=True).first()
    )


def feed_for(migration: Migration | None) -> CalendarFeed | None:
    """The newest active feed of a migration (None: everything's)."""
    return CalendarFeed.objects.filter(migration=migration, revoked_at__isnull=True).first()


@require_GET
def calendar_feed(request, token: str):
    feed = active_feed(token)
    if feed is None:
        raise Http404("No calendar at this address: the link is wrong or was revoked.")
    response = HttpResponse(build(feed.migration), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="golive.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def build(migration: Migration | None, *, now: dt.datetime | None = None) -> bytes:
    now = now or timezone.now()
    cal = icalendar.Calendar()
    cal.add("prodid", "-//golive//change calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"golive: {migration.name}" if migration else "golive: every migration")
    # How often subscribed calendars should fetch again (RFC 7986, and the older Outlook name).
    cal.add("refresh-interval", icalendar.vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", icalendar.vDuration(REFRESH))
    migrations = Migration.objects.exclude(status=MigrationStatus.ABORTED)
    if migration is not None:
        migrations = migrations.filter(pk=migration.pk)
    for event in [
        *_steps(migration, now),
        *_freezes(migration),
        *_maintenance(migration),
        *_go_live_dates(migrations),
    ]:
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


def _event(uid: str, summary: str, stamp: dt.datetime, description: str = "") -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"{uid}@{HOST}")
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    event.add("summary", summary)
    if description:
        event.add("description", description)
    return event


def _steps(migration: Migration | None, now: dt.datetime) -> list[icalendar.Event]:
    rows = ScheduledStep.objects.select_related("migration").filter(
        Q(state=ScheduledStepState.SCHEDULED) | Q(at__gte=now - dt.timedelta(days=PAST_DAYS))
    )
    if migration is not None:
        rows = rows.filter(migration=migration)
    events = []
    for step in rows:
        state = "" if step.state == ScheduledStepState.SCHEDULED else f" ({step.get_state_display().lower()})"
        event = _event(
            f"scheduled-step-{step.pk}",
            f"Traffic to {step.percent} %{state}: {step.migration.name}",
            step.created_at,
            step.outcome or f"Scheduled by {step.created_by}. {step.reason}".strip(),
        )
        start = step.at.astimezone(zoneinfo.ZoneInfo(step.zone))
        event.add("dtstart", start)
        event.add("dtend", start + dt.timedelta(minutes=STEP_MINUTES))
        event.add("url", _url(step.migration.get_absolute_url()))
        events.append(event)
    return events


def _freezes(migration: Migration | None) -> list[icalendar.Event]:
    rows = ChangeFreeze.objects.select_related("migration")
    if migration is not None:
        rows = rows.filter(Q(migration=migration) | Q(migration__isnull=True))
    events = []
    for freeze in rows:
        event = _event(
            f"change-freeze-{freeze.pk}",
            f"Change freeze: {freeze.name} ({freeze.scope})",
            freeze.created_at,
            f"No traffic advance for {freeze.scope}. {freeze.reason}".strip(),
        )
        tz = zoneinfo.ZoneInfo(freeze.zone)
        if freeze.is_weekly:
            assert freeze.start_weekday is not None
            first = freeze.created_at.astimezone(tz).date()
            first += dt.timedelta(days=(freeze.start_weekday - first.weekday()) % 7)
            window = weekly_window_on(freeze, first)
            event.add("dtstart", window.starts_at.astimezone(tz))
            event.add("dtend", window.ends_at.astimezone(tz))
            event.add("rrule", {"freq": "weekly", "byday": RRULE_DAYS[freeze.start_weekday]})
            event.add("comment", f"Every {WEEKDAYS[freeze.start_weekday]}: {freeze.recurrence()}")
        else:
            assert freeze.starts_at is not None and freeze.ends_at is not None
            event.add("dtstart", freeze.starts_at.astimezone(tz))
            event.add("dtend", freeze.ends_at.astimezone(tz))
        events.append(event)
    return events


def _maintenance(migration: Migration | None) -> list[icalendar.Event]:
    rows = Announcement.objects.select_related("migration").filter(
        kind=AnnouncementKind.MAINTENANCE,
        status__in=[AnnouncementStatus.SCHEDULED, AnnouncementStatus.SENT],
        starts_at__isnull=False,
        ends_at__isnull=False,
    )
    if migration is not None:
        rows = rows.filter(migration=migration)
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    events = []
    for announcement in rows:
        assert announcement.starts_at is not None and announcement.ends_at is not None
        event = _event(
            f"maintenance-{announcement.pk}",
            f"Maintenance: {announcement.migration.name}",
            announcement.created_at,
            announcement.subject,
        )
        event.add("dtstart", announcement.starts_at.astimezone(tz))
        event.add("dtend", announcement.ends_at.astimezone(tz))
        events.append(event)
    return events


def _go_live_dates(migrations) -> list[icalendar.Event]:
    events = []
    for migration in migrations.filter(target_date__isnull=False):
        event = _event(
            f"go-live-{migration.pk}",
            f"Target go-live: {migration.name}",
            migration.created_at,
            f"{migration.integration}: status {migration.get_status_display()}.",
        )
        event.add("dtstart", migration.target_date)
        event.add("dtend", migration.target_date + dt.timedelta(days=1))
        event.add("url", _url(migration.get_absolute_url()))
        events.append(event)
    return events


def _url(path: str) -> str:
    return settings.GOLIVE_BASE_URL + path
