"""Exposure: how many users were served the new path and the old path, per flag and minute.

The flag endpoints answer from memory with no database query (tests/rollout/test_flags_ofrep.py
counts them), so counting must not add one: an OFREP answer only adds its targeting key's hash to
a set in this process, and a daemon thread (start_flusher, started by golive_site/wsgi.py in each
web process) adds what is new to the minute's row every FLUSH_SECONDS with one
`UPDATE ... SET users = users + n`. The Unleash SDKs report their own yes/no counts
(`/api/client/metrics`); they go through the same counter.

What is approximate, by design:
- `users` is exact per web process and minute: a user whom two processes answer in the same minute
  counts twice (gunicorn runs one worker per core, so at most that many times). A minute counts
  at most MAX_KEYS_PER_MINUTE distinct users per process and answer; more still count as evaluations.
- counts not yet written are lost when a process is killed (at most FLUSH_SECONDS of them).
- Unleash SDKs count evaluations, not users, over their own metrics interval (15-60 s); golive files
  them under the minute it received them.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, close_old_connections, transaction
from django.db.models import F, Sum

from migrations_app.models import Migration
from migrations_app.rollout.models import Exposure, ExposureSource, ExposureVariant

FLUSH_SECONDS = 5.0
MAX_KEYS_PER_MINUTE = 200_000
MAX_COUNT = 10_000_000  # one SDK report of more evaluations than this is not believed

log = logging.getLogger(__name__)

# (flag key, source, minute as epoch seconds, variant) -> [new distinct users, evaluations]
Pending = dict[tuple[str, str, int, str], list[int]]


def variant_of(value: bool) -> str:
    return ExposureVariant.NEW if value else ExposureVariant.OLD


class ExposureCounter:
    """Per-process counts, safe to call from any request thread; `drain` hands them over."""

    def __init__(self):
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._seen: dict[tuple[str, int, str], set[int]] = {}
        self._pending: Pending = {}

    def _reset_after_fork(self) -> None:
        # A forked worker must not write its parent's counts a second time.
        self._lock = threading.Lock()
        self._pid, self._seen, self._pending = os.getpid(), {}, {}

    def served(self, flag_key: str, value: bool, identifier: str, *, now: float | None = None) -> None:
        """One OFREP answer: `value` (true: the new path) for the user `identifier`."""
        if os.getpid() != self._pid:
            self._reset_after_fork()
        minute = int((now or time.time()) // 60 * 60)
        variant = variant_of(value)
        with self._lock:
            seen = self._seen.setdefault((flag_key, minute, variant), set())
            key = hash(identifier)
            is_new = key not in seen and len(seen) < MAX_KEYS_PER_MINUTE
            if is_new:
                seen.add(key)
            counts = self._pending.setdefault((flag_key, ExposureSource.OFREP, minute, variant), [0, 0])
            counts[0] += is_new
            counts[1] += 1

    def reported(self, flag_key: str, *, yes: int, no: int, now: float | None = None) -> None:
        """One Unleash SDK report: `yes` evaluations answered the new path, `no` the old one."""
        if os.getpid() != self._pid:
            self._reset_after_fork()
        minute = int((now or time.time()) // 60 * 60)
        with self._lock:
            for variant, count in ((ExposureVariant.NEW, yes), (ExposureVariant.OLD, no)):
                if count:
                    key = (flag_key, ExposureSource.UNLEASH, minute, variant)
                    self._pending.setdefault(key, [0, 0])[1] += count

    def drain(self, *, now: float | None = None) -> Pending:
        """Take the counts since the last drain; forget the users of minutes that are over."""
        current = int((now or time.time()) // 60 * 60)
        with self._lock:
            pending, self._pending = self._pending, {}
            self._seen = {key: keys for key, keys in self._seen.items() if key[1] >= current}
        return pending

    def give_back(self, pending: Pending) -> None:
        """A write failed (database away): keep the counts for the next flush."""
        with self._lock:
            for key, (users, evaluations) in pending.items():
                counts = self._pending.setdefault(key, [0, 0])
                counts[0] += users
                counts[1] += evaluations


counter = ExposureCounter()


def record_unleash_metrics(bucket: object, *, now: float | None = None) -> int:
    """Count the yes/no of an SDK metrics bucket ({"toggles": {name: {"yes", "no"}}}); returns
    how many toggles were counted. Malformed entries are skipped: SDKs send what they send."""
    toggles = bucket.get("toggles") if isinstance(bucket, dict) else None
    if not isinstance(toggles, dict):
        return 0
    counted = 0
    for name, entry in toggles.items():
        if not isinstance(name, str) or not isinstance(entry, dict):
            continue
        yes, no = _count(entry.get("yes")), _count(entry.get("no"))
        if yes or no:
            counter.reported(name[:64], yes=yes, no=no, now=now)
            counted += 1
    return counted


def _count(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        return 0
    return value


def flush(*, now: float | None = None) -> int:
    """Write the counts gathered in this process; returns how many rows it touched.
    Flag keys that are no migration's slug (an SDK's other toggles) are dropped."""
    pending = counter.drain(now=now)
    if not pending:
        return 0
    try:
        return _write(pending)
    except DatabaseError:
        counter.give_back(pending)
        log.warning("exposure counts not written (database unavailable); kept for the next flush")
        return 0


def _write(pending: Pending) -> int:
    ids = dict(Migration.objects.filter(slug__in={key[0] for key in pending}).values_list("slug", "id"))
    touched = 0
    for (flag_key, source, minute, variant), (users, evaluations) in pending.items():
        if flag_key not in ids:
            continue
        at = dt.datetime.fromtimestamp(minute, tz=dt.UTC)
        row = {"migration_id": ids[flag_key], "minute": at, "variant": variant, "source": source}
        _add(row, users=users, evaluations=evaluations)
        touched += 1
    return touched


def _add(row: dict, *, users: int, evaluations: int) -> None:
    """Add to the minute's row, creating it on first sight; processes race, so a lost insert adds."""
    rows = Exposure.objects.filter(**row)
    increments = {"users": F("users") + users, "evaluations": F("evaluations") + evaluations}
    if rows.update(**increments):
        return
    try:
        with transaction.atomic():
            Exposure.objects.create(**row, users=users, evaluations=evaluations)
    except IntegrityError:
        rows.update(**increments)


_flusher_lock = threading.Lock()
_flusher_pid: int | None = None


def start_flusher(every: float = FLUSH_SECONDS) -> None:
    """Start this process's flushing thread (once per process: a forked worker starts its own)."""
    global _flusher_pid
    with _flusher_lock:
        if _flusher_pid == os.getpid():
            return
        _flusher_pid = os.getpid()
    threading.Thread(target=_flush_forever, args=(every,), daemon=True, name="exposure-flusher").start()


def _flush_forever(every: float) -> None:
    while True:
        time.sleep(every)
        close_old_connections()
        try:
            flush()
        except Exception:  # the thread must outlive any one bad flush
            log.exception("exposure flush failed")


# --- reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathExposure:
    """Users served one answer over a window: per minute (what the counter measures) and in total."""

    users_last_minute: int
    users_per_minute: float  # mean over the minutes of the window that had any answer
    evaluations: int  # OFREP answers plus Unleash SDK yes/no counts
    sdk_evaluations: int  # of which the Unleash SDKs reported


def exposure_by_path(
    migration: Migration, *, since: dt.datetime, until: dt.datetime
) -> dict[str, PathExposure]:
    """{"new": PathExposure, "old": PathExposure} for minutes in [since, until]; one query."""
    rows = (
        Exposure.objects.filter(migration=migration, minute__gte=_floor(since), minute__lte=until)
        .values("variant", "source", "minute")
        .annotate(users=Sum("users"), evaluations=Sum("evaluations"))
        .order_by("minute")
    )
    users: dict[str, dict[dt.datetime, int]] = {ExposureVariant.NEW: {}, ExposureVariant.OLD: {}}
    evaluations = {ExposureVariant.NEW: 0, ExposureVariant.OLD: 0}
    sdk = {ExposureVariant.NEW: 0, ExposureVariant.OLD: 0}
    for row in rows:
        variant = row["variant"]
        evaluations[variant] += row["evaluations"]
        if row["source"] == ExposureSource.UNLEASH:
            sdk[variant] += row["evaluations"]
        else:
            users[variant][row["minute"]] = row["users"]
    minutes = sorted({minute for per in users.values() for minute in per})
    last = minutes[-1] if minutes else None
    return {
        variant: PathExposure(
            users_last_minute=users[variant].get(last, 0) if last else 0,
            users_per_minute=(sum(users[variant].values()) / len(minutes)) if minutes else 0.0,
            evaluations=evaluations[variant],
            sdk_evaluations=sdk[variant],
        )
        for variant in (ExposureVariant.NEW, ExposureVariant.OLD)
    }


def _floor(moment: dt.datetime) -> dt.datetime:
    return moment.replace(second=0, microsecond=0)
