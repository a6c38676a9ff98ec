"""What each pytest-xdist worker keeps to itself when the suite runs in parallel (`make test`).

- its PostgreSQL test database: pytest-django names it test_<name>_gw0, test_<name>_gw1, ...
  and tests/processes.py hands that name to the gunicorn and Celery processes a test starts;
- its Redis database: worker gwN uses the number in REDIS_URL (and CELERY_BROKER_URL) plus N,
  so one worker's purge or queued tasks never reach another's;
- its ports (tests/processes.py `free_port`), its Chromium (the session-scoped `browser`) and its
  temporary files (pytest's basetemp is per worker).

Tests that measure speed or throughput against a fixed bound cannot share the two cores with
another worker; they are marked `solo` (RUN_ALONE below, by node id, for modules owned elsewhere)
and `make test` runs them after the parallel phase, one at a time.

Loaded by `-p tests.parallel` (pyproject.toml) because the Redis URL must be rewritten before
pytest-django imports golive_site.settings, which reads it once; a conftest is imported later."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest

REDIS_DATABASES = 16  # redis-server's default `databases`
BROKER_VARIABLES = ("REDIS_URL", "CELERY_BROKER_URL")


RUN_ALONE: dict[str, str] = {
    "tests/monitoring/test_scale.py::test_the_control_room_stays_fast_with_a_million_results": (
        "times the control room's partials against a 2 s bound"
    ),
    "tests/reliability/test_postgres_restart.py::test_golive_rides_out_a_postgresql_restart_under_load": (
        "counts the requests gunicorn answers per second around a restart"
    ),
}


def mark_run_alone(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid in RUN_ALONE:
            item.add_marker(pytest.mark.solo(reason=RUN_ALONE[item.nodeid]))


def worker_index() -> int | None:
    """0 for xdist's gw0, 1 for gw1, ...; None outside a worker (a serial run or the controller)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker.removeprefix("gw")) if worker.startswith("gw") else None


def is_xdist_controller(config: pytest.Config) -> bool:
    """The process that hands tests to the workers and runs none itself."""
    return not hasattr(config, "workerinput") and getattr(config.option, "numprocesses", None) not in (
        None,
        0,
    )


def redis_url_for_worker(url: str, index: int) -> str:
    """redis://host:6379/12 -> redis://host:6379/13 for worker 1 (no number means database 0)."""
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    database = base + index
    if database >= REDIS_DATABASES:
        raise pytest.UsageError(
            f"{url}: worker gw{index} would use Redis database {database}, but Redis has "
            f"databases 0-{REDIS_DATABASES - 1}; start from a lower number or run fewer workers (-n)."
        )
    return urlunsplit(parts._replace(path=f"/{database}"))


def isolate_redis(environ: os._Environ | dict, index: int | None) -> None:
    if index is None:
        return
    for name in BROKER_VARIABLES:
        url = environ.get(name, "")
        if url.startswith(("redis://", "rediss://")):
            environ[name] = redis_url_for_worker(url, index)


isolate_redis(os.environ, worker_index())
