"""Batches of probe runs: many calls at once on the worker's probe loop, results stored in chunks,
and every guarantee of a single run kept (one result per slot, streaks in slot order, pages)."""

import datetime as dt

import pytest

from migrations_app.audit import Actor
from migrations_app.monitoring import probing, services, tasks
from migrations_app.monitoring.models import Alert, Probe, ProbeResult
from migrations_app.monitoring.probing.kinds import CONCURRENCY, Outcome
from tests.monitoring.servers import Route

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def slot(n):
    return dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=n)


def make_probe(migration, name, url="http://127.0.0.1:9/health", **fields):
    return services.create_probe(migration, by=SYSTEM, name=name, url=url, interval_seconds=60, **fields)


def test_a_chunk_stores_each_slot_once_and_counts_streaks_in_slot_order(migration):
    steady, doubled = make_probe(migration, "steady"), make_probe(migration, "doubled")
    chunk = [
        (steady, slot(2), Outcome("pass", "HTTP 200")),
        (steady, slot(1), Outcome("error", "No answer within 5 s.")),
        (doubled, slot(1), Outcome("pass", "HTTP 200")),
        (doubled, slot(1), Outcome("fail", "HTTP 500")),  # the same slot again in the same chunk
    ]
    stored = services.record_probe_results(chunk)
    assert [result is not None for result in stored] == [True, True, True, False]
    steady.refresh_from_db()
    # The error (slot 1) came before the pass (slot 2), whatever the order the chunk listed them.
    assert (steady.consecutive_passes, steady.consecutive_errors, steady.last_outcome) == (1, 0, "pass")
    assert ProbeResult.objects.get(probe=doubled).outcome == "pass"
    # The whole chunk redelivered: nothing new, no streak moves.
    assert services.record_probe_results(chunk) == [None, None, None, None]
    steady.refresh_from_db()
    assert steady.consecutive_passes == 1
    assert ProbeResult.objects.count() == 3


def test_errors_in_a_row_page_once_when_they_arrive_in_one_chunk(migration):
    probe = make_probe(migration, "flaky", errors_to_page=3)
    chunk = [(probe, slot(n), Outcome("error", "No answer within 5 s.")) for n in range(5)]
    services.record_probe_results(chunk)
    probe.refresh_from_db()
    assert probe.consecutive_errors == 5
    assert Alert.objects.filter(migration=migration, key=f"probe:{probe.pk}:errors").count() == 1


def test_a_batch_larger_than_the_calls_in_flight_gets_every_result(migration, server):
    server.routes["/health"] = Route.json({"status": "ok"})
    server.server.socket.listen(256)  # the test server's default backlog (5) would drop connects
    count = CONCURRENCY + 20
    Probe.objects.bulk_create(
        Probe(migration=migration, name=f"p{n}", url=server.url("/health"), interval_seconds=60)
        for n in range(count)
    )
    runs = [[pk, slot(1).isoformat()] for pk in Probe.objects.values_list("pk", flat=True)]
    assert tasks.run_probes.run(runs=runs) == count
    assert ProbeResult.objects.filter(outcome="pass").count() == count
    assert set(Probe.objects.values_list("consecutive_passes", "last_outcome")) == {(1, "pass")}
    assert len(server.requests) == count


def test_a_probe_never_sends_a_cookie_another_answer_set(server):
    server.routes["/login"] = Route(200, b"ok", {"Set-Cookie": "session=from-the-target; Path=/"})
    server.routes["/health"] = Route(200, b"ok")
    assert probing.run(probing.ProbeSpec("http_health", server.url("/login"))).outcome == "pass"
    assert probing.run(probing.ProbeSpec("http_health", server.url("/health"))).outcome == "pass"
    assert "Cookie" not in server.requests[-1]["headers"]


def test_run_many_hands_back_every_outcome_with_its_index(server):
    server.routes["/ok"] = Route(200, b"ok")
    server.routes["/down"] = Route(503, b"down")
    specs = [probing.ProbeSpec("http_health", server.url("/ok" if n % 2 else "/down")) for n in range(30)]
    outcomes = {
        index: outcome for chunk in probing.run_many(specs, concurrency=7) for index, outcome in chunk
    }
    assert sorted(outcomes) == list(range(30))
    assert all(outcomes[n].outcome == ("pass" if n % 2 else "fail") for n in range(30))


def test_a_nul_byte_from_the_target_does_not_stop_the_chunk_from_being_stored(migration):
    probe = make_probe(migration, "garbled")
    outcome = Outcome(
        "fail", "HTTP 500: bad\x00byte, a literal \\u0000 stays", detail={"location": "/x\x00y"}
    )
    [result] = services.record_probe_results([(probe, slot(1), outcome)])
    stored = ProbeResult.objects.get(pk=result.pk)
    assert stored.error == "HTTP 500: badbyte, a literal \\u0000 stays"
    assert stored.detail == {"location": "/xy"}
