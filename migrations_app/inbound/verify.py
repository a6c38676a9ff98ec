"""Checking an inbound webhook's signature, per scheme. Each check returns the event's id or raises.

- Standard Webhooks (https://www.standardwebhooks.com/, spec v1): verified by the `standardwebhooks`
  package itself, headers webhook-id, webhook-timestamp and webhook-signature ("v1,<base64>").
- Stripe-style (https://docs.stripe.com/webhooks#verify-manually): header
  `Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`, the whole secret as key;
  any of several v1 signatures may match (Stripe sends two while a secret is being rolled)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from migrations_app import jsonbody
from migrations_app.monitoring.models import WebhookScheme


class SignatureRefused(Exception):
    """The delivery is not signed by the holder of the secret, or not recently: a 401 for the sender."""


def check(scheme: str, *, secret: str, body: bytes, headers, now: dt.datetime, tolerance: int) -> str:
    if scheme == WebhookScheme.STRIPE:
        return _check_stripe(secret, body, headers.get("Stripe-Signature", ""), now, tolerance)
    return _check_standard(secret, body, headers, now, tolerance)


def _check_standard(secret: str, body: bytes, headers, now: dt.datetime, tolerance: int) -> str:
    wanted = ("webhook-id", "webhook-timestamp", "webhook-signature")
    values = {name: headers.get(name, "") for name in wanted}
    if not all(values.values()):
        raise SignatureRefused("missing webhook-id, webhook-timestamp or webhook-signature header")
    # The package allows five minutes either way; golive's own tolerance may be stricter.
    _check_age(values["webhook-timestamp"], now, tolerance)
    try:
        Webhook(secret).verify(body, values, json_parse=False)
    except WebhookVerificationError as error:
        raise SignatureRefused(f"Standard Webhooks: {error}") from None
    except ValueError:  # a malformed signature list, or a body that is not UTF-8
        raise SignatureRefused("Standard Webhooks: malformed signature header or body") from None
    return values["webhook-id"]


def _check_stripe(secret: str, body: bytes, header: str, now: dt.datetime, tolerance: int) -> str:
    pairs = [part.split("=", 1) for part in header.split(",") if "=" in part]
    timestamp = next((value for key, value in pairs if key.strip() == "t"), "")
    signatures = [value.strip() for key, value in pairs if key.strip() == "v1"]
    if not timestamp or not signatures:
        raise SignatureRefused("missing Stripe-Signature header with t= and v1=")
    _check_age(timestamp, now, tolerance)
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise SignatureRefused("Stripe-style: no matching v1 signature")
    return _event_field(body, "id")


def _check_age(timestamp: str, now: dt.datetime, tolerance: int) -> None:
    try:
        signed_at = int(timestamp.strip())
        age = abs(now.timestamp() - signed_at)
    except (ValueError, OverflowError):  # OverflowError: more digits than a float holds (a 500 once)
        raise SignatureRefused("the signature's timestamp is not a whole number of seconds") from None
    if age > tolerance:
        raise SignatureRefused(f"signed more than {tolerance} s away from now: refused as a replay")


def _event_field(body: bytes, name: str) -> str:
    """A top-level field of a signed event, or "" when golive cannot read it: the signature is
    what makes a delivery count, the body is the provider's. Read with golive's JSON kit, so a
    body nested 100,000 deep is refused rather than exhausting the recursion limit (a 500 once),
    and without NUL characters, which PostgreSQL cannot store."""
    try:
        document = jsonbody.parse(body)
    except jsonbody.BodyRefused:
        return ""
    value = document.get(name) if isinstance(document, dict) else None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return ""
    return str(value).replace("\x00", "")[:200]


def event_type(body: bytes) -> str:
    return _event_field(body, "type")[:120]
