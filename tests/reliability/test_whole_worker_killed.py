"""The whole Celery worker (main process and pool) is killed with SIGKILL while probe runs are in
flight: a second worker runs them, within seconds, each once.

Nothing acknowledges the killed worker's message (golive's tasks acknowledge late), so Redis hands
it to another worker after the broker's visibility timeout: kombu's default hour would leave the
runs with the dead worker, golive sizes it to its longest task (GOLIVE_BROKER_VISIBILITY_SECONDS,
2 s here so that the test takes seconds). Real redis-server on its own port, real workers and
beat on the test database, a real local probe target."""

import os
import signal
import time

import pytest

from migrations_app.audit import Actor
from migrations_app.monitoring import services as monitoring
from migrations_app.monitoring.models import ProbeResult
from tests.monitoring.servers import Route, local_server
from tests.processes import celery_beat, celery_worker, free_port, wait_until
from tests.reliability.test_worker_killed import pool_children
from tests.rollout.test_rollback_broker_down import redis_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]
VISIBILITY_SECONDS = 2
PROBES = 3
RECOVERY_BOUND = 20  # seconds from the kill to every run stored; measured: about 4-6 s


def test_a_sigkill_of_the_whole_worker_loses_no_due_probe_run(tmp_path, migration, settings):
    settings.GOLIVE_PROBE_ALLOWLIST = ["127.0.0.1/32"]
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    env = {
        "CELERY_BROKER_URL": broker,
        "REDIS_URL": broker,
        "GOLIVE_BROKER_VISIBILITY_SECONDS": str(VISIBILITY_SECONDS),
        "GOLIVE_PROBE_DISPATCH_SECONDS": "0.5",
        "GOLIVE_PROBE_ALLOWLIST": "127.0.0.1/32",
    }
    with local_server() as target:
        seen: set[str] = set()

        def first_call_hangs(method, path, headers, body):
            # The first worker's calls wait (it is killed meanwhile); the second's are answered.
            first = path not in seen
            seen.add(path)
            return Route(200, b"ok", delay=8.0 if first else 0.0)

        target.handler = first_call_hangs
        probes = [
            monitoring.create_probe(
                migration,
                by=Actor.system("tests"),
                name=f"provider {n}",
                url=target.url(f"/health/{n}"),
                interval_seconds=3600,  # one slot each during the test
                timeout_seconds=20,
            )
            for n in range(PROBES)
        ]
        with redis_server(port, tmp_path), celery_beat(tmp_path, **env):
            with celery_worker(tmp_path, **env) as first_worker:
                wait_until(lambda: len(seen) == PROBES, timeout=20, message="every probe call in flight")
                pool = pool_children(first_worker.pid)
                for pid in [first_worker.pid, *pool]:  # the whole worker, main process first
                    os.kill(pid, signal.SIGKILL)
                killed = time.monotonic()
                first_worker.wait(timeout=5)
            assert not ProbeResult.objects.filter(probe__in=probes).exists()
            with celery_worker(tmp_path, **env):
                wait_until(
                    lambda: ProbeResult.objects.filter(probe__in=probes).count() == PROBES,
                    timeout=RECOVERY_BOUND,
                    interval=0.1,
                    message="the killed worker's runs done by a second worker",
                )
                recovered = time.monotonic() - killed
                time.sleep(VISIBILITY_SECONDS + 1)  # a second delivery would store now
    results = list(ProbeResult.objects.filter(probe__in=probes).values_list("probe_id", "outcome"))
    assert sorted(results) == sorted((probe.pk, "pass") for probe in probes)  # each run once, none lost
    print(f"whole worker killed: its {PROBES} runs stored by a second worker {recovered:.1f} s later")
