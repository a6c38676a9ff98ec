"""Incidents through /api/v1 (`operate` scope): open, read, acknowledge, status, severity,
commander, notes, resolve and the post-mortem, with the rights and services of the incident page."""

import datetime as dt

from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from migrations_app import access
from migrations_app.api_kit import (
    PAGE_QUERY,
    TEXT_PATTERN,
    TokenAuth,
    actor,
    answers,
    only_query,
    person,
    refusals,
    within_rows,
)
from migrations_app.incidents import services
from migrations_app.incidents.models import OPEN_STATUSES, Incident, IncidentStatus, IncidentUpdate, Severity

router = Router(auth=TokenAuth(scope="operate"), tags=["incidents"])


class NoteOut(Schema):
    id: int
    at: dt.datetime
    by: str
    body: str
    status: str
    public: bool


class IncidentOut(Schema):
    id: int
    migration: str
    title: str
    public_title: str
    severity: Severity
    status: IncidentStatus
    commander: str | None = Field(description="User name of the incident commander, or null.")
    opened_at: dt.datetime
    opened_by: str
    acknowledged_at: dt.datetime | None
    acknowledged_by: str
    mitigated_at: dt.datetime | None
    resolved_at: dt.datetime | None
    postmortem_summary: str
    postmortem_root_cause: str
    postmortem_actions: str

    @staticmethod
    def resolve_migration(incident):
        return incident.migration.slug

    @staticmethod
    def resolve_commander(incident):
        return incident.commander.get_username() if incident.commander else None


class IncidentDetailOut(IncidentOut):
    notes: list[NoteOut]

    @staticmethod
    def resolve_notes(incident):
        return list(incident.updates.order_by("at", "id"))


class IncidentFilters(Schema):
    open: bool | None = Field(None, description="true: unresolved only; false: resolved only.")


class IncidentIn(Schema):
    title: str = Field(min_length=1, max_length=200, pattern=TEXT_PATTERN)
    severity: Severity = Severity.SEV2
    public_title: str = Field("", max_length=200, pattern=TEXT_PATTERN)


class IncidentPatch(Schema):
    status: IncidentStatus | None = None
    severity: Severity | None = None
    commander: str | None = Field(
        None, max_length=150, pattern=TEXT_PATTERN, description="User name; null clears it."
    )
    public_title: str | None = Field(None, min_length=1, max_length=200, pattern=TEXT_PATTERN)
    note: str = Field("", max_length=5000, pattern=TEXT_PATTERN, description="With a status change.")
    public_update: str = Field(
        "", max_length=5000, pattern=TEXT_PATTERN, description="Shown on the status page."
    )


class ResolveIn(Schema):
    note: str = Field("", max_length=5000, pattern=TEXT_PATTERN)
    public_update: str = Field("", max_length=5000, pattern=TEXT_PATTERN)


class NoteIn(Schema):
    body: str = Field(min_length=1, max_length=5000, pattern=TEXT_PATTERN)
    public: bool = Field(False, description="Also shown on the public status page.")


class PostmortemIn(Schema):
    summary: str = Field("", max_length=20000, pattern=TEXT_PATTERN)
    root_cause: str = Field("", max_length=20000, pattern=TEXT_PATTERN)
    actions: str = Field("", max_length=20000, pattern=TEXT_PATTERN)


class AcknowledgeOut(Schema):
    already_acknowledged: bool
    message: str
    incident: IncidentOut


def _incidents():
    return Incident.objects.select_related("migration", "commander")


def _incident(request, incident_id: int, action: str = "view") -> Incident:
    access.require(request.auth.user, "view")
    incident = get_object_or_404(_incidents(), pk=incident_id)
    access.require(request.auth.user, action)
    return incident


def _fresh(incident: Incident) -> Incident:
    return _incidents().get(pk=incident.pk)


@router.get(
    "/migrations/{slug}/incidents",
    response=answers({200: list[IncidentOut]}, 400, 401, 403, 404),
    summary="List a migration's incidents, newest first",
)
@paginate(LimitOffsetPagination)
def list_incidents(request, slug: str, filters: Query[IncidentFilters]):
    only_query(request, *PAGE_QUERY, *IncidentFilters.model_fields)
    migration = access.get_migration_for_user(request.auth.user, slug)
    incidents = _incidents().filter(migration=migration).order_by("-opened_at", "-id")
    if filters.open is not None:
        incidents = (
            incidents.filter(status__in=OPEN_STATUSES)
            if filters.open
            else incidents.exclude(status__in=OPEN_STATUSES)
        )
    return within_rows(request, incidents)


@router.post(
    "/migrations/{slug}/incidents",
    response=answers({201: IncidentDetailOut}, 400, 401, 403, 404),
    summary="Open an incident (joins the unresolved one if there is one)",
)
def open_incident(request, slug: str, payload: IncidentIn):
    migration = access.get_migration_for_user(request.auth.user, slug, action="manage_incidents")
    incident = services.open_incident(
        migration,
        by=actor(request),
        title=payload.title,
        severity=payload.severity,
        public_title=payload.public_title,
    )
    return Status(201, _fresh(incident))


@router.get(
    "/incidents/{incident_id}",
    response=answers({200: IncidentDetailOut}, 400, 401, 403, 404),
    summary="One incident with its notes",
)
def get_incident(request, incident_id: int):
    only_query(request)
    return _incident(request, incident_id)


@router.patch(
    "/incidents/{incident_id}",
    response=answers({200: IncidentDetailOut}, 400, 401, 403, 404, 409),
    summary="Change status, severity, commander or public title (fields left out stay)",
)
def update_incident(request, incident_id: int, payload: IncidentPatch):
    incident = _incident(request, incident_id, "manage_incidents")
    given = payload.model_fields_set
    commander = person("commander", payload.commander) if "commander" in given else incident.commander
    with transaction.atomic(), refusals():  # a status the incident cannot move to
        if given & {"severity", "commander", "public_title"}:
            services.update_details(
                incident,
                by=actor(request),
                severity=payload.severity or incident.severity,
                commander=commander,
                public_title=payload.public_title or incident.public_title,
            )
        if payload.status is not None:
            services.change_status(
                incident,
                to=payload.status,
                by=actor(request),
                note=payload.note,
                public_update=payload.public_update,
            )
    return _fresh(incident)


@router.post(
    "/incidents/{incident_id}/acknowledge",
    response=answers({200: AcknowledgeOut}, 400, 401, 403, 404),
    summary="Acknowledge: stops the escalation (a repeat keeps the first acknowledger)",
)
def acknowledge_incident(request, incident_id: int):
    incident = services.acknowledge(_incident(request, incident_id, "manage_incidents"), by=actor(request))
    message = (
        f"Already acknowledged by {incident.acknowledged_by}."
        if incident.already
        else "Acknowledged: escalation stopped."
    )
    return {"already_acknowledged": incident.already, "message": message, "incident": _fresh(incident)}


@router.post(
    "/incidents/{incident_id}/resolve",
    response=answers({200: IncidentDetailOut}, 400, 401, 403, 404),
    summary="Resolve the incident (a repeat changes nothing)",
)
def resolve_incident(request, incident_id: int, payload: ResolveIn):
    incident = _incident(request, incident_id, "manage_incidents")
    services.change_status(
        incident,
        to=IncidentStatus.RESOLVED,
        by=actor(request),
        note=payload.note,
        public_update=payload.public_update,
    )
    return _fresh(incident)


@router.get(
    "/incidents/{incident_id}/notes",
    response=answers({200: list[NoteOut]}, 400, 401, 403, 404),
    summary="An incident's notes and status updates, oldest first",
)
@paginate(LimitOffsetPagination)
def list_incident_notes(request, incident_id: int):
    only_query(request, *PAGE_QUERY)
    notes = IncidentUpdate.objects.filter(incident=_incident(request, incident_id)).order_by("at", "id")
    return within_rows(request, notes)


@router.post(
    "/incidents/{incident_id}/notes",
    response=answers({201: NoteOut}, 400, 401, 403, 404),
    summary="Add a note (public: also on the status page)",
)
def add_incident_note(request, incident_id: int, payload: NoteIn):
    incident = _incident(request, incident_id, "manage_incidents")
    return Status(
        201, services.add_note(incident, by=actor(request), body=payload.body, public=payload.public)
    )


@router.put(
    "/incidents/{incident_id}/postmortem",
    response=answers({200: IncidentDetailOut}, 400, 401, 403, 404),
    summary="Write the post-mortem: summary, root cause, follow-up actions",
)
def save_incident_postmortem(request, incident_id: int, payload: PostmortemIn):
    incident = _incident(request, incident_id, "manage_incidents")
    services.save_postmortem(
        incident,
        by=actor(request),
        summary=payload.summary,
        root_cause=payload.root_cause,
        actions=payload.actions,
    )
    return _fresh(incident)
