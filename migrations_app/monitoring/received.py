"""Received alerts as guardrail evidence: the fingerprint Alertmanager gives a label set, which
labels name a migration and its path, and which firing alerts an alert guardrail matches.

No writes: the intake (services/intake.py), the evaluation, the preview and the pages read these."""

from __future__ import annotations

from migrations_app.monitoring.models import AlertStatus, Guardrail, ReceivedAlert

MIGRATION_LABEL = "golive_migration"
PATH_LABEL = "golive_path"

# FNV-1a, 64 bits, as Prometheus' common/model hashes a label set (labelSetToFingerprint).
_FNV_OFFSET, _FNV_PRIME, _SEPARATOR = 14695981039346656037, 1099511628211, 0xFF


def fingerprint(labels: dict[str, str]) -> str:
    """The fingerprint Alertmanager computes for these labels: sorted names, each name and value
    followed by the 0xff separator, hashed with FNV-1a 64 and written as 16 hex digits."""
    value = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in (*part.encode(), _SEPARATOR):
                value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def matches(labels: dict, matchers: dict) -> bool:
    """Every matcher label is on the alert with exactly that value (Alertmanager's `=`)."""
    return all(labels.get(name) == value for name, value in matchers.items())


def firing_for(guardrail: Guardrail) -> list[ReceivedAlert]:
    """The migration's firing alerts that carry all of the guardrail's matcher labels, oldest
    first. Matched in Python: JSON containment is PostgreSQL's only, and a migration has few
    alerts firing at once."""
    firing = ReceivedAlert.objects.filter(migration_id=guardrail.migration_id, status=AlertStatus.FIRING)
    return [
        alert
        for alert in firing.order_by("changed_at", "id")
        if matches(alert.labels, guardrail.matchers or {})
    ]


def describe(alert: ReceivedAlert) -> str:
    """One line an on-call can act on: which alert, since when, what it says; then where from."""
    name = alert.name or "alert"
    origin = f" ({alert.get_source_display()}, fingerprint {alert.fingerprint})"
    if alert.status == AlertStatus.RESOLVED:
        return f"Alert “{name}” resolved{origin}"
    since = f" since {alert.starts_at:%H:%M:%S} UTC" if alert.starts_at else ""
    summary = f": {alert.summary}" if alert.summary else ""
    return f"Alert “{name}” firing{since}{summary}{origin}"


def as_evidence(alert: ReceivedAlert) -> dict:
    return {
        "fingerprint": alert.fingerprint,
        "name": alert.name,
        "source": alert.source,
        "status": alert.status,
        "labels": alert.labels,
        "annotations": alert.annotations,
        "starts_at": alert.starts_at.isoformat() if alert.starts_at else None,
        "url": alert.url,
    }


def recent_for(migration, *, limit: int = 10) -> list[dict]:
    """The control room's "Alerts received" list: firing first, then the latest, with one line of
    labels (without the golive_* routing labels, which every one of them carries)."""
    rows = ReceivedAlert.objects.filter(migration=migration).order_by("status", "-last_received_at", "-id")
    return [
        {
            "alert": alert,
            "css": "breached" if alert.status == AlertStatus.FIRING else "healthy",
            "labels": ", ".join(
                f"{name}={value}"
                for name, value in sorted(alert.labels.items())
                if name not in (MIGRATION_LABEL, PATH_LABEL, "alertname")
            ),
        }
        for alert in rows[:limit]
    ]
