"""Every write of webhook receipt: configure the receiving end, rotate its secret, take a delivery.

Configuration follows the house contract (lock, check, write, audit). A delivery is not a
person's change, so it writes no audit row: it writes its log row and pushed samples through the
ingestion service, which evaluates the guardrails on them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.inbound import verify
from migrations_app.inbound.models import InboundDelivery, InboundWebhook
from migrations_app.models import Migration
from migrations_app.monitoring import services as monitoring
from migrations_app.rollout.models import new_webhook_secret

# One sample per verified delivery (count it, and notice when they stop) ...
RECEIVED_METRIC = "webhooks.received"
# ... and one ok/failed counter per delivery, verified or refused (the share that verifies).
VERIFIED_METRIC = "webhooks.verified"
CONFIG_FIELDS = ["scheme", "enabled", "tolerance_seconds"]


@dataclass(frozen=True)
class Receipt:
    verified: bool
    duplicate: bool = False
    reason: str = ""
    event_id: str = ""


@transaction.atomic
def configure_inbound(
    migration: Migration, *, by: Actor, scheme: str, enabled: bool = True, tolerance_seconds: int = 300
) -> tuple[InboundWebhook, str | None]:
    """Create or change the migration's receiving end. Returns it and, only when just created, its
    secret (the one moment a page may show it)."""
    endpoint = InboundWebhook.objects.select_for_update().filter(migration=migration).first()
    created = endpoint is None
    endpoint = endpoint or InboundWebhook(migration=migration)
    before = None if created else audit.snapshot(endpoint, CONFIG_FIELDS)
    endpoint.scheme, endpoint.enabled, endpoint.tolerance_seconds = scheme, enabled, tolerance_seconds
    endpoint.full_clean()
    after = audit.snapshot(endpoint, CONFIG_FIELDS)
    if before is not None:
        before, after = audit.changed(before, after)
        if not after:
            return endpoint, None  # nothing changed: a repeated save records nothing
    endpoint.save()
    action = "inbound_webhook.created" if created else "inbound_webhook.updated"
    audit.record(by, action, endpoint, migration=migration, before=before, after=after)
    return endpoint, endpoint.secret if created else None


@transaction.atomic
def rotate_inbound_secret(endpoint: InboundWebhook, *, by: Actor, secret: str | None = None) -> str:
    """A new secret at once: deliveries signed with the old one are refused from now on."""
    endpoint = InboundWebhook.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.secret = secret or new_webhook_secret()
    endpoint.rotated_at = timezone.now()
    endpoint.save(update_fields=["secret", "rotated_at"])
    # The audit trail says that it changed, never what to.
    audit.record(
        by,
        "inbound_webhook.secret_rotated",
        endpoint,
        migration=endpoint.migration,
        after={"secret": "rotated"},
    )
    return endpoint.secret


def receive(endpoint: InboundWebhook, *, body: bytes, headers, now: dt.datetime | None = None) -> Receipt:
    """Verify one delivery, log it and push its samples. A provider's retry of an event already
    verified is answered as received and counted once."""
    now = now or timezone.now()
    try:
        event_id = verify.check(
            endpoint.scheme,
            secret=endpoint.secret,
            body=body,
            headers=headers,
            now=now,
            tolerance=endpoint.tolerance_seconds,
        )
    except verify.SignatureRefused as refused:
        _store(endpoint, now=now, body=body, verified=False, reason=str(refused))
        return Receipt(verified=False, reason=str(refused))
    if event_id and _seen(endpoint, event_id, now):
        return Receipt(verified=True, duplicate=True, event_id=event_id)
    _store(endpoint, now=now, body=body, verified=True, event_id=event_id)
    return Receipt(verified=True, event_id=event_id)


def _seen(endpoint: InboundWebhook, event_id: str, now: dt.datetime) -> bool:
    # Outside the tolerance window a repeat is refused as a replay anyway.
    since = now - dt.timedelta(seconds=2 * endpoint.tolerance_seconds)
    deliveries = endpoint.deliveries.filter(verified=True, event_id=event_id, received_at__gte=since)
    return deliveries.exists()


def _store(endpoint, *, now, body: bytes, verified: bool, event_id: str = "", reason: str = "") -> None:
    samples = [{"metric": VERIFIED_METRIC, "ok": int(verified), "failed": int(not verified), "at": now}]
    if verified:
        samples.append({"metric": RECEIVED_METRIC, "ok": 1, "failed": 0, "at": now})
    with transaction.atomic():
        InboundDelivery.objects.create(
            endpoint=endpoint,
            received_at=now,
            verified=verified,
            event_id=event_id[:200],
            event_type=verify.event_type(body) if verified else "",
            reason=reason[:200],
            size=len(body),
        )
        cutoff = now - dt.timedelta(hours=settings.GOLIVE_RAW_RETENTION_HOURS)
        endpoint.deliveries.filter(received_at__lt=cutoff).delete()
        monitoring.ingest_samples(endpoint.migration, items=samples)
