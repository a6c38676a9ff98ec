"""Reads for incidents, the public status page and the evidence pack."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from migrations_app.incidents import announcements, success
from migrations_app.incidents.models import (
    OPEN_STATUSES,
    Announcement,
    AnnouncementKind,
    AnnouncementStatus,
    Incident,
    IncidentStatus,
    StatusPage,
)
from migrations_app.models import AuditEvent, Contact, Migration, MigrationRole
from migrations_app.monitoring.models import Outcome, Probe, ProbeResult
from migrations_app.rollout.models import OutboxMessage, RollbackHook

TIMELINE_LEAD_IN = dt.timedelta(minutes=5)


def incidents_for(migration: Migration):
    return Incident.objects.filter(migration=migration).select_related("commander").order_by("-opened_at")


def open_incident(migration: Migration) -> Incident | None:
    return Incident.objects.filter(migration=migration, status__in=OPEN_STATUSES).first()


def _duration_text(delta: dt.timedelta | None) -> str:
    if delta is None:
        return "-"
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def durations(incident: Incident) -> dict:
    """Time to detect (problem start to incident), mitigate (to rollback or monitoring), resolve."""
    rollback_at = incident.rollbacks.order_by("at").values_list("at", flat=True).first()
    mitigated = min([at for at in (incident.mitigated_at, rollback_at) if at], default=None)
    detect = incident.opened_at - incident.started_at if incident.started_at else None
    mitigate = mitigated - incident.opened_at if mitigated else None
    resolve = incident.resolved_at - incident.opened_at if incident.resolved_at else None
    return {
        "detect": _duration_text(detect),
        "mitigate": _duration_text(max(mitigate, dt.timedelta(0)) if mitigate is not None else None),
        "resolve": _duration_text(resolve),
        "acknowledge": _duration_text(
            incident.acknowledged_at - incident.opened_at if incident.acknowledged_at else None
        ),
        "seconds": {
            "detect": detect.total_seconds() if detect else None,
            "mitigate": mitigate.total_seconds() if mitigate is not None else None,
            "resolve": resolve.total_seconds() if resolve else None,
        },
    }


AUDIT_LABELS = {
    "traffic.changed": "Traffic changed",
    "rollback.created": "Rolled back",
    "guardrail.state_changed": "Guardrail changed",
    "alert.firing": "Alert firing",
    "alert.resolved": "Alert resolved",
    "incident.notified": "Notified",
    "incident.escalated": "Escalated to leads",
    "incident.acknowledged": "Acknowledged",
    "incident.status_changed": "Status changed",
    "incident.opened": "Incident opened",
    "incident.attached": "Joined the incident",
    "migration.status_changed": "Migration status",
    "incident.postmortem": "Post-mortem saved",
    "incident.updated": "Details changed",
    "announcement.sent": "Announcement sent",
}


def timeline(incident: Incident, *, now: dt.datetime | None = None) -> list[dict]:
    """Everything that happened to the migration while the incident ran, oldest first: audit
    events (traffic, guardrails, rollbacks, notifications, status), probe failures, outbox
    deliveries and the incident's own notes."""

    since = min(incident.started_at or incident.opened_at, incident.opened_at) - TIMELINE_LEAD_IN
    until = incident.resolved_at + TIMELINE_LEAD_IN if incident.resolved_at else (now or timezone.now())
    migration = incident.migration
    entries: list[dict] = []
    for event in AuditEvent.objects.filter(migration=migration, at__gte=since, at__lte=until).order_by("at")[
        :300
    ]:
        if event.action in ("incident.note", "incident.public_update", "incident.status_changed"):
            continue  # the incident's own update rows below say it with the note
        entries.append(
            {
                "at": event.at,
                "kind": "audit",
                "who": event.actor_label,
                "what": AUDIT_LABELS.get(event.action, event.action),
                "detail": _audit_detail(event),
            }
        )
    failures = (
        ProbeResult.objects.filter(migration=migration, checked_at__gte=since, checked_at__lte=until)
        .exclude(outcome=Outcome.PASS)
        .select_related("probe")
        .order_by("checked_at")[:100]
    )
    for result in failures:
        code = f"HTTP {result.status_code}" if result.status_code else (result.error[:80] or result.outcome)
        entries.append(
            {
                "at": result.checked_at,
                "kind": "probe",
                "who": "probe",
                "what": "Probe failed",
                "detail": f"{result.probe.name}: {code} at {result.traffic_percent} %",
            }
        )
    for message in OutboxMessage.objects.filter(
        migration=migration, created_at__gte=since, created_at__lte=until
    )[:100]:
        entries.append(
            {
                "at": message.created_at,
                "kind": "notification",
                "who": "golive",
                "what": f"{message.get_kind_display()} {message.get_status_display().lower()}",
                "detail": f"{message.event_type} to {_short_target(message)}"
                + (f" - {message.last_error[:120]}" if message.last_error else ""),
                "failed": message.status == "failed" or bool(message.last_error),
            }
        )
    for update in incident.updates.all():
        entries.append(
            {
                "at": update.at,
                "kind": "public" if update.public else "note",
                "who": update.by,
                "what": "Public update" if update.public else ("Status" if update.status else "Note"),
                "detail": update.body,
            }
        )
    entries.sort(key=lambda e: e["at"])
    return entries


def _short_target(message) -> str:
    if message.kind == "email":
        return message.target
    if message.target.startswith("telegram:"):
        return "Telegram"
    return urlsplit(message.target).netloc or message.target[:40]


def _short(value):
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, str) and len(value) > 80:
        return value[:79] + "…"
    return value


def _audit_detail(event: AuditEvent) -> str:
    parts = []
    if event.before or event.after:
        keys = list(dict.fromkeys([*(event.before or {}), *(event.after or {})]))
        for key in keys[:4]:
            old, new = _short((event.before or {}).get(key)), _short((event.after or {}).get(key))
            parts.append(f"{key}: {old} → {new}" if old not in (None, "") else f"{key}: {new}")
    if event.reason:
        parts.append(f"“{event.reason[:160]}”")
    return "; ".join(parts) or event.object_repr


def summary(migration: Migration) -> dict:
    """The card on the migration page."""
    return {
        "open": open_incident(migration),
        "count": Incident.objects.filter(migration=migration).count(),
        "proposals": announcements.proposals(migration),
        "drafts": Announcement.objects.filter(migration=migration, status=AnnouncementStatus.DRAFT).count(),
        "scheduled": Announcement.objects.filter(
            migration=migration, status=AnnouncementStatus.SCHEDULED
        ).count(),
        "status_page": StatusPage.objects.filter(migration=migration, enabled=True).exists(),
        # Aggregates over every probe result: cached briefly, the evidence pack computes afresh.
        "criteria": cache.get_or_set(
            f"incidents:criteria:{migration.pk}", lambda: success.criteria(migration), 60
        ),
    }


# --- the public status page -------------------------------------------------------------------


def sensitive_strings(migration: Migration) -> list[str]:
    """Everything of the migration that must never appear publicly: people's names and
    addresses, contacts, probe URLs and hosts, secret references."""

    values: set[str] = set()
    users = get_user_model().objects.filter(
        Q(pk=migration.owner_id) | Q(pk__in=MigrationRole.objects.filter(migration=migration).values("user"))
    )
    for user in users:
        values |= {user.get_username(), user.get_full_name(), user.email, user.first_name, user.last_name}
    for contact in Contact.objects.filter(migrations=migration):
        values |= {contact.name, contact.email, contact.phone}
    for probe in Probe.objects.filter(migration=migration):
        values |= {probe.url, urlsplit(probe.url).hostname or "", probe.secret_env}
        values |= {str(v) for v in (probe.headers or {}).values()}
    for hook in RollbackHook.objects.filter(migration=migration):
        values |= {hook.url, urlsplit(hook.url).hostname or "", hook.secret}
    return sorted((v for v in values if v and len(v.strip()) >= 3), key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """Replace each sensitive string where it stands as a whole word ("Ops" in "stops" stays)."""
    for value in secrets:
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", "[withheld]", text, flags=re.IGNORECASE)
    return text


STATE_WORDS = {
    "operational": "All systems operational",
    "maintenance": "Scheduled maintenance in progress",
    IncidentStatus.INVESTIGATING: "We are investigating a disruption",
    IncidentStatus.IDENTIFIED: "Disruption: the cause is identified and a fix is under way",
    IncidentStatus.MONITORING: "A fix is in place; we are monitoring the results",
}


def status_page(migration: Migration, *, now: dt.datetime | None = None) -> dict:
    """Public facts only, all text scrubbed of the migration's sensitive strings."""
    now = now or timezone.now()
    secrets = sensitive_strings(migration)
    page = StatusPage.objects.filter(migration=migration).first()
    name = page.public_name if page and page.public_name else migration.name
    current = list(Incident.objects.filter(migration=migration, status__in=OPEN_STATUSES))
    # Only sent notices are public. Without an end time a notice stays up 12 h past its start,
    # or a week after sending when it has no times at all.
    maintenance = (
        Announcement.objects.filter(
            migration=migration, kind=AnnouncementKind.MAINTENANCE, status=AnnouncementStatus.SENT
        )
        .filter(
            Q(ends_at__gt=now)
            | Q(ends_at__isnull=True, starts_at__gt=now - dt.timedelta(hours=12))
            | Q(ends_at__isnull=True, starts_at__isnull=True, sent_at__gt=now - dt.timedelta(days=7))
        )
        .order_by("starts_at", "pk")
    )
    in_progress = any(a.starts_at and a.starts_at <= now for a in maintenance)
    state = current[0].status if current else ("maintenance" if in_progress else "operational")
    # The page's owner decides whether past incidents and notices are public too.
    history_since = now - dt.timedelta(days=90) if page is None or page.show_history else now
    resolved = Incident.objects.filter(
        migration=migration, status=IncidentStatus.RESOLVED, resolved_at__gte=history_since
    ).order_by("-resolved_at")[:20]
    sent = Announcement.objects.filter(
        migration=migration, status=AnnouncementStatus.SENT, sent_at__gte=history_since
    ).order_by("-sent_at")[:20]
    return {
        "service": scrub(name, secrets),
        "state": str(state),
        "state_words": STATE_WORDS[state],
        "updated_at": now.isoformat(),
        "updated_text": _when(now),
        "incidents": [_public_incident(i, secrets) for i in current],
        "maintenance": [_public_announcement(a, secrets) for a in maintenance],
        "history": {
            "incidents": [_public_incident(i, secrets) for i in resolved],
            "announcements": [_public_announcement(a, secrets) for a in sent],
        },
    }


def _when(at: dt.datetime | None) -> str:
    return at.astimezone(dt.UTC).strftime("%d %b %Y, %H:%M UTC") if at else ""


def _public_incident(incident: Incident, secrets: list[str]) -> dict:
    return {
        "title": scrub(incident.public_title, secrets),
        "status": incident.status,
        "status_words": incident.get_status_display(),
        "started_at": incident.opened_at.isoformat(),
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "when": _when(incident.opened_at)
        + (f" to {_when(incident.resolved_at)}" if incident.resolved_at else ""),
        "updates": [
            {"at": u.at.isoformat(), "when": _when(u.at), "status": u.status, "text": scrub(u.body, secrets)}
            for u in incident.updates.filter(public=True).order_by("-at", "-id")
        ],
    }


def _public_announcement(announcement: Announcement, secrets: list[str]) -> dict:
    return {
        "kind": announcement.kind,
        "subject": scrub(announcement.subject, secrets),
        "text": scrub(announcement.body, secrets),
        "starts_at": announcement.starts_at.isoformat() if announcement.starts_at else None,
        "ends_at": announcement.ends_at.isoformat() if announcement.ends_at else None,
        "sent_at": announcement.sent_at.isoformat() if announcement.sent_at else None,
        "when": _when(announcement.sent_at),
    }
