"""Notification channels: every send is an outbox row, delivered (with retries) by the outbox.

E-mail and signed webhooks use the outbox's own kinds. Slack-compatible and Telegram notices are
plain JSON POSTs delivered by `deliver` below; the Telegram token is read from the environment
variable the channel names at delivery time, so it is never stored in the database."""

from __future__ import annotations

import json
import os
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from migrations_app import audit, outbound
from migrations_app.audit import Actor
from migrations_app.incidents.models import ChannelKind, NotificationChannel
from migrations_app.models import Migration
from migrations_app.rollout import outbox, webhooks
from migrations_app.rollout.models import OutboxMessage

TIMEOUT_SECONDS = 10.0


class ChannelDeliveryError(Exception):
    pass


def channels_for(migration: Migration, *, purpose: str) -> list[NotificationChannel]:
    """Active channels for `purpose` ("incidents" or "announcements") covering the migration."""
    covering = Q(migrations=migration) | Q(migrations__isnull=True)
    return list(
        NotificationChannel.objects.filter(covering, active=True, **{purpose: True}).distinct().order_by("pk")
    )


def dedupe_prefix(channel: NotificationChannel) -> str:
    return f"channel:{channel.pk}:"


def notify(
    channel: NotificationChannel,
    *,
    migration: Migration | None,
    event_type: str,
    subject: str,
    text: str,
    data: dict,
    key: str,
) -> OutboxMessage | None:
    """Queue one notice on one channel (in the caller's transaction). `key` makes it idempotent."""
    dedupe_key = f"{dedupe_prefix(channel)}{key}"[:200]
    if channel.kind == ChannelKind.EMAIL:
        if not channel.address_list():
            return None
        return outbox.enqueue_email(
            to=channel.address_list(), subject=subject, body=text, migration=migration, dedupe_key=dedupe_key
        )
    if channel.kind == ChannelKind.WEBHOOK:
        payload = {"type": event_type, "timestamp": timezone.now().isoformat(), "data": data}
        return outbox.enqueue_webhook(
            url=channel.url,
            secret=channel.secret,
            event_type=event_type,
            payload=payload,
            migration=migration,
            dedupe_key=dedupe_key,
        )
    if channel.kind == ChannelKind.SLACK:
        payload = {"channel_kind": "slack", "body": {"text": f"*{subject}*\n{text}"}}
        return outbox.enqueue_channel(
            target=channel.url,
            event_type=event_type,
            payload=payload,
            migration=migration,
            dedupe_key=dedupe_key,
        )
    payload = {
        "channel_kind": "telegram",
        "token_env": channel.telegram_token_env,
        "body": {"chat_id": channel.telegram_chat_id, "text": f"{subject}\n\n{text}"},
    }
    return outbox.enqueue_channel(
        target=f"telegram:{channel.telegram_token_env}",
        event_type=event_type,
        payload=payload,
        migration=migration,
        dedupe_key=dedupe_key,
    )


def deliver(message: OutboxMessage) -> None:
    """Called by the outbox for its "channel" rows. Raises on anything but a 2xx answer."""
    kind = message.payload.get("channel_kind")
    body = message.payload.get("body", {})
    if kind == "slack":
        _post(message.target, body, secret_to_hide="")
        return
    if kind == "telegram":
        name = message.payload.get("token_env", "")
        token = os.environ.get(name, "") if name else ""
        if not token:
            raise ChannelDeliveryError(
                f"the environment variable {name or '(none named)'} holding the bot token is not set"
            )
        _post(f"{settings.GOLIVE_TELEGRAM_API_BASE}/bot{token}/sendMessage", body, secret_to_hide=token)
        return
    raise ChannelDeliveryError(f"unknown channel kind {kind!r}")


def _post(url: str, body: dict, *, secret_to_hide: str) -> None:
    def scrub(text: str) -> str:
        return text.replace(secret_to_hide, "<token>") if secret_to_hide else text

    content = json.dumps(body).encode()
    headers = {"content-type": "application/json", "user-agent": "golive-notify/1"}
    try:
        answer = outbound.post(url, content=content, headers=headers, timeout=TIMEOUT_SECONDS)
        webhooks.raise_unless_accepted(answer, ChannelDeliveryError)
    except (outbound.OutboundRefused, outbound.OutboundTransportError, ChannelDeliveryError) as error:
        # the message may carry the URL, and with it the token
        raise ChannelDeliveryError(scrub(str(error))) from None


@transaction.atomic
def send_test(channel: NotificationChannel, *, by: Actor) -> OutboxMessage | None:
    """The "send a test notification" button: one notice, delivered like any other."""
    message = notify(
        channel,
        migration=None,
        event_type="golive.test",
        subject=f"[golive] Test notification for {channel.name}",
        text=f"This is a test notification sent by {by.label} from golive. If you read it, the channel works.",
        data={"channel": channel.name, "by": by.label},
        key=f"test:{uuid.uuid4()}",
    )
    audit.record(by, "channel.tested", channel, after={"queued": message is not None})
    return message


def recent_deliveries(channel: NotificationChannel, *, limit: int = 5) -> list[OutboxMessage]:
    return list(
        OutboxMessage.objects.filter(dedupe_key__startswith=dedupe_prefix(channel)).order_by("-created_at")[
            :limit
        ]
    )


# --- configuration (Admins) ------------------------------------------------------------------

CHANNEL_FIELDS = [
    "name",
    "kind",
    "active",
    "addresses",
    "url",
    "telegram_chat_id",
    "telegram_token_env",
    "incidents",
    "announcements",
]


def _snapshot(channel: NotificationChannel) -> dict:
    """What the audit trail keeps of a channel: never its signing secret."""
    values = audit.snapshot(channel, CHANNEL_FIELDS)
    values["migrations"] = sorted(channel.migrations.values_list("slug", flat=True)) if channel.pk else []
    return values


@transaction.atomic
def create_channel(*, by: Actor, migrations=(), **fields) -> NotificationChannel:
    channel = NotificationChannel(**fields)
    channel.full_clean()
    channel.save()
    channel.migrations.set(migrations)
    audit.record(by, "channel.created", channel, after=_snapshot(channel))
    return channel


@transaction.atomic
def update_channel(
    channel: NotificationChannel, *, by: Actor, migrations=None, **fields
) -> NotificationChannel:
    channel = NotificationChannel.objects.select_for_update().get(pk=channel.pk)
    before = _snapshot(channel)
    for name, value in fields.items():
        if name not in CHANNEL_FIELDS:
            raise ValueError(f"update_channel cannot change {name}")
        setattr(channel, name, value)
    channel.full_clean()
    channel.save()
    if migrations is not None:
        channel.migrations.set(migrations)
    old, new = audit.changed(before, _snapshot(channel))
    if new:  # a repeated save records nothing
        audit.record(by, "channel.updated", channel, before=old, after=new)
    return channel


@transaction.atomic
def delete_channel(channel: NotificationChannel, *, by: Actor) -> None:
    """Delete the channel; notices already queued for it are still delivered (the outbox keeps them)."""
    channel = NotificationChannel.objects.select_for_update().filter(pk=channel.pk).first()
    if channel is None:
        return  # deleted meanwhile (a double click)
    audit.record(by, "channel.deleted", channel, before=_snapshot(channel))
    channel.delete()
