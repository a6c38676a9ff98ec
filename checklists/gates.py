"""Phase gates: is a phase complete, which sign-offs count, and may the migration go live?

A phase is complete when every required item is done or not applicable and every role its
gate lists has a current sign-off. A sign-off is current while the fingerprint of the phase's
required items still equals the one recorded when it was signed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from checklists.models import ChecklistItem, ItemState, PhaseGate, SignOff
from migrations_app.models import Migration, MigrationRoleName, Phase, PhaseKind


def required_items(phase: Phase):
    return ChecklistItem.objects.filter(section__phase=phase, required=True).order_by("id")


def fingerprint(phase: Phase) -> str:
    """sha256 over (id, state, version) of the phase's required items."""
    digest = hashlib.sha256(f"phase:{phase.pk}".encode())
    for item_id, state, version in required_items(phase).values_list("id", "state", "version"):
        digest.update(f"|{item_id}:{state}:{version}".encode())
    return digest.hexdigest()


def signoff_roles(phase: Phase) -> list[str]:
    gate = PhaseGate.objects.filter(phase=phase).first()
    return list(gate.signoff_roles) if gate else []


@dataclass
class Slot:
    """One required sign-off of a phase and what fills it now."""

    role: str
    signoff: SignOff | None = None
    stale: bool = False

    @property
    def label(self) -> str:
        return MigrationRoleName(self.role).label

    @property
    def current(self) -> bool:
        return self.signoff is not None and not self.stale

    @property
    def state(self) -> str:
        if self.signoff is None:
            return "missing"
        return "stale" if self.stale else "current"


@dataclass
class PhaseStatus:
    phase: Phase
    total: int = 0
    required_total: int = 0
    settled: int = 0  # all items done or not applicable
    required_settled: int = 0
    open: int = 0
    blocked: int = 0
    required_unsettled: int = 0
    slots: list[Slot] = field(default_factory=list)
    fingerprint: str = ""

    @property
    def percent(self) -> int:
        return round(100 * self.settled / self.total) if self.total else 100

    @property
    def items_complete(self) -> bool:
        return self.required_unsettled == 0

    @property
    def signoffs_complete(self) -> bool:
        return all(slot.current for slot in self.slots)

    @property
    def complete(self) -> bool:
        return self.items_complete and self.signoffs_complete

    @property
    def missing(self) -> list[str]:
        """What stands between this phase and complete, as short phrases."""
        parts = []
        if self.required_unsettled:
            n = self.required_unsettled
            blocked = f" ({self.blocked} blocked)" if self.blocked else ""
            parts.append(f"{n} required item{'s' if n != 1 else ''} not done{blocked}")
        for slot in self.slots:
            if slot.signoff is None:
                parts.append(f"{slot.label} sign-off missing")
            elif slot.stale:
                parts.append(f"{slot.label} sign-off stale")
        return parts

    @property
    def summary(self) -> str:
        if self.complete:
            return f"{self.phase.name} is complete."
        return f"{self.phase.name} is not complete: {', '.join(self.missing)}."


def phase_status(phase: Phase) -> PhaseStatus:
    status = PhaseStatus(phase=phase, fingerprint=fingerprint(phase))
    for required, state in ChecklistItem.objects.filter(section__phase=phase).values_list(
        "required", "state"
    ):
        status.total += 1
        settled = state in (ItemState.DONE, ItemState.NOT_APPLICABLE)
        status.settled += settled
        if required:
            status.required_total += 1
            status.required_settled += settled
            status.required_unsettled += not settled
            status.blocked += state == ItemState.BLOCKED
        status.open += state == ItemState.OPEN
    active = {
        s.role: s for s in SignOff.objects.filter(phase=phase, revoked_at__isnull=True).select_related("user")
    }
    for role in signoff_roles(phase):
        signoff = active.get(role)
        status.slots.append(
            Slot(
                role=role,
                signoff=signoff,
                stale=signoff is not None and signoff.fingerprint != status.fingerprint,
            )
        )
    return status


def gate_phases(migration: Migration) -> list[Phase]:
    """The phases before the first deployment phase: they form the go-live gate."""
    phases = list(migration.phases.order_by("position"))
    gate: list[Phase] = []
    for phase in phases:
        if phase.kind == PhaseKind.DEPLOYMENT:
            return gate
        gate.append(phase)
    return []  # no deployment phase: nothing to gate


def go_live_gate_blocker(migration: Migration) -> str | None:
    """None when the go-live gate is complete, else one sentence saying what is missing."""
    problems = [status.summary for status in map(phase_status, gate_phases(migration)) if not status.complete]
    return " ".join(problems) or None


def phases_blocker(phases) -> str | None:
    problems = [status.summary for status in map(phase_status, phases) if not status.complete]
    return " ".join(problems) or None


def completion_blocker(migration: Migration) -> str | None:
    """Before a migration is completed, every phase up to and including deployment must be complete."""
    phases = [p for p in migration.phases.order_by("position") if p.kind != PhaseKind.POST_LAUNCH]
    return phases_blocker(phases)
