"""gunicorn settings for golive: `gunicorn golive_site.wsgi -c python:golive_site.gunicorn`.

The bench serves golive with exactly this file, so its numbers describe this configuration.
Sync workers, one per core by default: most requests are the flag APIs, which answer from memory
in a few hundred microseconds of Python, so extra workers or threads only queue on the cores and
the GIL and stretch the tail. On 2 cores under 32 connections (docs/benchmarks.md) OFREP's p99 was
22 ms with 2 workers, 32-51 ms with 3 and 29-40 ms with 4; threads were worse still. Raise
WEB_CONCURRENCY where slow pages (exports, evidence packs) must not wait behind each other."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
