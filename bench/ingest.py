"""Item 6: pushed samples accepted per second, in batches of 500, next to what PostgreSQL itself
takes for the same rows from one client (COPY of the same 500-row batches, one commit each).

golive runs under gunicorn with a Celery worker; the migration has roll-back guardrails on the
pushed metrics, so every accepted batch enqueues a real evaluation. wrk posts one realistic batch
(four metrics, counters and values, explicit times) from several connections. Accepted means
stored: the rows are counted in the table, not taken from the HTTP answers. After the load the
bench waits for the worker to finish the evaluations and checks they saw the latest data."""

from __future__ import annotations

import datetime as dt
import json
import random
import time

import redis
from django.db import connection
from django.utils import timezone

from bench import data
from bench.harness import Bench, Row, wrk
from migrations_app.monitoring.models import Guardrail, Kpi, Sample

SLUG = "bench-ingest"
BATCH = 500
CONNECTIONS = 4
TARGET = 5000


def run(bench: Bench) -> list[Row]:
    migration = data.live_migration(SLUG, percent=25)
    guardrails = _guardrails(migration)
    token = data.token_for(data.member("bench-app", "Ops"), "ingest")
    base = bench.gunicorn()
    bench.celery_worker()
    body = json.dumps({"samples": batch(BATCH)})
    url = f"{base}/api/v1/migrations/{SLUG}/samples"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    seconds = 2 if bench.smoke else 15
    wrk(url, seconds=1, connections=CONNECTIONS, headers=headers, body=body)  # warm both workers up
    before = _stored(migration)
    started = time.monotonic()
    load = wrk(url, seconds=seconds, connections=CONNECTIONS, headers=headers, body=body)
    elapsed = time.monotonic() - started
    load_ended = timezone.now()
    time.sleep(0.5)  # requests still in flight when wrk stopped finish (and count) now
    stored = _stored(migration) - before
    rate = stored / elapsed
    drained = _wait_for_evaluations(bench.redis_url)
    evaluated = _evaluated_after(guardrails, load_ended - dt.timedelta(seconds=1))

    baseline = copy_rate(migration, body, batches=20 if bench.smoke else 200)
    failures = load.non_2xx + load.errors
    met = rate >= TARGET and failures == 0 and evaluated == len(guardrails)
    return [
        Row(
            item="6. Ingestion: samples accepted per second",
            target=f"≥ {TARGET:,} samples/s, batches of {BATCH}, guardrails evaluated",
            measured=f"{rate:,.0f} samples/s",
            baseline=f"{baseline:,.0f} rows/s",
            ratio=f"{rate / baseline:.2f}",
            met=met,
            note=(
                f"{stored:,} rows stored in {elapsed:.1f} s by {CONNECTIONS} clients (p50 {load.p50_ms:.0f} ms "
                f"per batch, {failures} failed); {evaluated}/{len(guardrails)} guardrails evaluated on the "
                f"latest data, worker backlog drained {drained:.1f} s after the load. Baseline: COPY of the "
                f"same 500-row batches from one client, a commit each (PostgreSQL's own limit here)"
            ),
        )
    ]


def batch(size: int) -> list[dict]:
    """What an application sends: success counters and latencies, each with the time it was taken."""
    rng = random.Random(6)
    now = timezone.now()
    items = []
    for n in range(size):
        at = (now - dt.timedelta(milliseconds=rng.randint(0, 5000))).isoformat()
        kind = n % 4
        if kind == 0:
            items.append(
                {
                    "metric": "payment_success",
                    "ok": rng.randint(90, 100),
                    "failed": rng.randint(0, 1),
                    "at": at,
                }
            )
        elif kind == 1:
            items.append({"metric": "checkout_latency_ms", "value": round(rng.uniform(80, 900), 1), "at": at})
        elif kind == 2:
            items.append({"metric": "webhook_delivery", "ok": rng.randint(10, 20), "failed": 0, "at": at})
        else:
            items.append({"metric": "card_declines", "value": rng.randint(0, 3), "at": at})
    return items


def _guardrails(migration) -> list[Guardrail]:
    specs = [
        ("Payment success", "payment_success", "rate", "higher", 95.0),
        ("Checkout latency p95", "checkout_latency_ms", "p95", "lower", 5000.0),
        ("Webhook delivery", "webhook_delivery", "rate", "higher", 90.0),
    ]
    guardrails = []
    for name, metric, aggregation, direction, critical in specs:
        kpi = Kpi.objects.create(
            migration=migration,
            name=name,
            metric=metric,
            aggregation=aggregation,
            direction=direction,
            critical=critical,
        )
        guardrails.append(
            Guardrail.objects.create(migration=migration, name=name, kpi=kpi, action="rollback")
        )
    return guardrails


def _stored(migration) -> int:
    return Sample.objects.filter(migration=migration).count()


def _wait_for_evaluations(redis_url: str, timeout: float = 120) -> float:
    """Seconds until the worker's queue is empty (the evaluations enqueued by the load are done)."""
    queue = redis.Redis.from_url(redis_url)
    started = time.monotonic()
    while queue.llen("celery") and time.monotonic() - started < timeout:
        time.sleep(0.05)
    time.sleep(0.5)  # the last task taken from the queue finishes
    return time.monotonic() - started


def _evaluated_after(guardrails: list[Guardrail], moment: dt.datetime) -> int:
    rows = Guardrail.objects.filter(pk__in=[g.pk for g in guardrails], last_evaluated_at__gte=moment)
    return rows.count()


def copy_rate(migration, body: str, *, batches: int) -> float:
    """Rows per second PostgreSQL takes by COPY for the same batches, one commit per batch."""
    items = json.loads(body)["samples"]
    rows = [
        (
            migration.pk,
            item["metric"],
            dt.datetime.fromisoformat(item["at"]),
            item.get("value"),
            item.get("ok"),
            item.get("failed"),
            25,
        )
        for item in items
    ]
    table = Sample._meta.db_table
    sql = f"COPY {table} (migration_id, metric, at, value, ok, failed, traffic_percent) FROM STDIN"
    connection.ensure_connection()
    raw = connection.connection
    started = time.monotonic()
    for _ in range(batches):
        with raw.transaction(), raw.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
    return batches * len(rows) / (time.monotonic() - started)
