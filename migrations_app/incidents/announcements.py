"""Announcements to users: maintenance notices, completion notices, incident notices.

golive proposes the maintenance notice when the migration is about to move traffic (ready or
rolling out) and the completion notice when it completes: `proposals` lists them, a person
clicks "Draft it", reviews, and sends or schedules it."""

from __future__ import annotations

import datetime as dt
import re
from typing import TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.incidents import channels
from migrations_app.incidents.models import (
    Announcement,
    AnnouncementKind,
    AnnouncementStatus,
    AnnouncementTemplate,
    StatusPage,
    StatusSubscriber,
)
from migrations_app.models import Migration, MigrationStatus
from migrations_app.rollout import outbox

PLACEHOLDERS = ("migration", "date", "window", "duration", "contact")


class Details(TypedDict, total=False):
    """What a notice says besides its text, the same for a draft and an edit: the placeholders'
    values ({date}, {window}, {duration}, {contact}) and, for maintenance, when it starts and ends."""

    date: str
    window: str
    duration: str
    contact: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None


def _placeholder_fields(details: Details) -> dict[str, str]:
    unknown = set(details) - set(Details.__annotations__)
    if unknown:
        raise TypeError(f"Not a detail of an announcement: {', '.join(sorted(unknown))}")
    return {name: details.get(name, "") for name in ("date", "window", "duration", "contact")}


DEFAULT_TEMPLATES = {
    AnnouncementKind.MAINTENANCE: (
        "Scheduled maintenance: {migration} on {date}",
        "We will carry out planned maintenance on {migration} on {date}, between {window}.\n"
        "Expected duration: {duration}. The service may be briefly unavailable or slower than usual.\n"
        "Questions: {contact}.",
    ),
    AnnouncementKind.COMPLETE: (
        "Maintenance complete: {migration}",
        "The planned work on {migration} finished on {date}. Everything is running normally.\n"
        "If you notice anything unusual, contact {contact}.",
    ),
    AnnouncementKind.INCIDENT: (
        "Service disruption: {migration}",
        "Since {date} some requests to {migration} may fail or be slow. We are working on it and "
        "will post updates on the status page. Expected duration: {duration}.\nQuestions: {contact}.",
    ),
}
# Statuses in which golive suggests each notice: after a rollback (a guardrail's or a person's)
# users may have seen failures, so the incident notice is proposed.
PROPOSE_WHEN = {
    AnnouncementKind.MAINTENANCE: (MigrationStatus.READY, MigrationStatus.ROLLING_OUT),
    AnnouncementKind.COMPLETE: (MigrationStatus.COMPLETED,),
    AnnouncementKind.INCIDENT: (MigrationStatus.ROLLED_BACK,),
}


def template_for(kind: str) -> tuple[str, str]:
    row = AnnouncementTemplate.objects.filter(kind=kind).first()
    return (row.subject, row.body) if row else DEFAULT_TEMPLATES[kind]


_PLACEHOLDER = re.compile(r"\{(" + "|".join(PLACEHOLDERS) + r")\}")


def render(text: str, values: dict) -> str:
    """Fill the known placeholders; any other braces (even unbalanced) stay as written."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1)) or f"[{m.group(1)}]"), text)


def _values(migration: Migration, fields: dict) -> dict:
    page = StatusPage.objects.filter(migration=migration).first()
    return {"migration": (page.public_name if page and page.public_name else migration.name), **fields}


def proposals(migration: Migration) -> list[dict]:
    """Notices golive suggests now and nobody has written yet."""
    written = set(Announcement.objects.filter(migration=migration).values_list("kind", flat=True))
    return [
        {"kind": kind, "label": AnnouncementKind(kind).label}
        for kind, statuses in PROPOSE_WHEN.items()
        if migration.status in statuses and kind not in written
    ]


@transaction.atomic
def draft(
    migration: Migration,
    *,
    by: Actor,
    kind: str,
    proposed: bool = False,
    **details: Unpack[Details],
) -> Announcement:
    """A draft from the kind's template. A proposed draft exists once per kind (a repeat returns it)."""
    if kind not in AnnouncementKind.values:
        raise ValidationError({"kind": "Choose maintenance, completion or incident notice."})
    if proposed and (
        existing := Announcement.objects.filter(migration=migration, kind=kind, proposed=True).first()
    ):
        return existing
    fields = _placeholder_fields(details)
    subject, body = template_for(kind)
    values = _values(migration, fields)
    try:
        with transaction.atomic():
            announcement = Announcement.objects.create(
                migration=migration,
                kind=kind,
                subject=render(subject, values)[:200],
                body=render(body, values),
                starts_at=details.get("starts_at"),
                ends_at=details.get("ends_at"),
                proposed=proposed,
                created_by=by.label,
                **fields,
            )
    except IntegrityError:  # a racing click drafted the proposal first
        return Announcement.objects.get(migration=migration, kind=kind, proposed=True)
    audit.record(by, "announcement.drafted", announcement, migration=migration, after={"kind": kind})
    return announcement


def _locked(announcement: Announcement) -> Announcement:
    return Announcement.objects.select_for_update().select_related("migration").get(pk=announcement.pk)


@transaction.atomic
def edit(
    announcement: Announcement,
    *,
    by: Actor,
    subject: str,
    body: str,
    **details: Unpack[Details],
) -> Announcement:
    """Change a draft or scheduled notice. Placeholders in the text are filled from the fields."""
    announcement = _locked(announcement)
    if announcement.status in (AnnouncementStatus.SENT, AnnouncementStatus.CANCELLED):
        raise ValidationError({"status": f"This announcement was {announcement.status}; write a new one."})
    if not subject.strip() or not body.strip():
        raise ValidationError({"subject": "An announcement needs a subject and a text."})
    fields = _placeholder_fields(details)
    values = _values(announcement.migration, fields)
    names = ["subject", "body", "date", "window", "duration", "contact", "starts_at", "ends_at"]
    before = audit.snapshot(announcement, names)
    announcement.subject = render(subject.strip(), values)[:200]
    announcement.body = render(body.strip(), values)
    announcement.starts_at, announcement.ends_at = details.get("starts_at"), details.get("ends_at")
    for name, value in fields.items():
        setattr(announcement, name, value)
    announcement.save()
    before, after = audit.changed(before, audit.snapshot(announcement, names))
    if after:
        audit.record(
            by,
            "announcement.edited",
            announcement,
            migration=announcement.migration,
            before=before,
            after=after,
        )
    return announcement


@transaction.atomic
def schedule(announcement: Announcement, *, by: Actor, send_at: dt.datetime, now: dt.datetime | None = None):
    announcement = _locked(announcement)
    if announcement.status not in (AnnouncementStatus.DRAFT, AnnouncementStatus.SCHEDULED):
        raise ValidationError({"send_at": f"This announcement was already {announcement.status}."})
    if send_at <= (now or timezone.now()):
        raise ValidationError({"send_at": "Pick a time in the future, or press Send now."})
    announcement.status, announcement.send_at = AnnouncementStatus.SCHEDULED, send_at
    announcement.save(update_fields=["status", "send_at"])
    audit.record(
        by,
        "announcement.scheduled",
        announcement,
        migration=announcement.migration,
        after={"send_at": send_at},
    )
    return announcement


@transaction.atomic
def delete_draft(announcement: Announcement, *, by: Actor) -> None:
    """Throw a draft away. A scheduled, sent or cancelled notice is kept for the record."""
    announcement = _locked(announcement)
    if announcement.status != AnnouncementStatus.DRAFT:
        raise ValidationError(
            {
                "status": f"Only a draft can be deleted; this one is {announcement.get_status_display().lower()}."
            }
        )
    audit.record(
        by,
        "announcement.deleted",
        announcement,
        migration=announcement.migration,
        before={"kind": announcement.kind, "subject": announcement.subject},
    )
    announcement.delete()


@transaction.atomic
def cancel(announcement: Announcement, *, by: Actor) -> Announcement:
    announcement = _locked(announcement)
    if announcement.status in (AnnouncementStatus.SENT, AnnouncementStatus.CANCELLED):
        return announcement
    before = announcement.status
    announcement.status = AnnouncementStatus.CANCELLED
    announcement.save(update_fields=["status"])
    audit.record(
        by,
        "announcement.cancelled",
        announcement,
        migration=announcement.migration,
        before={"status": before},
        after={"status": announcement.status},
    )
    return announcement


NOBODY_MESSAGE = (
    "Nobody would receive this announcement: {name} has no status-page subscribers and no "
    "notification channel for announcements. Add subscribers or a channel, or confirm that you "
    "want to send it to nobody (it is then only recorded as sent)."
)


def recipients_of(migration: Migration) -> tuple[list[str], list]:
    """Who a send reaches now: subscriber addresses and announcement channels."""
    addresses = list(StatusSubscriber.objects.filter(migration=migration).values_list("email", flat=True))
    return addresses, list(channels.channels_for(migration, purpose="announcements"))


@transaction.atomic
def send(
    announcement: Announcement,
    *,
    by: Actor,
    now: dt.datetime | None = None,
    confirm_no_recipients: bool = True,
) -> Announcement:
    """E-mail every subscriber (one message each: addresses stay private) and post to the
    announcement channels, all through the outbox. Sending twice sends nothing new.

    A person's send passes `confirm_no_recipients=False` until they confirmed: a send that would
    reach nobody is then refused with a message saying so (the schedule keeps the default)."""
    announcement = _locked(announcement)
    if announcement.status == AnnouncementStatus.SENT:
        announcement.already = True
        return announcement
    if announcement.status == AnnouncementStatus.CANCELLED:
        raise ValidationError({"status": "This announcement was cancelled; draft a new one."})
    migration = announcement.migration
    addresses, targets = recipients_of(migration)
    if not addresses and not targets and not confirm_no_recipients:
        raise ValidationError({"confirm_no_recipients": NOBODY_MESSAGE.format(name=migration.name)})
    for address in addresses:
        outbox.enqueue_email(
            to=[address],
            subject=announcement.subject,
            body=announcement.body,
            migration=migration,
            dedupe_key=f"announcement:{announcement.pk}:to:{address}"[:200],
        )
    names = []
    for channel in targets:
        channels.notify(
            channel,
            migration=migration,
            event_type="announcement.sent",
            subject=announcement.subject,
            text=announcement.body,
            data={
                "migration": migration.slug,
                "kind": announcement.kind,
                "subject": announcement.subject,
                "body": announcement.body,
            },
            key=f"announcement:{announcement.pk}",
        )
        names.append(channel.name)
    announcement.status, announcement.sent_at = AnnouncementStatus.SENT, now or timezone.now()
    announcement.sent_by, announcement.recipients = by.label, len(addresses)
    announcement.save(update_fields=["status", "sent_at", "sent_by", "recipients"])
    audit.record(
        by,
        "announcement.sent",
        announcement,
        migration=migration,
        after={"subscribers": len(addresses), "channels": names},
    )
    announcement.already = False
    return announcement


def send_due(*, now: dt.datetime | None = None) -> int:
    """The beat task: send every scheduled announcement whose time came. Idempotent."""
    now = now or timezone.now()
    due = Announcement.objects.filter(status=AnnouncementStatus.SCHEDULED, send_at__lte=now)
    sent = 0
    for announcement in list(due):
        if not send(announcement, by=Actor.system("announcement schedule"), now=now).already:
            sent += 1
    return sent


@transaction.atomic
def add_subscriber(migration: Migration, *, by: Actor, email: str) -> StatusSubscriber:
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": "Enter a valid e-mail address."}) from None
    subscriber, created = StatusSubscriber.objects.get_or_create(migration=migration, email=email)
    if created:
        audit.record(by, "subscriber.added", subscriber, migration=migration, after={"email": email})
    return subscriber


@transaction.atomic
def remove_subscriber(subscriber: StatusSubscriber, *, by: Actor) -> None:
    audit.record(
        by,
        "subscriber.removed",
        subscriber,
        migration=subscriber.migration,
        before={"email": subscriber.email},
    )
    subscriber.delete()


@transaction.atomic
def configure_status_page(
    migration: Migration, *, by: Actor, enabled: bool, public_name: str, show_history: bool = True
) -> StatusPage:
    page, _ = StatusPage.objects.select_for_update().get_or_create(migration=migration)
    fields = ["enabled", "public_name", "show_history"]
    before = audit.snapshot(page, fields)
    page.enabled, page.public_name, page.show_history = enabled, public_name.strip()[:120], show_history
    after = audit.snapshot(page, fields)
    if before != after:
        page.save()
        before, after = audit.changed(before, after)
        audit.record(by, "status_page.changed", page, migration=migration, before=before, after=after)
    return page
