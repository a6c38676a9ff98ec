"""The webhook KPIs and guardrails golive offers once a migration receives webhooks.

They read the samples services.receive pushes, so the KPI and guardrail machinery treats them
like any pushed metric: a no-data rule for "no webhooks for 10 minutes", a threshold for
"delivery verified above 99 %"."""

from __future__ import annotations

from django.db import transaction

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.inbound.services import RECEIVED_METRIC, VERIFIED_METRIC
from migrations_app.models import Migration
from migrations_app.monitoring.models import (
    Aggregation,
    Direction,
    Guardrail,
    GuardrailAction,
    GuardrailKind,
    Kpi,
)

# (KPI fields, guardrail fields or None)
WEBHOOK_KPIS = [
    (
        {
            "name": "Webhooks received (10 min)",
            "metric": RECEIVED_METRIC,
            "aggregation": Aggregation.COUNT,
            "window_seconds": 600,
            "direction": Direction.HIGHER_IS_BETTER,
            "critical": 1,
            "unit": "events",
        },
        {"kind": GuardrailKind.NO_DATA, "no_data_seconds": 600, "consecutive": 1},
    ),
    (
        {
            "name": "Webhook deliveries verified",
            "metric": VERIFIED_METRIC,
            "aggregation": Aggregation.RATE,
            "window_seconds": 300,
            "direction": Direction.HIGHER_IS_BETTER,
            "warning": 99.5,
            "critical": 99,
            "unit": "%",
        },
        {"kind": GuardrailKind.THRESHOLD, "consecutive": 3, "min_samples": 3},
    ),
    (
        {
            "name": "Webhook signature failures",
            "metric": VERIFIED_METRIC,
            "aggregation": Aggregation.ERROR_RATE,
            "window_seconds": 300,
            "direction": Direction.LOWER_IS_BETTER,
            "warning": 0.5,
            "critical": 1,
            "unit": "%",
        },
        None,  # the same number as the line above, seen from the other side: one guardrail is enough
    ),
]


@transaction.atomic
def add_webhook_kpis(
    migration: Migration, *, by: Actor, action: str = GuardrailAction.ALERT, no_data_seconds: int = 600
) -> list[Kpi]:
    """Create the webhook KPIs (and their guardrails) the migration does not have yet, by name."""
    Migration.objects.select_for_update().get(pk=migration.pk)  # two clicks create one set
    position = Kpi.objects.filter(migration=migration).count()
    created = []
    for kpi_fields, guardrail_fields in WEBHOOK_KPIS:
        if Kpi.objects.filter(migration=migration, name=kpi_fields["name"]).exists():
            continue
        position += 1
        kpi = Kpi(migration=migration, position=position, **kpi_fields)
        kpi.full_clean()
        kpi.save()
        after = {"name": kpi.name, "source": kpi.source_label, "threshold": kpi.threshold_label}
        if guardrail_fields is not None:
            fields = dict(guardrail_fields)
            if fields["kind"] == GuardrailKind.NO_DATA:
                fields["no_data_seconds"] = no_data_seconds
            guardrail = Guardrail(
                migration=migration, kpi=kpi, name=f"{kpi.name} guardrail", action=action, **fields
            )
            guardrail.full_clean()
            guardrail.save()
            after["guardrail"] = f"{guardrail.get_kind_display()}, {guardrail.get_action_display()}"
        audit.record(by, "kpi.created", kpi, migration=migration, after=after)
        created.append(kpi)
    return created
