"""Webhook receipt: signatures checked with the real standardwebhooks package and a Stripe-style
HMAC, replays refused, deliveries counted as samples that guardrails watch."""

import datetime as dt
import hashlib
import hmac
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from migrations_app.audit import Actor
from migrations_app.inbound import kpis, services
from migrations_app.inbound.models import InboundDelivery, InboundWebhook
from migrations_app.models import AuditEvent
from migrations_app.monitoring import services as monitoring
from migrations_app.monitoring.models import Alert, Guardrail, GuardrailKind, Kpi, Sample
from tests.factories import put_live

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


@pytest.fixture
def standard(migration):
    endpoint, secret = services.configure_inbound(migration, by=SYSTEM, scheme="standard")
    return endpoint, secret


@pytest.fixture
def stripe(migration):
    endpoint, secret = services.configure_inbound(migration, by=SYSTEM, scheme="stripe")
    return endpoint, secret


def event(event_id="evt_1"):
    return json.dumps({"id": event_id, "type": "payment.succeeded", "data": {"amount": 1200}})


def standard_headers(secret, body, *, msg_id="msg_1", at=None):
    at = at or timezone.now()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, at, body),
    }


def stripe_headers(secret, body, *, at=None):
    t = int((at or timezone.now()).timestamp())
    digest = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={t},v1={digest}"}


def deliver(client, migration, body, headers):
    url = reverse("inbound_receiver:receive", args=[migration.slug])
    return client.post(url, data=body, content_type="application/json", headers=headers)


def samples(migration, metric):
    return list(Sample.objects.filter(migration=migration, metric=metric).values_list("ok", "failed"))


def test_it_accepts_a_delivery_signed_with_the_standard_webhooks_package(client, migration, standard):
    _, secret = standard
    body = event()
    response = deliver(client, migration, body, standard_headers(secret, body))
    assert response.status_code == 200 and response.json()["received"] is True
    delivery = InboundDelivery.objects.get()
    assert delivery.verified and delivery.event_id == "msg_1" and delivery.event_type == "payment.succeeded"
    assert samples(migration, "webhooks.received") == [(1, 0)]
    assert samples(migration, "webhooks.verified") == [(1, 0)]


def test_it_accepts_a_stripe_style_signature(client, migration, stripe):
    _, secret = stripe
    body = event("evt_stripe")
    response = deliver(client, migration, body, stripe_headers(secret, body))
    assert response.status_code == 200
    assert InboundDelivery.objects.get().event_id == "evt_stripe"


def test_a_wrong_signature_answers_401_and_counts_as_a_failure(client, migration, standard):
    body = event()
    forged = standard_headers("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB", body)
    response = deliver(client, migration, body, forged)
    assert response.status_code == 401 and "Signature refused" in response.json()["error"]
    assert samples(migration, "webhooks.verified") == [(0, 1)]
    assert samples(migration, "webhooks.received") == []
    assert not InboundDelivery.objects.get().verified


@pytest.mark.parametrize("scheme", ["standard", "stripe"])
def test_a_correctly_signed_replay_outside_the_tolerance_is_refused(client, migration, scheme):
    _, secret = services.configure_inbound(migration, by=SYSTEM, scheme=scheme)
    body = event()
    ten_minutes_ago = timezone.now() - dt.timedelta(minutes=10)
    sign = standard_headers if scheme == "standard" else stripe_headers
    response = deliver(client, migration, body, sign(secret, body, at=ten_minutes_ago))
    assert response.status_code == 401
    assert "replay" in response.json()["error"]
    assert samples(migration, "webhooks.received") == []


@pytest.mark.parametrize("header", ["v1", "v1,!!!", "garbage without comma", ""])
def test_malformed_signature_headers_answer_401_never_500(client, migration, standard, header):
    body = event()
    headers = standard_headers(standard[1], body) | {"webhook-signature": header}
    assert deliver(client, migration, body, headers).status_code == 401


def test_a_retried_event_is_answered_but_counted_once(client, migration, standard):
    body = event()
    headers = standard_headers(standard[1], body)
    assert deliver(client, migration, body, headers).status_code == 200
    again = deliver(client, migration, body, headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert samples(migration, "webhooks.received") == [(1, 0)]


def test_a_body_over_the_limit_answers_413(client, migration, standard):
    body = json.dumps({"id": "big", "pad": "x" * (300 * 1024)})
    response = deliver(client, migration, body, standard_headers(standard[1], body))
    assert response.status_code == 413
    assert not InboundDelivery.objects.exists()


def test_unknown_or_switched_off_receipt_answers_404_and_get_405(client, migration, standard):
    assert client.get(reverse("inbound_receiver:receive", args=[migration.slug])).status_code == 405
    body = event()
    assert deliver(client, migration.__class__(slug="nope"), body, {}).status_code == 404
    services.configure_inbound(migration, by=SYSTEM, scheme="standard", enabled=False)
    assert deliver(client, migration, body, standard_headers(standard[1], body)).status_code == 404


def test_after_rotation_the_old_secret_is_refused(client, migration, standard):
    endpoint, old = standard
    new = services.rotate_inbound_secret(endpoint, by=SYSTEM)
    body = event()
    assert deliver(client, migration, body, standard_headers(old, body)).status_code == 401
    assert deliver(client, migration, body, standard_headers(new, body, msg_id="m2")).status_code == 200
    audit = AuditEvent.objects.get(action="inbound_webhook.secret_rotated")
    assert new not in json.dumps(audit.after) and old not in json.dumps(audit.after)


def test_the_no_data_guardrail_fires_when_deliveries_stop(client, migration, standard):
    put_live(migration, 25)  # a no-data rule watches only while users are on the new path
    created = kpis.add_webhook_kpis(migration, by=SYSTEM, action="alert", no_data_seconds=30)
    assert [k.name for k in created] == [
        "Webhooks received (10 min)",
        "Webhook deliveries verified",
        "Webhook signature failures",
    ]
    guardrail = Guardrail.objects.get(kind=GuardrailKind.NO_DATA)
    body = event()
    assert deliver(client, migration, body, standard_headers(standard[1], body)).status_code == 200
    state, _ = monitoring.evaluate_guardrail(guardrail, now=timezone.now() + dt.timedelta(seconds=5))
    assert state == "healthy"
    state, _ = monitoring.evaluate_guardrail(guardrail, now=timezone.now() + dt.timedelta(seconds=31))
    assert state == "breached"
    assert Alert.objects.filter(migration=migration, level="critical").exists()


def test_the_delivery_kpi_reads_the_share_of_verified_deliveries(client, migration, standard):
    from migrations_app.monitoring import kpis as kpi_reading

    kpis.add_webhook_kpis(migration, by=SYSTEM)
    body = event()
    for number in range(3):
        deliver(client, migration, body, standard_headers(standard[1], body, msg_id=f"m{number}"))
    deliver(
        client, migration, body, {"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,AA=="}
    )
    kpi = Kpi.objects.get(name="Webhook deliveries verified")
    assert kpi_reading.measure(kpi, now=timezone.now()).value == pytest.approx(75.0)
    failures = Kpi.objects.get(name="Webhook signature failures")
    assert kpi_reading.measure(failures, now=timezone.now()).value == pytest.approx(25.0)


def test_adding_the_webhook_kpis_twice_adds_them_once(migration):
    assert len(kpis.add_webhook_kpis(migration, by=SYSTEM)) == 3
    assert kpis.add_webhook_kpis(migration, by=SYSTEM) == []
    assert Kpi.objects.filter(migration=migration).count() == 3


# --- the page ---------------------------------------------------------------------------------


def page(migration):
    return reverse("inbound:page", args=[migration.slug])


def test_setting_up_shows_the_secret_once(client_for, ops, migration):
    client = client_for(ops)
    response = client.post(page(migration), {"scheme": "standard", "enabled": "on", "tolerance_seconds": 300})
    endpoint = InboundWebhook.objects.get(migration=migration)
    assert response.status_code == 200 and endpoint.secret in response.content.decode()
    assert endpoint.secret not in client.get(page(migration)).content.decode()
    event_row = AuditEvent.objects.get(action="inbound_webhook.created")
    assert event_row.after == {"scheme": "standard", "enabled": True, "tolerance_seconds": 300}


def test_changing_settings_is_audited_before_and_after(client_for, ops, migration, standard):
    response = client_for(ops).post(
        page(migration), {"scheme": "stripe", "enabled": "on", "tolerance_seconds": 120}
    )
    assert response.status_code == 302
    row = AuditEvent.objects.get(action="inbound_webhook.updated")
    assert row.before == {"scheme": "standard", "tolerance_seconds": 300}
    assert row.after == {"scheme": "stripe", "tolerance_seconds": 120}


def test_invalid_settings_answer_422_naming_the_field_and_change_nothing(client_for, ops, migration):
    response = client_for(ops).post(page(migration), {"scheme": "carrier-pigeon", "tolerance_seconds": 5})
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="error-scheme"' in body and 'id="error-tolerance_seconds"' in body
    assert not InboundWebhook.objects.exists()


def test_rotating_from_the_page_shows_the_new_secret_once(client_for, admin_user, migration, standard):
    endpoint, old = standard
    response = client_for(admin_user).post(reverse("inbound:rotate", args=[migration.slug]))
    endpoint.refresh_from_db()
    assert response.status_code == 200 and endpoint.secret != old
    assert endpoint.secret in response.content.decode()


@pytest.mark.parametrize("name", ["page", "rotate", "kpis"])
def test_outsiders_and_on_call_may_not_change_webhook_receipt(client_for, outsider, oncall, migration, name):
    url = reverse(f"inbound:{name}", args=[migration.slug])
    for user in (outsider, oncall):
        assert client_for(user).post(url, {"scheme": "standard", "tolerance_seconds": 300}).status_code == 403
    assert not InboundWebhook.objects.exists() and not Kpi.objects.exists()


@pytest.mark.parametrize("name", ["rotate", "kpis"])
def test_actions_refuse_get(client_for, ops, migration, name):
    assert client_for(ops).get(reverse(f"inbound:{name}", args=[migration.slug])).status_code == 405


def test_the_page_lists_recent_deliveries_and_counts(client, client_for, pm, migration, standard):
    body = event()
    deliver(client, migration, body, standard_headers(standard[1], body))
    deliver(
        client, migration, body, {"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,AA=="}
    )
    html = client_for(pm).get(page(migration)).content.decode()
    assert "payment.succeeded" in html and "refused" in html
    assert "<strong>1</strong> verified, <strong>1</strong> refused" in html
    assert "Rotate the secret" not in html  # a PM sees, does not configure


def test_the_kpis_form_refuses_a_bad_period_naming_it(client_for, ops, migration):
    response = client_for(ops).post(
        reverse("inbound:kpis", args=[migration.slug]), {"action": "alert", "no_data_minutes": 0}
    )
    assert response.status_code == 422 and 'id="error-no_data_minutes"' in response.content.decode()
    assert not Kpi.objects.exists()
