"""Thin Celery tasks around the monitoring services. Ids in, idempotent, acks late."""

from __future__ import annotations

import datetime as dt
import gc
import os

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from migrations_app.models import Migration
from migrations_app.monitoring import batches, probing, services
from migrations_app.monitoring.models import Guardrail, GuardrailKind, Probe, ProbeResult

TASK_OPTIONS = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(**TASK_OPTIONS)
def dispatch_due_probes() -> int:
    """Beat calls this every second or so; it enqueues one run per due probe."""
    runs = services.dispatch_due_probes()
    # The claim is committed by now, unless a caller's transaction holds it: then on its commit.
    transaction.on_commit(lambda: enqueue_runs(runs))
    return len(runs)


# Runs travel in batches: one message per batch instead of per probe, the batch's HTTP calls
# overlap on the worker's probe loop, and results are stored in chunks as they arrive. Each run
# is still stored once per (probe, slot).
BATCH_SIZE = 500


def enqueue_runs(runs: list[tuple[int, str]]) -> None:
    for start in range(0, len(runs), BATCH_SIZE):
        chunk = [[probe_id, due_at] for probe_id, due_at in runs[start : start + BATCH_SIZE]]
        run_probes.apply_async(kwargs={"runs": chunk}, expires=300)


@shared_task(**TASK_OPTIONS)
def run_probes(*, runs: list[list]) -> int:
    """Run a batch of (probe id, slot) pairs; a redelivered batch only runs what has no result yet."""
    _freeze_startup_heap()
    probes, todo = _still_to_run(runs)
    specs = [probing.ProbeSpec.from_probe(probes[pid]) for pid, _ in todo]
    # The network calls run on the probe loop's thread; the database work stays in this one.
    for chunk in probing.run_many(specs):
        services.record_probe_results([(probes[todo[i][0]], todo[i][1], outcome) for i, outcome in chunk])
    return len(todo)


@shared_task(**TASK_OPTIONS)
def run_probe(*, probe_id: int, due_at: str) -> str:
    """One run (the batch task with a batch of one): what happened, for callers that ask."""
    probes, todo = _still_to_run([[probe_id, due_at]])
    if not todo:
        return "duplicate" if probes else "gone"  # redelivered, or deleted or disabled meanwhile
    probe, slot = probes[probe_id], todo[0][1]
    outcome = probing.run(probing.ProbeSpec.from_probe(probe))  # network call outside any transaction
    result = services.record_probe_result(probe, due_at=slot, outcome=outcome)
    return outcome.outcome if result else "duplicate"


_frozen_in = 0


def _freeze_startup_heap() -> None:
    """Once per process: a worker's heap is mostly Django, Celery and aiohttp, loaded once and
    kept; each full garbage collection walked all of it (0.24 s on the bench machine, every few
    seconds at 1,000 results/s). Frozen, the collector only sees what batches allocate."""
    global _frozen_in
    if _frozen_in != os.getpid():
        gc.freeze()
        _frozen_in = os.getpid()


def _still_to_run(runs: list[list]) -> tuple[dict[int, Probe], list[tuple[int, dt.datetime]]]:
    """The enabled probes of `runs`, and the (probe id, slot) pairs that have no result yet."""
    slots = {(int(probe_id), dt.datetime.fromisoformat(due_at)) for probe_id, due_at in runs}
    probes = {
        probe.pk: probe for probe in Probe.objects.filter(pk__in={pid for pid, _ in slots}, enabled=True)
    }
    # A batch's probes share a few migrations: load each once instead of joining it per probe.
    migrations = Migration.objects.in_bulk({probe.migration_id for probe in probes.values()})
    for probe in probes.values():
        probe.migration = migrations[probe.migration_id]
    done = set(
        ProbeResult.objects.filter(
            probe_id__in=list(probes), due_at__in={slot for _, slot in slots}
        ).values_list("probe_id", "due_at")
    )
    return probes, sorted((pid, slot) for pid, slot in slots if pid in probes and (pid, slot) not in done)


@shared_task(**TASK_OPTIONS)
def evaluate_metric_guardrails(
    *, migration_id: int, metrics: list[str], pushed_at: str | None = None, batch_id: int | None = None
) -> int:
    """After a push; a message from before `pushed_at` existed evaluates unconditionally."""
    pushed = dt.datetime.fromisoformat(pushed_at) if pushed_at else None
    evaluated = services.evaluate_pushed_guardrails(
        migration_id=migration_id, metrics=metrics, pushed_at=pushed
    )
    if batch_id is not None:
        batches.mark_evaluated([batch_id])
    return evaluated


@shared_task(**TASK_OPTIONS)
def evaluate_missed_batches() -> int:
    """Beat's safety net: evaluate the batches stored while the broker was down, and forget old keys."""
    now = timezone.now()
    missed = batches.missed(now)
    for batch in missed:
        services.evaluate_pushed_guardrails(
            migration_id=batch.migration_id, metrics=batch.metrics, pushed_at=batch.received_at
        )
        batches.mark_evaluated([batch.pk])
    batches.prune(now)
    return len(missed)


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
