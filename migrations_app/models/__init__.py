from migrations_app.models.audit import ActorKind, AuditEvent
from migrations_app.models.core import (
    SLUG_VALIDATOR,
    Contact,
    ContactKind,
    Migration,
    MigrationRole,
    MigrationRoleName,
    MigrationStatus,
    Phase,
    PhaseKind,
    WorkerHeartbeat,
)
from migrations_app.models.preferences import Theme, UserPreference

__all__ = [
    "SLUG_VALIDATOR",
    "ActorKind",
    "AuditEvent",
    "Contact",
    "ContactKind",
    "Migration",
    "MigrationRole",
    "MigrationRoleName",
    "MigrationStatus",
    "Phase",
    "PhaseKind",
    "Theme",
    "UserPreference",
    "WorkerHeartbeat",
]
