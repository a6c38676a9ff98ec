"""Change freezes, scheduled steps and calendar links through /api/v1 (`operate` scope).

The same rights as the pages: a migration's freeze or schedule needs `change_traffic`, a freeze
holding every migration (or everything's calendar link) an Admin. A value the schema accepts but
golive refuses (an unknown time zone, a time in the past, a percent that is no step) answers 409
naming the field."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.responses import Status

from migrations_app import access
from migrations_app.api_kit import (
    TEXT_PATTERN,
    Refused,
    TokenAuth,
    UtcDateTime,
    actor,
    answers,
    conflicts,
    only_query,
)
from migrations_app.models import SLUG_VALIDATOR, Migration
from migrations_app.rollout import freezes, schedule, zones
from migrations_app.rollout.schedule_models import CalendarFeed, ChangeFreeze, ScheduledStep

router = Router(auth=TokenAuth(scope="operate"), tags=["freezes and schedule"])
SLUG = SLUG_VALIDATOR.regex.pattern
ZONE = Field(
    "UTC",
    min_length=1,
    max_length=64,
    pattern=TEXT_PATTERN,
    description="IANA time zone (e.g. Europe/Paris); an unknown one answers 409.",
    examples=["Europe/Paris"],
)
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class WeeklyIn(Schema):
    start_weekday: int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday.")
    start_time: str = Field(pattern=CLOCK, examples=["16:00"], description="HH:MM in the freeze's zone.")
    end_weekday: int = Field(ge=0, le=6)
    end_time: str = Field(pattern=CLOCK, examples=["08:00"])


class FreezeIn(Schema):
    migration: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=SLUG,
        description="A migration's slug; null = every migration (Admin).",
    )
    name: str = Field(min_length=1, max_length=120, pattern=TEXT_PATTERN)
    reason: str = Field("", max_length=2000, pattern=TEXT_PATTERN)
    zone: str = ZONE
    starts_at: UtcDateTime | None = Field(None, description="One-off: when it starts (with a time zone).")
    ends_at: UtcDateTime | None = Field(None, description="One-off: when it ends.")
    weekly: WeeklyIn | None = Field(None, description="Weekly instead: from a weekday and time to another.")


class WindowOut(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime


class FreezeOut(Schema):
    id: int
    migration: str | None = Field(description="The migration's slug; null for every migration.")
    name: str
    reason: str
    zone: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    weekly: str = Field(description='"every Friday 16:00 to Monday 08:00 (Europe/Paris)", or "" for one-off.')
    active_until: dt.datetime | None = Field(description="Set while the freeze holds now: when it ends.")
    next_window: WindowOut | None


class StepIn(Schema):
    percent: int = Field(ge=0, le=100, description="A step of the rollout plan.")
    at: UtcDateTime = Field(description="When, with a time zone; in the future.")
    zone: str = ZONE
    reason: str = Field("", max_length=2000, pattern=TEXT_PATTERN)


class StepOut(Schema):
    id: int
    migration: str
    percent: int
    at: dt.datetime
    zone: str
    local_time: str = Field(description="The time on the wall clock of `zone`.")
    state: str = Field(description="scheduled, applied, skipped or cancelled.")
    outcome: str = Field(description="What happened at its time, and why when it was skipped.")
    created_by: str


class FeedIn(Schema):
    migration: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=SLUG,
        description="A migration's slug; null = everything (Admin).",
    )


class FeedOut(Schema):
    id: int
    migration: str | None
    url: str = Field(description="The secret iCalendar address to subscribe to.")
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def _freeze_out(freeze: ChangeFreeze, now: dt.datetime) -> dict:
    windows = freezes.windows_between(freeze, now, now + dt.timedelta(days=366))
    active = next((w for w in windows if w.contains(now)), None)
    coming = next((w for w in windows if not w.contains(now)), None)
    return {
        "id": freeze.pk,
        "migration": freeze.migration.slug if freeze.migration else None,
        "name": freeze.name,
        "reason": freeze.reason,
        "zone": freeze.zone,
        "starts_at": freeze.starts_at,
        "ends_at": freeze.ends_at,
        "weekly": freeze.recurrence(),
        "active_until": active.ends_at if active else None,
        "next_window": {"starts_at": coming.starts_at, "ends_at": coming.ends_at} if coming else None,
    }


def _step_out(step: ScheduledStep) -> dict:
    return {
        "id": step.pk,
        "migration": step.migration.slug,
        "percent": step.percent,
        "at": step.at,
        "zone": step.zone,
        "local_time": zones.describe(step.at, step.zone),
        "state": step.state,
        "outcome": step.outcome,
        "created_by": step.created_by,
    }


def feed_url(request, feed: CalendarFeed) -> str:
    return request.build_absolute_uri(feed.path)


def _feed_out(request, feed: CalendarFeed) -> dict:
    return {
        "id": feed.pk,
        "migration": feed.migration.slug if feed.migration else None,
        "url": feed_url(request, feed),
        "created_at": feed.created_at,
        "revoked_at": feed.revoked_at,
    }


def _named_migration(field: str, slug: str | None) -> Migration | None:
    if slug is None:
        return None
    migration = Migration.objects.filter(slug=slug).first()
    if migration is None:
        raise Refused(404, ValidationError({field: f"No migration “{slug}”."}))
    return migration


def _now():
    return dt.datetime.now(dt.UTC)


# --- freezes --------------------------------------------------------------------------------------


@router.get(
    "/freezes", response=answers({200: list[FreezeOut]}, 400, 401, 403), summary="List change freezes"
)
def list_freezes(request):
    only_query(request)
    access.require(request.auth.user, "view")
    now = _now()
    return [_freeze_out(f, now) for f in freezes.freezes_for(None)]


@router.post(
    "/freezes",
    response=answers({201: FreezeOut}, 400, 401, 403, 404, 409),
    summary="Add a change freeze (one-off or weekly; every migration: Admin)",
)
def create_freeze(request, payload: FreezeIn):
    migration = _named_migration("migration", payload.migration)
    access.require(request.auth.user, "change_traffic")
    if migration is None:
        access.require(request.auth.user, "manage_global_freezes")
    weekly = None
    if payload.weekly is not None:
        w = payload.weekly
        weekly = (
            w.start_weekday,
            dt.time.fromisoformat(w.start_time),
            w.end_weekday,
            dt.time.fromisoformat(w.end_time),
        )
    with conflicts():
        freeze = schedule.create_freeze(
            migration=migration,
            name=payload.name,
            reason=payload.reason,
            zone=payload.zone,
            starts_at=payload.starts_at,
            ends_at=payload.ends_at,
            weekly=weekly,
            by=actor(request),
        )
    return Status(201, _freeze_out(freeze, _now()))


@router.delete(
    "/freezes/{freeze_id}",
    response=answers({204: None}, 400, 401, 403, 404),
    summary="Delete a change freeze",
)
def delete_freeze(request, freeze_id: int):
    freeze = get_object_or_404(ChangeFreeze.objects.select_related("migration"), pk=freeze_id)
    access.require(request.auth.user, "change_traffic")
    if freeze.migration is None:
        access.require(request.auth.user, "manage_global_freezes")
    schedule.delete_freeze(freeze, by=actor(request))
    return Status(204, None)


# --- scheduled steps ------------------------------------------------------------------------------


def _migration(request, slug: str, action: str) -> Migration:
    migration = get_object_or_404(Migration, slug=slug)
    access.require(request.auth.user, action)
    return migration


@router.get(
    "/migrations/{slug}/schedule",
    response=answers({200: list[StepOut]}, 400, 401, 403, 404),
    summary="A migration's scheduled steps (to come, and what happened to past ones)",
)
def list_scheduled_steps(request, slug: str):
    only_query(request)
    migration = _migration(request, slug, "view")
    return [
        _step_out(s) for s in ScheduledStep.objects.filter(migration=migration).select_related("migration")
    ]


@router.post(
    "/migrations/{slug}/schedule",
    response=answers({201: StepOut}, 400, 401, 403, 404, 409),
    summary="Schedule a traffic step (applied at its time only if the gates allow it then)",
)
def schedule_step(request, slug: str, payload: StepIn):
    migration = _migration(request, slug, "change_traffic")
    with conflicts():
        step = schedule.schedule_step(
            migration,
            to=payload.percent,
            at=payload.at,
            zone=payload.zone,
            reason=payload.reason,
            by=actor(request),
        )
    return Status(201, _step_out(step))


@router.delete(
    "/migrations/{slug}/schedule/{step_id}",
    response=answers({200: StepOut}, 400, 401, 403, 404),
    summary="Cancel a scheduled step (one that already ran stays as it is)",
)
def cancel_scheduled_step(request, slug: str, step_id: int):
    migration = _migration(request, slug, "change_traffic")
    step = get_object_or_404(
        ScheduledStep.objects.select_related("migration"), pk=step_id, migration=migration
    )
    return _step_out(schedule.cancel_step(step, by=actor(request)))


# --- calendar links -------------------------------------------------------------------------------


@router.post(
    "/calendar-feeds",
    response=answers({201: FeedOut}, 400, 401, 403, 404),
    summary="Create a secret iCalendar link for a migration (or for everything: Admin)",
)
def create_calendar_feed(request, payload: FeedIn):
    migration = _named_migration("migration", payload.migration)
    access.require(request.auth.user, "manage_migration" if migration else "manage_global_freezes")
    return Status(201, _feed_out(request, schedule.create_feed(migration=migration, by=actor(request))))


@router.delete(
    "/calendar-feeds/{feed_id}",
    response=answers({200: FeedOut}, 400, 401, 403, 404),
    summary="Revoke a calendar link: its address answers 404 from now on",
)
def revoke_calendar_feed(request, feed_id: int):
    feed = get_object_or_404(CalendarFeed.objects.select_related("migration"), pk=feed_id)
    access.require(request.auth.user, "manage_migration" if feed.migration_id else "manage_global_freezes")
    return _feed_out(request, schedule.revoke_feed(feed, by=actor(request)))
