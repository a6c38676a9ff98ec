"""The demo provider's signed webhooks land on the rolling-out demo migration's receiving URL."""

import httpx
import pytest
from django.core.management import call_command
from django.urls import reverse

from migrations_app.audit import Actor
from migrations_app.demo import provider as demo_provider
from migrations_app.inbound import services
from migrations_app.inbound.models import InboundDelivery, InboundWebhook
from migrations_app.models import AuditEvent
from migrations_app.monitoring.models import Kpi, Sample
from tests.factories import make_migration

SYSTEM = Actor.system("tests")


@pytest.mark.django_db
def test_seed_demo_sets_up_webhook_receipt_with_the_providers_secret_once(tmp_path):
    options = {
        "token_file": str(tmp_path / "token"),
        "provider_url": "http://127.0.0.1:8765",
        "webhook_secret": demo_provider.DEFAULT_WEBHOOK_SECRET,
    }
    call_command("seed_demo", **options)
    endpoint = InboundWebhook.objects.get(migration__slug="webhook-service")
    assert endpoint.secret == demo_provider.DEFAULT_WEBHOOK_SECRET and endpoint.scheme == "standard"
    assert Kpi.objects.filter(migration=endpoint.migration, metric__startswith="webhooks.").count() == 3
    audit_rows = AuditEvent.objects.count()
    call_command("seed_demo", **options)
    assert AuditEvent.objects.count() == audit_rows


@pytest.mark.django_db(transaction=True)
def test_the_demo_providers_webhook_is_verified_and_counted(live_server, ops, tmp_path):
    migration = make_migration(owner=ops, slug="webhook-service")
    endpoint, _ = services.configure_inbound(migration, by=SYSTEM, scheme="standard")
    services.rotate_inbound_secret(endpoint, by=SYSTEM, secret=demo_provider.DEFAULT_WEBHOOK_SECRET)
    sender = demo_provider.Sender(
        demo_provider.State(demo_provider.DEFAULT_API_KEY),
        golive_url=live_server.url,
        slug="",
        token_file=tmp_path / "none",
        webhook_url=live_server.url + reverse("inbound_receiver:receive", args=[migration.slug]),
        webhook_secret=demo_provider.DEFAULT_WEBHOOK_SECRET,
        every=60,
    )
    with httpx.Client(timeout=5) as client:
        sender.send_webhook(client)
    delivery = InboundDelivery.objects.get()
    assert delivery.verified and delivery.event_type == "payment.succeeded"
    assert Sample.objects.filter(migration=migration, metric="webhooks.received").count() == 1
