"""Thin Celery tasks around the monitoring services. Ids in, idempotent, acks late."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor, as_completed

from celery import shared_task
from django.utils import timezone

from migrations_app.monitoring import probing, services
from migrations_app.monitoring.models import Guardrail, GuardrailKind, Probe, ProbeResult

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(**TASK_OPTIONS)
def dispatch_due_probes() -> int:
    """Beat calls this every second or so; it enqueues one run per due probe."""
    return len(services.dispatch_due_probes())


# Runs travel in small batches: one message per batch instead of per probe, and the batch's
# HTTP calls overlap in threads. Each run is still stored once per (probe, slot).
BATCH_SIZE = 20
BATCH_THREADS = 8


def enqueue_runs(runs: list[tuple[int, str]]) -> None:
    for start in range(0, len(runs), BATCH_SIZE):
        chunk = [[probe_id, due_at] for probe_id, due_at in runs[start : start + BATCH_SIZE]]
        run_probes.apply_async(kwargs={"runs": chunk}, expires=300)


@shared_task(**TASK_OPTIONS)
def run_probes(*, runs: list[list]) -> int:
    """Run a batch of (probe id, slot) pairs; a redelivered batch only runs what has no result yet."""
    slots = {(int(probe_id), dt.datetime.fromisoformat(due_at)) for probe_id, due_at in runs}
    probes = Probe.objects.select_related("migration").filter(pk__in={pid for pid, _ in slots}, enabled=True)
    probes = {probe.pk: probe for probe in probes}
    done = set(
        ProbeResult.objects.filter(
            probe_id__in=list(probes), due_at__in={slot for _, slot in slots}
        ).values_list("probe_id", "due_at")
    )
    todo = sorted((pid, slot) for pid, slot in slots if pid in probes and (pid, slot) not in done)
    if not todo:
        return 0
    with ThreadPoolExecutor(max_workers=min(BATCH_THREADS, len(todo))) as pool:
        futures = {
            pool.submit(probing.run, probing.ProbeSpec.from_probe(probes[pid])): (pid, slot)
            for pid, slot in todo
        }
        for future in as_completed(
            futures
        ):  # store each as soon as it is done; the DB work stays in this thread
            pid, slot = futures[future]
            services.record_probe_result(probes[pid], due_at=slot, outcome=future.result())
    return len(todo)


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
def evaluate_metric_guardrails(*, migration_id: int, metrics: list[str], pushed_at: str | None = None) -> int:
    """After a push; a message from before `pushed_at` existed evaluates unconditionally."""
    pushed = dt.datetime.fromisoformat(pushed_at) if pushed_at else None
    return services.evaluate_pushed_guardrails(migration_id=migration_id, metrics=metrics, pushed_at=pushed)


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
