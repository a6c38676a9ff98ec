"""A busy window is compared on a sample spread over all of it, not on its last seconds: the
new path degrading early in the window still shows, and the message says the numbers are sampled."""

import datetime as dt

import pytest
from django.utils import timezone

from migrations_app.monitoring import canary, services
from migrations_app.monitoring.models import Verdict
from migrations_app.rollout import selectors
from tests.canary import engine

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_cap(monkeypatch):
    # 100 values per path in 10 slices keeps the test cheap; the production cap is 5,000 in 20.
    monkeypatch.setattr(canary, "MAX_VALUES", 100)
    monkeypatch.setattr(canary, "SLICES", 10)


def _push(migration, end: dt.datetime, *, count: int, new_early: float) -> None:
    """`count` samples per path over the window: the old path 100 ms throughout, the new path
    `new_early` ms but for the window's last tenth (its last 100 samples of 1,000), 100 ms there."""
    items = []
    for i in range(count):
        at = end - engine.WINDOW * (i + 0.5) / count
        early = at < end - engine.WINDOW / 10
        items.append({"metric": "checkout_latency", "value": 100.0, "at": at, "variant": "old"})
        new = new_early if early else 100.0
        items.append({"metric": "checkout_latency", "value": new, "at": at, "variant": "new"})
    services.ingest_samples(migration, items=items)


def test_the_sample_spans_the_whole_window(migration, small_cap):
    selectors.snapshot_cache.clear()
    live = engine.go_live(migration, 25)
    guardrail = engine.latency_guardrail(live, min_samples=10)
    now = timezone.now()
    _push(live, now, count=1000, new_early=300.0)

    values, sampled = canary.cohort_values(guardrail.kpi, now=now, cohort="new")
    assert sampled and len(values) == 100
    assert {300.0, 100.0} <= set(values.tolist())  # the early part and the last tenth

    comparison = canary.compare(guardrail, now=now)
    assert comparison.verdict == Verdict.FAIL  # the last seconds alone would have passed
    assert "spread over the window" in comparison.message


def test_a_quiet_window_is_read_whole(migration, small_cap):
    selectors.snapshot_cache.clear()
    live = engine.go_live(migration, 25)
    guardrail = engine.latency_guardrail(live, min_samples=10)
    now = timezone.now()
    _push(live, now, count=40, new_early=100.0)

    values, sampled = canary.cohort_values(guardrail.kpi, now=now, cohort="new")
    assert not sampled and len(values) == 40
    assert "spread over the window" not in canary.compare(guardrail, now=now).message
