"""Every write to checklists goes through here: lock, check "already done?", write, audit."""

from __future__ import annotations

import contextlib
import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from checklists import gates
from checklists.models import (
    GO_LIVE_SIGNOFF_ROLES,
    ChecklistItem,
    ChecklistSection,
    ChecklistTemplate,
    Every,
    ItemComment,
    ItemState,
    PhaseGate,
    RecurringRule,
    SignOff,
)
from migrations_app import audit
from migrations_app import services as migration_services
from migrations_app.audit import Actor
from migrations_app.models import (
    Migration,
    MigrationRole,
    MigrationRoleName,
    MigrationStatus,
    Phase,
    PhaseKind,
)

ITEM_AUDIT_FIELDS = ["state", "reason", "evidence_note", "evidence_link"]
REASON_STATES = {ItemState.NOT_APPLICABLE, ItemState.BLOCKED}


# --- Creating a migration from a template ---------------------------------------------------------


@transaction.atomic
def create_migration_from_template(
    *,
    by: Actor,
    template: ChecklistTemplate,
    name: str,
    slug: str,
    owner,
    integration: str,
    source_environment: str = "staging",
    target_environment: str = "production",
    target_date: dt.date | None = None,
    description: str = "",
) -> Migration:
    """Create a migration whose phases, sections, items and recurring work are copies of `template`.

    1. Create the migration with the template's phases (the migrations service validates it).
    2. Copy each phase's sign-off roles, sections and items; due dates from the go-live date.
    3. Copy the recurring work rules (beat creates their items once the migration is live).
    The copy is a snapshot: later template edits do not reach this migration.
    """
    template_phases = list(template.phases.prefetch_related("sections__items").order_by("position"))
    migration = migration_services.create_migration(
        by=by,
        name=name,
        slug=slug,
        integration=integration,
        owner=owner,
        source_environment=source_environment,
        target_environment=target_environment,
        target_date=target_date,
        description=description,
        phases=[(p.name, p.kind) for p in template_phases] or None,
    )
    phases = list(migration.phases.order_by("position"))
    count = 0
    for phase, template_phase in zip(phases, template_phases, strict=False):
        PhaseGate.objects.create(phase=phase, signoff_roles=list(template_phase.signoff_roles))
        for template_section in template_phase.sections.all():
            section = ChecklistSection.objects.create(
                phase=phase, name=template_section.name, position=template_section.position
            )
            items = [
                ChecklistItem(
                    migration=migration,
                    section=section,
                    title=t.title,
                    help=t.help,
                    required=t.required,
                    owner_role=t.owner_role,
                    due_date=_due(target_date, t.due_offset_days),
                    probe_kind=t.probe_kind,
                    position=t.position,
                )
                for t in template_section.items.all()
            ]
            ChecklistItem.objects.bulk_create(items)
            count += len(items)
    RecurringRule.objects.bulk_create(
        RecurringRule(
            migration=migration,
            title=r.title,
            every=r.every,
            owner_role=r.owner_role,
            help=r.help,
            position=r.position,
        )
        for r in template.recurring.all()
    )
    audit.record(
        by,
        "checklist.created_from_template",
        migration,
        after={"template": template.slug, "template_name": template.name, "items": count},
    )
    return migration


def _due(target_date: dt.date | None, offset: int | None) -> dt.date | None:
    if target_date is None or offset is None:
        return None
    return target_date + dt.timedelta(days=offset)


def default_signoff_roles(kind: str, *, before_deployment: bool) -> list[str]:
    """What a phase asks for when its template does not say: the four leads guard go-live."""
    return list(GO_LIVE_SIGNOFF_ROLES) if before_deployment and kind != PhaseKind.DEPLOYMENT else []


# --- Items ------------------------------------------------------------------------------------


def _lock_item(item: ChecklistItem) -> ChecklistItem:
    return (
        ChecklistItem.objects.select_for_update(of=("self",))
        .select_related("section__phase", "migration")
        .get(pk=item.pk)
    )


@transaction.atomic
def set_item_state(
    item: ChecklistItem,
    *,
    by: Actor,
    state: str,
    reason: str = "",
    evidence_note: str | None = None,
    evidence_link: str | None = None,
) -> ChecklistItem:
    """Move an item to `state` (the caller states the target, so a double click is a no-op).

    Not applicable and blocked need a reason; evidence left as None is kept as it is."""
    if state not in ItemState.values:
        raise ValidationError({"state": f"“{state}” is not an item state."})
    reason = reason.strip()
    if state in REASON_STATES and not reason:
        raise ValidationError({"reason": f"Say why the item is {ItemState(state).label.lower()}."})
    item = _lock_item(item)
    if item.migration.is_terminal:
        raise ValidationError(
            {
                "state": f"{item.migration.name} is {item.migration.get_status_display().lower()}; its checklist is closed."
            }
        )
    before = audit.snapshot(item, ITEM_AUDIT_FIELDS)
    item.state = state
    item.reason = reason if state in REASON_STATES else ""
    if evidence_note is not None:
        item.evidence_note = evidence_note.strip()
    if evidence_link is not None:
        item.evidence_link = evidence_link.strip()
    item.full_clean(exclude=["migration", "section", "owner", "changed_by", "recurring_rule"])
    old, new = audit.changed(before, audit.snapshot(item, ITEM_AUDIT_FIELDS))
    if not new:
        return item  # already so: a repeated click or a retried request
    _stamp(item, by)
    item.version += 1
    item.save()
    audit.record(
        by, "checklist_item.changed", item, migration=item.migration, before=old, after=new, reason=reason
    )
    return item


def _stamp(item: ChecklistItem, by: Actor) -> None:
    item.changed_by = by.user if by.user is not None and by.user.pk else None
    item.changed_by_label = by.label[:150]
    item.changed_at = timezone.now()


def tick_item(item: ChecklistItem, *, by: Actor, done: bool = True) -> ChecklistItem:
    """The one-click tick: done, or back to open."""
    return set_item_state(item, by=by, state=ItemState.DONE if done else ItemState.OPEN)


@transaction.atomic
def record_automated_check(item: ChecklistItem, *, passed: bool, evidence: str, by: Actor) -> ChecklistItem:
    """A verification probe reports on an item: a pass ticks it done with the evidence; a failure
    leaves the state alone (a person decides) but is recorded on the trail."""
    if item.migration.is_terminal:
        return item  # a late probe result for a finished migration changes nothing
    if passed:
        return set_item_state(item, by=by, state=ItemState.DONE, evidence_note=evidence)
    item = _lock_item(item)
    audit.record(
        by, "checklist_item.check_failed", item, migration=item.migration, after={"evidence": evidence}
    )
    return item


@transaction.atomic
def assign_items(items, *, owner, by: Actor, due_date: dt.date | None = None, set_due: bool = False) -> int:
    """Give `items` an owner (None clears it). Returns how many changed."""
    changed = 0
    locked = ChecklistItem.objects.select_for_update(of=("self",)).filter(pk__in=[i.pk for i in items])
    for item in locked.select_related("owner", "migration").order_by("pk"):
        before = {"owner": item.owner.get_username() if item.owner else None, "due_date": item.due_date}
        item.owner = owner
        if set_due:
            item.due_date = due_date
        after = {"owner": owner.get_username() if owner else None, "due_date": item.due_date}
        old, new = audit.changed(before, after)
        if not new:
            continue
        item.save(update_fields=["owner", "due_date"])
        audit.record(by, "checklist_item.assigned", item, migration=item.migration, before=old, after=new)
        changed += 1
    return changed


@transaction.atomic
def add_comment(item: ChecklistItem, *, by: Actor, body: str) -> ItemComment:
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write a comment first."})
    if len(body) > 5000:
        raise ValidationError({"body": "Keep a comment under 5,000 characters."})
    item = _lock_item(item)
    comment = ItemComment.objects.create(item=item, author=by.user, body=body)
    audit.record(by, "checklist_item.commented", item, migration=item.migration, after={"comment": body})
    return comment


# --- Sign-offs ----------------------------------------------------------------------------------


@transaction.atomic
def sign_off_phase(phase: Phase, *, user, role: str, by: Actor, comment: str = "") -> SignOff:
    """Sign `phase` off in `role`.

    1. Lock the phase, so two sign-offs of one phase are serialised.
    2. Refuse a role the phase does not need, a user who does not hold the role on this
       migration, a user already signing another slot, and a phase with required items left.
    3. Same user, same role, nothing changed since: return the existing sign-off.
    4. A stale (or someone else's) sign-off in this slot is superseded, then the new one written.
    """
    phase = Phase.objects.select_for_update(of=("self",)).select_related("migration").get(pk=phase.pk)
    migration = phase.migration
    roles = gates.signoff_roles(phase)
    if role not in MigrationRoleName.values or role not in roles:
        raise ValidationError({"role": f"{phase.name} does not need a sign-off in the role “{role}”."})
    label = MigrationRoleName(role).label
    if not MigrationRole.objects.filter(migration=migration, user=user, role=role).exists():
        raise PermissionDenied(
            f"Only the {label} of {migration.name} may sign off as {label}; your account does not hold that role here."
        )
    status = gates.phase_status(phase)
    active = SignOff.objects.filter(phase=phase, revoked_at__isnull=True)
    other = active.filter(user=user).exclude(role=role).first()
    if other is not None:
        raise ValidationError(
            {
                "role": f"You already signed {phase.name} off as {other.get_role_display()}; one person fills one slot."
            }
        )
    if not status.items_complete:
        raise ValidationError(
            {
                "role": f"{phase.name} still has {status.required_unsettled} required item(s) not done; finish them first."
            }
        )
    existing = active.filter(role=role).first()
    if existing is not None and existing.user_id == user.pk and existing.fingerprint == status.fingerprint:
        return existing  # a double click
    renewed = existing is not None
    if existing is not None:
        existing.revoked_at = timezone.now()
        existing.revoked_by_label = by.label[:150]
        existing.revoke_reason = (
            "renewed" if existing.user_id == user.pk else f"replaced by {user.get_username()}"
        )
        existing.save(update_fields=["revoked_at", "revoked_by_label", "revoke_reason"])
    signoff = SignOff.objects.create(
        phase=phase, role=role, user=user, comment=comment.strip(), fingerprint=status.fingerprint
    )
    audit.record(
        by,
        "signoff.renewed" if renewed else "signoff.signed",
        signoff,
        migration=migration,
        after={
            "phase": phase.name,
            "role": role,
            "user": user.get_username(),
            "fingerprint": status.fingerprint[:12],
        },
        reason=comment.strip(),
    )
    return signoff


@transaction.atomic
def revoke_sign_off(signoff: SignOff, *, by: Actor, reason: str) -> SignOff:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the sign-off is revoked."})
    signoff = (
        SignOff.objects.select_for_update(of=("self",))
        .select_related("phase__migration", "user")
        .get(pk=signoff.pk)
    )
    if signoff.revoked_at is not None:
        return signoff
    signoff.revoked_at = timezone.now()
    signoff.revoked_by_label = by.label[:150]
    signoff.revoke_reason = reason
    signoff.save(update_fields=["revoked_at", "revoked_by_label", "revoke_reason"])
    audit.record(
        by,
        "signoff.revoked",
        signoff,
        migration=signoff.phase.migration,
        before={"phase": signoff.phase.name, "role": signoff.role, "user": signoff.user.get_username()},
        reason=reason,
    )
    return signoff


# --- Recurring post-launch work -----------------------------------------------------------------

RECURRING_STATUSES = [MigrationStatus.MONITORING, MigrationStatus.COMPLETED]
RECURRING_SECTION = "Recurring work"


def period_of(every: str, day: dt.date) -> tuple[str, dt.date]:
    """The period `day` falls in, as (key, last day): the key makes a run idempotent."""
    if every == Every.WEEKLY:
        year, week, weekday = day.isocalendar()
        return f"{year}-W{week:02d}", day + dt.timedelta(days=7 - weekday)
    if every == Every.MONTHLY:
        return f"{day.year}-{day.month:02d}", _month_end(day.year, day.month)
    if every == Every.QUARTERLY:
        quarter = (day.month - 1) // 3 + 1
        return f"{day.year}-Q{quarter}", _month_end(day.year, quarter * 3)
    if every == Every.YEARLY:
        return f"{day.year}", dt.date(day.year, 12, 31)
    raise ValueError(f"unknown recurrence {every!r}")


def _month_end(year: int, month: int) -> dt.date:
    first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - dt.timedelta(days=1)


def create_recurring_items(
    migration: Migration, *, today: dt.date | None = None, by: Actor | None = None
) -> int:
    """Create this period's item for each recurring rule of a live migration. Returns how many
    were new: a second run in the same period (a redelivered task, two beats) creates none."""
    if migration.status not in RECURRING_STATUSES:
        return 0
    today = today or timezone.localdate()
    by = by or Actor.system("recurring post-launch schedule")
    created = 0
    for rule in migration.recurring_rules.all():
        # IntegrityError: another run created it between our check and our insert.
        with contextlib.suppress(IntegrityError):
            created += _create_recurring_item(rule, today=today, by=by)
    return created


@transaction.atomic
def _create_recurring_item(rule: RecurringRule, *, today: dt.date, by: Actor) -> int:
    rule = RecurringRule.objects.select_for_update(of=("self",)).select_related("migration").get(pk=rule.pk)
    key, due = period_of(rule.every, today)
    if ChecklistItem.objects.filter(recurring_rule=rule, recurring_period=key).exists():
        return 0
    migration = rule.migration
    section = _recurring_section(migration)
    owner = None
    if rule.owner_role:
        holder = (
            MigrationRole.objects.filter(migration=migration, role=rule.owner_role)
            .select_related("user")
            .first()
        )
        owner = holder.user if holder else None
    item = ChecklistItem.objects.create(
        migration=migration,
        section=section,
        title=f"{rule.title} ({key})",
        help=rule.help,
        required=False,  # ongoing work: it must not reopen a signed-off phase
        owner=owner,
        owner_role=rule.owner_role,
        due_date=due,
        recurring_rule=rule,
        recurring_period=key,
        position=section.items.count() + 1,
    )
    audit.record(
        by,
        "checklist_item.recurring_created",
        item,
        migration=migration,
        after={"title": item.title, "owner": owner.get_username() if owner else None, "due_date": due},
    )
    return 1


def _recurring_section(migration: Migration) -> ChecklistSection:
    phase = migration.phases.filter(kind=PhaseKind.POST_LAUNCH).order_by("-position").first()
    if phase is None:
        phase = migration.phases.order_by("-position").first()
    assert phase is not None  # a migration is created with its template's phases
    section = ChecklistSection.objects.filter(phase=phase, name=RECURRING_SECTION).first()
    if section is None:
        position = (phase.sections.order_by("-position").values_list("position", flat=True).first() or 0) + 1
        section = ChecklistSection.objects.create(phase=phase, name=RECURRING_SECTION, position=position)
    return section
