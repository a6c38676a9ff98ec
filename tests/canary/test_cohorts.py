"""Cohorts derived from targeting keys agree with what OFREP answered those users at that time,
across traffic changes and a rollback; samples may also name their variant."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.monitoring import kpis
from migrations_app.monitoring.models import Aggregation, Kpi, Probe, ProbeResult, Sample
from migrations_app.rollout import selectors, tokens
from migrations_app.rollout.models import RolloutPlan, TrafficChange
from tests.canary import engine

pytestmark = pytest.mark.django_db
USERS = [f"shopper-{n}" for n in range(120)]


@pytest.fixture
def tokens_for(ops):
    tokens.cache.clear()
    _, flags = tokens.create_token(user=ops, name="shop", scopes="flags", by=Actor.system("tests"))
    _, ingest = tokens.create_token(user=ops, name="shop ingest", scopes="ingest", by=Actor.system("tests"))
    return {"flags": flags, "ingest": ingest}


def _ofrep_answers(client, slug, token) -> dict[str, bool]:
    answers = {}
    for user in USERS:
        response = client.post(
            f"/ofrep/v1/evaluate/flags/{slug}",
            json.dumps({"context": {"targetingKey": user}}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        answers[user] = response.json()["value"]
    return answers


def _move_traffic(migration, *, to: int, at: dt.datetime, status: str = "rolling_out", kind: str = "advance"):
    """Test setup: the level flag APIs serve now, and its history row dated `at`."""
    plan = RolloutPlan.objects.get(migration=migration)
    change = TrafficChange.objects.create(
        migration=migration, by="tests", kind=kind, from_percent=plan.percent, to_percent=to
    )
    TrafficChange.objects.filter(pk=change.pk).update(at=at)
    RolloutPlan.objects.filter(pk=plan.pk).update(percent=to)
    type(migration).objects.filter(pk=migration.pk).update(status=status)
    selectors.snapshot_cache.clear()


def _push(client, slug, token, items):
    response = client.post(
        f"/api/v1/migrations/{slug}/samples",
        json.dumps({"samples": items}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 202, response.content
    return response


def test_targeting_keys_get_the_cohort_ofrep_answered_them_at_the_samples_time(client, migration, tokens_for):
    engine.go_live(migration, 0)
    now = timezone.now()
    phases = [(now - dt.timedelta(minutes=30), 5, "rolling_out", "advance")]
    phases += [(now - dt.timedelta(minutes=20), 25, "rolling_out", "advance")]
    phases += [(now - dt.timedelta(minutes=10), 0, "rolled_back", "rollback")]
    answered = []
    for at, percent, status, kind in phases:
        _move_traffic(migration, to=percent, at=at, status=status, kind=kind)
        answered.append(_ofrep_answers(client, migration.slug, tokens_for["flags"]))
    assert sum(answered[0].values()) < sum(answered[1].values())  # more users at 25 % than at 5 %
    assert not any(answered[2].values())  # a rollback sends everyone back
    # Pushed afterwards, each dated one minute into its phase: the history decides, not today's level.
    items = [
        {
            "metric": "checkout_latency",
            "value": 100.0,
            "targeting_key": user,
            "at": (at + dt.timedelta(minutes=1)).isoformat(),
        }
        for (at, *_), _answers in zip(phases, answered, strict=True)
        for user in USERS
    ]
    _push(client, migration.slug, tokens_for["ingest"], items[:200])
    _push(client, migration.slug, tokens_for["ingest"], items[200:])
    for (at, *_), expected in zip(phases, answered, strict=True):
        stored = Sample.objects.filter(migration=migration, at=at + dt.timedelta(minutes=1))
        assert stored.count() == len(USERS)
        derived = dict(zip(USERS, [None] * len(USERS), strict=True))
        for sample, user in zip(stored.order_by("id"), USERS, strict=True):
            derived[user] = sample.cohort == "new"
        assert derived == expected


def test_a_user_admitted_at_5_percent_stays_new_at_25(client, migration, tokens_for):
    engine.go_live(migration, 0)
    now = timezone.now()
    _move_traffic(migration, to=5, at=now - dt.timedelta(minutes=20))
    early = {u for u, new in _ofrep_answers(client, migration.slug, tokens_for["flags"]).items() if new}
    _move_traffic(migration, to=25, at=now - dt.timedelta(minutes=10))
    later = {u for u, new in _ofrep_answers(client, migration.slug, tokens_for["flags"]).items() if new}
    assert early and early < later


def test_variants_and_fleet_wide_samples_are_stored_as_sent(client, migration, tokens_for):
    engine.go_live(migration, 25)
    _push(
        client,
        migration.slug,
        tokens_for["ingest"],
        [
            {"metric": "payment_success", "ok": 9, "failed": 1, "variant": "new"},
            {"metric": "payment_success", "ok": 10, "failed": 0, "variant": "old"},
            {"metric": "payment_success", "ok": 5, "failed": 5},
        ],
    )
    assert sorted(Sample.objects.values_list("cohort", "ok")) == [("", 5), ("new", 9), ("old", 10)]
    kpi = Kpi.objects.create(migration=migration, name="Pay", metric="payment_success", critical=90)
    now = timezone.now() + dt.timedelta(seconds=1)
    assert kpis.measure(kpi, now=now, cohort="new").value == pytest.approx(90.0)
    assert kpis.measure(kpi, now=now, cohort="old").value == pytest.approx(100.0)
    assert kpis.measure(kpi, now=now).value == pytest.approx(24 / 30 * 100)


@pytest.mark.parametrize(
    ("item", "field", "message"),
    [
        ({"variant": "blue"}, "samples[0].variant", 'must be "new" or "old"'),
        ({"variant": "new", "targeting_key": "u1"}, "samples[0].variant", "not both"),
        ({"targeting_key": ""}, "samples[0].targeting_key", "non-empty string"),
        ({"targeting_key": 42}, "samples[0].targeting_key", "non-empty string"),
    ],
)
def test_a_bad_cohort_field_is_refused_naming_it(client, migration, tokens_for, item, field, message):
    engine.go_live(migration, 25)
    response = client.post(
        f"/api/v1/migrations/{migration.slug}/samples",
        json.dumps({"samples": [{"metric": "m", "value": 1, **item}]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {tokens_for['ingest']}",
    )
    assert response.status_code == 400
    (error,) = response.json()["detail"]
    assert error["field"] == field and message in error["message"]
    assert not Sample.objects.exists()


def test_probe_results_carry_their_probes_path_and_compare_per_kind(migration):
    from migrations_app.monitoring import services
    from migrations_app.monitoring.probing.kinds import Outcome as RunOutcome

    engine.go_live(migration, 25)
    old = Probe.objects.create(
        migration=migration, name="Old health", url="https://old.example/health", path="old"
    )
    new = Probe.objects.create(
        migration=migration, name="New health", url="https://new.example/health", path="new"
    )
    now = timezone.now()
    for index, probe in enumerate((old, new)):
        latency = 100.0 if probe is old else 180.0
        outcome = RunOutcome(outcome="pass", latency_ms=latency, status_code=200, summary="ok")
        services.record_probe_result(
            probe, due_at=now - dt.timedelta(seconds=index), outcome=outcome, now=now
        )
    assert dict(ProbeResult.objects.values_list("probe__name", "cohort")) == {
        "Old health": "old",
        "New health": "new",
    }
    kpi = Kpi.objects.create(
        migration=migration,
        name="Health p95",
        probe=new,
        probe_field="latency_ms",
        aggregation=Aggregation.P95,
    )
    later = now + dt.timedelta(seconds=1)
    assert kpis.measure(kpi, now=later, cohort="old").value == pytest.approx(100.0)
    assert kpis.measure(kpi, now=later, cohort="new").value == pytest.approx(180.0)
