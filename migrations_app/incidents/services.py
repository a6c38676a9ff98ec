"""Writes for incidents. Kept small on purpose: the incident-management issue grows it."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.incidents.models import Incident, IncidentStatus, Severity
from migrations_app.models import Migration

_SEVERITY_ORDER = [Severity.SEV1, Severity.SEV2, Severity.SEV3, Severity.SEV4]


def _jsonable(value):
    import json

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


@transaction.atomic
def open_or_attach_incident(
    migration: Migration,
    *,
    by: Actor,
    title: str,
    severity: str = Severity.SEV2,
    evidence: dict | None = None,
) -> Incident:
    """The migration's open incident with this event attached, or a new one.

    1. Lock the open incident (if any), so two rollbacks racing attach to the same one.
    2. Attach: append the evidence and raise the severity if this event is worse.
    3. Otherwise open a new incident. Both paths write an audit event.
    """
    entry = {"at": timezone.now(), "by": by.label, "title": title, "evidence": evidence or {}}
    incident = (
        Incident.objects.select_for_update().filter(migration=migration, status=IncidentStatus.OPEN).first()
    )
    if incident is not None:
        incident.evidence = [*incident.evidence, _jsonable(entry)]
        before = incident.severity
        if _SEVERITY_ORDER.index(severity) < _SEVERITY_ORDER.index(incident.severity):
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
        return incident
    incident = Incident.objects.create(
        migration=migration,
        title=title[:200],
        severity=severity,
        opened_by=by.label,
        evidence=[_jsonable(entry)],
    )
    audit.record(
        by, "incident.opened", incident, migration=migration, after={"title": title, "severity": severity}
    )
    return incident
