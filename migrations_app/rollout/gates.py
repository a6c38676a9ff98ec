"""Traffic gates: may traffic move to a level now, and may the migration roll back?

Hard blockers (status, step order) hold whatever anyone says; the gate (a change freeze, the
go-live checklist gate, soak time, guardrails) holds until an Admin overrides it. A freeze never
holds a rollback or a decrease: lowering traffic is always safe. The services enforce these, the
selectors show them; neither imports the other."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from checklists.gates import go_live_gate_blocker
from migrations_app.models import Migration, MigrationStatus
from migrations_app.monitoring.gates import guardrail_blocker
from migrations_app.rollout import freezes
from migrations_app.rollout.models import RolloutPlan

S = MigrationStatus
ROLLBACK_FROM = {S.ROLLING_OUT, S.MONITORING, S.PAUSED}


def hard_blocker(migration: Migration, plan: RolloutPlan, *, to: int | None) -> str | None:
    """Why traffic cannot move to `to` at all (no override helps): status and step order."""
    if migration.status == S.ROLLED_BACK:
        return "Rolled back: traffic stays at 0 % until someone resumes the rollout."
    if migration.status == S.PAUSED:
        return "Paused: resume the rollout before changing traffic."
    if migration.status in (S.DRAFT, S.PREPARING):
        return "The migration is not ready yet: mark it ready before sending traffic."
    if migration.status in (S.COMPLETED, S.ABORTED):
        return (
            f"The migration is {MigrationStatus(migration.status).label.lower()}; traffic no longer changes."
        )
    if to is None:
        return "Traffic is at 100 %: there is no further step."
    if to not in plan.steps and to != 0:
        return f"{to} % is not a step of the rollout plan ({', '.join(map(str, plan.steps))} %)."
    if to > plan.percent and to != plan.next_step():
        return f"The next step is {plan.next_step()} %; steps cannot be skipped."
    if to < plan.percent and migration.status == S.MONITORING:
        return "Monitoring at 100 %: pause or roll back instead of lowering traffic."
    return None


def gate_blocker(migration: Migration, plan: RolloutPlan, *, to: int, now=None) -> str | None:
    """Why advancing is not allowed yet (an Admin may override): a change freeze, the go-live
    gate, soak, guardrails."""
    if to <= plan.percent:
        return None  # lowering traffic is always safe
    now = now or timezone.now()
    if sentence := freeze_blocker(migration, now=now):
        return sentence
    if sentence := go_live_gate_blocker(migration):
        return sentence
    ready_at = plan.next_step_at()
    if ready_at is not None and now < ready_at:
        minutes = int((ready_at - now).total_seconds() // 60) + 1
        wait = f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"
        return f"Soaking at {plan.percent} %: the next step may start at {_day_and_clock(ready_at, now)} (in {wait})."
    return guardrail_blocker(migration)


def freeze_blocker(migration: Migration, *, now: dt.datetime) -> str | None:
    """The change freeze holding the migration now, named with when it ends."""
    window = freezes.active_freeze(migration, now)
    return window.sentence() if window is not None else None


def advance_blocker(migration: Migration, plan: RolloutPlan, *, to: int | None, now=None) -> str | None:
    hard = hard_blocker(migration, plan, to=to)
    if hard is not None or to is None:  # no next step is a hard blocker
        return hard
    return gate_blocker(migration, plan, to=to, now=now)


def rollback_blocker(migration: Migration) -> str | None:
    if migration.status == S.ROLLED_BACK or migration.status in ROLLBACK_FROM:
        return None
    if migration.status in (S.COMPLETED, S.ABORTED):
        return f"The migration is {MigrationStatus(migration.status).label.lower()}: there is nothing to roll back."
    return "No traffic has moved to the new path yet: there is nothing to roll back."


def _day_and_clock(value, now) -> str:
    """The time alone today; with its day otherwise (a 24 h soak ends tomorrow at this time)."""
    local = timezone.localtime(value)
    if timezone.localdate(value) == timezone.localdate(now):
        return f"{local:%H:%M}"
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"
