"""The reference plans' success criteria, computed from the migration's own data.

Traffic-dependent numbers (success rate, response time, uptime, error rate) count only what was
measured while some traffic was on the new path. Each criterion answers met, not met or no data."""

from __future__ import annotations

import datetime as dt

import numpy
from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone

from migrations_app.incidents.models import Incident
from migrations_app.models import Migration
from migrations_app.monitoring.kpis import Percentile
from migrations_app.monitoring.models import Outcome, ProbeKind, ProbeResult, Sample
from migrations_app.rollout.models import Rollback

TARGETS = {
    "success_rate": 99.5,  # % of checks and requests that succeeded
    "response_time_ms": 2000.0,  # p95
    "uptime": 99.9,  # % of health checks answered
    "error_rate": 1.0,  # % failed or errored
    "recovery_minutes": 5.0,  # rollback to resolved or traffic restored
    "alert_response_minutes": 15.0,  # incident opened to acknowledged
    "resolution_hours": 4.0,  # incident opened to resolved
}
MET, NOT_MET, NO_DATA = "met", "not_met", "no_data"


def _row(
    key: str, label: str, target: str, value: float | None, text: str, met: bool | None, detail=""
) -> dict:
    state = NO_DATA if value is None else (MET if met else NOT_MET)
    return {
        "key": key,
        "label": label,
        "target": target,
        "value": value,
        "text": text if value is not None else "no data",
        "state": state,
        "detail": detail,
    }


def _probe_counts(migration: Migration) -> dict:

    results = ProbeResult.objects.filter(migration=migration, traffic_percent__gt=0)
    probe = results.aggregate(
        passed=Count("id", filter=Q(outcome=Outcome.PASS)),
        failed=Count("id", filter=Q(outcome=Outcome.FAIL)),
        errors=Count("id", filter=Q(outcome=Outcome.ERROR)),
    )
    health = results.filter(probe__kind=ProbeKind.HTTP_HEALTH)
    if not health.exists():
        health = results
    up = health.aggregate(total=Count("id"), passed=Count("id", filter=Q(outcome=Outcome.PASS)))
    pushed = Sample.objects.filter(migration=migration, traffic_percent__gt=0, ok__isnull=False).aggregate(
        ok=Sum("ok"), failed=Sum("failed")
    )
    answered = results.exclude(outcome=Outcome.ERROR)
    if connection.vendor == "postgresql":
        latency = answered.aggregate(p95=Percentile("latency_ms", 0.95))["p95"]
    else:
        latency = _p95_in_python(
            answered.filter(latency_ms__isnull=False).values_list("latency_ms", flat=True)
        )
    return {
        **probe,
        "up": up,
        "ok": pushed["ok"] or 0,
        "pushed_failed": pushed["failed"] or 0,
        "p95": latency,
    }


def _p95_in_python(latencies) -> float | None:
    """SQLite has no percentile_cont: numpy's default "linear" method is the same interpolation,
    so `make run` shows the p95 PostgreSQL would (it showed the mean before)."""
    values = list(latencies)
    return float(numpy.percentile(values, 95)) if values else None


def _minutes(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 60


def criteria(migration: Migration, *, now: dt.datetime | None = None) -> list[dict]:
    now = now or timezone.now()
    c = _probe_counts(migration)
    good = c["passed"] + c["ok"]
    judged = good + c["failed"] + c["pushed_failed"]
    everything = judged + c["errors"]
    rows = []
    rate = 100.0 * good / judged if judged else None
    rows.append(
        _row(
            "success_rate",
            "Success rate",
            f"≥ {TARGETS['success_rate']:g} %",
            rate,
            f"{rate:.2f} %" if rate is not None else "",
            rate is not None and rate >= TARGETS["success_rate"],
            f"{good} of {judged} checks and requests",
        )
    )
    p95 = c["p95"]
    rows.append(
        _row(
            "response_time",
            "Response time (p95)",
            f"< {TARGETS['response_time_ms']:g} ms",
            p95,
            f"{p95:.0f} ms" if p95 is not None else "",
            p95 is not None and p95 < TARGETS["response_time_ms"],
        )
    )
    up = c["up"]
    uptime = 100.0 * up["passed"] / up["total"] if up["total"] else None
    rows.append(
        _row(
            "uptime",
            "Uptime",
            f"≥ {TARGETS['uptime']:g} %",
            uptime,
            f"{uptime:.2f} %" if uptime is not None else "",
            uptime is not None and uptime >= TARGETS["uptime"],
            f"{up['passed']} of {up['total']} health checks",
        )
    )
    errors = c["failed"] + c["errors"] + c["pushed_failed"]
    error_rate = 100.0 * errors / everything if everything else None
    rows.append(
        _row(
            "error_rate",
            "Error rate",
            f"< {TARGETS['error_rate']:g} %",
            error_rate,
            f"{error_rate:.2f} %" if error_rate is not None else "",
            error_rate is not None and error_rate < TARGETS["error_rate"],
            f"{errors} of {everything}",
        )
    )
    rows += _incident_rows(migration, now=now)
    return rows


def _worst(values: list[float]) -> float | None:
    return max(values) if values else None


def _incident_rows(migration: Migration, *, now: dt.datetime) -> list[dict]:

    recoveries = []
    for rollback in Rollback.objects.filter(migration=migration).select_related("incident"):
        ends = [at for at in (rollback.resumed_at, rollback.incident and rollback.incident.resolved_at) if at]
        recoveries.append(_minutes((min(ends) if ends else now) - rollback.at))
    incidents = list(Incident.objects.filter(migration=migration))
    responses, resolutions = [], []
    for incident in incidents:
        if incident.pages or incident.acknowledged_at:
            responses.append(_minutes((incident.acknowledged_at or now) - incident.opened_at))
        resolutions.append(_minutes((incident.resolved_at or now) - incident.opened_at) / 60)
    recovery, response, resolution = _worst(recoveries), _worst(responses), _worst(resolutions)
    open_count = sum(1 for i in incidents if i.is_open)
    still_open = f", {open_count} still open" if open_count else ""
    return [
        _row(
            "recovery",
            "Recovery time",
            f"< {TARGETS['recovery_minutes']:g} min",
            recovery,
            f"{recovery:.1f} min (worst of {len(recoveries)})" if recovery is not None else "",
            recovery is not None and recovery < TARGETS["recovery_minutes"],
            "rollback to resolved or traffic restored",
        ),
        _row(
            "alert_response",
            "Alert response",
            f"< {TARGETS['alert_response_minutes']:g} min",
            response,
            f"{response:.1f} min (worst of {len(responses)})" if response is not None else "",
            response is not None and response < TARGETS["alert_response_minutes"],
            "incident opened to acknowledged",
        ),
        _row(
            "resolution",
            "Incident resolution",
            f"< {TARGETS['resolution_hours']:g} h",
            resolution,
            f"{resolution:.2f} h (worst of {len(resolutions)}{still_open})" if resolution is not None else "",
            resolution is not None and resolution < TARGETS["resolution_hours"],
            "incident opened to resolved",
        ),
    ]
