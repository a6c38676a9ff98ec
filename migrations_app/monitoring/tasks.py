"""Thin Celery tasks around the monitoring services. Ids in, idempotent, acks late."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from migrations_app.monitoring import probing, services
from migrations_app.monitoring.models import Guardrail, GuardrailKind, Probe

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(**TASK_OPTIONS)
def dispatch_due_probes() -> int:
    """Beat calls this every second or so; it enqueues one run per due probe."""
    return len(services.dispatch_due_probes())


def enqueue_runs(runs: list[tuple[int, str]]) -> None:
    for probe_id, due_at in runs:
        run_probe.apply_async(kwargs={"probe_id": probe_id, "due_at": due_at}, expires=300)


@shared_task(**TASK_OPTIONS)
def run_probe(*, probe_id: int, due_at: str) -> str:
    probe = Probe.objects.select_related("migration").filter(pk=probe_id).first()
    if probe is None or not probe.enabled:
        return "gone"  # deleted or disabled meanwhile
    slot = dt.datetime.fromisoformat(due_at)
    if probe.results.filter(due_at=slot).exists():
        return "duplicate"  # a redelivery: do not even call the target again
    outcome = probing.run(probing.ProbeSpec.from_probe(probe))  # network call outside any transaction
    result = services.record_probe_result(probe, due_at=slot, outcome=outcome)
    return outcome.outcome if result else "duplicate"


@shared_task(**TASK_OPTIONS)
def evaluate_metric_guardrails(*, migration_id: int, metrics: list[str]) -> int:
    guardrails = Guardrail.objects.filter(migration_id=migration_id, kpi__metric__in=metrics, enabled=True)
    guardrails = guardrails.exclude(kind=GuardrailKind.NO_DATA)
    for guardrail in guardrails:
        services.evaluate_guardrail(guardrail)
    return len(guardrails)


@shared_task(**TASK_OPTIONS)
def evaluate_all_guardrails() -> int:
    """The periodic evaluation: the no-data rule fires on silence, which no arriving data triggers."""
    guardrails = Guardrail.objects.filter(enabled=True, kind=GuardrailKind.NO_DATA)
    now = timezone.now()
    for guardrail in guardrails:
        services.evaluate_guardrail(guardrail, now=now)
    return len(guardrails)


@shared_task(**TASK_OPTIONS)
def roll_up_old_data() -> int:
    return services.roll_up_old_data()
