"""Pushed batches: stored once per idempotency key, and their guardrail evaluation never lost.

A client that gets no answer retries. With an `Idempotency-Key` the retry finds the batch row
written in the same transaction as its samples and stores nothing new; the answer is the same.
The guardrail evaluation a batch triggers is published after commit (as the rollback's outbox
rows are): if the broker is down the publish fails quietly, the batch stays pending, and beat's
`evaluate_missed_batches` evaluates it. The request never answers an error for a batch it stored."""

from __future__ import annotations

import datetime as dt
import logging
import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from migrations_app.models import Migration
from migrations_app.monitoring.models import IngestBatch
from migrations_app.publishing import QuietPublisher

log = logging.getLogger(__name__)

# Printable ASCII without spaces, as the IETF draft's examples (a UUID, a hash) are.
KEY_PATTERN = r"^[!-~]{1,200}$"
_KEY = re.compile(KEY_PATTERN)
# A batch whose evaluation task should long have run by now: beat evaluates it.
PENDING_GRACE = dt.timedelta(seconds=5)
# The task that evaluates a batch is handed in by MonitoringConfig.ready (use_evaluation_task).
_publisher = QuietPublisher(log=log, prefix="samples", fallback="beat will run it")


def use_evaluation_task(task) -> None:
    _publisher.use(task)


def valid_key(value: str | None) -> bool:
    """No header at all is fine; a header that is there must hold a key (an empty one is refused)."""
    return value is None or bool(_KEY.fullmatch(value))


def claim(migration: Migration, *, key: str, stored: int, metrics: list[str]) -> tuple[IngestBatch, bool]:
    """(the new batch row, True) inside the caller's transaction, or (the earlier batch, False).

    A retry racing the original waits on the unique index until the original commits."""
    if key and (earlier := IngestBatch.objects.filter(migration=migration, idempotency_key=key).first()):
        return earlier, False
    try:
        with transaction.atomic():  # a savepoint: the racing duplicate must not break the caller
            batch = IngestBatch.objects.create(
                migration=migration,
                idempotency_key=key,
                stored=stored,
                metrics=metrics,
                received_at=timezone.now(),
            )
    except IntegrityError:
        return IngestBatch.objects.get(migration=migration, idempotency_key=key), False
    transaction.on_commit(lambda: publish_evaluation(batch))
    return batch, True


def publish_evaluation(batch: IngestBatch) -> bool:
    """Ask a worker to evaluate the batch's guardrails now. Never raises: beat is the safety net."""
    kwargs = {
        "migration_id": batch.migration_id,
        "metrics": batch.metrics,
        "pushed_at": batch.received_at.isoformat(),
        "batch_id": batch.pk,
    }
    return _publisher.publish([kwargs], subject=f"the evaluation of batch {batch.pk}")


def mark_evaluated(batch_ids: list[int]) -> None:
    IngestBatch.objects.filter(pk__in=batch_ids, evaluated_at__isnull=True).update(
        evaluated_at=timezone.now()
    )


def missed(now: dt.datetime, limit: int = 500) -> list[IngestBatch]:
    """Batches whose evaluation never ran (published while the broker was down, or lost)."""
    pending = IngestBatch.objects.filter(evaluated_at__isnull=True, received_at__lt=now - PENDING_GRACE)
    return list(pending.order_by("received_at")[:limit])


def prune(now: dt.datetime) -> int:
    """Forget evaluated batches (and their keys) once their raw samples are rolled up."""
    cutoff = now - dt.timedelta(hours=settings.GOLIVE_RAW_RETENTION_HOURS)
    deleted, _ = IngestBatch.objects.filter(evaluated_at__isnull=False, received_at__lt=cutoff).delete()
    return deleted
