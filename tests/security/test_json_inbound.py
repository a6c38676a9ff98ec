"""The public inbound webhook receiver (/inbound/<slug>/webhooks) fed hostile bodies and headers,
unsigned and signed with the real secret (standardwebhooks, Stripe-style HMAC), DEBUG on and off:
never a 5xx, never Python's words; a refusal says why in its own shape ({"error": ...}); a signed
body golive cannot read is still counted as a verified delivery, and no NUL reaches the database."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from django.test import override_settings
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from migrations_app.audit import Actor
from migrations_app.inbound import services
from migrations_app.inbound.models import InboundDelivery
from migrations_app.inbound.views import MAX_BODY_BYTES
from tests.security.test_json_bodies import HOSTILE_VALUES, PYTHON_WORDS, WHOLE_BODIES

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")
URL = "/inbound/card-payments/webhooks"

BODIES = {
    **WHOLE_BODIES,
    **{
        f"event with {name}": b'{"id": "evt_1", "type": %s}' % value.encode()
        for name, value in HOSTILE_VALUES.items()
    },
    "NUL in the id and type": b'{"id": "evt\\u00001", "type": "payment\\u0000.succeeded"}',
    "an array": b"[1, 2, 3]",
}
HOSTILE_TIMESTAMPS = ["9" * 400, "9" * 5000, "-" + "9" * 400, "1e999", "NaN", "", "12abc"]


def standard_headers(secret: str, body: bytes, *, msg_id: str) -> dict:
    at = timezone.now()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode("utf-8", "replace")),
    }


def stripe_headers(secret: str, body: bytes) -> dict:
    t = str(int(timezone.now().timestamp()))
    digest = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={digest}"}


def deliver(client, body: bytes, headers: dict, content_type="application/json"):
    return client.post(URL, data=body, content_type=content_type, headers=headers)


def assert_readable(response, *statuses):
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    text = response.content.decode()
    assert not any(word in text for word in PYTHON_WORDS), text[:300]
    return response.json()


@pytest.fixture
def receiving(migration):
    def configure(scheme):
        endpoint, secret = services.configure_inbound(migration, by=SYSTEM, scheme=scheme)
        return endpoint, secret

    return configure


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_an_unsigned_hostile_body_is_refused_as_unsigned(client, receiving, debug):
    receiving("standard")
    with override_settings(DEBUG=debug):
        for name, body in BODIES.items():
            assert "Signature refused" in assert_readable(deliver(client, body, {}), 401)["error"], name
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
            assert_readable(deliver(client, b"a=1", {}, content_type), 401)
        too_big = deliver(client, b"x" * (MAX_BODY_BYTES + 1), {})
        assert "at most" in assert_readable(too_big, 413)["error"]
    assert not InboundDelivery.objects.filter(verified=True).exists()


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize("scheme", ["standard", "stripe"])
def test_a_hostile_signature_timestamp_is_refused_not_an_error(client, receiving, scheme, debug):
    receiving(scheme)
    with override_settings(DEBUG=debug):
        for timestamp in HOSTILE_TIMESTAMPS:
            if scheme == "standard":
                headers = {"webhook-id": "m", "webhook-timestamp": timestamp, "webhook-signature": "v1,AAAA"}
            else:
                headers = {"Stripe-Signature": f"t={timestamp},v1=00"}
            answer = assert_readable(deliver(client, b'{"id": "evt_1"}', headers), 401)
            assert "Signature refused" in answer["error"], timestamp


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@pytest.mark.parametrize("scheme", ["standard", "stripe"])
def test_a_signed_body_golive_cannot_read_is_counted_without_an_error(client, receiving, scheme, debug):
    endpoint, secret = receiving(scheme)
    sign = standard_headers if scheme == "standard" else stripe_headers
    not_text = {name for name, body in BODIES.items() if not _is_utf8(body)}
    received = set()
    with override_settings(DEBUG=debug):
        for number, (name, body) in enumerate(BODIES.items()):
            headers = (
                sign(secret, body, msg_id=f"msg_{number}") if scheme == "standard" else sign(secret, body)
            )
            answer = assert_readable(deliver(client, body, headers), 200, 401)
            if answer.get("received") is True:
                received.add(name)
    # Standard Webhooks signs text: a body that is not UTF-8 cannot carry a valid signature.
    assert received == set(BODIES) - (not_text if scheme == "standard" else set())
    stored = InboundDelivery.objects.filter(endpoint=endpoint, verified=True)
    assert stored.exists() and not any("\x00" in d.event_id + d.event_type for d in stored)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
