"""The rollout's traffic level as monitoring reads it: to watch a guardrail and to tag data."""

from __future__ import annotations

from migrations_app.models import Migration
from migrations_app.rollout.selectors import current_percent, flag_snapshot


def traffic_percent(migration: Migration) -> int:
    """The share of users on the new path now (a query: a guardrail decides on it)."""
    return current_percent(migration)


def tagging_percent(migration: Migration) -> int:
    """The traffic level to tag data with, from the rollout app's in-process flag snapshot
    (no query per result; a change reaches it within a second)."""
    state = flag_snapshot().get(migration.slug)
    return state.percent if state else 0
