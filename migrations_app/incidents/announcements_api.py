"""Announcements to users through /api/v1 (`operate` scope): draft, edit, delete a draft,
schedule, send and cancel, with the rights (`send_announcements`) and services of the page."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from migrations_app import access
from migrations_app.api_kit import (
    PAGE_QUERY,
    TEXT_PATTERN,
    Refused,
    TokenAuth,
    UtcDateTime,
    actor,
    answers,
    only_query,
    refusals,
    within_rows,
)
from migrations_app.incidents import announcements
from migrations_app.incidents.models import Announcement, AnnouncementKind, AnnouncementStatus

router = Router(auth=TokenAuth(scope="operate"), tags=["announcements"])

SHORT = {"max_length": 60, "pattern": TEXT_PATTERN}


class AnnouncementOut(Schema):
    id: int
    migration: str
    kind: AnnouncementKind
    status: AnnouncementStatus
    subject: str
    body: str
    date: str
    window: str
    duration: str
    contact: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    send_at: dt.datetime | None
    sent_at: dt.datetime | None
    sent_by: str
    recipients: int = Field(description="Subscribers e-mailed when it was sent.")
    proposed: bool = Field(description="Drafted from one of golive's proposals.")
    created_by: str

    @staticmethod
    def resolve_migration(announcement):
        return announcement.migration.slug


class ProposalOut(Schema):
    kind: AnnouncementKind
    label: str


class AnnouncementListOut(Schema):
    proposals: list[ProposalOut]


class Placeholders(Schema):
    """The template's placeholders ({date}, {window}, {duration}, {contact}) filled from these."""

    date: str = Field("", description="e.g. Saturday 5 December", **SHORT)
    window: str = Field("", description="e.g. 02:00-04:00 UTC", **SHORT)
    duration: str = Field("", description="e.g. about 2 hours", **SHORT)
    contact: str = Field("", max_length=120, pattern=TEXT_PATTERN, description="e.g. support@example.com")
    starts_at: UtcDateTime | None = Field(None, description="Maintenance only: when it starts.")
    ends_at: UtcDateTime | None = Field(None, description="After starts_at.")


class DraftIn(Placeholders):
    kind: AnnouncementKind
    proposed: bool = Field(False, description="Draft golive's proposal of this kind (once per kind).")


class EditIn(Placeholders):
    subject: str = Field(min_length=1, max_length=200, pattern=TEXT_PATTERN)
    body: str = Field(min_length=1, max_length=20000, pattern=TEXT_PATTERN)


class ScheduleIn(Schema):
    send_at: UtcDateTime = Field(description="In the future, with a time zone.")


class SendIn(Schema):
    confirm_no_recipients: bool = Field(
        False, description="Send although nobody would receive it (no subscribers, no channel)."
    )


class SendOut(Schema):
    already_sent: bool
    message: str
    announcement: AnnouncementOut


def _announcement(request, announcement_id: int, action: str = "view") -> Announcement:
    access.require(request.auth.user, "view")
    announcement = get_object_or_404(Announcement.objects.select_related("migration"), pk=announcement_id)
    access.require(request.auth.user, action)
    return announcement


def _fresh(announcement: Announcement) -> Announcement:
    return Announcement.objects.select_related("migration").get(pk=announcement.pk)


def _check_window(payload: Placeholders) -> None:
    if payload.starts_at and payload.ends_at and payload.ends_at <= payload.starts_at:
        # Each time is valid on its own: the pair is refused as a conflict, naming ends_at (409).
        raise Refused(409, ValidationError({"ends_at": "The maintenance must end after it starts."}))


@router.get(
    "/migrations/{slug}/announcements",
    response=answers({200: list[AnnouncementOut]}, 400, 401, 403, 404),
    summary="List a migration's announcements, newest first",
)
@paginate(LimitOffsetPagination)
def list_announcements(request, slug: str):
    only_query(request, *PAGE_QUERY)
    migration = access.get_migration_for_user(request.auth.user, slug)
    return within_rows(request, Announcement.objects.filter(migration=migration).select_related("migration"))


@router.get(
    "/migrations/{slug}/announcements/proposals",
    response=answers({200: AnnouncementListOut}, 400, 401, 403, 404),
    summary="The notices golive proposes now (e.g. the incident notice after a rollback)",
)
def list_announcement_proposals(request, slug: str):
    only_query(request)
    migration = access.get_migration_for_user(request.auth.user, slug)
    return {"proposals": announcements.proposals(migration)}


@router.post(
    "/migrations/{slug}/announcements",
    response=answers({201: AnnouncementOut}, 400, 401, 403, 404, 409),
    summary="Draft an announcement from its kind's template",
)
def draft_announcement(request, slug: str, payload: DraftIn):
    migration = access.get_migration_for_user(request.auth.user, slug, action="send_announcements")
    _check_window(payload)
    announcement = announcements.draft(migration, by=actor(request), **payload.model_dump())
    return Status(201, _fresh(announcement))


@router.get(
    "/announcements/{announcement_id}",
    response=answers({200: AnnouncementOut}, 400, 401, 403, 404),
    summary="One announcement",
)
def get_announcement(request, announcement_id: int):
    only_query(request)
    return _announcement(request, announcement_id)


@router.put(
    "/announcements/{announcement_id}",
    response=answers({200: AnnouncementOut}, 400, 401, 403, 404, 409),
    summary="Rewrite a draft or scheduled announcement",
)
def edit_announcement(request, announcement_id: int, payload: EditIn):
    announcement = _announcement(request, announcement_id, "send_announcements")
    _check_window(payload)
    with refusals("subject"):  # a sent or cancelled one is the state's refusal
        announcements.edit(announcement, by=actor(request), **payload.model_dump())
    return _fresh(announcement)


@router.delete(
    "/announcements/{announcement_id}",
    response=answers({204: None}, 400, 401, 403, 404, 409),
    summary="Delete a draft (scheduled, sent or cancelled ones are kept)",
)
def delete_announcement(request, announcement_id: int):
    announcement = _announcement(request, announcement_id, "send_announcements")
    with refusals():
        announcements.delete_draft(announcement, by=actor(request))
    return Status(204, None)


@router.post(
    "/announcements/{announcement_id}/schedule",
    response=answers({200: AnnouncementOut}, 400, 401, 403, 404, 409),
    summary="Send it later (golive's beat sends it at send_at)",
)
def schedule_announcement(request, announcement_id: int, payload: ScheduleIn):
    announcement = _announcement(request, announcement_id, "send_announcements")
    if announcement.status in (AnnouncementStatus.DRAFT, AnnouncementStatus.SCHEDULED):
        announcements.schedule(announcement, by=actor(request), send_at=payload.send_at)  # past: 400
    else:
        with refusals():
            announcements.schedule(announcement, by=actor(request), send_at=payload.send_at)
    return _fresh(announcement)


@router.post(
    "/announcements/{announcement_id}/send",
    response=answers({200: SendOut}, 400, 401, 403, 404, 409),
    summary="Send now to subscribers and channels (asks for confirmation when nobody would get it)",
)
def send_announcement(request, announcement_id: int, payload: SendIn):
    announcement = _announcement(request, announcement_id, "send_announcements")
    with refusals():  # cancelled, or nobody to receive it without confirmation
        announcement = announcements.send(
            announcement, by=actor(request), confirm_no_recipients=payload.confirm_no_recipients
        )
    if announcement.already:
        message = "It was already sent."
    else:
        message = f"Sent to {announcement.recipients} subscriber(s) and the announcement channels."
    return {"already_sent": announcement.already, "message": message, "announcement": _fresh(announcement)}


@router.post(
    "/announcements/{announcement_id}/cancel",
    response=answers({200: AnnouncementOut}, 400, 401, 403, 404),
    summary="Cancel a draft or scheduled announcement (a repeat changes nothing)",
)
def cancel_announcement(request, announcement_id: int):
    announcement = _announcement(request, announcement_id, "send_announcements")
    announcements.cancel(announcement, by=actor(request))
    return _fresh(announcement)
