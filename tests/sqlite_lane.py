"""The SQLite lane: the incident and guardrail tests also run on SQLite, the database `make run`
uses, so a query that only PostgreSQL understands fails in CI rather than in someone's demo.

`make test` runs it after the PostgreSQL suite: `pytest $(python -m tests.sqlite_lane)` with
DATABASE_URL=sqlite:///... On SQLite only the modules below run; a test in them that truly needs
PostgreSQL carries `@pytest.mark.postgresql(reason=...)` (or, in a module owned elsewhere, a row
in NEEDS_POSTGRESQL) and is left out of this lane, with its reason printed. It still runs on
PostgreSQL: nothing here skips a test."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

MODULES = (
    "tests/incidents/test_services.py",
    "tests/monitoring/test_services.py",
    "tests/monitoring/test_guardrail_machine.py",
    "tests/monitoring/test_guardrail_pushes.py",
    "tests/foundation/test_sqlite_probes.py",
    "tests/monitoring/test_sqlite_guardrails.py",
    "tests/canary/test_detection.py",
    "tests/canary/test_pause.py",
    "tests/canary/test_cohorts.py",
)

# Tests in the lane's modules that cannot pass on SQLite yet, by node id, with the reason.
NEEDS_POSTGRESQL: dict[str, str] = {}

HEADER = f"SQLite lane: only {', '.join(MODULES)} run here (tests/sqlite_lane.py); the rest need PostgreSQL"
EXCLUDED = pytest.StashKey[list]()


def is_sqlite(engine: str) -> bool:
    return engine == "django.db.backends.sqlite3"


def mark_known_postgresql_only(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid in NEEDS_POSTGRESQL:
            item.add_marker(pytest.mark.postgresql(reason=NEEDS_POSTGRESQL[item.nodeid]))


def postgresql_reason(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("postgresql")
    if marker is None:
        return None
    return marker.kwargs.get("reason") or (marker.args[0] if marker.args else "needs PostgreSQL")


def in_lane(item: pytest.Item) -> bool:
    return item.path.relative_to(ROOT).as_posix() in MODULES


def keep_only_the_lane(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip) what does not run on SQLite, and remember the lane's own exclusions."""
    kept, dropped, excluded = [], [], []
    for item in items:
        reason = postgresql_reason(item)
        if in_lane(item) and reason is None:
            kept.append(item)
        else:
            dropped.append(item)
            if in_lane(item):
                excluded.append((item.nodeid, reason))
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    config.stash[EXCLUDED] = excluded


def report_exclusions(config: pytest.Config, write_line) -> None:
    for nodeid, reason in config.stash.get(EXCLUDED, []):
        write_line(f"not on SQLite: {nodeid}: {reason}")


if __name__ == "__main__":
    sys.stdout.write(" ".join(MODULES) + "\n")
