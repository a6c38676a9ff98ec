"""A migration's status through /api/v1 (`operate` scope): the same moves, gates and rights as
the buttons on the migration page."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from ninja import Field, Router, Schema

from migrations_app import access, services, states
from migrations_app.api_kit import TEXT_PATTERN, TokenAuth, actor, answers, refusals
from migrations_app.models import MigrationStatus
from migrations_app.rollout import services as rollout_services
from migrations_app.rollout.api import MigrationOut, _out

router = Router(auth=TokenAuth(scope="operate"), tags=["automation"])


class TransitionIn(Schema):
    to: MigrationStatus = Field(
        description="The status to move to (the caller states it: a repeat is a no-op)."
    )
    reason: str = Field(
        "",
        max_length=2000,
        pattern=TEXT_PATTERN,
        description="Required to pause, roll back or abort, and with an override (else 409 naming it).",
    )
    override: bool = Field(
        False, description="Admin tokens only: pass an incomplete phase gate (with a reason; audited)."
    )


@router.post(
    "/migrations/{slug}/transition",
    response=answers({200: MigrationOut}, 400, 401, 403, 404, 409),
    summary="Change a migration's status (same gates as the page; an Admin may override a gate)",
)
def transition_migration(request, slug: str, payload: TransitionIn):
    migration = access.get_migration_for_user(request.auth.user, slug)
    access.require(request.auth.user, states.permission_for(payload.to))
    if payload.override and not access.can(request.auth.user, "override_gate"):
        raise PermissionDenied("Only an Admin's token may override a gate.")
    # Whether a reason is needed depends on the target and the gate, which the schema cannot say:
    # like the state machine and the gates, a missing one is the current state's refusal (409).
    with refusals():
        if payload.to == MigrationStatus.ROLLED_BACK:  # the one rollback path: traffic to 0 % first
            rollout_services.roll_back(migration, by=actor(request), reason=payload.reason)
        else:
            services.transition_migration(
                migration, to=payload.to, by=actor(request), reason=payload.reason, override=payload.override
            )
    return _out(request, migration)
