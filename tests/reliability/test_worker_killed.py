"""The worker process running a probe is killed with SIGKILL, 20 times, in the middle of the call.

Real Celery worker (prefork) and beat on the test database. The probe's target answers after
1 s, so each kill lands while the call is in flight. Afterwards: every kill is followed by a new
call within 2 intervals, the schedule kept moving, and no slot has two results."""

import os
import signal
import time
from pathlib import Path

import pytest
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.monitoring import services as monitoring
from migrations_app.monitoring.models import ProbeResult
from tests.monitoring.servers import Route, local_server
from tests.processes import celery_beat, celery_worker, together, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]
KILLS = 20
INTERVAL = 4  # seconds; the reference plans probe every 30 s


def pool_children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def test_a_worker_killed_mid_probe_20_times_loses_no_schedule_and_stores_no_duplicate(
    tmp_path, migration, settings
):
    settings.GOLIVE_PROBE_ALLOWLIST = ["127.0.0.1/32"]
    env = {"GOLIVE_PROBE_DISPATCH_SECONDS": "0.5", "GOLIVE_PROBE_ALLOWLIST": "127.0.0.1/32"}
    with local_server() as target:
        call_times: list[float] = []

        def slow(method, path, headers, body):
            call_times.append(time.monotonic())
            return Route(200, b"ok", delay=1.0)

        target.handler = slow
        probe = monitoring.create_probe(
            migration,
            by=Actor.system("tests"),
            name="slow provider",
            url=target.url("/health"),
            interval_seconds=INTERVAL,
            timeout_seconds=5,
        )
        kills: list[float] = []
        with together(celery_worker(tmp_path, **env), celery_beat(tmp_path, **env)) as (worker, _):
            started = time.monotonic()
            for _ in range(KILLS):
                seen = len(target.requests)
                wait_until(
                    lambda s=seen: len(target.requests) > s,
                    timeout=4 * INTERVAL,
                    interval=0.02,
                    message="a probe call in flight",
                )
                time.sleep(0.2)  # the call is now waiting for the slow answer
                children = wait_until(lambda: pool_children(worker.pid), timeout=10, message="a pool process")
                for child in children:
                    os.kill(child, signal.SIGKILL)
                kills.append(time.monotonic())
            # After the last kill the next call must still come within 2 intervals.
            seen = len(target.requests)
            wait_until(
                lambda: len(target.requests) > seen,
                timeout=2 * INTERVAL + 1,
                interval=0.05,
                message="a call after the last kill",
            )
            wait_until(
                lambda: ProbeResult.objects.filter(probe=probe).exists(),
                timeout=4 * INTERVAL,
                message="a stored result after the kills",
            )
            total = time.monotonic() - started
    assert len(kills) == KILLS
    # Every kill is followed by a new call within 2 intervals.
    gaps = [min(t for t in call_times if t > kill) - kill for kill in kills]
    assert max(gaps) <= 2 * INTERVAL, f"slowest return after a kill: {max(gaps):.2f}s"
    slots = list(ProbeResult.objects.filter(probe=probe).values_list("due_at", flat=True))
    assert len(slots) == len(set(slots)), "a slot has two results"
    probe.refresh_from_db()
    assert probe.next_due_at > timezone.now() - timezone.timedelta(seconds=2 * INTERVAL), (
        "the schedule stopped"
    )
    print(
        f"worker killed {KILLS} times in {total:.1f}s: {len(call_times)} calls, {len(slots)} results,"
        f" next call after a kill within {min(gaps):.2f}-{max(gaps):.2f}s"
    )
