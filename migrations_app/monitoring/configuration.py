"""Every write to KPIs and guardrails: create, update, delete, reorder. Lock, check, write, audit.

The caller validated the fields with rule_forms (page or API alike); these services still run the
model's own validation, so no door lets an invalid row in."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.monitoring.models import Guardrail, GuardrailKind, GuardrailState, Kpi
from migrations_app.monitoring.rule_forms import GUARDRAIL_FIELDS, KPI_FIELDS
from migrations_app.monitoring.services.evaluation import evaluate_guardrail

# A change to any of these makes the guardrail's memory meaningless: it starts again from scratch.
RULE_FIELDS = {
    "kpi",
    "kind",
    "consecutive",
    "min_samples",
    "tolerance_percent",
    "tolerance_points",
    "confidence",
    "matchers",
}


def _snapshot_kpi(kpi: Kpi) -> dict:
    return audit.snapshot(kpi, KPI_FIELDS)


def _snapshot_guardrail(guardrail: Guardrail) -> dict:
    return audit.snapshot(guardrail, GUARDRAIL_FIELDS)


@transaction.atomic
def create_kpi(migration: Migration, *, by: Actor, **fields) -> Kpi:
    Migration.objects.select_for_update().filter(pk=migration.pk).first()  # serialise positions
    position = (Kpi.objects.filter(migration=migration).aggregate(top=Max("position"))["top"] or 0) + 1
    kpi = Kpi(migration=migration, position=position, **fields)
    kpi.full_clean()
    kpi.save()
    audit.record(by, "kpi.created", kpi, migration=migration, after=_snapshot_kpi(kpi))
    return kpi


@transaction.atomic
def update_kpi(kpi: Kpi, *, by: Actor, **fields) -> Kpi:
    kpi = Kpi.objects.select_for_update().get(pk=kpi.pk)
    before = _snapshot_kpi(kpi)
    for name, value in fields.items():
        if name not in KPI_FIELDS:
            raise ValueError(f"update_kpi cannot change {name}")
        setattr(kpi, name, value)
    kpi.full_clean()
    old, new = audit.changed(before, _snapshot_kpi(kpi))
    if not new:
        return kpi  # nothing changed: a resubmitted form
    kpi.save()
    audit.record(by, "kpi.updated", kpi, migration=kpi.migration, before=old, after=new)
    return kpi


@transaction.atomic
def delete_kpi(kpi: Kpi, *, by: Actor) -> None:
    """Delete the KPI and the guardrails watching it (the audit entry names them)."""
    kpi = Kpi.objects.select_for_update().filter(pk=kpi.pk).first()
    if kpi is None:
        return  # deleted meanwhile: a double click
    before = {**_snapshot_kpi(kpi), "guardrails": list(kpi.guardrails.values_list("name", flat=True))}
    audit.record(by, "kpi.deleted", kpi, migration=kpi.migration, before=before)  # while it has its id
    kpi.delete()


@transaction.atomic
def reorder_kpis(migration: Migration, *, order: list[int], by: Actor) -> list[Kpi]:
    """Put the migration's KPIs in `order` (their ids; any left out keep their order after them)."""
    Migration.objects.select_for_update().filter(pk=migration.pk).first()
    kpis = list(Kpi.objects.filter(migration=migration).order_by("position", "id"))
    known = {kpi.pk: kpi for kpi in kpis}
    wanted = [known[pk] for pk in dict.fromkeys(order) if pk in known]
    ordered = wanted + [kpi for kpi in kpis if kpi not in wanted]
    before = [kpi.name for kpi in kpis]
    after = [kpi.name for kpi in ordered]
    if before == after:
        return ordered
    for position, kpi in enumerate(ordered, start=1):
        kpi.position = position
    Kpi.objects.bulk_update(ordered, ["position"])
    audit.record(
        by, "kpi.reordered", migration, migration=migration, before={"order": before}, after={"order": after}
    )
    return ordered


def move_kpi(kpi: Kpi, *, by: Actor, step: int) -> list[Kpi]:
    """Move one KPI up (step -1) or down (+1) in its migration's list."""
    ids = list(
        Kpi.objects.filter(migration_id=kpi.migration_id)
        .order_by("position", "id")
        .values_list("pk", flat=True)
    )
    index = ids.index(kpi.pk)
    target = min(max(index + step, 0), len(ids) - 1)
    ids.insert(target, ids.pop(index))
    return reorder_kpis(kpi.migration, order=ids, by=by)


@transaction.atomic
def create_guardrail(migration: Migration, *, by: Actor, **fields) -> Guardrail:
    guardrail = Guardrail(migration=migration, **fields)
    guardrail.full_clean()
    guardrail.save()
    audit.record(
        by, "guardrail.created", guardrail, migration=migration, after=_snapshot_guardrail(guardrail)
    )
    _look_at_alerts_now(guardrail)
    return guardrail


def _look_at_alerts_now(guardrail: Guardrail) -> None:
    """An alert rule has no schedule: it is evaluated when alerts arrive, and once when it is
    made, so that it shows healthy (or fires on an alert already firing) instead of waiting."""
    if guardrail.kind == GuardrailKind.ALERT and guardrail.enabled:
        evaluate_guardrail(guardrail)
        guardrail.refresh_from_db()


@transaction.atomic
def update_guardrail(guardrail: Guardrail, *, by: Actor, **fields) -> Guardrail:
    guardrail = Guardrail.objects.select_for_update().get(pk=guardrail.pk)
    before = _snapshot_guardrail(guardrail)
    for name, value in fields.items():
        if name not in GUARDRAIL_FIELDS:
            raise ValueError(f"update_guardrail cannot change {name}")
        setattr(guardrail, name, value)
    guardrail.full_clean()
    old, new = audit.changed(before, _snapshot_guardrail(guardrail))
    if not new:
        return guardrail
    if RULE_FIELDS & set(new):  # a new rule: its old streak and verdict said nothing about it
        guardrail.state, guardrail.breach_streak, guardrail.fired = GuardrailState.INSUFFICIENT_DATA, 0, False
        guardrail.last_verdict, guardrail.last_message = "", ""
    guardrail.save()
    audit.record(by, "guardrail.updated", guardrail, migration=guardrail.migration, before=old, after=new)
    if RULE_FIELDS & set(new) or "enabled" in new:
        _look_at_alerts_now(guardrail)
    return guardrail


@transaction.atomic
def delete_guardrail(guardrail: Guardrail, *, by: Actor) -> None:
    guardrail = Guardrail.objects.select_for_update().filter(pk=guardrail.pk).first()
    if guardrail is None:
        return
    before = _snapshot_guardrail(guardrail)
    audit.record(by, "guardrail.deleted", guardrail, migration=guardrail.migration, before=before)
    guardrail.delete()
