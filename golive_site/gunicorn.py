"""gunicorn settings for golive: `gunicorn golive_site.wsgi -c python:golive_site.gunicorn`.

The bench serves golive with exactly this file, so its numbers describe this configuration.
Sync workers, one per core by default: most requests are the flag APIs, which answer from memory
in a few hundred microseconds of Python, so extra workers or threads only queue on the cores and
the GIL and stretch the tail. On 2 cores under 32 connections (docs/benchmarks.md) OFREP's p99 was
22 ms with 2 workers, 32-51 ms with 3 and 29-40 ms with 4; threads were worse still. Raise
WEB_CONCURRENCY where slow pages (exports, evidence packs) must not wait behind each other."""

import gc
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "sync"
timeout = 30
graceful_timeout = 20


def post_worker_init(worker):
    """The app is loaded: freeze what it allocated so the collector stops walking it.

    A full collection over the loaded app's ~150,000 objects took 80-90 ms on the bench machine: a
    stall for every request queued on that worker, straight into the flag APIs' p99. Frozen, a full
    collection sees only what requests allocate (well under a millisecond)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # import every view module now, not during a request  # noqa: B018
    gc.freeze()
