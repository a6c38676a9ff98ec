"""The migration state machine: which status may follow which, and who may move it there."""

from migrations_app.models import MigrationStatus as S

# from -> {to: label of the button that makes the move}
TRANSITIONS: dict[str, dict[str, str]] = {
    S.DRAFT: {S.PREPARING: "Start preparing", S.ABORTED: "Abort"},
    S.PREPARING: {S.READY: "Mark ready", S.DRAFT: "Back to draft", S.ABORTED: "Abort"},
    S.READY: {S.ROLLING_OUT: "Start rollout", S.PREPARING: "Reopen preparation", S.ABORTED: "Abort"},
    S.ROLLING_OUT: {S.MONITORING: "Start monitoring", S.PAUSED: "Pause", S.ROLLED_BACK: "Roll back"},
    S.MONITORING: {S.COMPLETED: "Complete", S.PAUSED: "Pause", S.ROLLED_BACK: "Roll back"},
    S.PAUSED: {S.ROLLING_OUT: "Resume rollout", S.ROLLED_BACK: "Roll back", S.ABORTED: "Abort"},
    S.ROLLED_BACK: {S.ROLLING_OUT: "Resume rollout", S.PREPARING: "Back to preparation", S.ABORTED: "Abort"},
    S.COMPLETED: {},
    S.ABORTED: {},
}

# The permission (see access.ACTIONS) each target status needs; anything else needs manage_migration.
TARGET_PERMISSION: dict[str, str] = {
    S.PAUSED: "change_traffic",
    S.ROLLED_BACK: "rollback",
}

# Moves that must say why: they stop or undo a go-live, and the timeline must explain it.
REASON_REQUIRED = {S.ABORTED, S.ROLLED_BACK, S.PAUSED}
# Resuming after a pause or a rollback must say why too: a guardrail may have stopped it.
RESUMED_FROM = {S.PAUSED, S.ROLLED_BACK}


def needs_reason(status: str, target: str) -> bool:
    return target in REASON_REQUIRED or (status in RESUMED_FROM and target == S.ROLLING_OUT)


def permission_for(target: str) -> str:
    return TARGET_PERMISSION.get(target, "manage_migration")


def allowed_targets(status: str) -> dict[str, str]:
    return TRANSITIONS[status]


# Statuses that lie past the go-live gate (the phases before the first deployment phase); an
# Admin may override that gate with a reason.
GATED_STATUSES = {S.READY, S.ROLLING_OUT}
