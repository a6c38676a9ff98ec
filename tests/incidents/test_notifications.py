"""Notifications over real transports: a local SMTP server (aiosmtpd), a local receiver that
verifies Standard Webhooks signatures, and local stand-ins for Slack and the Telegram API."""

import re

import pytest

from migrations_app.audit import Actor
from migrations_app.incidents import channels, services
from migrations_app.incidents.models import ChannelKind, Incident, NotificationChannel, Severity
from migrations_app.rollout import outbox
from migrations_app.rollout import services as rollout
from migrations_app.rollout.models import OutboxMessage, OutboxStatus
from tests.factories import put_live
from tests.incidents.servers import json_receiver
from tests.processes import celery_worker, wait_until
from tests.rollout.receiver import webhook_receiver


def _deliver_all() -> None:
    for message in OutboxMessage.objects.filter(status=OutboxStatus.PENDING):
        outbox.deliver(message.pk)


def test_the_on_call_page_arrives_over_smtp_with_a_working_ack_link(
    smtp, client, live_migration, people, oncall, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rollback = rollout.roll_back(live_migration, by=Actor.for_user(oncall), reason="error rate 6 %")
    _deliver_all()
    pages = [m for m in smtp.messages if "SEV2" in m["Subject"]]
    assert sorted(m["X-Envelope-To"] for m in pages) == people["on_call"]  # one message each
    body = pages[0].get_content()
    assert "rolled back from 25 %" in body and "Acknowledge (one click, no login)" in body
    link = re.search(r"http://localhost:8000(/ack/\S+/)", body).group(1)
    assert client.post(link).status_code == 200
    incident = Incident.objects.get(pk=rollback.incident_id)
    assert incident.acknowledged_by.endswith("via e-mail link") and incident.escalate_at is None


def test_a_signed_webhook_channel_is_verified_by_the_receiver(
    migration, people, django_capture_on_commit_callbacks
):
    channel = NotificationChannel.objects.create(
        name="Incident bus", kind=ChannelKind.WEBHOOK, url="http://x"
    )
    with webhook_receiver(channel.secret) as receiver:
        channel.url = receiver.url
        channel.save()
        with django_capture_on_commit_callbacks(execute=True):
            incident = services.open_or_attach_incident(
                migration, by=Actor.system("tests"), title="Card declines", severity=Severity.SEV1
            )
        _deliver_all()
    assert len(receiver.received) == 1 and "error" not in receiver.received[0]
    payload = receiver.received[0]["payload"]
    assert payload["type"] == "incident.opened"
    assert payload["data"]["incident_id"] == incident.pk and payload["data"]["severity"] == "sev1"
    assert receiver.received[0]["headers"]["webhook-id"]


def test_a_webhook_signed_with_another_secret_is_refused_and_shows_as_a_failure(migration):
    channel = NotificationChannel.objects.create(name="Bus", kind=ChannelKind.WEBHOOK, url="http://x")
    with webhook_receiver("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY") as receiver:
        channel.url = receiver.url
        channel.save()
        message = channels.send_test(channel, by=Actor.system("tests"))
        assert outbox.deliver(message.pk) == OutboxStatus.PENDING  # retried later
    message.refresh_from_db()
    assert message.attempts == 1 and "HTTP 400" in message.last_error
    assert channels.recent_deliveries(channel)[0].last_error == message.last_error


def test_slack_compatible_channels_get_plain_json(migration):
    with json_receiver() as receiver:
        channel = NotificationChannel.objects.create(
            name="#ops", kind=ChannelKind.SLACK, url=receiver.url + "/hook"
        )
        message = channels.send_test(channel, by=Actor.system("tests"))
        assert outbox.deliver(message.pk) == OutboxStatus.DELIVERED
    assert receiver.received[0]["path"] == "/hook"
    assert receiver.received[0]["body"]["text"].startswith("*[golive] Test notification for #ops*")


def test_telegram_reads_the_token_from_the_named_variable_and_never_stores_it(
    migration, settings, monkeypatch
):
    monkeypatch.setenv("GOLIVE_TEST_TG_TOKEN", "123456:SECRET-token")
    with json_receiver() as receiver:
        settings.GOLIVE_TELEGRAM_API_BASE = receiver.url
        channel = NotificationChannel.objects.create(
            name="Ops chat",
            kind=ChannelKind.TELEGRAM,
            telegram_chat_id="-1001",
            telegram_token_env="GOLIVE_TEST_TG_TOKEN",
        )
        message = channels.send_test(channel, by=Actor.system("tests"))
        assert outbox.deliver(message.pk) == OutboxStatus.DELIVERED
    assert receiver.received[0]["path"] == "/bot123456:SECRET-token/sendMessage"
    assert receiver.received[0]["body"]["chat_id"] == "-1001"
    message.refresh_from_db()
    assert "SECRET" not in str(message.payload) + message.target


def test_a_telegram_failure_names_the_problem_without_the_token(migration, settings, monkeypatch):
    monkeypatch.setenv("GOLIVE_TEST_TG_TOKEN", "123456:SECRET-token")
    with json_receiver(status=400) as receiver:
        settings.GOLIVE_TELEGRAM_API_BASE = receiver.url
        channel = NotificationChannel.objects.create(
            name="Ops chat",
            kind=ChannelKind.TELEGRAM,
            telegram_chat_id="-1",
            telegram_token_env="GOLIVE_TEST_TG_TOKEN",
        )
        message = channels.send_test(channel, by=Actor.system("tests"))
        outbox.deliver(message.pk)
    message.refresh_from_db()
    assert "HTTP 400" in message.last_error and "SECRET" not in message.last_error
    monkeypatch.delenv("GOLIVE_TEST_TG_TOKEN")
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=message.created_at)
    outbox.deliver(message.pk)
    message.refresh_from_db()
    assert "GOLIVE_TEST_TG_TOKEN holding the bot token is not set" in message.last_error


def test_e_mail_channels_receive_incident_notices_over_smtp(
    smtp, migration, django_capture_on_commit_callbacks
):
    NotificationChannel.objects.create(
        name="Ops list", kind=ChannelKind.EMAIL, addresses="ops-list@example.com"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.open_or_attach_incident(
            migration, by=Actor.system("tests"), title="Timeouts", severity=Severity.SEV2
        )
    _deliver_all()
    assert [m["X-Envelope-To"] for m in smtp.messages] == ["ops-list@example.com"]
    assert "Timeouts" in smtp.messages[0]["Subject"]


def test_channels_can_be_limited_to_some_migrations_and_purposes(migration):
    from tests.factories import make_migration

    other = make_migration()
    only_other = NotificationChannel.objects.create(
        name="A", kind=ChannelKind.SLACK, url="http://127.0.0.1:9/a"
    )
    only_other.migrations.add(other)
    everywhere = NotificationChannel.objects.create(
        name="B", kind=ChannelKind.SLACK, url="http://127.0.0.1:9/b"
    )
    NotificationChannel.objects.create(
        name="C", kind=ChannelKind.SLACK, url="http://127.0.0.1:9/c", incidents=False
    )
    NotificationChannel.objects.create(
        name="D", kind=ChannelKind.SLACK, url="http://127.0.0.1:9/d", active=False
    )
    assert channels.channels_for(migration, purpose="incidents") == [everywhere]
    assert {c.name for c in channels.channels_for(other, purpose="incidents")} == {"A", "B"}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_rollback_reaches_the_on_call_by_smtp_and_webhook_through_a_real_worker(
    tmp_path, migration, people, oncall
):
    """The whole path: rollback -> incident -> outbox -> Celery worker -> SMTP server and signed
    webhook receiver; the on-call acknowledges through the link in the e-mail."""
    from django.test import Client

    from golive_site.celery import app

    app.control.purge()
    migration = put_live(migration, 50)
    channel = NotificationChannel.objects.create(
        name="Incident bus", kind=ChannelKind.WEBHOOK, url="http://x"
    )
    from tests.incidents.servers import smtp_server

    with smtp_server() as inbox, webhook_receiver(channel.secret) as receiver:
        channel.url = receiver.url
        channel.save()
        with celery_worker(tmp_path, EMAIL_URL=f"smtp://127.0.0.1:{inbox.port}"):
            rollback = rollout.roll_back(migration, by=Actor.for_user(oncall), reason="5xx spike")
            wait_until(
                lambda: len([m for m in inbox.messages if "SEV2" in m["Subject"]]) == 2,
                timeout=30,
                message="two on-call pages by e-mail",
            )
            wait_until(lambda: receiver.received, timeout=30, message="the signed webhook")
    assert receiver.received[0]["payload"]["data"]["incident_id"] == rollback.incident_id
    body = next(
        m for m in inbox.messages if m["X-Envelope-To"] == "pager@example.com" and "SEV2" in m["Subject"]
    ).get_content()
    link = re.search(r"(/ack/\S+/)", body).group(1)
    assert Client().post(link).status_code == 200
    incident = Incident.objects.get(pk=rollback.incident_id)
    assert incident.acknowledged_by == "pager@example.com via e-mail link"
