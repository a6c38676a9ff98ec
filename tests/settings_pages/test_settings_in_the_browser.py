"""An Admin sets up monitoring in headless Chromium, through golive's own pages only: a probe, a
rollback hook whose secret is shown once, webhook receipt, and a channel edit."""

import json

import httpx
import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from migrations_app.audit import Actor
from migrations_app.incidents import channels
from migrations_app.monitoring.models import Probe
from migrations_app.rollout.models import RollbackHook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _probes_may_call_this_machine(settings):
    settings.GOLIVE_PROBE_ALLOWLIST = ["127.0.0.1/32"]


def test_an_admin_adds_a_probe_and_a_rollback_hook_from_the_migration_page(
    login, admin_user, migration, live_server, page, screenshot
):
    login(admin_user)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/")
    screenshot("settings-migration-page")
    page.locator("#settings").get_by_role("link", name="Probes").click()
    page.get_by_role("link", name="Add a probe").first.click()
    page.fill("#id_name", "Provider health")
    page.fill("#id_url", "http://127.0.0.1:9/health")
    page.fill("#id_interval_seconds", "0")
    page.get_by_role("button", name="Create probe").click()
    assert page.locator("#error-interval_seconds").is_visible()  # the field is named, nothing saved
    screenshot("settings-probe-form-error")
    assert not Probe.objects.exists()
    page.fill("#id_interval_seconds", "30")
    page.get_by_role("button", name="Create probe").click()
    page.wait_for_url("**/control-room/**")
    assert Probe.objects.get().name == "Provider health"
    assert "Provider health" in page.locator("#probes").inner_text()

    page.goto(f"{live_server.url}/migrations/{migration.slug}/")
    page.locator("#settings").get_by_role("link", name="Rollback hooks").click()
    page.fill("#id_name", "Deploy pipeline")
    page.fill("#id_url", "https://deploy.example.com/golive")
    page.get_by_role("button", name="Add rollback hook").click()
    secret = page.get_by_test_id("hook-secret").inner_text()
    assert secret == RollbackHook.objects.get().secret and secret.startswith("whsec_")
    screenshot("settings-rollback-hook-created")
    page.reload()  # the same URL again: the secret is gone for good
    assert secret not in page.content()
    page.get_by_role("link", name="Edit").click()
    assert secret not in page.content()
    page.get_by_text("Delete this hook…").click()
    screenshot("settings-rollback-hook-edit")
    page.get_by_role("button", name="Yes, delete “Deploy pipeline”").click()
    page.wait_for_url("**/rollback-hooks/")
    assert not RollbackHook.objects.exists()


def test_an_admin_sets_up_webhook_receipt_and_sees_deliveries(
    login, admin_user, migration, live_server, page, screenshot
):
    login(admin_user)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/")
    page.locator("#settings").get_by_role("link", name="Webhook receipt").click()
    screenshot("settings-webhook-receipt-empty")
    page.get_by_role("button", name="Set up webhook receipt").click()
    secret = page.get_by_test_id("inbound-secret").inner_text()
    url = page.get_by_test_id("receive-url").inner_text()
    screenshot("settings-webhook-receipt-secret")
    body = json.dumps({"type": "payment.succeeded", "data": {"id": "pay_1"}})
    now = timezone.now()
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_1", now, body),
        "content-type": "application/json",
    }
    assert httpx.post(url, content=body, headers=headers).status_code == 200
    assert httpx.post(url, content=body, headers=headers | {"webhook-id": "forged"}).status_code == 401
    page.get_by_role("button", name="Add the webhook KPIs").click()
    page.wait_for_url("**/webhook-receipt/#kpis")
    assert secret not in page.content()
    assert "payment.succeeded" in page.content()
    screenshot("settings-webhook-receipt-deliveries")


def test_an_admin_edits_a_channel_without_seeing_its_secret(login, admin_user, live_server, page, screenshot):
    channel = channels.create_channel(
        by=Actor.system("tests"), name="Partner hook", kind="webhook", url="https://partner.example.com/in"
    )
    login(admin_user)
    page.goto(f"{live_server.url}/notifications/")
    page.get_by_role("link", name="Edit").click()
    assert channel.secret not in page.content()
    page.fill("#id_url", "https://partner.example.com/v2")
    page.get_by_role("button", name="Save channel").click()
    page.wait_for_url(f"{live_server.url}/notifications/")
    channel.refresh_from_db()
    assert channel.url == "https://partner.example.com/v2"
    page.goto(f"{live_server.url}/notifications/{channel.pk}/")
    page.get_by_text("Delete this channel…").click()
    screenshot("settings-channel-edit")
