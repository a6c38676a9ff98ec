"""Every write to traffic: advance, pause, resume, roll back. Lock, check, write, audit, enqueue."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.incidents import escalation
from migrations_app.incidents.models import Severity
from migrations_app.incidents.services import open_or_attach_incident
from migrations_app.models import Contact, Migration, MigrationRole, MigrationStatus
from migrations_app.rollout import outbox
from migrations_app.rollout.gates import gate_blocker, hard_blocker, rollback_blocker
from migrations_app.rollout.models import (
    PLAYBOOK,
    Rollback,
    RollbackStep,
    RolloutPlan,
    TrafficChange,
    TrafficChangeKind,
)
from migrations_app.rollout.selectors import active_rollback, snapshot_cache
from migrations_app.services import transition_migration

S = MigrationStatus


def _clock(value) -> str:
    return timezone.localtime(value).strftime("%H:%M")


def _locked(migration: Migration) -> tuple[Migration, RolloutPlan]:
    migration = Migration.objects.select_for_update().get(pk=migration.pk)
    RolloutPlan.objects.get_or_create(migration=migration)
    plan = RolloutPlan.objects.select_for_update().get(migration=migration)
    return migration, plan


def _flags_changed() -> None:
    # This process answers with the new state at once; others rebuild within SNAPSHOT_SECONDS.
    transaction.on_commit(snapshot_cache.invalidate)


# --- traffic ----------------------------------------------------------------------------------


@transaction.atomic
def set_traffic(
    migration: Migration, *, to: int, by: Actor, reason: str = "", override: bool = False
) -> RolloutPlan:
    """Move traffic to `to` %.

    1. Lock the migration and its plan; already at `to`? Nothing to do (double click, retried call).
    2. Refuse a move the status or the step order forbids, then the gates unless overridden
       (the caller checked the override permission; an override must say why).
    3. Write the level, the history row and the audit event; move the status along
       (ready -> rolling out on the first step, rolling out -> monitoring at 100 %).
    """
    migration, plan = _locked(migration)
    if plan.percent == to:
        return plan
    if sentence := hard_blocker(migration, plan, to=to):
        never = " No override passes this." if override else ""
        raise ValidationError({"percent": sentence + never})
    reason = reason.strip()
    blocked = gate_blocker(migration, plan, to=to)
    if blocked and not override:
        raise ValidationError({"percent": blocked})
    if blocked and not reason:
        raise ValidationError({"reason": "Say why you override the gate: the audit trail keeps it."})
    kind = TrafficChangeKind.OVERRIDE if blocked else TrafficChangeKind.ADVANCE
    if to < plan.percent:
        kind = TrafficChangeKind.DECREASE
    before = plan.percent
    plan.percent, plan.level_since = to, timezone.now()
    plan.save(update_fields=["percent", "level_since", "updated_at"])
    # The override names the go-live gate too, so the status check it implies must let it pass.
    overridden = bool(blocked)
    if migration.status == S.READY:
        migration = _transition(migration, S.ROLLING_OUT, by, reason or f"Traffic to {to} %", overridden)
    if to == 100 and migration.status == S.ROLLING_OUT:
        migration = _transition(migration, S.MONITORING, by, reason or "Traffic at 100 %", overridden)
    TrafficChange.objects.create(
        migration=migration, by=by.label, kind=kind, from_percent=before, to_percent=to, reason=reason
    )
    audit.record(
        by,
        "traffic.overridden" if kind == TrafficChangeKind.OVERRIDE else "traffic.changed",
        plan,
        migration=migration,
        before={"percent": before},
        after={"percent": to, **({"gate": blocked} if blocked else {})},
        reason=reason,
    )
    _flags_changed()
    return plan


def _transition(migration: Migration, to: str, by: Actor, reason: str, override: bool = False) -> Migration:
    return transition_migration(migration, to=to, by=by, reason=reason, override=override)


@transaction.atomic
def update_plan(migration: Migration, *, steps: list[int], soak_minutes: int, by: Actor) -> RolloutPlan:
    steps = sorted(set(steps))
    if not steps or steps[-1] != 100 or steps[0] <= 0 or any(step > 100 for step in steps):
        raise ValidationError(
            {"steps": "Give ascending percentages between 1 and 100, ending at 100 (e.g. 5, 25, 50, 100)."}
        )
    if soak_minutes < 1:
        raise ValidationError({"soak_minutes": "The soak time is at least 1 minute."})
    migration, plan = _locked(migration)
    before = {"steps": plan.steps, "soak_minutes": plan.soak_minutes}
    after = {"steps": steps, "soak_minutes": soak_minutes}
    if before == after:
        return plan
    plan.steps, plan.soak_minutes = steps, soak_minutes
    plan.save(update_fields=["steps", "soak_minutes", "updated_at"])
    audit.record(by, "rollout_plan.updated", plan, migration=migration, before=before, after=after)
    return plan


@transaction.atomic
def pause_rollout(migration: Migration, *, by: Actor, reason: str) -> Migration:
    """Hold traffic where it is; advancing waits until someone resumes."""
    migration, plan = _locked(migration)
    if migration.status == S.PAUSED:
        return migration
    migration = _transition(migration, S.PAUSED, by, reason)
    TrafficChange.objects.create(
        migration=migration,
        by=by.label,
        kind=TrafficChangeKind.PAUSE,
        from_percent=plan.percent,
        to_percent=plan.percent,
        reason=reason,
    )
    _flags_changed()
    return migration


@transaction.atomic
def resume_rollout(migration: Migration, *, by: Actor, reason: str) -> Migration:
    """Resume after a pause or a rollback. After a rollback traffic stays at 0 % and the next
    advance starts again at the first step, through the usual gates."""
    migration, plan = _locked(migration)
    if migration.status not in (S.PAUSED, S.ROLLED_BACK):
        return migration  # already resumed by someone else
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the rollout resumes: the audit trail keeps it."})
    if migration.status == S.ROLLED_BACK:
        rollback = active_rollback(migration)
        if rollback is not None:
            rollback.resumed_at, rollback.resumed_by = timezone.now(), by.label
            rollback.save(update_fields=["resumed_at", "resumed_by"])
            audit.record(by, "rollback.resumed", rollback, migration=migration, reason=reason)
    migration = _transition(migration, S.ROLLING_OUT, by, reason)
    TrafficChange.objects.create(
        migration=migration,
        by=by.label,
        kind=TrafficChangeKind.RESUME,
        from_percent=plan.percent,
        to_percent=plan.percent,
        reason=reason,
    )
    _flags_changed()
    return migration


# --- rollback ---------------------------------------------------------------------------------


def on_call_addresses(migration: Migration) -> list[str]:
    """E-mail addresses of the migration's on-call contacts and on-call role holders."""
    contacts = Contact.objects.filter(migrations=migration, on_call=True).exclude(email="")
    people = MigrationRole.objects.filter(migration=migration, role="on_call").exclude(user__email="")
    addresses = {c.email for c in contacts} | {r.user.email for r in people.select_related("user")}
    return sorted(addresses)


@transaction.atomic
def roll_back(migration: Migration, *, by: Actor, reason: str, evidence: dict | None = None) -> Rollback:
    """Send every user back to the old path. Repeating returns the existing rollback with
    `.already = True` (double click, racing guardrail), so the caller can say who was first.

    1. Lock the migration row: concurrent rollbacks queue here and all but the first see it done.
    2. Traffic to 0 %, status to rolled back, the Rollback with its playbook, the incident.
    3. Audit events and outbox rows (signed hooks, on-call e-mails) in this same transaction;
       delivery starts after commit and never blocks or fails this call.
    """
    migration, plan = _locked(migration)
    if migration.status == S.ROLLED_BACK and (existing := active_rollback(migration)):
        existing.already = True
        return existing
    if sentence := rollback_blocker(migration):
        raise ValidationError({"status": sentence})
    reason = reason.strip() or "No reason given"
    from_percent = plan.percent
    plan.percent, plan.level_since = 0, timezone.now()
    plan.save(update_fields=["percent", "level_since", "updated_at"])
    migration = _transition(migration, S.ROLLED_BACK, by, reason)
    incident = open_or_attach_incident(
        migration,
        by=by,
        title=f"{migration.name} rolled back from {from_percent} %",
        severity=Severity.SEV2,
        evidence={"reason": reason, "from_percent": from_percent, **(evidence or {})},
    )
    rollback = Rollback.objects.create(
        migration=migration,
        by=by.label,
        by_user=by.user if by.user is not None and by.user.pk else None,
        reason=reason,
        from_percent=from_percent,
        evidence=evidence or {},
        incident=incident,
    )
    RollbackStep.objects.bulk_create(
        RollbackStep(rollback=rollback, position=position, text=text)
        for position, text in enumerate(PLAYBOOK, 1)
    )
    TrafficChange.objects.create(
        migration=migration,
        by=by.label,
        kind=TrafficChangeKind.ROLLBACK,
        from_percent=from_percent,
        to_percent=0,
        reason=reason,
    )
    audit.record(
        by,
        "rollback.created",
        rollback,
        migration=migration,
        before={"percent": from_percent},
        after={"percent": 0},
        reason=reason,
    )
    _enqueue_rollback_side_effects(migration, rollback)
    _flags_changed()
    rollback.already = False
    return rollback


def _enqueue_rollback_side_effects(migration: Migration, rollback: Rollback) -> None:
    payload = {
        "type": "migration.rolled_back",
        "timestamp": rollback.at.isoformat(),
        "data": {
            "migration": migration.slug,
            "name": migration.name,
            "rollback_id": rollback.pk,
            "from_percent": rollback.from_percent,
            "percent": 0,
            "reason": rollback.reason,
            "by": rollback.by,
        },
    }
    for hook in migration.rollback_hooks.filter(active=True):
        outbox.enqueue_webhook(
            url=hook.url,
            secret=hook.secret,
            event_type="migration.rolled_back",
            payload=payload,
            migration=migration,
            dedupe_key=f"rollback:{rollback.pk}:hook:{hook.pk}",
        )
    for address in on_call_addresses(migration):
        _email_rollback(migration, rollback, address)


def _email_rollback(migration: Migration, rollback: Rollback, address: str) -> None:
    """One e-mail per on-call address that is also the incident's page when the rollback opened
    (or raised) a paging incident nobody was paged for yet: it takes the page's dedupe key, so the
    page sent after commit finds it written and the person hears of the event once."""
    incident = rollback.incident
    pages_now = incident is not None and incident.pages and incident.on_call_notified_at is None
    text = (
        f"{migration.name} was rolled back at {_clock(rollback.at)} by {rollback.by}.\n"
        f"Traffic went from {rollback.from_percent} % to 0 %.\nReason: {rollback.reason}\n\n"
        "Work through the rollback playbook on the migration page."
    )
    subject = f"ROLLED BACK: {migration.name} ({rollback.from_percent} % -> 0 %)"
    if pages_now:
        assert incident is not None  # pages_now says so
        subject = f"{incident.severity_label} {subject}"
        text += (
            f"\n\nIncident: {incident.title}\n"
            f"Acknowledge (one click, no login): {escalation.ack_url(incident, address)}\n"
            f"Incident page: {escalation.incident_url(incident)}\n\n"
            "You are receiving this because you are on call for this migration."
        )
    outbox.enqueue_email(
        to=[address],
        subject=f"[golive] {subject}",
        body=text,
        migration=migration,
        dedupe_key=(
            f"incident:{rollback.incident_id}:on-call:{address}"
            if pages_now
            else f"rollback:{rollback.pk}:to:{address}"
        )[:200],
    )


def already_message(rollback: Rollback) -> str:
    return f"Already rolled back at {_clock(rollback.at)} by {rollback.by}."


@transaction.atomic
def tick_rollback_step(step: RollbackStep, *, done: bool, by: Actor) -> RollbackStep:
    step = RollbackStep.objects.select_for_update().select_related("rollback__migration").get(pk=step.pk)
    if (step.done_at is not None) == done:
        return step
    step.done_at, step.done_by = (timezone.now(), by.label) if done else (None, "")
    step.save(update_fields=["done_at", "done_by"])
    audit.record(
        by,
        "rollback_step.ticked" if done else "rollback_step.unticked",
        step,
        migration=step.rollback.migration,
        after={"step": step.text, "done": done},
    )
    return step


def open_rollback_steps(migration: Migration):
    return RollbackStep.objects.filter(
        Q(rollback__migration=migration) & Q(rollback__resumed_at__isnull=True)
    )
