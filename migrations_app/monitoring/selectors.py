"""Reads for the control room: KPI tiles, probe list, guardrails, charts, per-level table."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Avg, Count, Max, Q, Sum
from django.utils import timezone

from migrations_app.models import Migration
from migrations_app.monitoring import charts, kpis
from migrations_app.monitoring.models import (
    Aggregation,
    Alert,
    Guardrail,
    GuardrailState,
    Kpi,
    Outcome,
    Probe,
    ProbeResult,
    Rollup,
    Sample,
)
from migrations_app.rollout.models import TrafficChange, TrafficChangeKind

SPANS = {
    "15m": dt.timedelta(minutes=15),
    "1h": dt.timedelta(hours=1),
    "6h": dt.timedelta(hours=6),
    "24h": dt.timedelta(hours=24),
}
BUCKETS = 60
LEVEL_WORDS = {kpis.OK: "Healthy", kpis.WARNING: "Warning", kpis.CRITICAL: "Critical", kpis.NONE: "No data"}
LEVEL_CLASS = {kpis.OK: "healthy", kpis.WARNING: "warning", kpis.CRITICAL: "breached", kpis.NONE: "na"}
GUARDRAIL_CLASS: dict[str, str] = {
    GuardrailState.HEALTHY: "healthy",
    GuardrailState.WARNING: "warning",
    GuardrailState.BREACHED: "breached",
    GuardrailState.INSUFFICIENT_DATA: "na",
}


def probes_for(migration: Migration):
    return Probe.objects.filter(migration=migration).order_by("name")


def tiles(migration: Migration, *, now: dt.datetime) -> list[dict]:
    kpi_list = list(Kpi.objects.filter(migration=migration).select_related("probe"))
    readings = kpis.measure_many(kpi_list, now=now)
    trends = _trends(kpi_list, now=now)
    out = []
    for kpi in kpi_list:
        reading = readings[kpi.pk]
        level = kpis.level_of(kpi, reading.value)
        trend = trends[kpi.pk]
        out.append(
            {
                "kpi": kpi,
                "value": reading.value,
                "value_text": kpis.format_value(kpi, reading.value),
                "samples": reading.samples,
                "level": level,
                "css": LEVEL_CLASS[level],
                "words": LEVEL_WORDS[level],
                "spark": charts.sparkline([value for _, value in trend]),
                "window": _duration(kpi.window_seconds),
            }
        )
    return out


def _trend_span(kpi: Kpi) -> dt.timedelta:
    return dt.timedelta(seconds=max(kpi.window_seconds * 6, 600))


def _trends(kpi_list: list[Kpi], *, now: dt.datetime) -> dict[int, list]:
    """Each tile's sparkline: six of its windows in 20 buckets; one query per span and table."""
    spans: dict[dt.timedelta, list[Kpi]] = {}
    for kpi in kpi_list:
        spans.setdefault(_trend_span(kpi), []).append(kpi)
    trends = {}
    for span, group in spans.items():
        trends.update(kpis.series_many(group, since=now - span, until=now, width=span / 20))
    return trends


# Long aggregations change slowly; recomputing them on every 5-second poll of every viewer would
# not. They are cached for this long (the tiles and short charts are always fresh).
SLOW_CACHE_SECONDS = 30


def _cached(key: str, compute):
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, SLOW_CACHE_SECONDS)
    return value


def per_traffic_level(
    migration: Migration, *, now: dt.datetime, window: dt.timedelta = dt.timedelta(hours=24)
) -> dict:
    """{"levels": [0, 10, 25], "rows": [{"kpi", "cells": [{"text", "css"} per level]}]}, cached briefly."""
    key = f"monitoring:levels:{migration.pk}:{int(window.total_seconds())}"
    return _cached(key, lambda: _per_traffic_level(migration, now=now, window=window))


def _per_traffic_level(migration: Migration, *, now: dt.datetime, window: dt.timedelta) -> dict:
    table = []
    seen: set[int] = set()
    kpi_list = list(Kpi.objects.filter(migration=migration).select_related("probe"))
    all_levels = kpis.by_traffic_level_many(kpi_list, now=now, window=window)
    for kpi in kpi_list:
        by_level = dict(all_levels[kpi.pk])
        seen |= set(by_level)
        table.append((kpi, by_level))
    levels = sorted(seen)
    rows = []
    for kpi, by_level in table:
        cells = []
        for level in levels:
            reading = by_level.get(level)
            value = reading.value if reading else None
            judged = kpis.level_of(kpi, value)
            cells.append(
                {
                    "text": kpis.format_value(kpi, value),
                    "css": LEVEL_CLASS[judged],
                    "words": LEVEL_WORDS[judged],
                    "samples": reading.samples if reading else 0,
                }
            )
        rows.append({"kpi": kpi, "cells": cells})
    return {"levels": levels, "rows": rows}


def guardrails_for(migration: Migration) -> list[dict]:
    return [
        {"guardrail": g, "css": GUARDRAIL_CLASS[g.state], "words": g.get_state_display()}
        for g in Guardrail.objects.filter(migration=migration).select_related("kpi").order_by("name")
    ]


def markers(migration: Migration, *, since: dt.datetime) -> list[dict]:
    """Traffic steps and rollbacks to mark on the charts (from the rollout app's history)."""

    out = []
    for change in TrafficChange.objects.filter(migration=migration, at__gte=since).order_by("at")[:50]:
        rollback = change.kind == TrafficChangeKind.ROLLBACK
        labels: dict[str, str] = {
            TrafficChangeKind.ROLLBACK: "rollback → 0 %",
            TrafficChangeKind.PAUSE: f"paused at {change.to_percent} %",
            TrafficChangeKind.RESUME: f"resumed at {change.to_percent} %",
        }
        label = labels.get(change.kind, f"→ {change.to_percent} %")
        out.append({"at": change.at, "kind": "rollback" if rollback else "traffic", "label": label})
    return out


def chart_figures(migration: Migration, *, now: dt.datetime, span: dt.timedelta) -> dict:
    """Latency and success rate per probe (and pushed counters) in about 60 buckets; two grouped queries.
    Spans of six hours and more are cached briefly."""
    if span < dt.timedelta(hours=6):
        return _chart_figures(migration, now=now, span=span)
    key = f"monitoring:charts:{migration.pk}:{int(span.total_seconds())}"
    return _cached(key, lambda: _chart_figures(migration, now=now, span=span))


def _chart_figures(migration: Migration, *, now: dt.datetime, span: dt.timedelta) -> dict:
    width = max(span / BUCKETS, dt.timedelta(seconds=1))
    since = _ceil(now - span, width)  # whole buckets only, so that finished ones can be kept
    names = dict(Probe.objects.filter(migration=migration).values_list("id", "name"))
    rate_metrics = Kpi.objects.filter(migration=migration, probe__isnull=True, aggregation=Aggregation.RATE)
    metrics = sorted(set(rate_metrics.values_list("metric", flat=True)))
    latency: dict[str, list] = {}
    success: dict[str, list] = {}
    buckets = _chart_buckets(migration, metrics=metrics, since=since, now=now, width=width)
    for (kind, source, bucket), (good, bad, worst) in sorted(buckets.items()):
        name = names.get(source, f"probe {source}") if kind == 0 else source
        if worst is not None:
            latency.setdefault(name, []).append((bucket, worst))
        if good + bad:
            success.setdefault(name, []).append((bucket, 100.0 * good / (good + bad)))
    _add_rollups(migration, since=since, width=width, names=names, latency=latency, success=success)
    marks = markers(migration, since=since)
    return {"latency": charts.latency_chart(latency, marks), "success": charts.success_chart(success, marks)}


# A finished bucket no longer changes, so the charts keep them and each poll adds up only the rows
# since the last finished one: a poll reads a bucket's worth of rows, not the whole span (an hour
# of results was most of the live partial's time). A bucket counts as finished a minute after it
# ends (probe results and pushed samples land with their own timestamps, a little late); kept
# buckets are dropped after a few minutes, so a later straggler still shows up.
FINISHED_AFTER = dt.timedelta(minutes=1)
FINISHED_CACHE_SECONDS = 300
EPOCH = dt.datetime(2000, 1, 3, tzinfo=dt.UTC)  # bucket boundaries are whole widths from here


def _chart_buckets(migration, *, metrics, since, now, width) -> dict:
    """{(0, probe_id | 1, metric, bucket start): (good, bad, p95 latency or None)} in [since, now]."""

    finished = _floor(now - FINISHED_AFTER, width)
    if connection.vendor != "postgresql" or finished <= since:
        return _bucket_rows(migration, metrics=metrics, since=since, until=now, width=width, last=True)
    key = f"monitoring:chart-buckets:{migration.pk}:{int(width.total_seconds())}:{','.join(metrics)}"
    kept = cache.get(key)
    if kept and kept["from"] <= since <= kept["until"] <= finished:
        rows = {k: v for k, v in kept["rows"].items() if k[2] >= since}
        start = kept["until"]
    else:
        rows, start = {}, since
    if start < finished:
        rows |= _bucket_rows(migration, metrics=metrics, since=start, until=finished, width=width, last=False)
        cache.set(key, {"from": since, "until": finished, "rows": rows}, FINISHED_CACHE_SECONDS)
    return rows | _bucket_rows(migration, metrics=metrics, since=finished, until=now, width=width, last=True)


def _bucket_rows(migration, *, metrics, since, until, width, last: bool) -> dict:
    """Chart buckets of rows in [since, until) (or [since, until] for the `last` stretch)."""
    end = "lte" if last else "lt"
    out: dict[tuple, tuple] = {}
    grouped = (
        ProbeResult.objects.filter(
            migration=migration, checked_at__gte=since, **{f"checked_at__{end}": until}
        )
        .exclude(outcome=Outcome.ERROR)
        .annotate(bucket=kpis.bucket_expression("checked_at", width, EPOCH))
        .values("probe_id", "bucket")
        .annotate(
            good=Count("id", filter=Q(outcome=Outcome.PASS)),
            bad=Count("id", filter=Q(outcome=Outcome.FAIL)),
            latency=_latency_aggregate(),
        )
        .order_by()
    )
    for row in grouped:
        out[(0, row["probe_id"], row["bucket"])] = (row["good"], row["bad"], row["latency"])
    if metrics:
        pushed = (
            Sample.objects.filter(
                migration=migration,
                metric__in=metrics,
                at__gte=since,
                ok__isnull=False,
                **{f"at__{end}": until},
            )
            .annotate(bucket=kpis.bucket_expression("at", width, EPOCH))
            .values("metric", "bucket")
            .annotate(good=_sum("ok"), bad=_sum("failed"))
            .order_by()
        )
        for counted in pushed:
            out[(1, counted["metric"], counted["bucket"])] = (counted["good"] or 0, counted["bad"] or 0, None)
    return out


def _floor(moment: dt.datetime, width: dt.timedelta) -> dt.datetime:
    return moment - (moment - EPOCH) % width


def _ceil(moment: dt.datetime, width: dt.timedelta) -> dt.datetime:
    floor = _floor(moment, width)
    return floor if floor == moment else floor + width


def _add_rollups(migration, *, since, width, names, latency, success) -> None:
    """History older than the raw retention comes from the per-minute rollups (worst p95 per bucket)."""
    cutoff = timezone.now() - dt.timedelta(hours=settings.GOLIVE_RAW_RETENTION_HOURS)
    if since >= cutoff:
        return
    rows = (
        Rollup.objects.filter(migration=migration, minute__gte=since, minute__lt=cutoff)
        .annotate(bucket=kpis.bucket_expression("minute", width, since))
        .values("source", "bucket")
        .annotate(good=_sum("ok"), bad=_sum("failed"), worst=Max("p95"))
        .order_by("source", "bucket")
    )
    for row in rows:
        source = row["source"]
        name = names.get(int(source[6:]), source) if source.startswith("probe:") else source
        if source.startswith("probe:") and row["worst"] is not None:
            latency.setdefault(name, []).append((row["bucket"], row["worst"]))
        counted = (row["good"] or 0) + (row["bad"] or 0)
        if counted and (source.startswith("probe:") or name in success):
            success.setdefault(name, []).append((row["bucket"], 100.0 * (row["good"] or 0) / counted))
    for series in (*latency.values(), *success.values()):
        series.sort(key=lambda point: point[0])


def _sum(field):

    return Sum(field)


def _latency_aggregate():

    if connection.vendor == "postgresql":
        return kpis.Percentile("latency_ms", 0.95)
    return Avg("latency_ms")


def recent_alerts(migration: Migration, *, limit: int = 5):
    return Alert.objects.filter(migration=migration)[:limit]


def summary(migration: Migration, *, now: dt.datetime | None = None) -> dict:
    """The compact card on the migration page: counts of guardrail states and failing probes."""
    now = now or timezone.now()
    guardrails = list(
        Guardrail.objects.filter(migration=migration, enabled=True).values_list("state", flat=True)
    )
    probes = Probe.objects.filter(migration=migration, enabled=True)
    return {
        "probe_count": probes.count(),
        "failing_probes": probes.exclude(last_outcome__in=["", Outcome.PASS]).count(),
        "kpi_count": Kpi.objects.filter(migration=migration).count(),
        "breached": guardrails.count(GuardrailState.BREACHED),
        "warning": guardrails.count(GuardrailState.WARNING),
        "healthy": guardrails.count(GuardrailState.HEALTHY),
        "guardrail_count": len(guardrails),
    }


def _duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
