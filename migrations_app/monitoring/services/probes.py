"""Probe configuration: create and change probes, with the audit trail."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.monitoring.models import Probe

PROBE_FIELDS = [
    "name",
    "kind",
    "url",
    "method",
    "headers",
    "expected_statuses",
    "expected_json",
    "json_path",
    "query",
    "secret_env",
    "webhook_scheme",
    "min_days_valid",
    "interval_seconds",
    "timeout_seconds",
    "enabled",
    "checklist_item_id",
    "passes_to_tick",
    "errors_to_page",
    "path",
]


@transaction.atomic
def create_probe(migration: Migration, *, by: Actor, **fields) -> Probe:
    probe = Probe(migration=migration, **fields)
    probe.full_clean()
    probe.next_due_at = timezone.now()
    probe.save()
    audit.record(by, "probe.created", probe, migration=migration, after=audit.snapshot(probe, PROBE_FIELDS))
    return probe


@transaction.atomic
def update_probe(probe: Probe, *, by: Actor, **fields) -> Probe:
    probe = Probe.objects.select_for_update().get(pk=probe.pk)
    before = audit.snapshot(probe, PROBE_FIELDS)
    for name, value in fields.items():
        if name not in PROBE_FIELDS:
            raise ValueError(f"update_probe cannot change {name}")
        setattr(probe, name, value)
    probe.full_clean()
    old, new = audit.changed(before, audit.snapshot(probe, PROBE_FIELDS))
    if not new:
        return probe
    if probe.enabled and ("interval_seconds" in new or "enabled" in new):
        probe.next_due_at = timezone.now()
    probe.save()
    audit.record(by, "probe.updated", probe, migration=probe.migration, before=old, after=new)
    return probe
