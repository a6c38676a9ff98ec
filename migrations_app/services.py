"""Every write to migrations goes through here: lock, check, write, audit."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from checklists import gates  # checklists builds on this module
from migrations_app import audit, states
from migrations_app.audit import Actor
from migrations_app.models import Migration, MigrationRole, MigrationStatus, Phase, PhaseKind

DEFAULT_PHASES: list[tuple[str, str]] = [
    ("Preparation", PhaseKind.PREPARATION),
    ("Testing", PhaseKind.TESTING),
    ("Deployment", PhaseKind.DEPLOYMENT),
    ("Post-launch", PhaseKind.POST_LAUNCH),
]

MIGRATION_AUDIT_FIELDS = [
    "name",
    "integration",
    "source_environment",
    "target_environment",
    "owner",
    "target_date",
    "description",
]


@transaction.atomic
def create_migration(
    *,
    by: Actor,
    name: str,
    slug: str,
    integration: str,
    owner,
    source_environment: str = "staging",
    target_environment: str = "production",
    target_date: dt.date | None = None,
    description: str = "",
    phases: list[tuple[str, str]] | None = None,
) -> Migration:
    """Create a draft migration with its phases (the default four unless `phases` is given)."""
    if Migration.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"A migration with the slug “{slug}” already exists."})
    migration = Migration(
        name=name,
        slug=slug,
        integration=integration,
        owner=owner,
        source_environment=source_environment,
        target_environment=target_environment,
        target_date=target_date,
        description=description,
    )
    migration.full_clean()
    migration.save()
    for position, (phase_name, kind) in enumerate(phases or DEFAULT_PHASES, start=1):
        Phase.objects.create(migration=migration, name=phase_name, kind=kind, position=position)
    audit.record(
        by,
        "migration.created",
        migration,
        after=audit.snapshot(migration, ["slug", "status", *MIGRATION_AUDIT_FIELDS]),
    )
    return migration


@transaction.atomic
def update_migration(migration: Migration, *, by: Actor, **fields) -> Migration:
    """Change the descriptive fields of a migration (never its slug: applications use it as the flag key)."""
    unknown = set(fields) - set(MIGRATION_AUDIT_FIELDS)
    if unknown:
        raise ValueError(f"update_migration cannot change {sorted(unknown)}")
    migration = Migration.objects.select_for_update().get(pk=migration.pk)
    before = audit.snapshot(migration, MIGRATION_AUDIT_FIELDS)
    for name, value in fields.items():
        setattr(migration, name, value)
    migration.full_clean()
    old, new = audit.changed(before, audit.snapshot(migration, MIGRATION_AUDIT_FIELDS))
    if not new:
        return migration
    migration.save()
    audit.record(by, "migration.updated", migration, before=old, after=new)
    return migration


@transaction.atomic
def transition_migration(
    migration: Migration, *, to: str, by: Actor, reason: str = "", override: bool = False
) -> Migration:
    """Move a migration to status `to`.

    1. Lock the row, so two people moving it at once are serialised.
    2. Already there? Nothing to do (a double click or a retried request).
    3. Refuse a move the state machine does not allow (no override passes that), or one that
       needs a reason and has none, or one past an incomplete phase gate (see checklists.gates)
       unless overridden: the caller checked the override permission; an override must say why.
    4. Write the new status and its audit event (an override as such) in the same transaction.
    """
    migration = Migration.objects.select_for_update().get(pk=migration.pk)
    if to not in MigrationStatus.values:
        raise ValidationError({"to": f"“{to}” is not a migration status."})
    if migration.status == to:
        return migration
    allowed = states.allowed_targets(migration.status)
    if to not in allowed:
        current = MigrationStatus(migration.status).label
        target = MigrationStatus(to).label
        if allowed:
            options = ", ".join(MigrationStatus(status).label for status in allowed)
            message = f"A migration that is {current} cannot become {target}. It can become: {options}."
        else:
            message = f"A migration that is {current} cannot change any more."
        if override:
            message += " No override passes the order of statuses."
        raise ValidationError({"to": message})
    reason = reason.strip()
    if states.needs_reason(migration.status, to) and not reason:
        raise ValidationError({"reason": f"Say why the migration becomes {MigrationStatus(to).label}."})
    blocker = _gate_blocker(migration, to)
    if blocker and not override:
        raise ValidationError(
            {"to": f"{MigrationStatus(to).label} is refused until the phase gate is complete. {blocker}"}
        )
    if blocker and not reason:
        raise ValidationError({"reason": "Say why you override the gate: the audit trail keeps it."})
    before = migration.status
    migration.status = to
    migration.status_changed_at = timezone.now()
    migration.save(update_fields=["status", "status_changed_at"])
    audit.record(
        by,
        "migration.status_overridden" if blocker else "migration.status_changed",
        migration,
        before={"status": before},
        after={"status": to, **({"gate": blocker} if blocker else {})},
        reason=reason,
    )
    return migration


GATED_STATUSES = states.GATED_STATUSES


def _gate_blocker(migration: Migration, to: str) -> str | None:

    if to in GATED_STATUSES:
        return gates.go_live_gate_blocker(migration)
    if to == MigrationStatus.COMPLETED:
        return gates.completion_blocker(migration)
    return None


@transaction.atomic
def assign_role(migration: Migration, *, user, role: str, by: Actor) -> MigrationRole:
    assignment, created = MigrationRole.objects.get_or_create(migration=migration, user=user, role=role)
    if created:
        audit.record(
            by,
            "role.assigned",
            assignment,
            migration=migration,
            after={"user": user.get_username(), "role": role},
        )
    return assignment


@transaction.atomic
def remove_role(assignment: MigrationRole, *, by: Actor) -> None:
    audit.record(
        by,
        "role.removed",
        assignment,
        migration=assignment.migration,
        before={"user": assignment.user.get_username(), "role": assignment.role},
    )
    assignment.delete()
