"""Reads for the control room: KPI tiles, probe list, guardrails, charts, per-level table."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.db.models import Avg, Count, Max, Q
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

SPANS = {
    "15m": dt.timedelta(minutes=15),
    "1h": dt.timedelta(hours=1),
    "6h": dt.timedelta(hours=6),
    "24h": dt.timedelta(hours=24),
}
BUCKETS = 60
LEVEL_WORDS = {kpis.OK: "Healthy", kpis.WARNING: "Warning", kpis.CRITICAL: "Critical", kpis.NONE: "No data"}
LEVEL_CLASS = {kpis.OK: "healthy", kpis.WARNING: "warning", kpis.CRITICAL: "breached", kpis.NONE: "na"}
GUARDRAIL_CLASS = {
    GuardrailState.HEALTHY: "healthy",
    GuardrailState.WARNING: "warning",
    GuardrailState.BREACHED: "breached",
    GuardrailState.INSUFFICIENT_DATA: "na",
}


def probes_for(migration: Migration):
    return Probe.objects.filter(migration=migration).order_by("name")


def tiles(migration: Migration, *, now: dt.datetime) -> list[dict]:
    out = []
    for kpi in Kpi.objects.filter(migration=migration).select_related("probe"):
        reading = kpis.measure(kpi, now=now)
        level = kpis.level_of(kpi, reading.value)
        span = dt.timedelta(seconds=max(kpi.window_seconds * 6, 600))
        trend = kpis.series(kpi, since=now - span, until=now, width=span / 20)
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
    for kpi in Kpi.objects.filter(migration=migration).select_related("probe"):
        by_level = {level: reading for level, reading in kpis.by_traffic_level(kpi, now=now, window=window)}
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
    from migrations_app.rollout.models import TrafficChange, TrafficChangeKind

    out = []
    for change in TrafficChange.objects.filter(migration=migration, at__gte=since).order_by("at")[:50]:
        rollback = change.kind == TrafficChangeKind.ROLLBACK
        label = "rollback → 0 %" if rollback else f"→ {change.to_percent} %"
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
    since = now - span
    width = max(span / BUCKETS, dt.timedelta(seconds=1))
    names = dict(Probe.objects.filter(migration=migration).values_list("id", "name"))
    grouped = (
        ProbeResult.objects.filter(migration=migration, checked_at__gt=since, checked_at__lte=now)
        .exclude(outcome=Outcome.ERROR)
        .annotate(bucket=kpis.bucket_expression("checked_at", width, since))
        .values("probe_id", "bucket")
        .annotate(
            good=Count("id", filter=Q(outcome=Outcome.PASS)),
            bad=Count("id", filter=Q(outcome=Outcome.FAIL)),
            latency=_latency_aggregate(),
        )
        .order_by("probe_id", "bucket")
    )
    latency: dict[str, list] = {}
    success: dict[str, list] = {}
    for row in grouped:
        name = names.get(row["probe_id"], f"probe {row['probe_id']}")
        if row["latency"] is not None:
            latency.setdefault(name, []).append((row["bucket"], row["latency"]))
        counted = row["good"] + row["bad"]
        if counted:
            success.setdefault(name, []).append((row["bucket"], 100.0 * row["good"] / counted))
    rate_metrics = Kpi.objects.filter(migration=migration, probe__isnull=True, aggregation=Aggregation.RATE)
    metrics = sorted(set(rate_metrics.values_list("metric", flat=True)))
    if metrics:
        pushed = (
            Sample.objects.filter(
                migration=migration, metric__in=metrics, at__gt=since, at__lte=now, ok__isnull=False
            )
            .annotate(bucket=kpis.bucket_expression("at", width, since))
            .values("metric", "bucket")
            .annotate(good=_sum("ok"), bad=_sum("failed"))
            .order_by("metric", "bucket")
        )
        for row in pushed:
            counted = (row["good"] or 0) + (row["bad"] or 0)
            if counted:
                success.setdefault(row["metric"], []).append(
                    (row["bucket"], 100.0 * (row["good"] or 0) / counted)
                )
    _add_rollups(migration, since=since, width=width, names=names, latency=latency, success=success)
    marks = markers(migration, since=since)
    return {"latency": charts.latency_chart(latency, marks), "success": charts.success_chart(success, marks)}


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
    from django.db.models import Sum

    return Sum(field)


def _latency_aggregate():
    from django.db import connection

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
