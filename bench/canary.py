"""Item 9: one compare guardrail evaluated over 1,000,000 pushed samples in each cohort.

Two migrations hold a latency KPI (p95, one-hour window) whose samples carry a cohort: 100,000
per cohort in one, 1,000,000 per cohort in the other (10x), log-normal around 120 ms with both
paths alike, spread evenly over the window in arrival order. Rows are written with INSERT ... SELECT generate_series
(Box-Muller for the normal draws) and ANALYZEd. The timed call is what the worker runs for each
pushed batch: services.evaluate_guardrail (lock the guardrail, canary.compare over both cohorts,
store the verdict row, step the state machine), in this process against PostgreSQL.

The baseline is the same evaluation over the smaller store: the target is < 2x growth for 10x data."""

from __future__ import annotations

import time

from django.db import connection
from django.utils import timezone

from bench import data
from bench.harness import Bench, Row, percentile
from migrations_app.monitoring import services
from migrations_app.monitoring.models import (
    Aggregation,
    Direction,
    Guardrail,
    GuardrailAction,
    GuardrailKind,
    GuardrailVerdict,
    Kpi,
)

FULL = (100_000, 1_000_000)
SMOKE = (2_000, 20_000)
WINDOW_SECONDS = 3600
METRIC = "checkout_latency_ms"
RUNS, WARMUP = 40, 5


def run(bench: Bench) -> list[Row]:
    small, large = SMOKE if bench.smoke else FULL
    guardrails = {size: _setup(size) for size in (small, large)}
    times = {size: _time(guardrails[size], runs=10 if bench.smoke else RUNS) for size in (small, large)}
    p95_small, p95_large = (percentile(times[size], 95) for size in (small, large))
    verdict = GuardrailVerdict.objects.filter(guardrail=guardrails[large]).order_by("-at").first()
    growth = p95_large / p95_small
    return [
        Row(
            item=f"9. Compare guardrail: one evaluation, {large:,} samples per cohort",
            target="p95 < 200 ms",
            measured=f"p95 {p95_large:.0f} ms (p50 {percentile(times[large], 50):.0f} ms)",
            baseline=f"p95 {p95_small:.0f} ms at {small:,} per cohort",
            ratio=f"{growth:.2f}",
            met=p95_large < 200 and growth < 2 and verdict is not None,
            note=f"10x data: {growth:.2f}x time (target < 2x); last verdict: {verdict.message if verdict else 'none'}",
        )
    ]


def _setup(per_cohort: int) -> Guardrail:
    migration = data.live_migration(f"bench-canary-{per_cohort}", percent=50)
    kpi = Kpi.objects.create(
        migration=migration,
        name="Checkout latency (p95)",
        metric=METRIC,
        aggregation=Aggregation.P95,
        direction=Direction.LOWER_IS_BETTER,
        unit="ms",
        critical=None,
        window_seconds=WINDOW_SECONDS,
    )
    guardrail = Guardrail.objects.create(
        migration=migration,
        name="New path checkout latency",
        kpi=kpi,
        kind=GuardrailKind.COMPARE,
        action=GuardrailAction.ALERT,  # measured: the evaluation, not a pause's side effects
        consecutive=3,
        min_samples=30,
        tolerance_percent=20,
    )
    _insert(migration.pk, per_cohort)
    return guardrail


def _insert(migration_id: int, per_cohort: int) -> None:
    """per_cohort samples of each cohort, log-normal (median 120 ms, sigma 0.35), over the window,
    written oldest first as pushes arrive (so the table is in time order, as in production)."""
    spread = WINDOW_SECONDS - 120  # all inside the window however long the run takes
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO monitoring_sample (migration_id, metric, at, value, ok, failed, traffic_percent, cohort)
            SELECT %(migration)s, %(metric)s, %(now)s - make_interval(secs => %(spread)s * (1 - i::float / %(rows)s)),
                   exp(ln(120) + 0.35 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())),
                   NULL, NULL, 50, CASE WHEN i %% 2 = 0 THEN 'new' ELSE 'old' END
            FROM generate_series(1, %(rows)s) AS i
            """,
            {
                "migration": migration_id,
                "metric": METRIC,
                "now": timezone.now(),
                "spread": spread,
                "rows": 2 * per_cohort,
            },
        )
        cursor.execute("ANALYZE monitoring_sample")


def _time(guardrail: Guardrail, *, runs: int) -> list[float]:
    for _ in range(WARMUP):
        services.evaluate_guardrail(guardrail)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        services.evaluate_guardrail(guardrail)
        times.append((time.perf_counter() - started) * 1000)
    return times
