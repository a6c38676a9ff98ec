"""Reads for the checklist pages: one migration's checklist, filtered, with what this user may do."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from checklists import gates
from checklists.models import ChecklistItem, ChecklistSection, ChecklistTemplate, ItemState, SignOff
from migrations_app import access
from migrations_app.models import AuditEvent, Migration, MigrationRole, MigrationRoleName, Phase

FILTERS = {
    "all": "All items",
    "mine": "My items",
    "overdue": "Overdue",
    "blocked": "Blocked",
    "open": "Not done",
}


def templates_for_list() -> QuerySet[ChecklistTemplate]:
    return ChecklistTemplate.objects.annotate(
        phase_count=Count("phases", distinct=True), item_count=Count("phases__sections__items", distinct=True)
    ).order_by("name")


@dataclass
class Viewer:
    """What one user may do on one migration's checklist (computed once per request)."""

    user: User
    migration: Migration
    roles: set[str] = field(default_factory=set)
    can_tick_any: bool = False
    can_assign: bool = False
    can_override: bool = False

    @classmethod
    def of(cls, user, migration: Migration) -> Viewer:
        roles = set(
            MigrationRole.objects.filter(migration=migration, user=user).values_list("role", flat=True)
        )
        return cls(
            user=user,
            migration=migration,
            roles=roles,
            can_tick_any=access.can(user, "tick_items"),
            can_assign=access.can(user, "manage_migration"),
            can_override=access.can(user, "override_gate"),
        )

    def can_update(self, item: ChecklistItem) -> bool:
        """Ops tick anything; anyone ticks the items they own or whose role they hold here."""
        if self.migration.is_terminal:
            return False
        return (
            self.can_tick_any
            or item.owner_id == self.user.pk
            or (bool(item.owner_role) and item.owner_role in self.roles)
        )

    def can_revoke(self, signoff: SignOff) -> bool:
        return signoff.user_id == self.user.pk or self.can_override


def decorate(items, viewer: Viewer, today=None):
    """Set the per-row flags templates need (may this user change it, is it overdue)."""
    today = today or timezone.localdate()
    for item in items:
        item.can_update = viewer.can_update(item)
        item.overdue = bool(item.due_date and item.due_date < today and not item.is_settled)
    return items


def role_holders(migration: Migration) -> dict[str, list]:
    holders = defaultdict(list)
    for assignment in MigrationRole.objects.filter(migration=migration).select_related("user"):
        holders[assignment.role].append(assignment.user)
    return dict(holders)


def owner_choices(migration: Migration):
    """People an item can be given to: anyone with a golive group, role holders first."""
    users = (
        get_user_model().objects.filter(is_active=True).filter(Q(groups__isnull=False) | Q(is_superuser=True))
    )
    return users.distinct().order_by("first_name", "last_name", "username")


def _filtered(
    items: QuerySet[ChecklistItem], *, show: str, user, section_id: int | None, owner_id: int | None, roles
):
    today = timezone.localdate()
    if show == "mine":
        items = items.filter(Q(owner=user) | Q(owner__isnull=True, owner_role__in=roles))
    elif show == "overdue":
        items = items.filter(due_date__lt=today).exclude(state__in=[ItemState.DONE, ItemState.NOT_APPLICABLE])
    elif show == "blocked":
        items = items.filter(state=ItemState.BLOCKED)
    elif show == "open":
        items = items.exclude(state__in=[ItemState.DONE, ItemState.NOT_APPLICABLE])
    if section_id:
        items = items.filter(section_id=section_id)
    if owner_id:
        items = items.filter(owner_id=owner_id)
    return items


def phase_context(phase: Phase, viewer: Viewer, holders: dict | None = None) -> dict:
    """Everything the phase head (progress, gate, sign-off slots) renders."""
    status = gates.phase_status(phase)
    holders = role_holders(phase.migration) if holders is None else holders
    signed_roles = {
        s.role for s in SignOff.objects.filter(phase=phase, revoked_at__isnull=True, user=viewer.user)
    }
    slots = []
    for slot in status.slots:
        slots.append(
            {
                "slot": slot,
                "holders": holders.get(slot.role, []),
                "can_sign": slot.role in viewer.roles
                and not slot.current
                and not (signed_roles - {slot.role})
                and not phase.migration.is_terminal,
                "can_revoke": slot.signoff is not None and viewer.can_revoke(slot.signoff),
            }
        )
    return {"phase": phase, "status": status, "slots": slots}


def checklist(
    migration: Migration,
    viewer: Viewer,
    *,
    show: str = "all",
    section_id: int | None = None,
    owner_id: int | None = None,
) -> list[dict]:
    """The checklist as phases -> sections -> items, filtered; phases keep their full progress."""
    items = ChecklistItem.objects.filter(migration=migration).select_related("owner", "changed_by", "section")
    items = decorate(
        _filtered(
            items, show=show, user=viewer.user, section_id=section_id, owner_id=owner_id, roles=viewer.roles
        ),
        viewer,
    )
    by_section = defaultdict(list)
    for item in items:
        by_section[item.section_id].append(item)
    section_counts = section_progress(migration)
    holders = role_holders(migration)
    phases = []
    for phase in migration.phases.order_by("position"):
        sections = []
        for section in phase.sections.order_by("position"):
            if section_id and section.pk != section_id:
                continue
            if by_section[section.pk] or show == "all" and not owner_id:
                sections.append(
                    {
                        "section": section,
                        "items": by_section[section.pk],
                        **section_counts.get(section.pk, {}),
                    }
                )
        phases.append({**phase_context(phase, viewer, holders), "sections": sections})
    return phases


def section_progress(migration: Migration, section: ChecklistSection | None = None) -> dict[int, dict]:
    items = ChecklistItem.objects.filter(migration=migration)
    if section is not None:
        items = items.filter(section=section)
    rows = items.values("section_id").annotate(
        total=Count("id"), settled=Count("id", filter=Q(state__in=[ItemState.DONE, ItemState.NOT_APPLICABLE]))
    )
    return {
        row["section_id"]: {
            "total": row["total"],
            "settled": row["settled"],
            "percent": round(100 * row["settled"] / row["total"]) if row["total"] else 100,
        }
        for row in rows
    }


def migration_summary(migration: Migration) -> dict:
    """The phase-by-phase card on the migration page."""
    statuses = [gates.phase_status(phase) for phase in migration.phases.order_by("position")]
    return {
        "statuses": statuses,
        "has_items": any(status.total for status in statuses),
        "blocker": gates.go_live_gate_blocker(migration),
        "gate_phase_ids": {phase.pk for phase in gates.gate_phases(migration)},
    }


def item_history(item: ChecklistItem) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.filter(object_type="checklists.checklistitem", object_id=str(item.pk))
    return events.select_related("actor_user").order_by("-at", "-id")


def sheet(phase: Phase) -> dict:
    sections = []
    for section in phase.sections.order_by("position"):
        sections.append(
            {"section": section, "items": list(section.items.select_related("owner", "changed_by"))}
        )
    signoffs = SignOff.objects.filter(phase=phase).select_related("user").order_by("role", "signed_at")
    return {
        "phase": phase,
        "status": gates.phase_status(phase),
        "sections": sections,
        "history": signoffs,
        "role_labels": dict(MigrationRoleName.choices),
    }
