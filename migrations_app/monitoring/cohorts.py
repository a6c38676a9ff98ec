"""Cohorts: which path ("new" or "old") a pushed sample or a probe result belongs to.

The interface other parts of golive build on:

- `Sample.cohort` and `ProbeResult.cohort` are "new", "old" or "" (fleet-wide, as before).
- `POST /api/v1/migrations/{slug}/samples` items accept `"variant": "new" | "old"` or
  `"targeting_key": "<user id>"` (not both; errors name `samples[i].variant` or
  `samples[i].targeting_key`). For a targeting key golive derives the cohort with `cohort_of`:
  the same bucketing as the flag APIs (rollout/bucketing.py, flag key = migration slug) at the
  traffic level in force at the sample's time, read from the rollout's TrafficChange history
  (`TrafficHistory`). A user admitted at 5 % is "new" from then on; during a rollback (0 %)
  everyone is "old". Counters (ok/failed) and values both carry the cohort.
- `Probe.path` ("", "old", "new") binds a probe to one path; its results carry that cohort. A
  probe KPI measured for a cohort reads the results of the migration's probes of the same kind
  bound to that path (so "old health" and "new health" probes compare).
- `kpis.measure(kpi, now=..., cohort="new")` and `kpis.series(..., cohort="new")` compute a KPI
  for one cohort; `kpis.distribution(kpi, now=..., cohort=...)` gives p50/p95/p99 with counts.
- `canary.compare(guardrail, now=...)` returns a `canary.Comparison` (new, old, n_new, n_old,
  difference, interval, verdict "pass"/"fail"/"inconclusive"/"no_data", message); each compare
  evaluation stores a `GuardrailVerdict` row (the verdict history), and the guardrail keeps
  `last_verdict`. `canary.verdict_history(guardrail, since=...)` reads the history for charts.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

from migrations_app.models import Migration
from migrations_app.monitoring.models import Cohort
from migrations_app.rollout import bucketing
from migrations_app.rollout.models import TrafficChange

NEW, OLD, FLEET = Cohort.NEW.value, Cohort.OLD.value, Cohort.FLEET.value
VARIANTS = (NEW, OLD)


@dataclass(frozen=True)
class TrafficHistory:
    """The traffic level over time of one migration: (since, percent) pairs, oldest first."""

    flag_key: str
    times: tuple[dt.datetime, ...]
    percents: tuple[int, ...]

    @classmethod
    def of(cls, migration: Migration) -> TrafficHistory:
        changes = TrafficChange.objects.filter(migration=migration).order_by("at", "id")
        rows = list(changes.values_list("at", "to_percent"))
        return cls(migration.slug, tuple(at for at, _ in rows), tuple(percent for _, percent in rows))

    def percent_at(self, at: dt.datetime) -> int:
        """The level in force at `at`: the last change at or before it (0 before the first)."""
        index = bisect.bisect_right(self.times, at)
        return self.percents[index - 1] if index else 0


def cohort_of(history: TrafficHistory, targeting_key: str, at: dt.datetime) -> str:
    """ "new" when the flag APIs would have answered true for this user at that time, else "old".

    Same rule as rollout.flags.evaluate: 0 % is everyone old, 100 % everyone new, and in
    between a user is new when their sticky bucket is within the level."""
    percent = history.percent_at(at)
    return NEW if bucketing.is_in_rollout(history.flag_key, targeting_key, percent) else OLD


def assign_cohorts(migration: Migration, items: list[dict], *, now: dt.datetime) -> list[str]:
    """The cohort of each validated sample item: its variant, derived from its targeting key,
    or "" (fleet-wide). Reads the traffic history once per batch, and only when needed."""
    history = None
    cohorts = []
    for item in items:
        if item.get("variant"):
            cohorts.append(item["variant"])
        elif item.get("targeting_key"):
            history = history or TrafficHistory.of(migration)
            cohorts.append(cohort_of(history, item["targeting_key"], item.get("at") or now))
        else:
            cohorts.append(FLEET)
    return cohorts
