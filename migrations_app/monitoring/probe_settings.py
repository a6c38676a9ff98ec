"""Deleting a probe: what goes with it, and the one write that removes it (audited)."""

from __future__ import annotations

from django.db import transaction

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.monitoring.models import Guardrail, Kpi, Probe
from migrations_app.monitoring.services import PROBE_FIELDS


def dependants(probe: Probe) -> dict[str, list[str]]:
    """The KPIs reading this probe and their guardrails: deleting the probe deletes them too."""
    return {
        "kpis": list(Kpi.objects.filter(probe=probe).values_list("name", flat=True)),
        "guardrails": list(Guardrail.objects.filter(kpi__probe=probe).values_list("name", flat=True)),
    }


@transaction.atomic
def delete_probe(probe: Probe, *, by: Actor) -> None:
    """Delete the probe, its results, and the KPIs and guardrails built on it. Repeating is a no-op."""
    probe = Probe.objects.select_for_update().filter(pk=probe.pk).first()
    if probe is None:
        return  # deleted meanwhile (a double click)
    before = audit.snapshot(probe, PROBE_FIELDS) | dependants(probe)
    audit.record(by, "probe.deleted", probe, migration=probe.migration, before=before)
    probe.delete()
