"""Real Celery worker and beat processes on Redis, a real local target, the real guardrail."""

import time

import pytest
from django.conf import settings

from migrations_app.audit import Actor
from migrations_app.monitoring import services
from migrations_app.monitoring.models import Guardrail, Kpi, ProbeResult
from migrations_app.rollout.models import Rollback
from migrations_app.rollout.selectors import current_percent
from tests.factories import put_live
from tests.monitoring.servers import Route
from tests.processes import celery_beat, celery_worker, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

INTERVAL = 1
CONSECUTIVE = 3
WORKER_ENV = {"GOLIVE_PROBE_ALLOWLIST": "127.0.0.1/32", "GOLIVE_PROBE_DISPATCH_SECONDS": "0.25"}


@pytest.fixture(autouse=True)
def empty_queue():
    """Messages left by an earlier test (for rows that no longer exist, or ids reused after the
    flush) must not reach this test's worker."""
    from golive_site.celery import app

    app.control.purge()


def test_redis_is_the_broker():
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "run with REDIS_URL set (make test does)"


def test_a_failing_target_is_rolled_back_by_the_guardrail_in_time(tmp_path, migration, server):
    server.routes["/health"] = Route.json({"status": "ok"})
    migration = put_live(migration, 25)
    probe = services.create_probe(
        migration,
        by=Actor.system("tests"),
        name="Provider health",
        url=server.url("/health"),
        interval_seconds=INTERVAL,
        timeout_seconds=1,
        expected_json=[{"path": "status", "equals": "ok"}],
    )
    kpi = Kpi.objects.create(
        migration=migration,
        name="Success rate",
        probe=probe,
        aggregation="rate",
        critical=99.5,
        warning=99.8,
        unit="%",
        window_seconds=30,
    )
    guardrail = Guardrail.objects.create(
        migration=migration,
        name="Success rate",
        kpi=kpi,
        consecutive=CONSECUTIVE,
        min_samples=1,
        action="rollback",
    )
    with celery_worker(tmp_path, concurrency=4, **WORKER_ENV) as worker, celery_beat(tmp_path, **WORKER_ENV):
        wait_until(
            lambda: ProbeResult.objects.filter(probe=probe, outcome="pass").count() >= 3,
            timeout=30,
            message="three passing runs",
        )
        guardrail.refresh_from_db()
        assert guardrail.state == "healthy"
        assert current_percent(migration) == 25

        server.routes["/health"] = Route.json({"status": "down"}, status=503)
        started = time.monotonic()
        budget = CONSECUTIVE * INTERVAL + 2
        # Wait past the budget so a slow run reports how slow it was, then hold it to the budget.
        wait_until(
            lambda: current_percent(migration) == 0, timeout=budget + 10, interval=0.05, message="rollback"
        )
        elapsed = time.monotonic() - started
        log = worker.log_path.read_text(errors="replace")[-4000:]
    print(f"guardrail rolled back {elapsed:.2f} s after the target started failing (budget {budget} s)")
    assert elapsed <= budget, f"rolled back after {elapsed:.2f} s; budget {budget} s\n{log}"
    rollback = Rollback.objects.get(migration=migration)
    assert rollback.by == "guardrail: Success rate"
    assert rollback.from_percent == 25
    samples = rollback.evidence["breaching_samples"]
    assert sum(1 for s in samples if s["outcome"] == "fail") >= CONSECUTIVE
    assert rollback.incident.evidence[0]["evidence"]["guardrail"] == "Success rate"
    guardrail.refresh_from_db()
    assert guardrail.state == "breached"


def test_a_redelivered_probe_task_stores_no_duplicate(tmp_path, migration, server):
    from migrations_app.monitoring.tasks import run_probe

    server.routes["/health"] = Route.json({"status": "ok"})
    probe = services.create_probe(
        migration, by=Actor.system("tests"), name="Health", url=server.url("/health"), interval_seconds=3600
    )
    due_at = probe.next_due_at.isoformat()
    with celery_worker(tmp_path, concurrency=2, **WORKER_ENV):
        for _ in range(3):  # the broker delivering the same run again (worker lost, visibility timeout)
            run_probe.apply_async(kwargs={"probe_id": probe.pk, "due_at": due_at})
        wait_until(lambda: ProbeResult.objects.filter(probe=probe).exists(), timeout=20, message="a result")
        time.sleep(1.5)
    assert ProbeResult.objects.filter(probe=probe).count() == 1
    # In-process too: the second run of a slot neither calls the target nor stores anything.
    calls = len(server.requests)
    assert run_probe.run(probe_id=probe.pk, due_at=due_at) == "duplicate"
    assert len(server.requests) == calls
    assert run_probe.acks_late and run_probe.reject_on_worker_lost


def test_a_redelivered_batch_runs_only_what_has_no_result(migration, server):
    from migrations_app.monitoring.tasks import run_probes

    server.routes["/health"] = Route.json({"status": "ok"})
    probes = [
        services.create_probe(
            migration,
            by=Actor.system("tests"),
            name=f"Health {n}",
            url=server.url("/health"),
            interval_seconds=3600,
        )
        for n in range(5)
    ]
    runs = [[probe.pk, probe.next_due_at.isoformat()] for probe in probes]
    assert run_probes.run(runs=runs[:3]) == 3
    assert run_probes.run(runs=runs) == 2  # the redelivery of a bigger batch: only the two missing
    assert run_probes.run(runs=runs) == 0
    assert ProbeResult.objects.count() == 5
    assert len(server.requests) == 5
