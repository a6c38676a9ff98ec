"""Signed outgoing webhooks (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature)."""

from __future__ import annotations

import json

from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from migrations_app import outbound

TIMEOUT_SECONDS = 10.0


class WebhookRejected(Exception):
    pass


def signed_headers(*, secret: str, message_id: str, body: str) -> dict[str, str]:
    now = timezone.now()
    signature = Webhook(secret).sign(message_id, now, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": "golive-webhooks/1",
    }


def send(message) -> None:
    """POST the row's payload to its URL through the outbound guard (checked again now: a name
    can resolve differently than at save); any answer but 2xx is a failure to retry."""
    body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True)
    headers = signed_headers(secret=message.secret, message_id=str(message.pk), body=body)
    answer = outbound.post(message.target, content=body.encode(), headers=headers, timeout=TIMEOUT_SECONDS)
    raise_unless_accepted(answer, WebhookRejected)


def raise_unless_accepted(answer: outbound.Answer, error: type[Exception]) -> None:
    if 300 <= answer.status_code < 400:
        raise error(f"HTTP {answer.status_code}: redirect to {answer.location[:200]!r} not followed")
    if not 200 <= answer.status_code < 300:
        raise error(f"HTTP {answer.status_code}: {answer.text[:200]}")
