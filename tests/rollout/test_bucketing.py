"""The bucketing against Unleash's client specification, and cohorts that only grow."""

import json
from pathlib import Path

import mmh3
import pytest
from hypothesis import given
from hypothesis import strategies as st

from migrations_app.rollout import bucketing

SPECS = Path(__file__).resolve().parents[3] / "shared" / "specs" / "unleash-client-specification"
FILES = [
    "03-gradual-rollout-user-id-strategy.json",
    "10-flexible-rollout-strategy.json",
    "12-custom-stickiness.json",
]


def _evaluate(feature: dict, context: dict) -> bool:
    """A feature is on when enabled and any strategy says yes (Unleash semantics)."""
    if not feature["enabled"]:
        return False
    for strategy in feature["strategies"]:
        params = strategy.get("parameters", {})
        if strategy["name"] == "default":
            return True
        if strategy["name"] == "flexibleRollout" and bucketing.flexible_rollout(
            context=context,
            rollout=int(params["rollout"]),
            stickiness=params.get("stickiness", "default"),
            group_id=params.get("groupId", feature["name"]),
        ):
            return True
        if strategy["name"] == "gradualRolloutUserId" and bucketing.gradual_rollout_user_id(
            context=context, percentage=int(params["percentage"]), group_id=params["groupId"]
        ):
            return True
    return False


def _cases():
    for name in FILES:
        spec = json.loads((SPECS / name).read_text())
        features = {feature["name"]: feature for feature in spec["state"]["features"]}
        for case in spec["tests"]:
            yield pytest.param(features[case["toggleName"]], case, id=f"{name[:2]}: {case['description']}")


@pytest.mark.parametrize(("feature", "case"), list(_cases()))
def test_it_agrees_with_the_unleash_client_specification(feature, case):
    assert _evaluate(feature, case["context"]) is case["expectedResult"]


def test_it_runs_every_case_of_the_three_spec_files():
    assert len(list(_cases())) == 21


def test_it_uses_murmur3_x86_32_seed_0_normalised_to_1_100():
    assert (
        bucketing.bucket("card-payments", "user-1")
        == mmh3.hash("card-payments:user-1", 0, signed=False) % 100 + 1
    )
    buckets = {bucketing.bucket("card-payments", f"user-{n}") for n in range(5000)}
    assert buckets == set(range(1, 101))


@given(user=st.text(min_size=1, max_size=40), low=st.integers(0, 100), high=st.integers(0, 100))
def test_it_only_grows_cohorts(user, low, high):
    low, high = sorted((low, high))
    if bucketing.is_in_rollout("card-payments", user, low):
        assert bucketing.is_in_rollout("card-payments", user, high)


def test_it_admits_about_the_percentage():
    admitted = sum(bucketing.is_in_rollout("card-payments", str(n), 25) for n in range(10_000))
    assert 2300 < admitted < 2700
