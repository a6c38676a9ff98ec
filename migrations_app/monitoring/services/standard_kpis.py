"""The standard KPIs of the reference plans, each with its guardrail."""

from __future__ import annotations

from django.db import transaction

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.monitoring.models import (
    Aggregation,
    Direction,
    Guardrail,
    GuardrailAction,
    Kpi,
    Probe,
    ProbeField,
)

# (name, probe field or metric, aggregation, direction, warning, critical, unit)
STANDARD_PROBE_KPIS = [
    ("Success rate", ProbeField.SUCCESS, Aggregation.RATE, Direction.HIGHER_IS_BETTER, 99.8, 99.5, "%"),
    ("p95 response time", ProbeField.LATENCY, Aggregation.P95, Direction.LOWER_IS_BETTER, 1500, 2000, "ms"),
    ("Error rate", ProbeField.SUCCESS, Aggregation.ERROR_RATE, Direction.LOWER_IS_BETTER, 0.3, 0.5, "%"),
]
STANDARD_METRIC_KPIS = [
    ("Payment success", "payment_success", Aggregation.RATE, Direction.HIGHER_IS_BETTER, 99.95, 99.9, "%"),
    ("Webhook delivery", "webhook_delivery", Aggregation.RATE, Direction.HIGHER_IS_BETTER, 99.5, 99.0, "%"),
    ("Uptime", "uptime", Aggregation.RATE, Direction.HIGHER_IS_BETTER, 99.95, 99.9, "%"),
]


@transaction.atomic
def add_standard_kpis(
    migration: Migration, *, probe: Probe | None, by: Actor, action: str = GuardrailAction.ROLLBACK
) -> list[Kpi]:
    """The reference plans' KPIs with a guardrail each. Existing KPIs (by name) are kept as they are."""
    created = []
    position = Kpi.objects.filter(migration=migration).count()
    specs = (
        [
            (n, {"probe": probe, "probe_field": f}, a, d, w, c, u)
            for n, f, a, d, w, c, u in STANDARD_PROBE_KPIS
        ]
        if probe
        else []
    )
    specs += [(n, {"metric": m}, a, d, w, c, u) for n, m, a, d, w, c, u in STANDARD_METRIC_KPIS]
    for name, source, aggregation, direction, warning, critical, unit in specs:
        if Kpi.objects.filter(migration=migration, name=name).exists():
            continue
        position += 1
        kpi = Kpi.objects.create(
            migration=migration,
            name=name,
            aggregation=aggregation,
            direction=direction,
            warning=warning,
            critical=critical,
            unit=unit,
            position=position,
            **source,
        )
        Guardrail.objects.create(migration=migration, name=f"{name} guardrail", kpi=kpi, action=action)
        audit.record(
            by,
            "kpi.created",
            kpi,
            migration=migration,
            after={"name": name, "source": kpi.source_label, "threshold": kpi.threshold_label},
        )
        created.append(kpi)
    return created
