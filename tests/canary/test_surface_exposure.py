"""Exposure: the users golive served each answer per minute, counted in memory by the flag APIs
(still no database query per evaluation) and written off the request path."""

import datetime as dt
import json

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openfeature import api as openfeature
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from UnleashClient import UnleashClient

from migrations_app.rollout import bucketing, exposure, selectors, tokens
from migrations_app.rollout.models import Exposure
from tests.factories import put_live
from tests.processes import wait_until
from tests.rollout.conftest import gunicorn

pytest_plugins = ["tests.canary.surface_fixtures"]
pytestmark = pytest.mark.django_db
KEY = "card-payments"


@pytest.fixture(autouse=True)
def empty_counter():
    # Other tests' answers in this process are not ours; the flag state and tokens are cached per process.
    exposure.counter.drain()
    selectors.snapshot_cache.clear()
    tokens.cache.clear()
    yield
    exposure.counter.drain()


def users(inside: bool, count: int) -> list[str]:
    found = (f"user-{n}" for n in range(10_000) if bucketing.is_in_rollout(KEY, f"user-{n}", 25) is inside)
    return [next(found) for _ in range(count)]


def evaluate(client, token, user, *, bulk=False, **headers):
    path = "/ofrep/v1/evaluate/flags" if bulk else f"/ofrep/v1/evaluate/flags/{KEY}"
    body = json.dumps({"context": {"targetingKey": user}})
    return client.post(
        path, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}", **headers
    )


def rows() -> dict[tuple[str, str], tuple[int, int]]:
    return {(r.source, r.variant): (r.users, r.evaluations) for r in Exposure.objects.all()}


def test_it_counts_distinct_users_per_answer_from_ofrep(client, live_migration, flags_token):
    started = timezone.now().replace(second=0, microsecond=0)
    new_users, old_users = users(True, 3), users(False, 5)
    for user in new_users + old_users:
        assert evaluate(client, flags_token, user).status_code == 200
    evaluate(client, flags_token, new_users[0])  # the same user again: one more answer, not a user
    evaluate(client, flags_token, old_users[0], bulk=True)
    assert exposure.flush() == 2
    assert rows() == {("ofrep", "new"): (3, 4), ("ofrep", "old"): (5, 6)}
    minutes = set(Exposure.objects.values_list("minute", flat=True))
    assert minutes <= {started, started + dt.timedelta(minutes=1)}  # the minute it was served


def test_each_minute_has_its_own_row_and_a_later_flush_adds_to_it(live_migration):
    minute = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC).timestamp()
    exposure.counter.served(KEY, True, "u1", now=minute + 5)
    exposure.counter.served(KEY, True, "u2", now=minute + 50)
    exposure.flush(now=minute + 55)
    exposure.counter.served(KEY, True, "u1", now=minute + 58)  # seen in this minute already
    exposure.counter.served(KEY, True, "u3", now=minute + 59)
    exposure.counter.served(KEY, True, "u1", now=minute + 61)  # a new minute: a user again
    exposure.flush(now=minute + 65)
    by_minute = {r.minute.minute: (r.users, r.evaluations) for r in Exposure.objects.order_by("minute")}
    assert by_minute == {0: (3, 4), 1: (1, 1)}


def test_it_counts_the_yes_and_no_the_unleash_sdks_report(client, live_migration, flags_token):
    metrics = {
        "appName": "checkout",
        "instanceId": "checkout-2",
        "bucket": {
            "start": "2026-12-02T10:00:00Z",
            "stop": "2026-12-02T10:01:00Z",
            "toggles": {KEY: {"yes": 30, "no": 90}, "not-a-migration": {"yes": 1, "no": 1}, "bad": "x"},
        },
    }
    for _ in range(2):
        response = client.post(
            "/api/client/metrics",
            json.dumps(metrics),
            content_type="application/json",
            HTTP_AUTHORIZATION=flags_token,
        )
        assert response.status_code == 202
    exposure.flush()
    assert rows() == {("unleash", "new"): (0, 60), ("unleash", "old"): (0, 180)}


def test_an_sdk_report_with_nonsense_counts_counts_nothing(client, live_migration, flags_token):
    for toggle in ({"yes": -3, "no": "many"}, {"yes": True, "no": 10**12}, {"yes": 1.5}):
        metrics = {"appName": "checkout", "bucket": {"toggles": {KEY: toggle}}}
        response = client.post(
            "/api/client/metrics",
            json.dumps(metrics),
            content_type="application/json",
            HTTP_AUTHORIZATION=flags_token,
        )
        assert response.status_code == 202
    exposure.flush()
    assert not Exposure.objects.exists()


def test_counting_adds_no_database_query_to_an_evaluation(client, live_migration, flags_token, monkeypatch):
    monkeypatch.setattr(selectors, "SNAPSHOT_SECONDS", 60)
    monkeypatch.setattr(tokens, "CACHE_SECONDS", 60)
    evaluate(client, flags_token, "warm-up")
    with CaptureQueriesContext(connection) as queries:
        for n in range(50):
            assert evaluate(client, flags_token, f"u{n}").status_code == 200
            assert evaluate(client, flags_token, f"u{n}", bulk=True).status_code == 200
    assert len(queries) == 0, [q["sql"] for q in queries]
    exposure.flush()
    new, old = rows()[("ofrep", "new")], rows()[("ofrep", "old")]
    assert new[0] + old[0] == 51 and new[1] + old[1] == 101


def test_a_cached_bulk_answer_still_counts_as_served(client, live_migration, flags_token):
    etag = evaluate(client, flags_token, "user-7", bulk=True)["ETag"]
    assert evaluate(client, flags_token, "user-7", bulk=True, HTTP_IF_NONE_MATCH=etag).status_code == 304
    exposure.flush()
    assert sum(evaluations for _, evaluations in rows().values()) == 2


def test_counts_stay_in_memory_when_the_database_cannot_take_them(live_migration, monkeypatch):
    exposure.counter.served(KEY, True, "u1")

    def unavailable(pending):
        raise OperationalError("server closed the connection")

    monkeypatch.setattr(exposure, "_write", unavailable)
    assert exposure.flush() == 0
    monkeypatch.undo()
    assert exposure.flush() == 1
    assert rows() == {("ofrep", "new"): (1, 1)}


def test_the_control_room_reads_users_per_path(live_migration):
    now = timezone.now().replace(second=0, microsecond=0)
    for minutes_ago, new, old in ((2, 10, 30), (1, 20, 50)):
        for variant, count in (("new", new), ("old", old)):
            Exposure.objects.create(
                migration=live_migration,
                minute=now - dt.timedelta(minutes=minutes_ago),
                variant=variant,
                source="ofrep",
                users=count,
                evaluations=count * 2,
            )
    Exposure.objects.create(
        migration=live_migration, minute=now, variant="new", source="unleash", users=0, evaluations=7
    )
    seen = exposure.exposure_by_path(live_migration, since=now - dt.timedelta(minutes=5), until=now)
    assert (seen["new"].users_last_minute, seen["old"].users_last_minute) == (20, 50)
    assert (seen["new"].users_per_minute, seen["old"].users_per_minute) == (15, 40)
    assert (seen["new"].evaluations, seen["new"].sdk_evaluations) == (67, 7)


@pytest.mark.django_db(transaction=True)
def test_the_sdks_exposures_reach_the_database_from_a_live_server(migration, flags_token, tmp_path):
    """The official OFREP provider and Unleash SDK against gunicorn: the web processes' own
    flushing thread writes what they were served, with no flush called by the test."""
    put_live(migration, 25)
    new_users, old_users = users(True, 4), users(False, 6)
    with gunicorn(tmp_path) as server:
        openfeature.set_provider(
            OFREPProvider(
                base_url=server.url, headers_factory=lambda: {"Authorization": f"Bearer {flags_token}"}
            )
        )
        try:
            client = openfeature.get_client()
            for user in new_users + old_users:
                assert client.get_boolean_value(KEY, False, EvaluationContext(targeting_key=user)) == (
                    user in new_users
                )
        finally:
            openfeature.clear_providers()
        sdk = UnleashClient(
            url=f"{server.url}/api",
            app_name="checkout",
            instance_id="exposure-test",
            custom_headers={"Authorization": flags_token},
            refresh_interval=1,
            metrics_interval=1,
            cache_directory=str(tmp_path),
        )
        sdk.initialize_client()
        try:
            for user in new_users + old_users:
                sdk.is_enabled(KEY, {"userId": user})

            def counted():
                # Each web process flushes on its own clock: wait for both sources' rows.
                seen = rows_summed()
                unleash_in = seen.get(("unleash", "new"), (0, 0))[1] >= 4
                ofrep_in = seen.get(("ofrep", "new"), (0, 0))[0] >= 4 and ("ofrep", "old") in seen
                return seen if unleash_in and ofrep_in else None

            seen = wait_until(
                counted, timeout=20, interval=0.2, message="exposure rows from the web processes"
            )
        finally:
            sdk.destroy()
    assert seen[("ofrep", "new")][0] == 4 and seen[("ofrep", "old")][0] == 6
    assert seen[("unleash", "new")][1] == 4 and seen[("unleash", "old")][1] == 6


def rows_summed() -> dict[tuple[str, str], tuple[int, int]]:
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for r in Exposure.objects.all():
        users_, evaluations = out.get((r.source, r.variant), (0, 0))
        out[(r.source, r.variant)] = (users_ + r.users, evaluations + r.evaluations)
    return out
