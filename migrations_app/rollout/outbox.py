"""The outbox: side effects written in the caller's transaction, delivered by Celery later.

Nothing here talks to the broker inside a transaction. After commit one task is published for the
new rows; if the broker is down that publish fails quietly and the beat-scheduled dispatcher finds
the rows when it returns. Rows are claimed with a conditional UPDATE, so two workers never deliver
one row at the same time."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable

from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from migrations_app.models import Migration
from migrations_app.publishing import QuietPublisher
from migrations_app.rollout import webhooks
from migrations_app.rollout.models import OutboxKind, OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
LEASE_SECONDS = 60
BACKOFF_BASE_SECONDS = 10
BACKOFF_MAX_SECONDS = 3600
# After a failed publish, skip publishing for a while: every request would wait for the
# broker's connect timeout otherwise. The dispatcher delivers meanwhile.


def _jsonable(value) -> dict:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _enqueue(**fields) -> OutboxMessage:
    dedupe_key = fields.get("dedupe_key")
    if dedupe_key and (existing := OutboxMessage.objects.filter(dedupe_key=dedupe_key).first()):
        return existing
    try:
        with transaction.atomic():  # a savepoint: a racing duplicate must not break the caller
            message = OutboxMessage.objects.create(next_attempt_at=timezone.now(), **fields)
    except IntegrityError:
        return OutboxMessage.objects.get(dedupe_key=dedupe_key)
    transaction.on_commit(lambda: publish([message.pk]))
    return message


def enqueue_webhook(
    *, url: str, secret: str, event_type: str, payload: dict, migration: Migration | None, dedupe_key=None
) -> OutboxMessage:
    return _enqueue(
        kind=OutboxKind.WEBHOOK,
        target=url,
        secret=secret,
        event_type=event_type,
        payload=_jsonable(payload),
        migration=migration,
        dedupe_key=dedupe_key,
    )


def enqueue_email(
    *, to: list[str], subject: str, body: str, migration: Migration | None, dedupe_key=None
) -> OutboxMessage:
    return _enqueue(
        kind=OutboxKind.EMAIL,
        target=",".join(to),
        event_type="email",
        payload={"subject": subject, "body": body},
        migration=migration,
        dedupe_key=dedupe_key,
    )


def enqueue_channel(
    *, target: str, event_type: str, payload: dict, migration: Migration | None, dedupe_key=None
) -> OutboxMessage:
    """A notice for a Slack-compatible or Telegram channel (see migrations_app.incidents.channels)."""
    return _enqueue(
        kind=OutboxKind.CHANNEL,
        target=target,
        event_type=event_type,
        payload=_jsonable(payload),
        migration=migration,
        dedupe_key=dedupe_key,
    )


# The plug-in seam (docs/architecture.md): who sends each kind of row, and the Celery task that
# delivers one row now. The outbox knows neither the apps that use it nor its own task module;
# each registers itself from its AppConfig.ready, as healthchecks' transports are a table of kinds.
Sender = Callable[[OutboxMessage], None]
SENDERS: dict[str, Sender] = {}
_publisher = QuietPublisher(log=log, prefix="outbox", fallback="the dispatcher will deliver it")


def register_sender(kind: str, send: Sender) -> None:
    SENDERS[kind] = send


def use_delivery_task(task) -> None:
    _publisher.use(task)


def publish(message_ids: list) -> bool:
    """Ask a worker to deliver now. Never raises: the dispatcher is the safety net."""
    calls = [{"message_id": str(message_id)} for message_id in message_ids]
    return _publisher.publish(calls, subject=message_ids)


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** (attempts - 1), BACKOFF_MAX_SECONDS))


def due_messages(limit: int = 100) -> list:
    now = timezone.now()
    due = Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, lease_until__lt=now
    )
    return list(
        OutboxMessage.objects.filter(due).order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )


def claim(message_id) -> OutboxMessage | None:
    """Take the row for delivery, or None when it is not due or another worker holds it."""
    now = timezone.now()
    due = Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=OutboxStatus.SENDING, lease_until__lt=now
    )
    claimed = (
        OutboxMessage.objects.filter(due, pk=message_id)
        .exclude(attempts__gte=MAX_ATTEMPTS)
        .update(status=OutboxStatus.SENDING, lease_until=now + dt.timedelta(seconds=LEASE_SECONDS))
    )
    return OutboxMessage.objects.get(pk=message_id) if claimed else None


def deliver(message_id) -> str | None:
    """Claim, send and record one row. Returns its new status, or None if it was not ours."""
    message = claim(message_id)
    if message is None:
        return None
    attempts = message.attempts + 1
    try:
        SENDERS[message.kind](message)
    except Exception as error:
        failed = attempts >= MAX_ATTEMPTS
        OutboxMessage.objects.filter(pk=message.pk, status=OutboxStatus.SENDING).update(
            status=OutboxStatus.FAILED if failed else OutboxStatus.PENDING,
            attempts=attempts,
            lease_until=None,
            next_attempt_at=timezone.now() + backoff(attempts),
            last_error=f"{type(error).__name__}: {error}"[:2000],
        )
        log.warning("outbox: %s attempt %s failed: %s", message, attempts, error)
        return OutboxStatus.FAILED if failed else OutboxStatus.PENDING
    OutboxMessage.objects.filter(pk=message.pk).update(
        status=OutboxStatus.DELIVERED,
        attempts=attempts,
        lease_until=None,
        delivered_at=timezone.now(),
        last_error="",
    )
    return OutboxStatus.DELIVERED


def _send_email(message: OutboxMessage) -> None:
    recipients = [address for address in message.target.split(",") if address]
    send_mail(message.payload["subject"], message.payload["body"], None, recipients, fail_silently=False)


register_sender(OutboxKind.WEBHOOK, webhooks.send)
register_sender(OutboxKind.EMAIL, _send_email)


def dispatch_due(limit: int = 100) -> int:
    """Deliver every due row (the beat safety net). Returns how many were delivered."""
    delivered = 0
    for message_id in due_messages(limit):
        if deliver(message_id) == OutboxStatus.DELIVERED:
            delivered += 1
    return delivered
