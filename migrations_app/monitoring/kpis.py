"""KPI arithmetic: aggregate a KPI's source over a window in SQL, and judge the number.

A probe's errors (timeouts, unreachable) are left out of every KPI: they are neither passes
nor failures. Percentiles use PostgreSQL's percentile_cont; SQLite (the no-setup demo) computes
them in Python from at most a window's worth of values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, models
from django.db.models import Avg, Count, Q, Sum
from django.db.models.functions import TruncMinute

from migrations_app.monitoring.models import (
    Aggregation,
    Direction,
    Kpi,
    Outcome,
    ProbeField,
    ProbeResult,
    Sample,
)

OK, WARNING, CRITICAL, NONE = "ok", "warning", "critical", "none"


class Percentile(models.Aggregate):
    function = "percentile_cont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = models.FloatField()

    def __init__(self, expression, percentile: float, **extra):
        super().__init__(expression, percentile=float(percentile), **extra)


@dataclass(frozen=True)
class Reading:
    value: float | None
    samples: int


def level_of(kpi: Kpi, value: float | None) -> str:
    """ok, warning, critical, or none when there is no number."""
    if value is None:
        return NONE
    if kpi.critical is None:
        return OK  # compared only: no fixed threshold to be past
    if kpi.direction == Direction.HIGHER_IS_BETTER:
        if value < kpi.critical:
            return CRITICAL
        if kpi.warning is not None and value < kpi.warning:
            return WARNING
        return OK
    if value >= kpi.critical:
        return CRITICAL
    if kpi.warning is not None and value >= kpi.warning:
        return WARNING
    return OK


PERCENTILES = {Aggregation.P50: 0.50, Aggregation.P95: 0.95, Aggregation.P99: 0.99}


def raw_rows(kpi: Kpi, *, since: dt.datetime, until: dt.datetime, cohort: str | None = None):
    """The queryset a KPI reads (probe results without errors, or pushed samples) in (since, until].

    With a cohort ("new"/"old"), only that path's rows: pushed samples tagged with it, or the
    results of the migration's probes of the KPI probe's kind bound to that path."""
    if kpi.probe_id:
        if cohort:
            rows = ProbeResult.objects.filter(
                migration_id=kpi.migration_id, cohort=cohort, probe__kind=kpi.probe.kind
            )
        else:
            rows = ProbeResult.objects.filter(probe_id=kpi.probe_id)
        return rows.filter(checked_at__gt=since, checked_at__lte=until).exclude(outcome=Outcome.ERROR)
    rows = Sample.objects.filter(
        migration_id=kpi.migration_id, metric=kpi.metric, at__gt=since, at__lte=until
    )
    return rows.filter(cohort=cohort) if cohort else rows


def _value_field(kpi: Kpi) -> str:
    if kpi.probe_id:
        return "latency_ms" if kpi.probe_field == ProbeField.LATENCY else "value"
    return "value"


def _aggregates(kpi: Kpi) -> dict:
    """SQL aggregates for one KPI; the keys are what `_reading` reads."""
    if kpi.probe_id:
        good, bad = Count("id", filter=Q(outcome=Outcome.PASS)), Count("id", filter=Q(outcome=Outcome.FAIL))
    else:
        good, bad = Sum("ok"), Sum("failed")
    field = _value_field(kpi)
    aggregates = {"good": good, "bad": bad, "rows": Count("id"), "valued": Count(field), "mean": Avg(field)}
    if kpi.aggregation in PERCENTILES and connection.vendor == "postgresql":
        aggregates["pct"] = Percentile(field, PERCENTILES[kpi.aggregation])
    return aggregates


def _reading(kpi: Kpi, row: dict, rows_qs) -> Reading:
    good, bad = row.get("good") or 0, row.get("bad") or 0
    counted = good + bad
    uses_counts = kpi.aggregation in (Aggregation.RATE, Aggregation.ERROR_RATE) or (
        kpi.probe_id and kpi.probe_field == ProbeField.SUCCESS
    )
    if kpi.aggregation == Aggregation.RATE or (
        uses_counts and kpi.aggregation in (Aggregation.MEAN, Aggregation.LAST)
    ):
        return Reading(100.0 * good / counted if counted else None, counted)
    if kpi.aggregation == Aggregation.ERROR_RATE:
        return Reading(100.0 * bad / counted if counted else None, counted)
    if kpi.aggregation == Aggregation.COUNT:
        count = counted if (not kpi.probe_id and counted) else row["rows"]
        return Reading(float(count), row["rows"])
    valued = row.get("valued") or 0
    if kpi.aggregation == Aggregation.MEAN:
        return Reading(row.get("mean"), valued)
    if kpi.aggregation in PERCENTILES:
        if "pct" in row:
            return Reading(row["pct"], valued)
        values = sorted(v for v in rows_qs.values_list(_value_field(kpi), flat=True) if v is not None)
        return Reading(percentile(values, PERCENTILES[kpi.aggregation]), valued)
    # LAST
    order = "-checked_at" if kpi.probe_id else "-at"
    last = (
        rows_qs.exclude(**{f"{_value_field(kpi)}__isnull": True})
        .order_by(order)
        .values_list(_value_field(kpi), flat=True)
        .first()
    )
    return Reading(last, valued)


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (what percentile_cont does)."""
    if not values:
        return None
    position = (len(values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def measure(
    kpi: Kpi,
    *,
    now: dt.datetime,
    window: dt.timedelta | None = None,
    traffic_percent=None,
    cohort: str | None = None,
) -> Reading:
    """The KPI's value over the window ending at `now` (optionally only at one traffic level,
    or for one cohort: "new" or "old")."""
    since = now - (window or dt.timedelta(seconds=kpi.window_seconds))
    rows = raw_rows(kpi, since=since, until=now, cohort=cohort)
    if traffic_percent is not None:
        rows = rows.filter(traffic_percent=traffic_percent)
    return _reading(kpi, rows.aggregate(**_aggregates(kpi)), rows)


def by_traffic_level(kpi: Kpi, *, now: dt.datetime, window: dt.timedelta) -> list[tuple[int, Reading]]:
    """The KPI at each traffic level seen in the window, lowest level first (one grouped query)."""
    rows = raw_rows(kpi, since=now - window, until=now)
    grouped = rows.values("traffic_percent").annotate(**_aggregates(kpi)).order_by("traffic_percent")
    return [
        (row["traffic_percent"], _reading(kpi, row, rows.filter(traffic_percent=row["traffic_percent"])))
        for row in grouped
    ]


@dataclass(frozen=True)
class Distribution:
    """One cohort's values over a window: how many, and their p50/p95/p99 (None without values)."""

    samples: int
    p50: float | None
    p95: float | None
    p99: float | None
    mean: float | None


def distribution(kpi: Kpi, *, now: dt.datetime, cohort: str | None = None) -> Distribution:
    """p50/p95/p99 and the mean of the KPI's values over its window, for one cohort or all.
    percentile_cont in PostgreSQL; elsewhere the same interpolation in Python."""
    rows = raw_rows(kpi, since=now - dt.timedelta(seconds=kpi.window_seconds), until=now, cohort=cohort)
    field = _value_field(kpi)
    if connection.vendor == "postgresql":
        row = rows.aggregate(
            samples=Count(field),
            mean=Avg(field),
            **{name: Percentile(field, fraction) for name, fraction in _DISTRIBUTION.items()},
        )
        return Distribution(**row)
    values = sorted(v for v in rows.values_list(field, flat=True) if v is not None)
    mean = sum(values) / len(values) if values else None
    quantiles = {name: percentile(values, fraction) for name, fraction in _DISTRIBUTION.items()}
    return Distribution(samples=len(values), mean=mean, **quantiles)


_DISTRIBUTION = {"p50": 0.50, "p95": 0.95, "p99": 0.99}


def last_data_at(kpi: Kpi) -> dt.datetime | None:
    """When the KPI's source last produced data (for the no-data rule)."""
    if kpi.probe_id:
        return (
            ProbeResult.objects.filter(probe_id=kpi.probe_id)
            .exclude(outcome=Outcome.ERROR)
            .order_by("-checked_at")
            .values_list("checked_at", flat=True)
            .first()
        )
    return (
        Sample.objects.filter(migration_id=kpi.migration_id, metric=kpi.metric)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )


def uses_counts(kpi: Kpi) -> bool:
    """True when the KPI is a share of successes or failures (compared as proportions)."""
    return kpi.aggregation in (Aggregation.RATE, Aggregation.ERROR_RATE) or bool(
        kpi.probe_id and kpi.probe_field == ProbeField.SUCCESS
    )


def value_field(kpi: Kpi) -> str:
    """The column holding the KPI's measured values (latency, value)."""
    return _value_field(kpi)


def format_value(kpi: Kpi, value: float | None) -> str:
    if value is None:
        return "no data"
    if kpi.aggregation in (Aggregation.RATE, Aggregation.ERROR_RATE):
        return f"{value:.2f} %"
    if kpi.aggregation == Aggregation.COUNT:
        return f"{value:.0f}{(' ' + kpi.unit) if kpi.unit else ''}"
    shown = f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{shown}{(' ' + kpi.unit) if kpi.unit and kpi.unit != '%' else kpi.unit}"


def bucket_expression(field: str, width: dt.timedelta, origin: dt.datetime):
    """Start of the `width`-long bucket a row falls in (date_bin on PostgreSQL, minutes elsewhere)."""
    if connection.vendor == "postgresql":
        return models.Func(
            models.Value(width),
            models.F(field),
            models.Value(origin),
            function="date_bin",
            output_field=models.DateTimeField(),
        )

    return TruncMinute(field)


def series(
    kpi: Kpi, *, since: dt.datetime, until: dt.datetime, width: dt.timedelta, cohort: str | None = None
) -> list[tuple[dt.datetime, float]]:
    """The KPI per bucket (each bucket judged on its own rows), oldest first; one grouped query.
    With a cohort, only that path's rows (see raw_rows)."""
    rows = raw_rows(kpi, since=since, until=until, cohort=cohort)
    field = "checked_at" if kpi.probe_id else "at"
    grouped = (
        rows.annotate(bucket=bucket_expression(field, width, since))
        .values("bucket")
        .annotate(**_aggregates(kpi))
        .order_by("bucket")
    )
    points = []
    for row in grouped:
        bucket_rows = (
            rows.filter(**{f"{field}__gte": row["bucket"], f"{field}__lt": row["bucket"] + width})
            if _rereads(kpi)
            else rows.none()
        )
        reading = _reading(kpi, row, bucket_rows)
        if reading.value is not None:
            points.append((row["bucket"], reading.value))
    return points


# --- many KPIs at once (the control room) ------------------------------------------------------
# A page of tiles asked one query per KPI, and again per KPI for each trend and traffic level:
# dozens of round trips per 5-second poll. These read the same numbers with one query per source
# table, each KPI's aggregates narrowed by FILTER to its own probe or metric (and window). The SQL
# is written out rather than built with the ORM: compiling some seventy filtered aggregates took
# the ORM longer than PostgreSQL took to run them. Other databases (the SQLite demo) ask per KPI.


def measure_many(kpi_list: list[Kpi], *, now: dt.datetime) -> dict[int, Reading]:
    """{kpi.pk: measure(kpi, now=now)} for KPIs of one migration."""
    if connection.vendor != "postgresql":
        return {kpi.pk: measure(kpi, now=now) for kpi in kpi_list}
    readings = {}
    for group in _by_table(kpi_list):
        windows = {kpi.pk: now - dt.timedelta(seconds=kpi.window_seconds) for kpi in group}
        (row,) = _side_by_side(group, since=min(windows.values()), until=now, windows=windows)
        for kpi in group:
            rows = raw_rows(kpi, since=windows[kpi.pk], until=now) if _rereads(kpi) else None
            readings[kpi.pk] = _reading(kpi, _own(row, kpi), rows)
    return readings


def series_many(
    kpi_list: list[Kpi], *, since: dt.datetime, until: dt.datetime, width: dt.timedelta
) -> dict[int, list[tuple[dt.datetime, float]]]:
    """{kpi.pk: series(kpi, ...)} for KPIs of one migration sharing one span and bucket width."""
    if connection.vendor != "postgresql":
        return {kpi.pk: series(kpi, since=since, until=until, width=width) for kpi in kpi_list}
    out: dict[int, list] = {kpi.pk: [] for kpi in kpi_list}
    for group in _by_table(kpi_list):
        field = _time_field(group[0])
        bucket = (f"date_bin(%s, {field}, %s)", [width, since])
        grouped = _side_by_side(group, since=since, until=until, group_by=bucket)
        for row in grouped:
            for kpi in group:
                own = _own(row, kpi)
                if not own["rows"]:
                    continue  # the one-KPI query has no such bucket
                bucket_rows = None
                if _rereads(kpi):
                    bucket_rows = raw_rows(kpi, since=since, until=until).filter(
                        **{f"{field}__gte": row["group"], f"{field}__lt": row["group"] + width}
                    )
                reading = _reading(kpi, own, bucket_rows)
                if reading.value is not None:
                    out[kpi.pk].append((row["group"], reading.value))
    return out


def by_traffic_level_many(
    kpi_list: list[Kpi], *, now: dt.datetime, window: dt.timedelta
) -> dict[int, list[tuple[int, Reading]]]:
    """{kpi.pk: by_traffic_level(kpi, ...)} for KPIs of one migration."""
    if connection.vendor != "postgresql":
        return {kpi.pk: by_traffic_level(kpi, now=now, window=window) for kpi in kpi_list}
    out: dict[int, list] = {kpi.pk: [] for kpi in kpi_list}
    for group in _by_table(kpi_list):
        grouped = _side_by_side(group, since=now - window, until=now, group_by=("traffic_percent", []))
        for row in grouped:
            for kpi in group:
                own = _own(row, kpi)
                if own["rows"]:
                    rows = None
                    if _rereads(kpi):
                        rows = raw_rows(kpi, since=now - window, until=now).filter(
                            traffic_percent=row["group"]
                        )
                    out[kpi.pk].append((row["group"], _reading(kpi, own, rows)))
    return out


def _rereads(kpi: Kpi) -> bool:
    """Only LAST (and p95 off PostgreSQL) reads the rows again in `_reading`: building that
    queryset for every bucket of every tile cost more than the grouped query itself."""
    return kpi.aggregation == Aggregation.LAST or (
        kpi.aggregation in PERCENTILES and connection.vendor != "postgresql"
    )


def _by_table(kpi_list: list[Kpi]) -> list[list[Kpi]]:
    probes = [kpi for kpi in kpi_list if kpi.probe_id]
    pushed = [kpi for kpi in kpi_list if not kpi.probe_id]
    return [group for group in (probes, pushed) if group]


def _time_field(kpi: Kpi) -> str:
    return "checked_at" if kpi.probe_id else "at"


def _side_by_side(
    group: list[Kpi],
    *,
    since: dt.datetime,
    until: dt.datetime,
    windows: dict[int, dt.datetime] | None = None,
    group_by: tuple[str, list] | None = None,
) -> list[dict]:
    """Rows of `group` (all probe KPIs or all pushed ones) in (since, until], each KPI's aggregates
    (as `_aggregates` defines them) under "k<pk>_", optionally grouped by an expression ("group")."""
    columns, params = [], []
    if group_by:
        columns.append(f'{group_by[0]} AS "group"')
        params += group_by[1]
    for kpi in group:
        where, where_params = _source_sql(kpi)
        if windows:
            where += f" AND {_time_field(kpi)} > %s"
            where_params = [*where_params, windows[kpi.pk]]
        for name, (expression, extra) in _aggregates_sql(kpi).items():
            columns.append(f'{expression} FILTER (WHERE {where}{extra}) AS "k{kpi.pk}_{name}"')
            params += where_params
    table, filters, filter_params = _table_sql(group, since=since, until=until)
    sql = f"SELECT {', '.join(columns)} FROM {table} WHERE {filters}"
    params += filter_params
    if group_by:
        sql += " GROUP BY 1 ORDER BY 1"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def _aggregates_sql(kpi: Kpi) -> dict[str, tuple[str, str]]:
    """`_aggregates` in SQL: {key: (aggregate, extra FILTER condition)}."""
    field = _value_field(kpi)
    if kpi.probe_id:
        good = ("count(*)", f" AND outcome = '{Outcome.PASS}'")
        bad = ("count(*)", f" AND outcome = '{Outcome.FAIL}'")
    else:
        good, bad = ("sum(ok)", ""), ("sum(failed)", "")
    aggregates = {
        "good": good,
        "bad": bad,
        "rows": ("count(*)", ""),
        "valued": (f"count({field})", ""),
        "mean": (f"avg({field})", ""),
    }
    if kpi.aggregation in PERCENTILES:
        fraction = PERCENTILES[kpi.aggregation]
        aggregates["pct"] = (f"percentile_cont({fraction}) WITHIN GROUP (ORDER BY {field})", "")
    return aggregates


def _source_sql(kpi: Kpi) -> tuple[str, list]:
    return ("probe_id = %s", [kpi.probe_id]) if kpi.probe_id else ("metric = %s", [kpi.metric])


def _table_sql(group: list[Kpi], *, since: dt.datetime, until: dt.datetime) -> tuple[str, str, list]:
    """What raw_rows reads for every KPI of the group: table, conditions, parameters."""
    migration_id = group[0].migration_id
    if group[0].probe_id:
        probes = sorted({kpi.probe_id for kpi in group})
        filters = "migration_id = %s AND probe_id = ANY(%s) AND checked_at > %s AND checked_at <= %s"
        filters += f" AND outcome <> '{Outcome.ERROR}'"
        return ProbeResult._meta.db_table, filters, [migration_id, probes, since, until]
    metrics = sorted({kpi.metric for kpi in group})
    filters = "migration_id = %s AND metric = ANY(%s) AND at > %s AND at <= %s"
    return Sample._meta.db_table, filters, [migration_id, metrics, since, until]


def _own(row: dict, kpi: Kpi) -> dict:
    prefix = f"k{kpi.pk}_"
    return {key[len(prefix) :]: value for key, value in row.items() if key.startswith(prefix)}
