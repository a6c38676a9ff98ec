"""Reads for traffic: the panel's context and the flag snapshot the evaluation endpoints use."""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from migrations_app import access
from migrations_app.models import Migration, MigrationStatus
from migrations_app.rollout import freezes, gates, zones
from migrations_app.rollout.models import (
    ClientInstance,
    OutboxMessage,
    Rollback,
    RollbackStep,
    RolloutPlan,
    ScheduledStep,
    ScheduledStepState,
    TrafficChange,
)
from migrations_app.rollout.refresh import RefreshState

SNAPSHOT_SECONDS = 0.25  # a change reaches every process well within a second
# Statuses in which applications may send users down the new path.
LIVE_STATUSES = {MigrationStatus.ROLLING_OUT, MigrationStatus.MONITORING, MigrationStatus.COMPLETED}


def plan_for(migration: Migration) -> RolloutPlan:
    plan = RolloutPlan.objects.filter(migration=migration).first()
    return plan or RolloutPlan(migration=migration)


def current_percent(migration: Migration) -> int:
    """The share of users on the new path now (0 when there is no plan or traffic is off)."""
    row = Migration.objects.filter(pk=migration.pk).values_list("status", "rollout_plan__percent").first()
    return effective_percent(*row) if row else 0


def active_rollback(migration: Migration) -> Rollback | None:
    return Rollback.objects.filter(migration=migration, resumed_at__isnull=True).first()


@dataclass(frozen=True)
class FlagState:
    key: str
    name: str
    percent: int
    status: str

    @property
    def enabled(self) -> bool:
        return self.percent > 0


@dataclass(frozen=True)
class FlagSnapshot:
    flags: dict[str, FlagState]
    version: str  # a hash of the content: same flags, same version, in every process

    def get(self, key: str) -> FlagState | None:
        return self.flags.get(key)


def effective_percent(status: str, percent: int | None) -> int:
    # Paused keeps its level (users already admitted stay on the new path); anything not rolling
    # out, a rollback included, is 0 whatever the plan row says.
    if status in LIVE_STATUSES or status == MigrationStatus.PAUSED:
        return percent or 0
    return 0


def build_snapshot() -> FlagSnapshot:
    """Every migration's flag state in ONE query."""
    rows = Migration.objects.exclude(status=MigrationStatus.ABORTED).values_list(
        "slug", "name", "status", "rollout_plan__percent"
    )
    flags = {
        slug: FlagState(key=slug, name=name, percent=effective_percent(status, percent), status=status)
        for slug, name, status, percent in rows
    }
    digest = hashlib.sha256(
        "|".join(
            f"{f.key}:{f.percent}:{f.status}" for f in sorted(flags.values(), key=lambda f: f.key)
        ).encode()
    ).hexdigest()[:16]
    return FlagSnapshot(flags=flags, version=digest)


class _SnapshotCache:
    """The snapshot, rebuilt when older than SNAPSHOT_SECONDS: no query per request in steady state,
    and any change (a rollback included) reaches every process within a second, Redis or not.
    While the database is unreachable it keeps answering from the last good snapshot (refresh.py)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._snapshot: FlagSnapshot | None = None
        self._built_at = -1e9
        self.refresh = RefreshState("flag snapshot")

    def get(self) -> FlagSnapshot:
        now = time.monotonic()
        if self._snapshot is None or now - self._built_at > SNAPSHOT_SECONDS:
            with self._lock:
                if self._snapshot is None or now - self._built_at > SNAPSHOT_SECONDS:
                    self._rebuild(now)
        snapshot = self._snapshot
        assert snapshot is not None  # _rebuild always sets it
        return snapshot

    def _rebuild(self, now: float) -> None:
        if self._snapshot is not None and not self.refresh.may_retry(now):
            return
        try:
            self._snapshot = build_snapshot()
        except DatabaseError as error:
            self.refresh.failed(error, now)
            if self._snapshot is None:
                raise  # nothing good to fall back on: the caller answers 503
            return
        self._built_at = time.monotonic()
        self.refresh.succeeded(self._built_at)

    def invalidate(self) -> None:
        """Rebuild on the next read (after a traffic change), keeping the copy for an outage."""
        self._built_at = -1e9

    def clear(self) -> None:
        with self._lock:
            self._snapshot, self._built_at = None, -1e9


snapshot_cache = _SnapshotCache()


def flag_snapshot() -> FlagSnapshot:
    return snapshot_cache.get()


def connected_instances(*, within_hours: int = 24):
    since = timezone.now() - dt.timedelta(hours=within_hours)
    return ClientInstance.objects.filter(last_fetch_at__gte=since).order_by("-last_fetch_at")[:20]


def panel_version(migration: Migration) -> str:
    """Changes whenever anything the traffic panel shows changes (status, level, history,
    playbook ticks, deliveries), so an open page can ask "anything new?" cheaply."""
    state = Migration.objects.filter(pk=migration.pk).values_list(
        "status", "rollout_plan__percent", "rollout_plan__updated_at"
    )
    parts = [
        list(state),
        TrafficChange.objects.filter(migration=migration).values_list("id", flat=True).first(),
        list(OutboxMessage.objects.filter(migration=migration).values_list("status", "attempts")[:10]),
        RollbackStep.objects.filter(rollback__migration=migration, done_at__isnull=False).count(),
        list(ScheduledStep.objects.filter(migration=migration).values_list("id", "state")),
        # a freeze that starts or ends changes what the panel says
        str(freezes.active_freeze(migration, timezone.now())),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def traffic_panel(migration: Migration, user) -> dict:
    """Everything the traffic panel shows, for this user."""
    plan = plan_for(migration)
    rollback = active_rollback(migration)
    target = plan.next_step()
    blocker = gates.advance_blocker(migration, plan, to=target) if target is not None else None
    return {
        "plan": plan,
        "percent": effective_percent(migration.status, plan.percent),
        "next_step": target,
        "next_step_at": plan.next_step_at(),
        "advance_blocker": blocker,
        "lower_steps": [step for step in [0, *plan.steps] if step < plan.percent],
        "history": TrafficChange.objects.filter(migration=migration)[:10],
        "rollback": rollback,
        "rollback_steps": list(rollback.steps.all()) if rollback else [],
        "last_rollback": rollback or Rollback.objects.filter(migration=migration).first(),
        "rollback_blocker": gates.rollback_blocker(migration),
        "deliveries": OutboxMessage.objects.filter(migration=migration)[:10],
        "instances": connected_instances(),
        "hooks": migration.rollback_hooks.filter(active=True),
        "can_change_traffic": access.can(user, "change_traffic"),
        # Only where an override can pass: never before "ready" or past the last step.
        "can_override": access.can(user, "override_gate")
        and target is not None
        and gates.hard_blocker(migration, plan, to=target) is None,
        "can_rollback": access.can(user, "rollback"),
        "is_paused": migration.status == MigrationStatus.PAUSED,
        "is_rolled_back": migration.status == MigrationStatus.ROLLED_BACK,
        "version": panel_version(migration),
        **freeze_and_schedule(migration),
    }


def freeze_and_schedule(migration: Migration, *, now: dt.datetime | None = None) -> dict:
    """The freeze holding the migration now, the windows of the coming week and its scheduled
    steps (those to come, and the last few that ran or were skipped, with why)."""
    now = now or timezone.now()
    steps = ScheduledStep.objects.filter(migration=migration)
    return {
        "freeze": freezes.active_freeze(migration, now),
        "coming_freezes": [
            w for w in freezes.upcoming_windows(migration, start=now, days=7) if not w.contains(now)
        ][:5],
        "scheduled_steps": list(steps.filter(state=ScheduledStepState.SCHEDULED)),
        "past_steps": list(steps.exclude(state=ScheduledStepState.SCHEDULED).order_by("-done_at", "-id")[:3]),
        "schedule_zones": zones.COMMON_ZONES,
        "default_zone": settings.TIME_ZONE,
    }
