"""“Add standard KPIs”: per checklist template, the KPIs and rollback rules of the reference plan it
was written from, with that plan's own numbers (each line says where the number comes from)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from migrations_app.audit import Actor
from migrations_app.models import AuditEvent, Migration
from migrations_app.monitoring import configuration
from migrations_app.monitoring.models import Aggregation as A
from migrations_app.monitoring.models import Direction as D
from migrations_app.monitoring.models import GuardrailKind, Kpi, Probe
from migrations_app.monitoring.models import ProbeField as F

HIGHER, LOWER = D.HIGHER_IS_BETTER, D.LOWER_IS_BETTER


@dataclass(frozen=True)
class StandardKpi:
    name: str
    aggregation: str
    direction: str
    critical: float | None
    warning: float | None = None
    unit: str = ""
    probe_field: str | None = None  # a number of the chosen probe; None: the pushed `metric`
    metric: str = ""
    window_seconds: int = 300
    consecutive: int = 3
    kind: str = GuardrailKind.THRESHOLD
    no_data_seconds: int = 600
    degradation_percent: float = 50
    source: str = ""  # the plan's own words

    @property
    def rule(self) -> str:
        if self.kind == GuardrailKind.NO_DATA:
            return f"fires after {self.no_data_seconds // 60} min without data"
        if self.kind == GuardrailKind.BASELINE:
            return f"fires {self.degradation_percent:g} % worse than before the rollout"
        sign = "below" if self.direction == HIGHER else "above"
        unit = "" if self.unit in ("", "%") else f" {self.unit}"
        minutes = f" over {self.window_seconds // 60} min" if self.window_seconds >= 60 else ""
        return f"critical {sign} {self.critical:g}{self.unit if self.unit == '%' else unit}{minutes}, {self.consecutive} in a row"


PLANS: dict[str, tuple[str, list[StandardKpi]]] = {
    "identity-payment-dev-to-prod": (
        "Identity & payment API: dev to production",
        [
            StandardKpi(
                "Success rate",
                A.RATE,
                HIGHER,
                99.0,
                99.5,
                "%",
                F.SUCCESS,
                consecutive=5,
                source="“successRate: 99.0 // Alert if < 99% success”; target > 99.5 %; rollback after 5 failures",
            ),
            StandardKpi(
                "Error rate",
                A.ERROR_RATE,
                LOWER,
                1.0,
                0.5,
                "%",
                F.SUCCESS,
                consecutive=5,
                source="“errorRate: 1.0 // Alert if > 1% errors”; target < 0.5 %",
            ),
            StandardKpi(
                "Response time p95",
                A.P95,
                LOWER,
                3000,
                2000,
                "ms",
                F.LATENCY,
                consecutive=5,
                source="“responseTime: 3000 // Alert if > 3 seconds” (payments: 2000)",
            ),
            StandardKpi(
                "Payment success",
                A.RATE,
                HIGHER,
                99.5,
                99.9,
                "%",
                metric="payment_success",
                consecutive=5,
                source="payments “successRate: 99.5”; target > 99.9 %",
            ),
            StandardKpi(
                "Uptime",
                A.RATE,
                HIGHER,
                99.0,
                99.9,
                "%",
                metric="uptime",
                source="“uptime: 99.0 // Alert if < 99% uptime”; target 99.9 %",
            ),
        ],
    ),
    "appointment-api-staging-to-live": (
        "Appointment API with credits: staging to live",
        [
            StandardKpi(
                "Error rate",
                A.ERROR_RATE,
                LOWER,
                10.0,
                5.0,
                "%",
                F.SUCCESS,
                window_seconds=300,
                consecutive=1,
                source="“Error rate > 10% for 5 minutes” triggers rollback",
            ),
            StandardKpi(
                "Response time p95",
                A.P95,
                LOWER,
                2000,
                None,
                "ms",
                F.LATENCY,
                source="“Response time > 2 seconds” triggers rollback",
            ),
            StandardKpi(
                "Available credits",
                A.LAST,
                HIGHER,
                50,
                100,
                "credits",
                F.VALUE,
                consecutive=1,
                source="“credits < 50: ALERT”, “< 100: WARNING”",
            ),
            StandardKpi(
                "Webhooks received",
                A.COUNT,
                HIGHER,
                None,
                None,
                "",
                metric="webhook_received",
                kind=GuardrailKind.NO_DATA,
                no_data_seconds=600,
                consecutive=1,
                source="“No webhooks received for 10 minutes” triggers rollback",
            ),
        ],
    ),
    "webhook-service-release": (
        "Webhook service release: staging to production",
        [
            StandardKpi(
                "API error rate",
                A.ERROR_RATE,
                LOWER,
                5.0,
                None,
                "%",
                F.SUCCESS,
                source="“API error rate > 5%” triggers rollback",
            ),
            StandardKpi(
                "Webhook processing failures",
                A.ERROR_RATE,
                LOWER,
                10.0,
                None,
                "%",
                metric="webhook_delivery",
                source="“Webhook processing failures > 10%” triggers rollback",
            ),
            StandardKpi(
                "Response time p95",
                A.P95,
                LOWER,
                None,
                None,
                "ms",
                F.LATENCY,
                kind=GuardrailKind.BASELINE,
                degradation_percent=50,
                source="“Performance degradation > 50%” triggers rollback",
            ),
            StandardKpi(
                "Health checks",
                A.RATE,
                HIGHER,
                None,
                None,
                "%",
                F.SUCCESS,
                kind=GuardrailKind.NO_DATA,
                no_data_seconds=300,
                consecutive=1,
                source="“Health check failures for > 5 minutes”",
            ),
        ],
    ),
    "mobile-money-deployment": (
        "Mobile-money deployment",
        [
            StandardKpi(
                "Payment success",
                A.RATE,
                HIGHER,
                95.0,
                None,
                "%",
                metric="payment_success",
                source="“Payment success rate below 95%” triggers rollback",
            ),
            StandardKpi(
                "Error rate",
                A.ERROR_RATE,
                LOWER,
                5.0,
                1.0,
                "%",
                F.SUCCESS,
                source="“Error rate above 5%” triggers rollback; success criterion < 1 %",
            ),
            StandardKpi(
                "Uptime",
                A.RATE,
                HIGHER,
                99.9,
                None,
                "%",
                metric="uptime",
                source="success criterion “System uptime > 99.9%”",
            ),
        ],
    ),
    "payment-gateway-go-live": (
        "Payment gateway go-live",
        [
            StandardKpi(
                "Payment success",
                A.RATE,
                HIGHER,
                90.0,
                95.0,
                "%",
                metric="payment_success",
                source="“Payment success rate drops below 90%” triggers rollback; target > 95 %",
            ),
            StandardKpi(
                "Webhook delivery",
                A.RATE,
                HIGHER,
                95.0,
                99.0,
                "%",
                metric="webhook_delivery",
                source="“Webhook failure rate exceeds 5%” triggers rollback; target > 99 %",
            ),
        ],
    ),
}


def template_of(migration: Migration) -> str | None:
    """The slug of the checklist template the migration was created from, if it was."""
    event = AuditEvent.objects.filter(migration=migration, action="checklist.created_from_template").first()
    slug = (event.after or {}).get("template") if event else None
    return slug if slug in PLANS else None


def needs_probe(plan: str) -> bool:
    return any(spec.probe_field for spec in PLANS[plan][1])


@transaction.atomic
def add_plan_kpis(
    migration: Migration, *, plan: str, probe: Probe | None, action: str, by: Actor
) -> list[Kpi]:
    """The plan's KPIs with a guardrail each (audited); KPIs whose name exists are kept as they are,
    and probe KPIs are left out without a probe."""
    created = []
    for spec in PLANS[plan][1]:
        if (spec.probe_field and probe is None) or Kpi.objects.filter(
            migration=migration, name=spec.name
        ).exists():
            continue
        source = (
            {"probe": probe, "probe_field": spec.probe_field} if spec.probe_field else {"metric": spec.metric}
        )
        kpi = configuration.create_kpi(
            migration,
            by=by,
            name=spec.name,
            aggregation=spec.aggregation,
            direction=spec.direction,
            warning=spec.warning,
            critical=spec.critical,
            unit=spec.unit,
            window_seconds=spec.window_seconds,
            **source,
        )
        configuration.create_guardrail(
            migration,
            by=by,
            name=f"{spec.name} guardrail",
            kpi=kpi,
            kind=spec.kind,
            action=action,
            consecutive=spec.consecutive,
            min_samples=3,
            no_data_seconds=spec.no_data_seconds,
            degradation_percent=spec.degradation_percent,
        )
        created.append(kpi)
    return created
