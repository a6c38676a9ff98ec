"""Who holds which role on a migration: the service that changes it and the reads pages need.

A role may have several holders (two on-call engineers); a sign-off slot (phase x role) is
"nobody" when its role has no holder, and then that phase can never be signed off."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from checklists.models import PhaseGate
from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.models import Migration, MigrationRole, MigrationRoleName


class UnknownName(ValidationError):
    """A field names something that does not exist (the API answers 404, a form 422)."""


@dataclass
class RoleHolders:
    code: str
    label: str
    users: list = field(default_factory=list)
    signs: list[str] = field(default_factory=list)  # names of the phases this role signs off

    @property
    def unfilled(self) -> bool:
        return not self.users and bool(self.signs)


@dataclass(frozen=True)
class Slot:
    """One sign-off slot (phase x role) and the people who could sign it."""

    phase: str
    role: str
    label: str
    users: tuple = ()

    @property
    def nobody(self) -> bool:
        return not self.users


def parse_role(code: str) -> str:
    if code not in MigrationRoleName.values:
        choices = ", ".join(MigrationRoleName.values)
        raise UnknownName({"role": f"“{code}” is not a role. Choose one of: {choices}."})
    return code


def users_by_username(usernames: list[str]) -> list:
    """The active users named, in the order given; unknown or deactivated names refused by name."""
    wanted = list(dict.fromkeys(name.strip() for name in usernames if name.strip()))
    found = {u.get_username(): u for u in get_user_model().objects.filter(username__in=wanted)}
    unknown = [name for name in wanted if name not in found]
    if unknown:
        raise UnknownName({"users": f"No user named {', '.join(unknown)}."})
    inactive = [name for name in wanted if not found[name].is_active]
    if inactive:
        raise ValidationError({"users": f"{', '.join(inactive)}: deactivated, cannot hold a role."})
    return [found[name] for name in wanted]


@transaction.atomic
def set_role_holders(migration: Migration, *, role: str, users: list, by: Actor) -> list:
    """Make exactly `users` hold `role` on `migration`.

    1. Lock the migration, so two people editing its roles at once are serialised.
    2. The same people as now? Nothing to write (a double submit, a repeated PUT).
    3. Remove and add the differences, and record one audit event with before and after.
    """
    role = parse_role(role)
    migration = Migration.objects.select_for_update().get(pk=migration.pk)
    current = MigrationRole.objects.filter(migration=migration, role=role).select_related("user")
    before = sorted(a.user.get_username() for a in current)
    after = sorted(u.get_username() for u in users)
    if before == after:
        return users
    current.exclude(user__in=users).delete()
    held = set(current.values_list("user_id", flat=True))
    MigrationRole.objects.bulk_create(
        MigrationRole(migration=migration, user=u, role=role) for u in users if u.pk not in held
    )
    audit.record(
        by,
        "roles.changed",
        migration,
        object_type="migrations_app.migrationrole",
        before={"role": role, "users": before},
        after={"role": role, "users": after},
    )
    return users


def _signing_phases(migration: Migration) -> dict[str, list[str]]:
    """role -> names of the phases whose gate needs that role's sign-off, in phase order."""
    signs: dict[str, list[str]] = {code: [] for code in MigrationRoleName.values}
    gates = PhaseGate.objects.filter(phase__migration=migration).select_related("phase")
    for gate in gates.order_by("phase__position"):
        for code in gate.signoff_roles:
            signs.setdefault(code, []).append(gate.phase.name)
    return signs


def roles_for(migration: Migration) -> list[RoleHolders]:
    """Every role, in the model's order, with its holders and the phases it signs."""
    holders: dict[str, list] = {code: [] for code in MigrationRoleName.values}
    assignments = MigrationRole.objects.filter(migration=migration).select_related("user")
    for assignment in assignments.order_by("user__first_name", "user__last_name", "user__username"):
        holders[assignment.role].append(assignment.user)
    signs = _signing_phases(migration)
    return [
        RoleHolders(code=code, label=label, users=holders[code], signs=signs.get(code, []))
        for code, label in MigrationRoleName.choices
    ]


def signoff_grid(migration: Migration) -> list[tuple[str, list[Slot]]]:
    """Each phase that needs sign-offs, in order, with its slots and who may sign each."""
    holders = {role.code: role for role in roles_for(migration)}
    gates = PhaseGate.objects.filter(phase__migration=migration).select_related("phase")
    grid = []
    for gate in gates.order_by("phase__position"):
        slots = [
            Slot(
                phase=gate.phase.name, role=code, label=holders[code].label, users=tuple(holders[code].users)
            )
            for code in gate.signoff_roles
            if code in holders
        ]
        if slots:
            grid.append((gate.phase.name, slots))
    return grid


def empty_slots(migration: Migration) -> list[Slot]:
    """The sign-off slots nobody can sign, because nobody holds their role, in phase order."""
    return [slot for _, slots in signoff_grid(migration) for slot in slots if slot.nobody]
