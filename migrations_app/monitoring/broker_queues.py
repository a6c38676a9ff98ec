"""How many Celery tasks wait in the broker, for /metrics (metrics_export.py).

Only a Redis broker can be asked cheaply: kombu keeps each queue as a Redis list (one more list
per priority step, named `<queue>\\x06\\x16<priority>`) and the messages workers hold but have not
acknowledged in the `unacked` hash. Any other broker (the embedded SQLite one) gives no families:
absent, never a made-up zero."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import redis
from celery import current_app
from django.conf import settings
from prometheus_client.core import GaugeMetricFamily, Metric

log = logging.getLogger(__name__)

REDIS_SCHEMES = ("redis://", "rediss://")
PRIORITY_SEPARATOR = "\x06\x16"  # kombu's Redis transport
PRIORITY_STEPS = (3, 6, 9)  # kombu's steps besides 0, which is the queue's own list
UNACKED_KEY = "unacked"
TIMEOUT_SECONDS = 1.0  # a scrape must not hang on a broker that is down


def queue_names() -> list[str]:
    """The queues workers consume: Celery's default queue and any declared ones."""
    conf = current_app.conf
    names = {conf.task_default_queue or "celery"}
    names.update(queue.name for queue in conf.task_queues or ())
    return sorted(names)


def families() -> Iterator[Metric]:
    url = settings.CELERY_BROKER_URL or ""
    if not url.startswith(REDIS_SCHEMES):
        return
    up = GaugeMetricFamily(
        "golive_celery_broker_up", "1 if golive could read the Redis broker at this scrape, else 0."
    )
    length = GaugeMetricFamily(
        "golive_celery_queue_length",
        "Celery tasks waiting in the broker queue, not yet taken by a worker (all priorities).",
        labels=["queue"],
    )
    unacked = GaugeMetricFamily(
        "golive_celery_unacked_messages",
        "Tasks workers took and have not acknowledged yet (running or prefetched).",
    )
    names = queue_names()
    try:
        depths, held = _read(url, names)
    except redis.RedisError as error:
        log.info("metrics: could not read the Celery broker: %s", error)
        up.add_metric([], 0)
        yield up
        return
    up.add_metric([], 1)
    for name, depth in zip(names, depths, strict=True):
        length.add_metric([name], depth)
    unacked.add_metric([], held)
    yield from (up, length, unacked)


def _read(url: str, names: list[str]) -> tuple[list[int], int]:
    client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)
    try:
        pipe = client.pipeline(transaction=False)
        for name in names:
            pipe.llen(name)
            for step in PRIORITY_STEPS:
                pipe.llen(f"{name}{PRIORITY_SEPARATOR}{step}")
        pipe.hlen(UNACKED_KEY)
        answers = pipe.execute()
    finally:
        client.close()
    per_queue = 1 + len(PRIORITY_STEPS)
    depths = [sum(answers[i * per_queue : (i + 1) * per_queue]) for i in range(len(names))]
    return depths, answers[-1]
