"""Item 4: from the POST of the sample that completes a breach to 0 % on OFREP, next to the manual
rollback on-call sends through the API, timed the same way (its floor: one transaction plus the
flag snapshot's refresh in the gunicorn worker that answers the poll).

golive runs under gunicorn with a real Celery worker on Redis. The guarded migration is at 25 %
with a roll-back guardrail on a pushed success rate (3 breaching evaluations in a row). Each trial
re-arms it the way a team would after fixing the cause: healthy data turns the guardrail healthy,
then the rollout resumes and traffic goes back to 25 % through the traffic services. Two breaching
batches are pushed and evaluated untimed; the timed part is the third POST and the wait for OFREP.
Guardrail and manual trials alternate, so drift hits both alike."""

from __future__ import annotations

import time

import httpx
from django.utils import timezone

from bench import data
from bench.harness import Bench, Row, median, ms, percentile, until
from migrations_app.monitoring.models import Guardrail, Kpi
from migrations_app.rollout import services as rollout
from migrations_app.rollout.models import Rollback
from migrations_app.rollout.selectors import SNAPSHOT_SECONDS

GUARDED, MANUAL = "bench-guarded", "bench-manual"
METRIC = "payment_success"
CONSECUTIVE = 3
# The KPI window: short, so that the failures of one trial have left it before the next one
# re-arms the guardrail with healthy data (the wait overlaps the manual trial).
WINDOW_SECONDS = 3
BAD = {"samples": [{"metric": METRIC, "ok": 0, "failed": 500}]}
GOOD = {"samples": [{"metric": METRIC, "ok": 5000, "failed": 0}]}


def run(bench: Bench) -> list[Row]:
    oncall = data.member("bench-oncall", "On-call")
    guarded, manual = _migration(GUARDED), _migration(MANUAL)
    guardrail = _guardrail(guarded)
    headers = {
        scope: {"Authorization": f"Bearer {data.token_for(oncall, scope)}"}
        for scope in ("flags", "ingest", "operate")
    }
    base = bench.gunicorn()
    bench.celery_worker()
    trials = 2 if bench.smoke else 20
    auto, floor, written, accepted = [], [], [], []
    last_failure = 0.0
    with httpx.Client(base_url=base, timeout=10) as client:
        for _ in range(trials):
            _wait_out_window(last_failure)
            _rearm(client, headers, guarded, guardrail)
            visible, committed, answered = _guardrail_trial(client, headers, guardrail)
            auto.append(visible)
            written.append(committed)
            accepted.append(answered)
            last_failure = time.monotonic()
            _resume(client, headers, manual)
            floor.append(_manual_trial(client, headers))
    return _rows(auto, floor, written, accepted)


def _migration(slug: str):
    migration = data.live_migration(slug, percent=25)
    # Steps starting at 25 %, so that resuming after a rollback goes straight back to it.
    rollout.update_plan(migration, steps=[25, 50, 100], soak_minutes=1, by=data.BY)
    return migration


def _guardrail(migration) -> Guardrail:
    kpi = Kpi.objects.create(
        migration=migration,
        name="Payment success",
        metric=METRIC,
        aggregation="rate",
        critical=99.0,
        unit="%",
        window_seconds=WINDOW_SECONDS,
    )
    return Guardrail.objects.create(
        migration=migration,
        name="Payment success",
        kpi=kpi,
        consecutive=CONSECUTIVE,
        min_samples=1,
        action="rollback",
    )


def _wait_out_window(since: float) -> None:
    left = since + WINDOW_SECONDS + 0.2 - time.monotonic()
    if left > 0:
        time.sleep(left)


def _rearm(client: httpx.Client, headers: dict, migration, guardrail: Guardrail) -> None:
    """Healthy data re-arms the guardrail; then the rollout resumes at 25 % (untimed)."""
    _push(client, headers, GOOD)
    until(lambda: _guardrail_row(guardrail).state == "healthy", "the guardrail to turn healthy")
    _resume(client, headers, migration)
    for expected_streak in range(1, CONSECUTIVE):
        _push(client, headers, BAD)
        until(
            lambda streak=expected_streak: _guardrail_row(guardrail).breach_streak == streak,
            f"breach streak {expected_streak}",
        )


def _resume(client: httpx.Client, headers: dict, migration) -> None:
    migration.refresh_from_db()
    reason = "Bench: cause fixed, next trial"
    if migration.status == "rolled_back":
        rollout.resume_rollout(migration, by=data.BY, reason=reason)
        # The go-live checklist of a bench migration is empty: an audited override, as an Admin would.
        rollout.set_traffic(migration, to=25, by=data.BY, reason=reason, override=True)
    slug = migration.slug
    until(lambda: _ofrep_percent(client, headers, slug) == 25, f"{slug} at 25 % on OFREP")
    # That answer came from one gunicorn worker: give the other one time to refresh its snapshot
    # too, or the trial's first poll could read the previous rollback there.
    time.sleep(2 * SNAPSHOT_SECONDS)


def _guardrail_trial(client: httpx.Client, headers: dict, guardrail: Guardrail) -> tuple[float, float, float]:
    """Seconds from the POST's start to OFREP showing 0 %, to the rollback written, to the 202."""
    started, wall = time.monotonic(), timezone.now()
    _push(client, headers, BAD)
    answered = time.monotonic() - started
    until(lambda: _ofrep_percent(client, headers, GUARDED) == 0, "the guardrail's rollback on OFREP")
    took = time.monotonic() - started
    state = Guardrail.objects.get(pk=guardrail.pk).state
    assert state == "breached", f"OFREP showed 0 % but the guardrail is {state}"
    rollback = Rollback.objects.filter(migration_id=guardrail.migration_id).latest("at")
    return took, (rollback.at - wall).total_seconds(), answered


def _manual_trial(client: httpx.Client, headers: dict) -> float:
    started = time.monotonic()
    response = client.post(
        f"/api/v1/migrations/{MANUAL}/rollback",
        json={"reason": "Bench: on-call rolls back"},
        headers=headers["operate"],
    )
    assert response.status_code == 200, response.text
    until(lambda: _ofrep_percent(client, headers, MANUAL) == 0, "the manual rollback on OFREP")
    return time.monotonic() - started


def _push(client: httpx.Client, headers: dict, body: dict) -> None:
    response = client.post(f"/api/v1/migrations/{GUARDED}/samples", json=body, headers=headers["ingest"])
    assert response.status_code == 202, response.text


def _ofrep_percent(client: httpx.Client, headers: dict, slug: str) -> int:
    response = client.post(
        f"/ofrep/v1/evaluate/flags/{slug}",
        json={"context": {"targetingKey": "user-42"}},
        headers=headers["flags"],
    )
    response.raise_for_status()
    return response.json()["metadata"]["percent"]


def _guardrail_row(guardrail: Guardrail) -> Guardrail:
    return Guardrail.objects.get(pk=guardrail.pk)


def _rows(auto: list[float], floor: list[float], written: list[float], accepted: list[float]) -> list[Row]:
    p95, floor_p95 = percentile(auto, 95), percentile(floor, 95)
    note = (
        f"{len(auto)} trials, max {ms(max(auto))}. Where the time goes (medians from the POST's start): "
        f"202 answered {ms(median(accepted))}, rollback written by the worker {ms(median(written))}, "
        f"then the flag snapshot refresh (every {SNAPSHOT_SECONDS} s in each gunicorn worker) and the poll"
    )
    return [
        Row(
            item="4. Guardrail to rollback: p95",
            target="< 1 s",
            measured=ms(p95),
            baseline=ms(floor_p95),
            ratio=f"{p95 / floor_p95:.2f}",
            met=p95 < 1.0,
            note=note,
        ),
        Row(
            item="4. Guardrail to rollback: p50",
            target="-",
            measured=ms(median(auto)),
            baseline=ms(median(floor)),
            ratio=f"{median(auto) / median(floor):.2f}",
            note="baseline: on-call's POST /api/v1/migrations/<slug>/rollback, polled on OFREP the same way",
        ),
    ]
