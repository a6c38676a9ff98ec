"""Retention: fold raw results and samples past the retention age into per-minute rollups."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from migrations_app.monitoring.models import Outcome, ProbeResult, Rollup, Sample


def roll_up_old_data(*, now: dt.datetime | None = None, older_than: dt.timedelta | None = None) -> int:
    """Fold raw results and samples older than the retention age into per-minute rollups.

    Only whole minutes are folded, and the raw rows are deleted in the same transaction, so a
    rerun finds nothing to fold twice. Returns how many raw rows were folded."""
    now = now or timezone.now()
    cutoff = now - (older_than or dt.timedelta(hours=settings.GOLIVE_RAW_RETENTION_HOURS))
    cutoff = cutoff.replace(second=0, microsecond=0)
    if connection.vendor != "postgresql":
        return _roll_up_python(cutoff)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO monitoring_rollup (migration_id, source, minute, traffic_percent, count, ok, failed,
                                           errors, total, valued, p95, last)
            SELECT migration_id, 'probe:' || probe_id, date_trunc('minute', checked_at), traffic_percent,
                   count(*), count(*) FILTER (WHERE outcome = 'pass'), count(*) FILTER (WHERE outcome = 'fail'),
                   count(*) FILTER (WHERE outcome = 'error'), coalesce(sum(latency_ms), 0), count(latency_ms),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms),
                   (array_agg(coalesce(value, latency_ms) ORDER BY checked_at DESC))[1]
            FROM monitoring_proberesult WHERE checked_at < %s
            GROUP BY 1, 2, 3, 4
            ON CONFLICT (migration_id, source, minute, traffic_percent) DO UPDATE SET
                count = monitoring_rollup.count + EXCLUDED.count, ok = monitoring_rollup.ok + EXCLUDED.ok,
                failed = monitoring_rollup.failed + EXCLUDED.failed, errors = monitoring_rollup.errors + EXCLUDED.errors,
                total = monitoring_rollup.total + EXCLUDED.total, valued = monitoring_rollup.valued + EXCLUDED.valued,
                p95 = greatest(monitoring_rollup.p95, EXCLUDED.p95), last = EXCLUDED.last
            """,
            [cutoff],
        )
        cursor.execute("DELETE FROM monitoring_proberesult WHERE checked_at < %s", [cutoff])
        folded = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO monitoring_rollup (migration_id, source, minute, traffic_percent, count, ok, failed,
                                           errors, total, valued, p95, last)
            SELECT migration_id, metric, date_trunc('minute', at), traffic_percent, count(*),
                   coalesce(sum(ok), 0), coalesce(sum(failed), 0), 0, coalesce(sum(value), 0), count(value),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY value),
                   (array_agg(value ORDER BY at DESC))[1]
            FROM monitoring_sample WHERE at < %s
            GROUP BY 1, 2, 3, 4
            ON CONFLICT (migration_id, source, minute, traffic_percent) DO UPDATE SET
                count = monitoring_rollup.count + EXCLUDED.count, ok = monitoring_rollup.ok + EXCLUDED.ok,
                failed = monitoring_rollup.failed + EXCLUDED.failed,
                total = monitoring_rollup.total + EXCLUDED.total, valued = monitoring_rollup.valued + EXCLUDED.valued,
                p95 = greatest(monitoring_rollup.p95, EXCLUDED.p95), last = EXCLUDED.last
            """,
            [cutoff],
        )
        cursor.execute("DELETE FROM monitoring_sample WHERE at < %s", [cutoff])
        folded += cursor.rowcount
    return folded


def _roll_up_python(cutoff: dt.datetime) -> int:
    """SQLite (the no-setup demo): the same folding, row by row."""
    folded = 0
    with transaction.atomic():
        for result in ProbeResult.objects.filter(checked_at__lt=cutoff).iterator():
            rollup, _ = Rollup.objects.get_or_create(
                migration_id=result.migration_id,
                source=f"probe:{result.probe_id}",
                minute=result.checked_at.replace(second=0, microsecond=0),
                traffic_percent=result.traffic_percent,
            )
            rollup.count += 1
            rollup.ok += result.outcome == Outcome.PASS
            rollup.failed += result.outcome == Outcome.FAIL
            rollup.errors += result.outcome == Outcome.ERROR
            if result.latency_ms is not None:
                rollup.total += result.latency_ms
                rollup.valued += 1
                rollup.p95 = max(rollup.p95 or 0, result.latency_ms)
            rollup.save()
            folded += 1
        ProbeResult.objects.filter(checked_at__lt=cutoff).delete()
        for sample in Sample.objects.filter(at__lt=cutoff).iterator():
            rollup, _ = Rollup.objects.get_or_create(
                migration_id=sample.migration_id,
                source=sample.metric,
                minute=sample.at.replace(second=0, microsecond=0),
                traffic_percent=sample.traffic_percent,
            )
            rollup.count += 1
            rollup.ok += sample.ok or 0
            rollup.failed += sample.failed or 0
            if sample.value is not None:
                rollup.total += sample.value
                rollup.valued += 1
                rollup.last = sample.value
            rollup.save()
            folded += 1
        Sample.objects.filter(at__lt=cutoff).delete()
    return folded
