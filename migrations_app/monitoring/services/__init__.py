"""Every write of the monitoring app, one module per section: probes, scheduling, results,
samples, evaluation, alerts, standard KPIs, retention and the demo.

Callers keep `from migrations_app.monitoring import services` and `services.create_probe`; the
names below are the whole public surface. The Celery tasks enqueue; these modules never import them."""

from migrations_app.monitoring.services.alerts import send_alert
from migrations_app.monitoring.services.evaluation import (
    CLOCK_SLACK,
    breach_evidence,
    evaluate_guardrail,
    evaluate_pushed_guardrails,
    fire_rollback,
    measure_baseline,
)
from migrations_app.monitoring.services.probes import PROBE_FIELDS, create_probe, update_probe
from migrations_app.monitoring.services.results import (
    record_probe_result,
    record_probe_results,
    tick_checklist_item,
)
from migrations_app.monitoring.services.retention import roll_up_old_data
from migrations_app.monitoring.services.samples import ingest_samples
from migrations_app.monitoring.services.scheduling import dispatch_due_probes
from migrations_app.monitoring.services.standard_kpis import (
    STANDARD_METRIC_KPIS,
    STANDARD_PROBE_KPIS,
    add_standard_kpis,
)
from migrations_app.monitoring.services.traffic import tagging_percent, traffic_percent

__all__ = [
    "CLOCK_SLACK",
    "PROBE_FIELDS",
    "STANDARD_METRIC_KPIS",
    "STANDARD_PROBE_KPIS",
    "add_standard_kpis",
    "breach_evidence",
    "create_probe",
    "dispatch_due_probes",
    "evaluate_guardrail",
    "evaluate_pushed_guardrails",
    "fire_rollback",
    "ingest_samples",
    "measure_baseline",
    "record_probe_result",
    "record_probe_results",
    "roll_up_old_data",
    "send_alert",
    "tagging_percent",
    "tick_checklist_item",
    "traffic_percent",
    "update_probe",
]
