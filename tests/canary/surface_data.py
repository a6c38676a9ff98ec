"""Cohort data for the control room tests: a compare guardrail over pushed latency samples of both
paths, evaluated as the worker does (services.evaluate_guardrail)."""

import datetime as dt

import numpy as np
from django.utils import timezone

from migrations_app.monitoring import services
from migrations_app.monitoring.models import (
    Aggregation,
    Direction,
    Guardrail,
    GuardrailAction,
    GuardrailKind,
    Kpi,
    Sample,
)
from migrations_app.rollout.models import Exposure

METRIC = "checkout_latency_ms"


def compared_latency(migration, *, consecutive: int = 3, window_seconds: int = 60) -> Guardrail:
    kpi = Kpi.objects.create(
        migration=migration,
        name="Checkout latency (p95)",
        metric=METRIC,
        aggregation=Aggregation.P95,
        direction=Direction.LOWER_IS_BETTER,
        unit="ms",
        critical=None,
        window_seconds=window_seconds,
    )
    return Guardrail.objects.create(
        migration=migration,
        name="New path checkout latency",
        kpi=kpi,
        kind=GuardrailKind.COMPARE,
        action=GuardrailAction.PAUSE,
        consecutive=consecutive,
        min_samples=30,
        tolerance_percent=20,
    )


def push_both_paths(
    migration, *, at: dt.datetime, n_new: int, n_old: int, new_factor: float, seed: int
) -> None:
    """Log-normal checkout latencies (median 120 ms) for each path over the ten seconds before `at`;
    the new path's multiplied by `new_factor`."""
    rng = np.random.default_rng(seed)
    rows = []
    for cohort, count, factor in (("new", n_new, new_factor), ("old", n_old, 1.0)):
        for i, value in enumerate(rng.lognormal(np.log(120), 0.35, count) * factor):
            moment = at - dt.timedelta(seconds=10 * i / count)
            rows.append(
                Sample(migration=migration, metric=METRIC, at=moment, value=float(value), cohort=cohort)
            )
    Sample.objects.bulk_create(rows)


def evaluate_windows(
    guardrail: Guardrail, *, windows: int, new_factor: float, start: dt.datetime | None = None
):
    """`windows` evaluations 20 s apart, each after a fresh batch of samples of both paths."""
    start = start or timezone.now() - dt.timedelta(seconds=20 * windows)
    for n in range(windows):
        at = start + dt.timedelta(seconds=20 * (n + 1))
        push_both_paths(guardrail.migration, at=at, n_new=200, n_old=600, new_factor=new_factor, seed=n)
        services.evaluate_guardrail(guardrail, now=at)


def served(migration, *, new: int, old: int) -> None:
    minute = timezone.now().replace(second=0, microsecond=0)
    for variant, users in (("new", new), ("old", old)):
        Exposure.objects.create(
            migration=migration,
            minute=minute,
            variant=variant,
            source="ofrep",
            users=users,
            evaluations=users,
        )
