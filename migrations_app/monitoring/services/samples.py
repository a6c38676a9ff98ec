"""Pushed samples: store a validated batch once per idempotency key."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from migrations_app.models import Migration
from migrations_app.monitoring import batches
from migrations_app.monitoring.cohorts import assign_cohorts
from migrations_app.monitoring.models import Sample
from migrations_app.monitoring.services.traffic import tagging_percent


def ingest_samples(migration: Migration, *, items: list[dict], idempotency_key: str = "") -> int:
    """Store already validated samples (see api.validate_batch) and evaluate the guardrails on them.

    Returns how many the batch stored; a retry under the same idempotency key stores nothing and
    returns the first answer. The evaluation is published after commit (batches.py)."""
    percent = tagging_percent(migration)
    now = timezone.now()
    cohorts = assign_cohorts(migration, items, now=now)
    rows = [
        (
            migration.pk,
            item["metric"],
            item.get("at") or now,
            item.get("value"),
            item.get("ok"),
            item.get("failed"),
            percent,
            cohort,
        )
        for item, cohort in zip(items, cohorts, strict=True)
    ]
    metrics = sorted({row[1] for row in rows})
    with transaction.atomic():
        batch, new = batches.claim(migration, key=idempotency_key, stored=len(rows), metrics=metrics)
        if new:
            _insert_samples(rows)
    return batch.stored


_SAMPLE_COLUMNS = ("migration_id", "metric", "at", "value", "ok", "failed", "traffic_percent", "cohort")


def _insert_samples(rows: list[tuple]) -> None:
    """Insert already validated rows (in _SAMPLE_COLUMNS order) inside the caller's transaction.

    On PostgreSQL by COPY: bulk_create spent most of a 500-row batch preparing each field of each
    row in Python, and was what held ingestion below its target (docs/benchmarks.md, item 6)."""
    if connection.vendor != "postgresql":
        Sample.objects.bulk_create(
            [Sample(**dict(zip(_SAMPLE_COLUMNS, row, strict=True))) for row in rows], batch_size=1000
        )
        return
    sql = f"COPY {Sample._meta.db_table} ({', '.join(_SAMPLE_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
