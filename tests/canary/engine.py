"""Setup shared by the canary engine's tests: a live migration, compare guardrails, cohort data."""

from __future__ import annotations

import datetime as dt

import numpy as np

from migrations_app.models import Migration
from migrations_app.monitoring import services
from migrations_app.monitoring.models import Aggregation, Direction, Guardrail, GuardrailKind, Kpi
from migrations_app.rollout import selectors
from migrations_app.rollout.models import RolloutPlan

WINDOW = dt.timedelta(seconds=60)


def go_live(migration: Migration, percent: int = 25) -> Migration:
    """Test setup only: rolling out at `percent` without walking every gate."""
    RolloutPlan.objects.update_or_create(
        migration=migration, defaults={"percent": percent, "steps": [5, 25, 50, 100], "soak_minutes": 1}
    )
    Migration.objects.filter(pk=migration.pk).update(status="rolling_out")
    selectors.snapshot_cache.clear()
    migration.refresh_from_db()
    return migration


def latency_guardrail(migration, **fields) -> Guardrail:
    kpi = Kpi.objects.create(
        migration=migration,
        name="Checkout p95",
        metric="checkout_latency",
        aggregation=Aggregation.P95,
        direction=Direction.LOWER_IS_BETTER,
        window_seconds=int(WINDOW.total_seconds()),
        unit="ms",
    )
    defaults = {"tolerance_percent": 20, "consecutive": 3, "min_samples": 30, "action": "pause"}
    return Guardrail.objects.create(
        migration=migration,
        name="Checkout latency vs old",
        kpi=kpi,
        kind=GuardrailKind.COMPARE,
        **{**defaults, **fields},
    )


def success_guardrail(migration, **fields) -> Guardrail:
    kpi = Kpi.objects.create(
        migration=migration,
        name="Payment success",
        metric="payment_success",
        aggregation=Aggregation.RATE,
        direction=Direction.HIGHER_IS_BETTER,
        window_seconds=int(WINDOW.total_seconds()),
        unit="%",
    )
    defaults = {"tolerance_points": 2, "consecutive": 3, "min_samples": 5, "action": "pause"}
    return Guardrail.objects.create(
        migration=migration,
        name="Payment success vs old",
        kpi=kpi,
        kind=GuardrailKind.COMPARE,
        **{**defaults, **fields},
    )


def _times(end: dt.datetime, count: int) -> list[dt.datetime]:
    # spread over the window, never on its open start
    return [end - WINDOW * (i + 0.5) / count for i in range(count)]


def push_latencies(migration, end, rng, *, count: int, new_factor: float, old_factor: float = 1.0) -> None:
    items = []
    for variant, factor in (("new", new_factor), ("old", old_factor)):
        values = rng.lognormal(np.log(300), 0.4, count) * factor
        items += [
            {"metric": "checkout_latency", "value": float(v), "at": at, "variant": variant}
            for v, at in zip(values, _times(end, count), strict=True)
        ]
    services.ingest_samples(migration, items=items)


def push_outcomes(
    migration, end, rng, *, count: int, new_rate: float, old_rate: float, per_sample: int = 50
) -> None:
    items = []
    for variant, rate in (("new", new_rate), ("old", old_rate)):
        ok = rng.binomial(per_sample, rate, count)
        items += [
            {
                "metric": "payment_success",
                "ok": int(o),
                "failed": per_sample - int(o),
                "at": at,
                "variant": variant,
            }
            for o, at in zip(ok, _times(end, count), strict=True)
        ]
    services.ingest_samples(migration, items=items)


def run_windows(guardrail, push, *, windows: int, start: dt.datetime) -> list[Guardrail]:
    """Push one window of data and evaluate at its end, `windows` times; the guardrail after each."""
    seen = []
    for index in range(1, windows + 1):
        end = start + WINDOW * index
        push(end)
        services.evaluate_guardrail(guardrail, now=end)
        guardrail.refresh_from_db()
        seen.append(Guardrail.objects.get(pk=guardrail.pk))
    return seen
