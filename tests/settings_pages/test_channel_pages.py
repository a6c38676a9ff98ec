"""Notification channel pages (Admins): create, edit, test, delete."""

import pytest
from django.urls import reverse

from migrations_app.audit import Actor
from migrations_app.incidents import channels
from migrations_app.incidents.models import NotificationChannel
from migrations_app.models import AuditEvent
from migrations_app.rollout.models import OutboxMessage

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


@pytest.fixture
def channel(db):
    return channels.create_channel(by=SYSTEM, name="Ops mailbox", kind="email", addresses="ops@example.com")


def test_creating_audits_the_channel_without_its_secret(client_for, admin_user, migration):
    body = {
        "name": "Partner hook",
        "kind": "webhook",
        "url": "https://partner.example.com/in",
        "secret": "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ=",
        "incidents": "on",
        "active": "on",
        "migrations": [migration.pk],
    }
    assert client_for(admin_user).post(reverse("incidents_channels:create"), body).status_code == 302
    channel = NotificationChannel.objects.get()
    row = AuditEvent.objects.get(action="channel.created")
    assert row.after["migrations"] == [migration.slug] and "secret" not in row.after
    assert channel.secret == body["secret"]


def test_editing_records_before_and_after(client_for, admin_user, channel):
    url = reverse("incidents_channels:edit", args=[channel.pk])
    body = {
        "name": "Ops mailbox",
        "kind": "email",
        "addresses": "ops@example.com, lead@example.com",
        "incidents": "on",
        "active": "on",
    }
    assert client_for(admin_user).post(url, body).status_code == 302
    row = AuditEvent.objects.get(action="channel.updated")
    assert row.before == {"addresses": "ops@example.com", "announcements": True}
    assert row.after == {"addresses": "ops@example.com, lead@example.com", "announcements": False}


def test_invalid_edit_answers_422_naming_the_field_and_changes_nothing(client_for, admin_user, channel):
    url = reverse("incidents_channels:edit", args=[channel.pk])
    body = {"name": "Ops mailbox", "kind": "email", "addresses": "not-an-address", "active": "on"}
    response = client_for(admin_user).post(url, body)
    assert response.status_code == 422 and 'id="error-addresses"' in response.content.decode()
    channel.refresh_from_db()
    assert channel.addresses == "ops@example.com"


def test_the_edit_page_never_shows_a_webhook_secret(client_for, admin_user):
    hook = channels.create_channel(by=SYSTEM, name="Hook", kind="webhook", url="https://h.example.com/")
    html = client_for(admin_user).get(reverse("incidents_channels:edit", args=[hook.pk])).content.decode()
    assert hook.secret not in html


def test_test_notification_is_queued(client_for, admin_user, channel):
    assert (
        client_for(admin_user).post(reverse("incidents_channels:test", args=[channel.pk])).status_code == 302
    )
    assert OutboxMessage.objects.filter(dedupe_key__startswith=f"channel:{channel.pk}:").exists()


def test_delete_asks_for_confirmation_then_audits(client_for, admin_user, channel):
    client = client_for(admin_user)
    url = reverse("incidents_channels:delete", args=[channel.pk])
    assert client.post(url).status_code == 422 and NotificationChannel.objects.exists()
    assert (
        client.post(url, {"confirm": "yes"}).status_code == 302 and not NotificationChannel.objects.exists()
    )
    assert AuditEvent.objects.get(action="channel.deleted").before["name"] == "Ops mailbox"


@pytest.mark.parametrize("name", ["edit", "delete"])
def test_only_admins_change_channels(client_for, ops, outsider, channel, name):
    for user in (ops, outsider):
        assert (
            client_for(user)
            .post(reverse(f"incidents_channels:{name}", args=[channel.pk]), {"confirm": "yes"})
            .status_code
            == 403
        )
    assert NotificationChannel.objects.filter(pk=channel.pk).exists()


def test_delete_refuses_get(client_for, admin_user, channel):
    assert (
        client_for(admin_user).get(reverse("incidents_channels:delete", args=[channel.pk])).status_code == 405
    )
