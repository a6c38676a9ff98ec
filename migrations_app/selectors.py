"""Reads that pages need, in one place."""

from __future__ import annotations

from django.db.models import QuerySet

from migrations_app import access, states
from migrations_app.models import AuditEvent, Contact, Migration, MigrationStatus

ACTIVE_STATUSES = [
    MigrationStatus.DRAFT,
    MigrationStatus.PREPARING,
    MigrationStatus.READY,
    MigrationStatus.ROLLING_OUT,
    MigrationStatus.MONITORING,
    MigrationStatus.PAUSED,
    MigrationStatus.ROLLED_BACK,
]


def migrations_for_list(*, status: str = "") -> QuerySet[Migration]:
    migrations = Migration.objects.select_related("owner")
    if status == "active":
        return migrations.filter(status__in=ACTIVE_STATUSES)
    if status in MigrationStatus.values:
        return migrations.filter(status=status)
    return migrations


def contacts_for(migration: Migration) -> QuerySet[Contact]:
    return migration.contacts.order_by("escalation_order", "name")


def timeline(migration: Migration) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(migration=migration).order_by("-at", "-id")


def transitions_for(migration: Migration, user) -> list[dict]:
    """The status moves this user may make now, as buttons for the migration page."""
    moves = []
    for target, label in states.allowed_targets(migration.status).items():
        if target == MigrationStatus.ROLLED_BACK:
            continue  # rollback has its own red button
        if access.can(user, states.permission_for(target)):
            moves.append(
                {
                    "to": target,
                    "label": label,
                    "needs_reason": target in states.REASON_REQUIRED,
                    "destructive": target == MigrationStatus.ABORTED,
                    "overridable": target in states.GATED_STATUSES and access.can(user, "override_gate"),
                }
            )
    return moves
