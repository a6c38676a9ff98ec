"""Compare guardrails detect a worse new path within their windows, and stay calm when both paths
move together or when the data cannot tell (issue 16, item 10)."""

import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from migrations_app.monitoring.models import GuardrailVerdict
from migrations_app.rollout import selectors
from tests.canary import engine

pytestmark = pytest.mark.django_db


@pytest.fixture
def live(migration):
    selectors.snapshot_cache.clear()
    return engine.go_live(migration, 25)


@pytest.fixture
def start():
    return timezone.now() - dt.timedelta(minutes=30)


def _status(guardrail):
    guardrail.migration.refresh_from_db()
    return guardrail.migration.status


def test_a_40_percent_slower_new_path_fails_every_window_and_pauses_at_the_third(live, start):
    guardrail = engine.latency_guardrail(live)
    rng = np.random.default_rng(1)
    seen = engine.run_windows(
        guardrail,
        lambda end: engine.push_latencies(live, end, rng, count=200, new_factor=1.4),
        windows=3,
        start=start,
    )
    assert [g.last_verdict for g in seen] == ["fail", "fail", "fail"]
    assert [g.state for g in seen] == ["warning", "warning", "breached"]
    assert _status(guardrail) == "paused"
    assert seen[-1].last_message.startswith("new p95 ")
    assert "tolerance +20 %: fail, 3 of 3" in seen[-1].last_message
    verdict = GuardrailVerdict.objects.filter(guardrail=guardrail).order_by("-at").first()
    assert verdict.n_new == verdict.n_old == 200
    assert 20 < verdict.low < 40 < verdict.high < 60  # the +40 % shift is inside, the tolerance below


def test_both_paths_30_percent_slower_passes(live, start):
    guardrail = engine.latency_guardrail(live)
    rng = np.random.default_rng(2)
    seen = engine.run_windows(
        guardrail,
        lambda end: engine.push_latencies(live, end, rng, count=200, new_factor=1.3, old_factor=1.3),
        windows=3,
        start=start,
    )
    assert [g.last_verdict for g in seen] == ["pass", "pass", "pass"]
    assert {g.state for g in seen} == {"healthy"}
    assert _status(guardrail) == "rolling_out"


def test_ten_samples_of_a_slower_new_path_are_inconclusive_and_never_pause(live, start):
    guardrail = engine.latency_guardrail(live)  # min_samples 30
    rng = np.random.default_rng(3)
    seen = engine.run_windows(
        guardrail,
        lambda end: engine.push_latencies(live, end, rng, count=10, new_factor=1.4),
        windows=3,
        start=start,
    )
    assert [g.last_verdict for g in seen] == ["inconclusive"] * 3
    assert _status(guardrail) == "rolling_out"
    assert seen[-1].last_message == "new 10 vs old 10 samples, need 30 samples on each path: inconclusive."


def test_a_3_point_drop_in_success_on_the_new_path_fails_within_its_windows(live, start):
    guardrail = engine.success_guardrail(live, action="rollback")
    rng = np.random.default_rng(4)
    seen = engine.run_windows(
        guardrail,
        lambda end: engine.push_outcomes(live, end, rng, count=200, new_rate=0.96, old_rate=0.99),
        windows=3,
        start=start,
    )
    assert [g.last_verdict for g in seen] == ["fail", "fail", "fail"]
    assert _status(guardrail) == "rolled_back"
    assert "points" in seen[-1].last_message and "fail, 3 of 3" in seen[-1].last_message


def test_both_paths_3_points_lower_passes(live, start):
    guardrail = engine.success_guardrail(live)
    rng = np.random.default_rng(5)
    seen = engine.run_windows(
        guardrail,
        lambda end: engine.push_outcomes(live, end, rng, count=200, new_rate=0.96, old_rate=0.96),
        windows=3,
        start=start,
    )
    assert [g.last_verdict for g in seen] == ["pass", "pass", "pass"]
    assert _status(guardrail) == "rolling_out"


def test_ten_samples_of_a_lower_success_rate_are_inconclusive(live, start):
    guardrail = engine.success_guardrail(live)
    rng = np.random.default_rng(6)
    seen = engine.run_windows(
        guardrail,
        lambda end: engine.push_outcomes(live, end, rng, count=10, new_rate=0.96, old_rate=0.99),
        windows=3,
        start=start,
    )
    assert [g.last_verdict for g in seen] == ["inconclusive"] * 3
    assert _status(guardrail) == "rolling_out"


def test_a_path_without_data_is_no_data(live, start):
    guardrail = engine.latency_guardrail(live)
    engine.push_latencies(live, start, np.random.default_rng(7), count=50, new_factor=1.0)
    from migrations_app.monitoring.models import Sample

    Sample.objects.filter(cohort="new").delete()
    engine.run_windows(guardrail, lambda end: None, windows=1, start=start - engine.WINDOW)
    guardrail.refresh_from_db()
    assert guardrail.last_verdict == "no_data"
    assert guardrail.last_message.startswith("No data on the new path")
