"""Signed outgoing webhooks (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature)."""

from __future__ import annotations

import json

import httpx
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


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
    """POST the row's payload to its URL; any answer but 2xx is a failure to retry."""
    body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True)
    headers = signed_headers(secret=message.secret, message_id=str(message.pk), body=body)
    response = httpx.post(
        message.target, content=body, headers=headers, timeout=TIMEOUT, follow_redirects=False
    )
    if not 200 <= response.status_code < 300:
        raise WebhookRejected(f"HTTP {response.status_code}: {response.text[:200]}")
