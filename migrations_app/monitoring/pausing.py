"""A guardrail whose action is "pause" freezes the rollout at its level.

The pause is rollout.services.pause_rollout, the same as a person's: users already admitted stay
on the new path, and no advance of any kind (step, override, API) passes until a person resumes
with a reason. The guardrail is the actor and its message the reason, so the traffic panel, the
audit trail and `GET /api/v1/migrations/{slug}` say which guardrail paused and with what numbers."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from migrations_app.audit import Actor
from migrations_app.models import Migration, MigrationStatus
from migrations_app.monitoring.models import Guardrail, GuardrailKind
from migrations_app.rollout import services as rollout
from migrations_app.rollout.models import TrafficChange, TrafficChangeKind

PAUSABLE = {MigrationStatus.ROLLING_OUT, MigrationStatus.MONITORING}


def fire_pause(guardrail: Guardrail, message: str) -> str:
    """Pause the rollout; returns the sentence for the alert (what happened, or why not)."""
    migration = Migration.objects.get(pk=guardrail.migration_id)
    if migration.status == MigrationStatus.PAUSED:
        return f"Guardrail “{guardrail.name}” fired; the rollout was already paused: {message}"
    if migration.status not in PAUSABLE:
        status = MigrationStatus(migration.status).label.lower()
        return f"Guardrail “{guardrail.name}” fired, nothing to pause (the migration is {status}): {message}"
    times = (
        "on a firing alert"
        if guardrail.kind == GuardrailKind.ALERT
        else f"{guardrail.consecutive} evaluations in a row"
    )
    reason = f"Guardrail “{guardrail.name}” fired {times}: {message}"
    try:
        rollout.pause_rollout(migration, by=Actor.system(f"guardrail: {guardrail.name}"), reason=reason)
    except ValidationError as error:  # the status changed meanwhile: tell a person instead
        return (
            f"Guardrail “{guardrail.name}” fired but could not pause ({'; '.join(error.messages)}): {message}"
        )
    return f"Guardrail “{guardrail.name}” paused the rollout: {message}"


def pause_details(migration: Migration) -> dict | None:
    """When the migration is paused: when, by whom (a person or "guardrail: <name>") and why."""
    if migration.status != MigrationStatus.PAUSED:
        return None
    change = (
        TrafficChange.objects.filter(migration=migration, kind=TrafficChangeKind.PAUSE)
        .order_by("-at", "-id")
        .first()
    )
    if change is None:  # paused through a plain status change, before pauses were recorded
        return {"at": None, "by": "", "guardrail": None, "reason": ""}
    guardrail = change.by.removeprefix("guardrail: ") if change.by.startswith("guardrail: ") else None
    return {"at": change.at, "by": change.by, "guardrail": guardrail, "reason": change.reason}
