"""Phase sign-offs through /api/v1 (`operate` scope).

A sign-off slot is one role a phase's gate asks for; its id is `<phase id>-<role>` (e.g.
`12-product_manager`), stable whether the slot is empty, signed or stale, so a pipeline can list
the slots and sign the ones its service account holds. Only the holder of the role on that
migration may sign (the same rule as the page); the signer or an Admin may revoke."""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import Field, Path, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from checklists import gates, services
from checklists.models import SignOff
from checklists.selectors import Viewer
from migrations_app import access
from migrations_app.api_kit import (
    PAGE_QUERY,
    TEXT_PATTERN,
    Refused,
    TokenAuth,
    actor,
    answers,
    only_query,
    refusals,
)
from migrations_app.models import Migration, MigrationRoleName, Phase

router = Router(auth=TokenAuth(scope="operate"), tags=["sign-offs"])

SLOT_ID = re.compile(r"^(\d{1,12})-([a-z_]{1,20})$")
SLOT_ID_PATTERN = SLOT_ID.pattern


class SlotOut(Schema):
    id: str = Field(description="`<phase id>-<role>`: use it to sign, renew or revoke.")
    phase: str
    phase_id: int
    role: str = Field(description="Role code, e.g. product_manager.")
    role_label: str
    state: str = Field(description="missing, current or stale (an item changed after signing).")
    by: str | None = Field(description="User name of the signer, or null.")
    signed_at: dt.datetime | None
    comment: str
    items_complete: bool = Field(description="Every required item of the phase is done: it may be signed.")


class SignIn(Schema):
    comment: str = Field("", max_length=2000, pattern=TEXT_PATTERN)


class RevokeIn(Schema):
    reason: str = Field(min_length=1, max_length=2000, pattern=TEXT_PATTERN)


def _slot_out(phase: Phase, status: gates.PhaseStatus, slot: gates.Slot) -> dict:
    signoff = slot.signoff
    return {
        "id": f"{phase.pk}-{slot.role}",
        "phase": phase.name,
        "phase_id": phase.pk,
        "role": slot.role,
        "role_label": slot.label,
        "state": slot.state,
        "by": signoff.user.get_username() if signoff else None,
        "signed_at": signoff.signed_at if signoff else None,
        "comment": signoff.comment if signoff else "",
        "items_complete": status.items_complete,
    }


def slots_of(migration: Migration) -> list[dict]:
    out = []
    for phase in migration.phases.order_by("position"):
        status = gates.phase_status(phase)
        out += [_slot_out(phase, status, slot) for slot in status.slots]
    return out


def _slot(request, slot_id: str) -> tuple[Phase, str]:
    """The phase and role a slot id names, if the phase's gate asks for that role; else 404."""
    access.require(request.auth.user, "view")
    match = SLOT_ID.match(slot_id)
    phase = Phase.objects.select_related("migration").filter(pk=int(match[1])).first() if match else None
    if phase is None or match[2] not in gates.signoff_roles(phase):
        raise Http404(f"No sign-off slot “{slot_id}”. GET /api/v1/migrations/{{slug}}/signoffs lists them.")
    return phase, match[2]


def _answer(phase: Phase, role: str) -> dict:
    status = gates.phase_status(phase)
    return _slot_out(phase, status, next(slot for slot in status.slots if slot.role == role))


@router.get(
    "/migrations/{slug}/signoffs",
    response=answers({200: list[SlotOut]}, 400, 401, 403, 404),
    summary="List the sign-off slots of every phase, with their state",
)
@paginate(LimitOffsetPagination)
def list_signoffs(request, slug: str):
    only_query(request, *PAGE_QUERY)
    return slots_of(access.get_migration_for_user(request.auth.user, slug))


@router.get(
    "/signoffs/{slot_id}", response=answers({200: SlotOut}, 400, 401, 403, 404), summary="One sign-off slot"
)
def get_signoff(request, slot_id: str = Path(..., pattern=SLOT_ID_PATTERN)):
    only_query(request)
    return _answer(*_slot(request, slot_id))


@router.post(
    "/signoffs/{slot_id}/sign",
    response=answers({200: SlotOut}, 400, 401, 403, 404, 409),
    summary="Sign the phase off in this role (the token's user must hold it on this migration)",
)
def sign_signoff(request, payload: SignIn, slot_id: str = Path(..., pattern=SLOT_ID_PATTERN)):
    phase, role = _slot(request, slot_id)
    _require_holder(request, phase, role)
    with refusals():  # items left, another slot signed by this user
        services.sign_off_phase(
            phase, user=request.auth.user, role=role, by=actor(request), comment=payload.comment
        )
    return _answer(phase, role)


@router.post(
    "/signoffs/{slot_id}/renew",
    response=answers({200: SlotOut}, 400, 401, 403, 404, 409),
    summary="Sign again after items changed (the slot must hold your own sign-off)",
)
def renew_signoff(request, payload: SignIn, slot_id: str = Path(..., pattern=SLOT_ID_PATTERN)):
    phase, role = _slot(request, slot_id)
    _require_holder(request, phase, role)
    if not _active(phase, role).filter(user=request.auth.user).exists():
        raise Refused(
            409, ValidationError({"slot_id": "There is no sign-off of yours to renew: sign instead."})
        )
    with refusals():
        services.sign_off_phase(
            phase, user=request.auth.user, role=role, by=actor(request), comment=payload.comment
        )
    return _answer(phase, role)


@router.post(
    "/signoffs/{slot_id}/revoke",
    response=answers({200: SlotOut}, 400, 401, 403, 404, 409),
    summary="Withdraw the sign-off in this slot (the signer, or an Admin)",
)
def revoke_signoff(request, payload: RevokeIn, slot_id: str = Path(..., pattern=SLOT_ID_PATTERN)):
    phase, role = _slot(request, slot_id)
    signoff = _active(phase, role).first()
    if signoff is None:
        raise Refused(409, ValidationError({"slot_id": "Nobody has signed this slot: nothing to revoke."}))
    if not Viewer.of(request.auth.user, phase.migration).can_revoke(signoff):
        raise PermissionDenied("Only the person who signed, or a golive Admin, may revoke this sign-off.")
    services.revoke_sign_off(signoff, by=actor(request), reason=payload.reason)
    return _answer(phase, role)


def _active(phase: Phase, role: str):
    return SignOff.objects.filter(phase=phase, role=role, revoked_at__isnull=True)


def _require_holder(request, phase: Phase, role: str) -> None:
    if not access.can_sign_as(request.auth.user, phase.migration, role):
        label = MigrationRoleName(role).label
        raise PermissionDenied(
            f"Only the {label} of {phase.migration.name} may sign off as {label}; "
            f"the token's user ({request.auth.user.get_username()}) does not hold that role there."
        )
