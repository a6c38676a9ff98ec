"""The demo's monitoring (seed_demo)."""

from __future__ import annotations

from django.db import transaction

from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.monitoring.models import GuardrailAction, Probe
from migrations_app.monitoring.services.probes import create_probe
from migrations_app.monitoring.services.standard_kpis import add_standard_kpis


@transaction.atomic
def add_demo_monitoring(migration: Migration, *, base_url: str, by: Actor) -> Probe:
    """For seed_demo: a probe on golive's own /health (127.0.0.1 is allowlisted in DEBUG) and the
    standard KPIs with alert-only guardrails, so the control room has live data at once."""
    probe = Probe.objects.filter(migration=migration, name="Provider health").first()
    if probe is None:
        probe = create_probe(
            migration,
            by=by,
            name="Provider health",
            url=f"{base_url.rstrip('/')}/health",
            expected_json=[{"path": "status", "equals": "ok"}],
            interval_seconds=10,
            timeout_seconds=3,
        )
    add_standard_kpis(migration, probe=probe, by=by, action=GuardrailAction.ALERT)
    return probe
