"""Writes for change freezes, scheduled steps and calendar feeds. Lock, check, write, audit, enqueue.

A scheduled step is applied through rollout.services.set_traffic, the same service as the
Advance button, so it passes exactly the gates a person would (a freeze among them, no override);
when one blocks, the step is skipped and the migration's notification channels hear why."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.incidents import channels
from migrations_app.models import Migration
from migrations_app.rollout import services, zones
from migrations_app.rollout.schedule_models import (
    CalendarFeed,
    ChangeFreeze,
    ScheduledStep,
    ScheduledStepState,
)
from migrations_app.rollout.selectors import plan_for

State = ScheduledStepState
# A step found later than this after its time (workers down, beat stopped) is skipped, not applied:
# nobody expects traffic to jump hours after the moment they chose.
LATE_AFTER = dt.timedelta(minutes=15)
FARTHEST_AHEAD = dt.timedelta(days=366)


# --- scheduled steps ------------------------------------------------------------------------


@transaction.atomic
def schedule_step(
    migration: Migration, *, to: int, at: dt.datetime, zone: str, by: Actor, reason: str = "", now=None
) -> ScheduledStep:
    """Schedule "traffic to `to` % at `at`". The same step at the same time again (a double
    click, a retried call) returns the one already scheduled."""
    now = now or timezone.now()
    zones.zone(zone)
    migration = Migration.objects.select_for_update().get(pk=migration.pk)
    plan = plan_for(migration)
    if to not in plan.steps:
        raise ValidationError(
            {"percent": f"{to} % is not a step of the rollout plan ({', '.join(map(str, plan.steps))} %)."}
        )
    if at <= now:
        raise ValidationError({"at": "Choose a time in the future."})
    if at - now > FARTHEST_AHEAD:
        raise ValidationError({"at": "Choose a time within the next year."})
    existing = ScheduledStep.objects.filter(migration=migration, percent=to, at=at, state=State.SCHEDULED)
    if step := existing.first():
        return step
    step = ScheduledStep.objects.create(
        migration=migration,
        percent=to,
        at=at,
        zone=zone,
        reason=reason.strip()[:2000],
        created_by=by.label[:150],
    )
    audit.record(
        by,
        "scheduled_step.created",
        step,
        migration=migration,
        after={"percent": to, "at": at.isoformat(), "local": zones.describe(at, zone)},
        reason=step.reason,
    )
    return step


@transaction.atomic
def cancel_step(step: ScheduledStep, *, by: Actor) -> ScheduledStep:
    """Cancel a step still to come; one already applied, skipped or cancelled stays as it is."""
    step = ScheduledStep.objects.select_for_update().select_related("migration").get(pk=step.pk)
    if step.state != State.SCHEDULED:
        return step
    step.state, step.done_at = State.CANCELLED, timezone.now()
    step.outcome = f"Cancelled by {by.label}."
    step.save(update_fields=["state", "done_at", "outcome"])
    audit.record(
        by, "scheduled_step.cancelled", step, migration=step.migration, before={"state": "scheduled"}
    )
    return step


def due_step_ids(now: dt.datetime) -> list[int]:
    return list(
        ScheduledStep.objects.filter(state=State.SCHEDULED, at__lte=now)
        .order_by("at", "id")
        .values_list("id", flat=True)[:100]
    )


def run_due_steps(*, now=None) -> list[ScheduledStep]:
    """Apply or skip every step whose time has come, each in its own transaction."""
    now = now or timezone.now()
    done = [run_step(step_id, now=now) for step_id in due_step_ids(now)]
    return [step for step in done if step is not None]


@transaction.atomic
def run_step(step_id: int, *, now: dt.datetime) -> ScheduledStep | None:
    """1. Lock the step; gone, or no longer scheduled (another worker ran it)? Nothing to do.
    2. Too late, or already at that level? Skip. Otherwise move traffic through set_traffic, in a
       savepoint: a gate that refuses (freeze, checklist, soak, guardrail, pause) skips the step.
    3. Record the outcome, audit it, and on a skip queue a notice on the migration's channels."""
    step = (
        ScheduledStep.objects.select_for_update(skip_locked=True)
        .select_related("migration")
        .filter(pk=step_id, state=State.SCHEDULED)
        .first()
    )
    if step is None:
        return None
    migration = step.migration
    actor = Actor.system(f"scheduled step (set by {step.created_by})")
    when = zones.describe(step.at, step.zone)
    if now - step.at > LATE_AFTER:
        return _skip(step, why=f"golive's scheduler only reached it at {zones.describe(now, step.zone)}.")
    before = plan_for(migration).percent
    if before == step.percent:
        return _skip(step, why=f"traffic was already at {step.percent} %.")
    try:
        with transaction.atomic():
            services.set_traffic(
                migration, to=step.percent, by=actor, reason=step.reason or f"Scheduled for {when}"
            )
    except ValidationError as error:
        return _skip(step, why=" ".join(error.messages))
    step.state, step.done_at = State.APPLIED, timezone.now()
    step.outcome = f"Applied: traffic {before} % → {step.percent} % as scheduled for {when}."
    step.save(update_fields=["state", "done_at", "outcome"])
    audit.record(actor, "scheduled_step.applied", step, migration=migration, after={"percent": step.percent})
    return step


def _skip(step: ScheduledStep, *, why: str) -> ScheduledStep:
    migration = step.migration
    when = zones.describe(step.at, step.zone)
    step.state, step.done_at = State.SKIPPED, timezone.now()
    step.outcome = f"Skipped: traffic stays where it was. Why: {why}"
    step.save(update_fields=["state", "done_at", "outcome"])
    audit.record(
        Actor.system("scheduled steps"),
        "scheduled_step.skipped",
        step,
        migration=migration,
        after={"percent": step.percent, "why": why},
        reason=why,
    )
    subject = f"[golive] Scheduled step skipped: {migration.name} stays below {step.percent} %"
    text = (
        f"The step to {step.percent} % scheduled for {when} by {step.created_by} was not applied.\n"
        f"Why: {why}\n\nSchedule it again, or advance by hand, once this is resolved."
    )
    for channel in channels.channels_for(migration, purpose="incidents"):
        channels.notify(
            channel,
            migration=migration,
            event_type="migration.scheduled_step_skipped",
            subject=subject,
            text=text,
            data={
                "migration": migration.slug,
                "percent": step.percent,
                "at": step.at.isoformat(),
                "why": why,
            },
            key=f"scheduled-step:{step.pk}:skipped",
        )
    return step


# --- change freezes -------------------------------------------------------------------------


@transaction.atomic
def create_freeze(
    *,
    migration: Migration | None,
    name: str,
    zone: str,
    by: Actor,
    reason: str = "",
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    weekly: tuple[int, dt.time, int, dt.time] | None = None,
    now=None,
) -> ChangeFreeze:
    """A one-off window (starts_at, ends_at) or a weekly one (start weekday, time, end weekday,
    time in `zone`). The caller checked the right: Admins for global freezes."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Name the freeze (e.g. Black Friday, Weekend freeze)."})
    zones.zone(zone)
    fields: dict = {}
    if weekly is not None and (starts_at or ends_at):
        raise ValidationError({"weekly": "Give either a one-off window or a weekly one, not both."})
    if weekly is not None:
        start_day, start_time, end_day, end_time = weekly
        if not (0 <= start_day <= 6 and 0 <= end_day <= 6):
            raise ValidationError({"weekly": "Weekdays go from 0 (Monday) to 6 (Sunday)."})
        if start_day == end_day and start_time == end_time:
            raise ValidationError({"weekly": "The freeze must end at another time than it starts."})
        fields = dict(start_weekday=start_day, start_time=start_time, end_weekday=end_day, end_time=end_time)
    else:
        if starts_at is None or ends_at is None:
            raise ValidationError({"starts_at": "Give when the freeze starts and ends (or make it weekly)."})
        if ends_at <= starts_at:
            raise ValidationError({"ends_at": "The freeze must end after it starts."})
        if ends_at <= (now or timezone.now()):
            raise ValidationError({"ends_at": "This window is over already: choose an end in the future."})
        fields = dict(starts_at=starts_at, ends_at=ends_at)
    freeze = ChangeFreeze.objects.create(
        migration=migration,
        name=name[:120],
        reason=reason.strip(),
        zone=zone,
        created_by=by.label[:150],
        **fields,
    )
    audit.record(by, "change_freeze.created", freeze, migration=migration, after=_snapshot(freeze))
    return freeze


@transaction.atomic
def delete_freeze(freeze: ChangeFreeze, *, by: Actor) -> None:
    freeze = (
        ChangeFreeze.objects.select_for_update(of=("self",)).select_related("migration").get(pk=freeze.pk)
    )
    before = _snapshot(freeze)
    audit.record(by, "change_freeze.deleted", freeze, migration=freeze.migration, before=before)
    freeze.delete()


def _snapshot(freeze: ChangeFreeze) -> dict:
    when = freeze.recurrence() or (
        f"{zones.describe(freeze.starts_at, freeze.zone)} to {zones.describe(freeze.ends_at, freeze.zone)}"
        if freeze.starts_at and freeze.ends_at
        else ""
    )
    return {"name": freeze.name, "scope": freeze.scope, "when": when, "reason": freeze.reason}


# --- calendar feeds -------------------------------------------------------------------------


@transaction.atomic
def create_feed(*, migration: Migration | None, by: Actor) -> CalendarFeed:
    feed = CalendarFeed.objects.create(
        migration=migration,
        created_by=by.label[:150],
        created_by_user=by.user if by.user is not None and by.user.pk else None,
    )
    audit.record(by, "calendar_feed.created", feed, migration=migration, after={"scope": str(feed)})
    return feed


@transaction.atomic
def revoke_feed(feed: CalendarFeed, *, by: Actor) -> CalendarFeed:
    """Revoked at once: the next calendar refresh gets a 404. Revoking twice changes nothing."""
    feed = CalendarFeed.objects.select_for_update(of=("self",)).select_related("migration").get(pk=feed.pk)
    if feed.revoked_at is not None:
        return feed
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    audit.record(by, "calendar_feed.revoked", feed, migration=feed.migration)
    return feed
