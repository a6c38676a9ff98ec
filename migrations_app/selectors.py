"""Reads that pages need, in one place."""

from __future__ import annotations

from django.db.models import QuerySet

from checklists import gates
from migrations_app import access, states
from migrations_app.models import AuditEvent, Contact, Migration, MigrationStatus
from migrations_app.rollout import selectors as rollout_selectors

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
    return AuditEvent.objects.filter(migration=migration).select_related("actor_user").order_by("-at", "-id")


# The way a new migration goes live, one status after the other.
GO_LIVE_PATH: list[str] = [
    MigrationStatus.DRAFT,
    MigrationStatus.PREPARING,
    MigrationStatus.READY,
    MigrationStatus.ROLLING_OUT,
]


def go_live_path(migration: Migration) -> dict | None:
    """Where a not-yet-live migration is on draft -> preparing -> ready -> rolling out, and what the
    next step needs; None once it has gone live (the traffic panel takes over)."""
    if migration.status not in GO_LIVE_PATH[:-1]:
        return None
    here = GO_LIVE_PATH.index(migration.status)
    steps = [
        {
            "status": s,
            "label": MigrationStatus(s).label,
            "state": "done" if i < here else "current" if i == here else "todo",
        }
        for i, s in enumerate(GO_LIVE_PATH)
    ]
    return {"steps": steps, "next": GO_LIVE_PATH[here + 1], "hint": _next_step_hint(migration)}


def _next_step_hint(migration: Migration) -> str:
    # Worded apart from the button labels, so the words a person looks for name one thing only.
    if migration.status == MigrationStatus.DRAFT:
        return (
            "Next: begin preparing and work through the checklist. Once the go-live gate is complete "
            "the migration can be marked ready, and then the rollout can start from the Traffic panel."
        )
    if migration.status == MigrationStatus.PREPARING:
        blocker = gates.go_live_gate_blocker(migration)
        if blocker:
            return f"Next: the migration can be marked ready once the go-live gate is complete. Still missing: {blocker}"
        return "Next: the go-live gate is complete, so the migration can be marked ready."
    return "Next: start the rollout, then move traffic step by step in the Traffic panel."


def transitions_for(migration: Migration, user) -> list[dict]:
    """The status moves this user may make now, as buttons for the migration page."""
    moves = []
    # Below 100 % the way forward is the next traffic step, not "Start monitoring" (golive moves
    # to monitoring by itself at 100 %): do not offer it as the primary button.
    stepping = (
        migration.status == MigrationStatus.ROLLING_OUT and rollout_selectors.current_percent(migration) < 100
    )
    for target, label in states.allowed_targets(migration.status).items():
        if target == MigrationStatus.ROLLED_BACK:
            continue  # rollback has its own red button
        if access.can(user, states.permission_for(target)):
            moves.append(
                {
                    "to": target,
                    "label": label,
                    "needs_reason": states.needs_reason(migration.status, target),
                    "destructive": target == MigrationStatus.ABORTED,
                    "overridable": target in states.GATED_STATUSES and access.can(user, "override_gate"),
                    "forward": _is_forward(migration.status, target)
                    and not (stepping and target == MigrationStatus.MONITORING),
                }
            )
    return sorted(moves, key=lambda move: not move["forward"])  # the next step first


def _is_forward(current: str, target: str) -> bool:
    forward = dict(zip(GO_LIVE_PATH, GO_LIVE_PATH[1:], strict=False))
    forward.update(
        {
            MigrationStatus.ROLLING_OUT: MigrationStatus.MONITORING,
            MigrationStatus.MONITORING: MigrationStatus.COMPLETED,
        }
    )
    return forward.get(current) == target
