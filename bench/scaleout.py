"""Item 6 of the speed issue: golive scaled out (docs/scaling.md) on one machine.

Two web processes (gunicorn, one sync worker each, as two machines behind a load balancer would
run them) and two Celery workers on one PostgreSQL and one Redis. Two things are measured:

- throughput adds up: OFREP loaded by wrk on one web process, then on both at once (one wrk
  each), alternating so that drift hits both alike; the ratio is both / one;
- a rollback reaches every process within a second: on-call rolls back through the API of the
  first process while the bench polls OFREP on the second, which learns of it only from the
  database (no message between processes). Timed from the POST's start to the second process
  answering 0 %."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bench import data
from bench.harness import Bench, Load, Row, median, ms, percentile, until, wrk
from migrations_app.rollout import services as rollout

SLUG = "bench-scaleout"
CONNECTIONS = 16  # per web process
BODY = '{"context": {"targetingKey": "user-42"}}'


def run(bench: Bench) -> list[Row]:
    migration = data.live_migration(SLUG, percent=25)
    rollout.update_plan(migration, steps=[25, 50, 100], soak_minutes=1, by=data.BY)
    oncall = data.member("bench-scaleout-oncall", "On-call")
    flags = {"Authorization": f"Bearer {data.token_for(oncall, 'flags')}", "Content-Type": "application/json"}
    operate = {"Authorization": f"Bearer {data.token_for(oncall, 'operate')}"}
    one_worker = bench.env(WEB_CONCURRENCY="1")
    first = bench.gunicorn("gunicorn-a", env=one_worker)
    second = bench.gunicorn("gunicorn-b", env=one_worker)
    bench.celery_worker("worker-a")
    bench.celery_worker("worker-b")

    seconds = 2 if bench.smoke else 10
    rounds = 1 if bench.smoke else 2
    alone, together = [], []
    for _ in range(rounds):
        alone.append(_load(first, seconds, flags))
        together.append(_load_both(first, second, seconds, flags))
    trials = 3 if bench.smoke else 20
    reached = [_rollback_trial(migration, first, second, flags, operate) for _ in range(trials)]
    return _rows(alone, together, reached)


def _load(base: str, seconds: float, headers: dict) -> Load:
    url = f"{base}/ofrep/v1/evaluate/flags/{SLUG}"
    return wrk(url, seconds=seconds, connections=CONNECTIONS, headers=headers, body=BODY)


def _load_both(first: str, second: str, seconds: float, headers: dict) -> tuple[Load, Load]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        a, b = (pool.submit(_load, base, seconds, headers) for base in (first, second))
        return a.result(), b.result()


def _rollback_trial(migration, first: str, second: str, flags: dict, operate: dict) -> float:
    _resume(migration, first, second, flags)
    started = time.monotonic()
    response = httpx.post(
        f"{first}/api/v1/migrations/{SLUG}/rollback",
        json={"reason": "Bench: on-call rolls back on one process"},
        headers=operate,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    until(lambda: _percent(second, flags) == 0, "the other web process to show 0 %")
    return time.monotonic() - started


def _resume(migration, first: str, second: str, flags: dict) -> None:
    migration.refresh_from_db()
    if migration.status == "rolled_back":
        reason = "Bench: cause fixed, next trial"
        rollout.resume_rollout(migration, by=data.BY, reason=reason)
        # A bench migration's checklist is empty: an audited override, as an Admin would.
        rollout.set_traffic(migration, to=25, by=data.BY, reason=reason, override=True)
    for base in (first, second):
        until(lambda base=base: _percent(base, flags) == 25, f"{base} at 25 %")


def _percent(base: str, headers: dict) -> int:
    response = httpx.post(f"{base}/ofrep/v1/evaluate/flags/{SLUG}", content=BODY, headers=headers, timeout=5)
    response.raise_for_status()
    return response.json()["metadata"]["percent"]


def _rows(alone: list[Load], together: list[tuple[Load, Load]], reached: list[float]) -> list[Row]:
    one = sum(load.requests_per_second for load in alone) / len(alone)
    both = sum(a.requests_per_second + b.requests_per_second for a, b in together) / len(together)
    failures = sum(load.non_2xx + load.errors for load in [*alone, *(x for pair in together for x in pair)])
    ratio = both / one
    p95 = percentile(reached, 95)
    return [
        Row(
            item="6. Scale out: OFREP on two web processes",
            target="≥ 1.5× one process",
            measured=f"{both:,.0f} req/s",
            baseline=f"{one:,.0f} req/s",
            ratio=f"{ratio:.2f}",
            met=ratio >= 1.5 and failures == 0,
            note=(
                f"one sync worker per process, {CONNECTIONS} connections each, two Celery workers running; "
                "on 2 cores wrk and the second process share the cores the first had alone, so 2× is the "
                "ceiling, not the expectation" + (f"; {failures} failed requests" if failures else "")
            ),
        ),
        Row(
            item="6. Scale out: rollback reaches the other process, p95",
            target="< 1 s",
            measured=ms(p95),
            baseline="",
            met=p95 < 1.0,
            note=(
                f"{len(reached)} trials, median {ms(median(reached))}, max {ms(max(reached))}: POST on one "
                "process, OFREP polled on the other until it answers 0 %"
            ),
        ),
    ]
