"""Who is told about an incident, when, and how they acknowledge.

SEV1 and SEV2 page the migration's on-call at once (on-call contacts and on-call role holders)
and the incident channels; if nobody acknowledges within GOLIVE_ESCALATION_MINUTES the leads
(deployment and technical lead role holders, contacts whose role names a lead) are paged too.
An acknowledgement, on the page or through the signed link in the e-mail, stops the escalation."""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.incidents import channels
from migrations_app.incidents.models import OPEN_STATUSES, PAGING_SEVERITIES, Incident
from migrations_app.models import Contact, MigrationRole, MigrationRoleName
from migrations_app.rollout import outbox

log = logging.getLogger(__name__)
ACK_SALT = "golive.incidents.acknowledge"
LEAD_ROLES = (MigrationRoleName.DEPLOYMENT_LEAD, MigrationRoleName.TECHNICAL_LEAD)


def on_call_addresses(migration) -> list[str]:
    """On-call contacts covering the migration and users holding its on-call role."""
    contacts = Contact.objects.filter(migrations=migration, on_call=True).exclude(email="")
    people = MigrationRole.objects.filter(migration=migration, role=MigrationRoleName.ON_CALL).exclude(
        user__email=""
    )
    return sorted({c.email for c in contacts} | {r.user.email for r in people.select_related("user")})


def lead_addresses(migration) -> list[str]:
    people = MigrationRole.objects.filter(migration=migration, role__in=LEAD_ROLES).exclude(user__email="")
    contacts = Contact.objects.filter(migrations=migration, role__icontains="lead").exclude(email="")
    return sorted({r.user.email for r in people.select_related("user")} | {c.email for c in contacts})


def ack_token(incident: Incident, address: str) -> str:
    return signing.TimestampSigner(salt=ACK_SALT).sign(f"{incident.pk}:{address}")


def read_ack_token(token: str) -> tuple[int, str]:
    """(incident id, address) from a link; raises signing.BadSignature (or SignatureExpired)."""
    value = signing.TimestampSigner(salt=ACK_SALT).unsign(
        token, max_age=settings.GOLIVE_ACK_LINK_HOURS * 3600
    )
    incident_id, _, address = value.partition(":")
    return int(incident_id), address


def ack_url(incident: Incident, address: str) -> str:
    return settings.GOLIVE_BASE_URL + reverse(
        "incidents_public:acknowledge", args=[ack_token(incident, address)]
    )


def incident_url(incident: Incident) -> str:
    return settings.GOLIVE_BASE_URL + reverse("incidents:detail", args=[incident.migration.slug, incident.pk])


def _page(incident: Incident, addresses: list[str], *, who: str, now: dt.datetime) -> int:
    migration = incident.migration
    subject = f"[golive] {incident.severity_label} {incident.title}"
    if who == "leads":
        subject = f"[golive] ESCALATED {incident.severity_label}: nobody acknowledged {incident.title}"
    for address in addresses:
        body = (
            f"{incident.severity_label} incident on {migration.name}: {incident.title}\n"
            f"Opened {timezone.localtime(incident.opened_at):%Y-%m-%d %H:%M %Z} by {incident.opened_by}.\n\n"
            f"Acknowledge (one click, no login): {ack_url(incident, address)}\n"
            f"Incident page: {incident_url(incident)}\n\n"
            + (
                "You are receiving this because you are on call for this migration."
                if who == "on-call"
                else "You are receiving this as a lead: the on-call has not acknowledged yet."
            )
        )
        outbox.enqueue_email(
            to=[address],
            subject=subject,
            body=body,
            migration=migration,
            dedupe_key=f"incident:{incident.pk}:{who}:{address}"[:200],
        )
    return len(addresses)


def _channel_notice(incident: Incident, *, who: str) -> list[str]:
    names = []
    for channel in channels.channels_for(incident.migration, purpose="incidents"):
        channels.notify(
            channel,
            migration=incident.migration,
            event_type="incident.escalated" if who == "leads" else "incident.opened",
            subject=f"[golive] {incident.severity_label} {incident.title}",
            text=f"Status: {incident.get_status_display()}. Acknowledge or follow it: {incident_url(incident)}",
            data={
                "incident_id": incident.pk,
                "migration": incident.migration.slug,
                "title": incident.title,
                "severity": incident.severity,
                "status": incident.status,
                "url": incident_url(incident),
            },
            key=f"incident:{incident.pk}:{who}",
        )
        names.append(channel.name)
    return names


def page_after_commit(incident: Incident) -> None:
    """Page once the opening transaction commits (a rollback's transaction stays short and its
    own rows come first). If this process dies in between, `escalate_due` pages on its next run."""
    if not incident.pages or incident.on_call_notified_at is not None:
        return
    pk = incident.pk

    def page():
        try:
            page_on_call(pk)
        except Exception:  # the beat task pages it on its next run
            log.exception("incident %s: paging failed; the escalation task retries", pk)

    transaction.on_commit(page)


@transaction.atomic
def page_on_call(pk: int, *, now: dt.datetime | None = None) -> bool:
    """Page the on-call of an unresolved SEV1/SEV2 incident once and start the escalation clock."""
    now = now or timezone.now()
    incident = Incident.objects.select_for_update().select_related("migration").filter(pk=pk).first()
    if (
        incident is None
        or not incident.pages
        or incident.on_call_notified_at is not None
        or not incident.is_open
    ):
        return False
    sent = _page(incident, on_call_addresses(incident.migration), who="on-call", now=now)
    names = _channel_notice(incident, who="on-call")
    incident.on_call_notified_at = now
    if incident.acknowledged_at is None:
        incident.escalate_at = now + dt.timedelta(minutes=settings.GOLIVE_ESCALATION_MINUTES)
    incident.save(update_fields=["on_call_notified_at", "escalate_at"])
    audit.record(
        Actor.system("incident escalation"),
        "incident.notified",
        incident,
        migration=incident.migration,
        after={"to": "on-call", "emails": sent, "channels": names},
    )
    return True


def escalate_due(*, now: dt.datetime | None = None) -> int:
    """Page the on-call of any SEV1/SEV2 incident not paged yet (safety net), then the leads of
    every unacknowledged incident whose delay ran out. Returns how many were escalated."""
    now = now or timezone.now()
    unpaged = Incident.objects.filter(
        status__in=OPEN_STATUSES, severity__in=PAGING_SEVERITIES, on_call_notified_at__isnull=True
    ).values_list("pk", flat=True)
    for pk in list(unpaged):
        page_on_call(pk, now=now)
    due = Incident.objects.filter(
        status__in=OPEN_STATUSES,
        acknowledged_at__isnull=True,
        leads_notified_at__isnull=True,
        escalate_at__lte=now,
    ).values_list("pk", flat=True)
    return sum(_escalate_one(pk, now=now) for pk in list(due))


@transaction.atomic
def _escalate_one(pk: int, *, now: dt.datetime) -> int:
    incident = (
        Incident.objects.select_for_update(skip_locked=True).filter(pk=pk).select_related("migration").first()
    )
    if incident is None or incident.acknowledged_at or incident.leads_notified_at or not incident.is_open:
        return 0  # acknowledged, escalated or resolved meanwhile
    sent = _page(incident, lead_addresses(incident.migration), who="leads", now=now)
    names = _channel_notice(incident, who="leads")
    incident.leads_notified_at = now
    incident.save(update_fields=["leads_notified_at"])
    audit.record(
        Actor.system("incident escalation"),
        "incident.escalated",
        incident,
        migration=incident.migration,
        after={"to": "leads", "emails": sent, "channels": names},
        reason=f"not acknowledged within {settings.GOLIVE_ESCALATION_MINUTES:g} minutes",
    )
    return 1
