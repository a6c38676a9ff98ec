"""gunicorn settings for golive: `gunicorn golive_site.wsgi -c python:golive_site.gunicorn`.

The bench serves golive with exactly this file, so its numbers describe this configuration.
Sync workers: a request is a few hundred microseconds of Python, so threads would only queue on the
GIL; two workers per core keep a core busy while the other worker of the pair waits on PostgreSQL
or the network."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None  # the request-id middleware logs what matters
