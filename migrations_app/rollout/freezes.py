"""Reads about change freezes: which window holds a migration at a moment, and the windows ahead.

A weekly freeze is computed on the wall clock of its own zone (a date plus a local time, then to
UTC), so "Friday 16:00 to Monday 08:00 Europe/Paris" is 15:00 UTC in winter and 14:00 UTC in
summer, and a window spanning the change is an hour longer or shorter in UTC."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db.models import Q

from migrations_app.models import Migration
from migrations_app.rollout import zones
from migrations_app.rollout.schedule_models import ChangeFreeze


@dataclass(frozen=True)
class FreezeWindow:
    freeze: ChangeFreeze
    starts_at: dt.datetime
    ends_at: dt.datetime

    def contains(self, at: dt.datetime) -> bool:
        return self.starts_at <= at < self.ends_at

    @property
    def until(self) -> str:
        return zones.describe(self.ends_at, self.freeze.zone)

    @property
    def since(self) -> str:
        return zones.describe(self.starts_at, self.freeze.zone)

    def sentence(self) -> str:
        """What a refused advance says: the window named, and when it ends in the freeze's zone."""
        scope = "" if self.freeze.migration_id else " (every migration)"
        return (
            f"Change freeze on: {self.freeze.name}{scope} until {self.until}. No advance until then; "
            "a rollback is never blocked, and an Admin may override with a reason."
        )


def weekly_window_on(freeze: ChangeFreeze, day: dt.date) -> FreezeWindow:
    """The window of a weekly freeze that starts on `day` (a date with the start weekday)."""
    assert freeze.start_weekday is not None and freeze.end_weekday is not None
    assert freeze.start_time is not None and freeze.end_time is not None
    tz = zoneinfo.ZoneInfo(freeze.zone)
    days = (freeze.end_weekday - freeze.start_weekday) % 7
    if days == 0 and freeze.end_time <= freeze.start_time:
        days = 7
    start = dt.datetime.combine(day, freeze.start_time, tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=days), freeze.end_time, tzinfo=tz)
    return FreezeWindow(freeze, start.astimezone(dt.UTC), end.astimezone(dt.UTC))


def windows_between(freeze: ChangeFreeze, start: dt.datetime, end: dt.datetime) -> list[FreezeWindow]:
    """The freeze's windows that overlap [start, end] (a moment when start == end)."""
    if not freeze.is_weekly:
        assert freeze.starts_at is not None and freeze.ends_at is not None
        window = FreezeWindow(freeze, freeze.starts_at, freeze.ends_at)
        overlaps = window.starts_at <= end and window.ends_at > start
        return [window] if overlaps else []
    tz = zoneinfo.ZoneInfo(freeze.zone)
    first = start.astimezone(tz).date() - dt.timedelta(days=8)  # a window started last week may hold
    last = end.astimezone(tz).date()
    day = first + dt.timedelta(days=(freeze.start_weekday - first.weekday()) % 7)
    found = []
    while day <= last:
        window = weekly_window_on(freeze, day)
        if window.starts_at <= end and window.ends_at > start:
            found.append(window)
        day += dt.timedelta(days=7)
    return found


def freezes_for(migration: Migration | None) -> list[ChangeFreeze]:
    """The freezes holding `migration` (its own and the global ones); every freeze for None."""
    rows = ChangeFreeze.objects.select_related("migration")
    if migration is not None:
        rows = rows.filter(Q(migration=migration) | Q(migration__isnull=True))
    return list(rows)


def active_freeze(migration: Migration, at: dt.datetime) -> FreezeWindow | None:
    """The window holding `migration` at `at`; of several, the one that ends last."""
    holding = [w for f in freezes_for(migration) for w in windows_between(f, at, at) if w.contains(at)]
    return max(holding, key=lambda w: w.ends_at, default=None)


def upcoming_windows(
    migration: Migration | None, *, start: dt.datetime, days: int = 60, every: bool = False
) -> list[FreezeWindow]:
    """Windows overlapping the next `days` days: for one migration (its own and the global ones),
    the global ones only (None), or every freeze (`every`)."""
    if every:
        freezes = freezes_for(None)
    elif migration is None:
        freezes = list(ChangeFreeze.objects.filter(migration__isnull=True))
    else:
        freezes = freezes_for(migration)
    end = start + dt.timedelta(days=days)
    windows = [w for f in freezes for w in windows_between(f, start, end)]
    return sorted(windows, key=lambda w: (w.starts_at, w.freeze.pk))
