"""Writes for incidents: open, acknowledge, move through the statuses, notes, post-mortem."""

from __future__ import annotations

import datetime as dt
import json

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.incidents import escalation
from migrations_app.incidents.models import (
    OPEN_STATUSES,
    SEVERITY_ORDER,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    Severity,
)
from migrations_app.models import AuditEvent, Migration
from migrations_app.monitoring.models import Guardrail, GuardrailAction, ProbeResult, Sample

SNAPSHOT_WINDOW = dt.timedelta(hours=1)
SNAPSHOT_MAX_ROWS = 5000


def _jsonable(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def evidence_snapshot(migration: Migration, *, now: dt.datetime) -> dict:
    """The last hour of probe results, KPI samples and guardrail states, as JSON."""

    since = now - SNAPSHOT_WINDOW
    results = list(
        ProbeResult.objects.filter(migration=migration, checked_at__gt=since, checked_at__lte=now)
        .order_by("checked_at")
        .values(
            "probe_id",
            "probe__name",
            "checked_at",
            "outcome",
            "status_code",
            "latency_ms",
            "value",
            "error",
            "traffic_percent",
        )[:SNAPSHOT_MAX_ROWS]
    )
    samples = list(
        Sample.objects.filter(migration=migration, at__gt=since, at__lte=now)
        .order_by("at")
        .values("metric", "at", "value", "ok", "failed", "traffic_percent")[:SNAPSHOT_MAX_ROWS]
    )
    guardrails = list(
        Guardrail.objects.filter(migration=migration).values("name", "state", "last_value", "last_message")
    )
    return _jsonable(
        {
            "taken_at": now,
            "since": since,
            "probe_results": [{**r, "probe": r.pop("probe__name")} for r in map(dict, results)],
            "samples": samples,
            "guardrails": guardrails,
        }
    )


def problem_started_at(snapshot: dict) -> str | None:
    """The start of the oldest failure streak still running when the snapshot was taken."""
    streak_start: dict[int, str | None] = {}
    for row in snapshot.get("probe_results", []):
        if row["outcome"] == "pass":
            streak_start[row["probe_id"]] = None
        elif streak_start.get(row["probe_id"]) is None:
            streak_start[row["probe_id"]] = row["checked_at"]
    running = [at for at in streak_start.values() if at]
    return min(running) if running else None


def _worse(severity: str, than: str) -> bool:
    return SEVERITY_ORDER.index(severity) < SEVERITY_ORDER.index(than)


@transaction.atomic
def open_or_attach_incident(
    migration: Migration,
    *,
    by: Actor,
    title: str,
    severity: str = Severity.SEV2,
    evidence: dict | None = None,
    now: dt.datetime | None = None,
) -> Incident:
    """The migration's unresolved incident with this event attached, or a new one.

    1. Lock the unresolved incident (if any), so two rollbacks racing attach to the same one.
    2. Attach: append the evidence and raise the severity if this event is worse.
    3. Otherwise open a new incident with an evidence snapshot (last hour of probe results and
       KPI samples). Both paths write an audit event; SEV1/SEV2 page the on-call.
    """
    now = now or timezone.now()
    entry = _jsonable({"at": now, "by": by.label, "title": title, "evidence": evidence or {}})
    incident = (
        Incident.objects.select_for_update()
        .filter(migration=migration, status__in=OPEN_STATUSES)
        .select_related("migration")
        .first()
    )
    if incident is not None:
        incident.evidence = [*incident.evidence, entry]
        before = incident.severity
        if _worse(severity, incident.severity):
            incident.severity = severity
        incident.save(update_fields=["evidence", "severity"])
        audit.record(
            by,
            "incident.attached",
            incident,
            migration=migration,
            before={"severity": before},
            after={"severity": incident.severity, "title": title},
        )
        escalation.page_after_commit(incident)  # no-op unless it just became SEV1/SEV2
        return incident
    snapshot = evidence_snapshot(migration, now=now)
    started = problem_started_at(snapshot)
    incident = Incident.objects.create(
        migration=migration,
        title=title[:200],
        severity=severity,
        opened_by=by.label,
        evidence=[entry],
        snapshot=snapshot,
        started_at=dt.datetime.fromisoformat(started.replace("Z", "+00:00")) if started else None,
    )
    audit.record(
        by, "incident.opened", incident, migration=migration, after={"title": title, "severity": severity}
    )
    escalation.page_after_commit(incident)
    return incident


def _locked(incident: Incident) -> Incident:
    return Incident.objects.select_for_update().select_related("migration").get(pk=incident.pk)


def _note(incident: Incident, *, by: Actor, body: str, now: dt.datetime, status: str = "", public=False):
    return IncidentUpdate.objects.create(
        incident=incident, at=now, by=by.label, body=body, status=status, public=public
    )


@transaction.atomic
def open_incident(
    migration: Migration, *, by: Actor, title: str, severity: str, public_title: str = ""
) -> Incident:
    """Opened by hand. If one is already open the event joins it (and says so on its timeline)."""
    title = title.strip()
    if not title:
        raise ValidationError({"title": "Give the incident a short title: what is wrong?"})
    if severity not in Severity.values:
        raise ValidationError({"severity": "Choose a severity from SEV1 to SEV4."})
    incident = open_or_attach_incident(
        migration, by=by, title=title, severity=severity, evidence={"manual": True}
    )
    if public_title.strip() and incident.public_title != public_title.strip():
        Incident.objects.filter(pk=incident.pk).update(public_title=public_title.strip()[:200])
        incident.public_title = public_title.strip()[:200]
    return incident


@transaction.atomic
def acknowledge(incident: Incident, *, by: Actor, now: dt.datetime | None = None) -> Incident:
    """Someone is on it: stops the escalation. Repeating is a no-op (first acknowledger is kept)."""
    now = now or timezone.now()
    incident = _locked(incident)
    if incident.acknowledged_at is not None:
        incident.already = True
        return incident
    incident.acknowledged_at, incident.acknowledged_by = now, by.label
    incident.escalate_at = None
    if incident.commander is None and by.user is not None:
        incident.commander = by.user
    incident.save(update_fields=["acknowledged_at", "acknowledged_by", "escalate_at", "commander"])
    audit.record(by, "incident.acknowledged", incident, migration=incident.migration, after={"by": by.label})
    incident.already = False
    return incident


NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    IncidentStatus.INVESTIGATING: (
        IncidentStatus.IDENTIFIED,
        IncidentStatus.MONITORING,
        IncidentStatus.RESOLVED,
    ),
    IncidentStatus.IDENTIFIED: (
        IncidentStatus.INVESTIGATING,
        IncidentStatus.MONITORING,
        IncidentStatus.RESOLVED,
    ),
    IncidentStatus.MONITORING: (
        IncidentStatus.INVESTIGATING,
        IncidentStatus.IDENTIFIED,
        IncidentStatus.RESOLVED,
    ),
    IncidentStatus.RESOLVED: (),
}


@transaction.atomic
def change_status(
    incident: Incident,
    *,
    to: str,
    by: Actor,
    note: str = "",
    public_update: str = "",
    now: dt.datetime | None = None,
) -> Incident:
    """Move the incident on. The caller states the target, so a double click changes nothing.
    Moving to monitoring marks it mitigated; resolving stamps the resolution time. Whoever moves
    an unacknowledged incident acknowledges it."""
    now = now or timezone.now()
    incident = _locked(incident)
    if incident.status == to:
        return incident
    if to not in NEXT_STATUSES.get(incident.status, ()):
        raise ValidationError(
            {"status": f"A {incident.get_status_display().lower()} incident cannot move to {to!s}."}
        )
    before = incident.status
    incident.status = to
    fields = ["status"]
    if to in (IncidentStatus.MONITORING, IncidentStatus.RESOLVED) and incident.mitigated_at is None:
        incident.mitigated_at = now
        fields.append("mitigated_at")
    if to == IncidentStatus.RESOLVED:
        incident.resolved_at, incident.escalate_at = now, None
        fields += ["resolved_at", "escalate_at"]
    if incident.acknowledged_at is None:
        incident.acknowledged_at, incident.acknowledged_by, incident.escalate_at = now, by.label, None
        fields += ["acknowledged_at", "acknowledged_by", "escalate_at"]
    incident.save(update_fields=list(dict.fromkeys(fields)))
    _note(
        incident, by=by, body=note.strip() or f"Status: {incident.get_status_display()}", now=now, status=to
    )
    if public_update.strip():
        _note(incident, by=by, body=public_update.strip(), now=now, status=to, public=True)
    audit.record(
        by,
        "incident.status_changed",
        incident,
        migration=incident.migration,
        before={"status": before},
        after={"status": to},
        reason=note.strip(),
    )
    return incident


@transaction.atomic
def add_note(
    incident: Incident, *, by: Actor, body: str, public: bool = False, now: dt.datetime | None = None
) -> IncidentUpdate:
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write the note first."})
    incident = _locked(incident)
    update = _note(incident, by=by, body=body[:5000], now=now or timezone.now(), public=public)
    audit.record(
        by,
        "incident.public_update" if public else "incident.note",
        incident,
        migration=incident.migration,
        after={"note": body[:500]},
    )
    return update


@transaction.atomic
def update_details(
    incident: Incident,
    *,
    by: Actor,
    severity: str,
    commander,
    public_title: str,
    now: dt.datetime | None = None,
) -> Incident:
    """Severity, commander and the public title. Raising to SEV1/SEV2 pages the on-call."""
    if severity not in Severity.values:
        raise ValidationError({"severity": "Choose a severity from SEV1 to SEV4."})
    public_title = public_title.strip()[:200]
    if not public_title:
        raise ValidationError({"public_title": "The status page needs a title, e.g. Payments are slow."})
    incident = _locked(incident)
    before = audit.snapshot(incident, ["severity", "commander", "public_title"])
    incident.severity, incident.commander, incident.public_title = severity, commander, public_title
    after = audit.snapshot(incident, ["severity", "commander", "public_title"])
    if before == after:
        return incident
    incident.save(update_fields=["severity", "commander", "public_title"])
    before, after = audit.changed(before, after)
    audit.record(by, "incident.updated", incident, migration=incident.migration, before=before, after=after)
    if incident.is_open:
        escalation.page_after_commit(incident)
    return incident


@transaction.atomic
def save_postmortem(
    incident: Incident, *, by: Actor, summary: str, root_cause: str, actions: str
) -> Incident:
    incident = _locked(incident)
    fields = ["postmortem_summary", "postmortem_root_cause", "postmortem_actions"]
    before = audit.snapshot(incident, fields)
    incident.postmortem_summary = summary.strip()
    incident.postmortem_root_cause = root_cause.strip()
    incident.postmortem_actions = actions.strip()
    after = audit.snapshot(incident, fields)
    if before == after:
        return incident
    incident.save(update_fields=fields)
    before, after = audit.changed(before, after)
    audit.record(
        by, "incident.postmortem", incident, migration=incident.migration, before=before, after=after
    )
    return incident


def open_for_fired_guardrails() -> int:
    """The beat's sweep: an alert-only or pausing guardrail that fired opens (or joins) a SEV3
    incident, once per firing. Roll-back guardrails need no sweep: their rollback opens the incident."""

    opened = 0
    fired = Guardrail.objects.filter(
        enabled=True, fired=True, action__in=[GuardrailAction.ALERT, GuardrailAction.PAUSE]
    ).values_list("pk", flat=True)
    for pk in list(fired):
        opened += _open_for_guardrail(pk)
    return opened


def _has_evidence_key(migration: Migration, key: str) -> bool:
    """Whether an incident of the migration holds an evidence entry with this key. Read in Python:
    JSON containment (`evidence__contains`) exists on PostgreSQL only, and `make run` uses SQLite;
    a migration has a handful of incidents."""
    recent = Incident.objects.filter(migration=migration)
    return any(
        isinstance(entry, dict) and (entry.get("evidence") or {}).get("key") == key
        for evidence in recent.values_list("evidence", flat=True)
        for entry in evidence or []
    )


@transaction.atomic
def _open_for_guardrail(pk: int) -> int:

    guardrail = (
        Guardrail.objects.select_for_update().select_related("migration").filter(pk=pk, fired=True).first()
    )
    if guardrail is None:
        return 0
    firing = (
        AuditEvent.objects.filter(
            action="guardrail.state_changed", object_id=str(pk), after__state="breached"
        )
        .order_by("-at", "-id")
        .first()
    )
    key = f"guardrail:{pk}:{firing.pk if firing else 'unknown'}"
    if _has_evidence_key(guardrail.migration, key):
        return 0  # this firing already has its incident
    open_or_attach_incident(
        guardrail.migration,
        by=Actor.system(f"guardrail: {guardrail.name}"),
        title=f"Guardrail {guardrail.name} breached",
        severity=Severity.SEV3,
        evidence={
            "key": key,
            "guardrail": guardrail.name,
            "value": guardrail.last_value,
            "message": guardrail.last_message,
        },
    )
    return 1
