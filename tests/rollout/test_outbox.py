"""Outbox delivery: signed webhooks, e-mails, retries with backoff, and one delivery per row."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.models import Contact
from migrations_app.rollout import outbox, services
from migrations_app.rollout.models import OutboxMessage, OutboxStatus, RollbackHook, new_webhook_secret
from tests.rollout.receiver import webhook_receiver

pytestmark = pytest.mark.django_db


def _roll_back(migration, user):
    return services.roll_back(migration, by=Actor.for_user(user), reason="error rate 4 %")


def test_it_delivers_rollback_webhooks_signed_with_standard_webhooks(live_migration, oncall):
    secret = new_webhook_secret()
    with webhook_receiver(secret) as receiver:
        RollbackHook.objects.create(
            migration=live_migration, name="Deploy pipeline", url=receiver.url, secret=secret
        )
        rollback = _roll_back(live_migration, oncall)
        assert outbox.dispatch_due() == 1
    (delivery,) = receiver.received
    assert "error" not in delivery, delivery
    message = OutboxMessage.objects.get(kind="webhook")
    assert delivery["headers"]["webhook-id"] == str(message.pk)
    assert delivery["headers"]["webhook-signature"].startswith("v1,")
    assert delivery["payload"]["type"] == "migration.rolled_back"
    assert delivery["payload"]["data"] == {
        "migration": "card-payments",
        "name": "Card payments go-live",
        "rollback_id": rollback.pk,
        "from_percent": 25,
        "percent": 0,
        "reason": "error rate 4 %",
        "by": "oncall-user",
    }
    assert (message.status, message.attempts) == (OutboxStatus.DELIVERED, 1)


def test_a_wrong_secret_fails_verification(live_migration, oncall):
    with webhook_receiver(new_webhook_secret()) as receiver:
        RollbackHook.objects.create(
            migration=live_migration, name="LB", url=receiver.url, secret=new_webhook_secret()
        )
        _roll_back(live_migration, oncall)
        outbox.dispatch_due()
    assert "error" in receiver.received[0]
    assert OutboxMessage.objects.get().status == OutboxStatus.PENDING  # 400 is retried


def test_it_retries_with_exponential_backoff(live_migration, oncall):
    secret = new_webhook_secret()
    with webhook_receiver(secret, fail_first=2) as receiver:
        RollbackHook.objects.create(migration=live_migration, name="LB", url=receiver.url, secret=secret)
        _roll_back(live_migration, oncall)
        message = OutboxMessage.objects.get()
        waits = []
        for _ in range(2):
            before = timezone.now()
            assert outbox.deliver(message.pk) == OutboxStatus.PENDING
            message.refresh_from_db()
            waits.append((message.next_attempt_at - before).total_seconds())
            assert "HTTP 500" in message.last_error
            assert outbox.deliver(message.pk) is None  # not due yet
            OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        assert outbox.deliver(message.pk) == OutboxStatus.DELIVERED
    assert 9 < waits[0] < 12 and 19 < waits[1] < 22
    message.refresh_from_db()
    assert (message.attempts, message.last_error) == (3, "")
    assert len(receiver.received) == 1


def test_it_gives_up_after_the_last_attempt(live_migration, oncall):
    RollbackHook.objects.create(
        migration=live_migration, name="Gone", url="http://127.0.0.1:9/nothing-listens"
    )
    _roll_back(live_migration, oncall)
    message = OutboxMessage.objects.get()
    for _ in range(outbox.MAX_ATTEMPTS):
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        outbox.deliver(message.pk)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, outbox.MAX_ATTEMPTS)
    assert "ConnectError" in message.last_error


def test_a_claimed_row_is_not_claimed_twice(live_migration, oncall):
    RollbackHook.objects.create(migration=live_migration, name="LB", url="http://127.0.0.1:9/x")
    _roll_back(live_migration, oncall)
    message = OutboxMessage.objects.get()
    assert outbox.claim(message.pk) is not None
    assert outbox.claim(message.pk) is None
    # A worker that died keeps the row only until its lease ends.
    OutboxMessage.objects.filter(pk=message.pk).update(lease_until=timezone.now() - dt.timedelta(seconds=1))
    assert outbox.claim(message.pk) is not None


def test_it_emails_the_on_call_contacts(live_migration, oncall):
    contact = Contact.objects.create(
        name="Pager", kind="internal_technical", role="On-call", email="pager@example.com", on_call=True
    )
    contact.migrations.add(live_migration)
    _roll_back(live_migration, oncall)
    assert outbox.dispatch_due() == 1
    (email,) = mail.outbox
    assert email.to == ["pager@example.com"]
    assert "ROLLED BACK: Card payments go-live (25 % -> 0 %)" in email.subject
    assert "Reason: error rate 4 %" in email.body


def test_a_dedupe_key_writes_one_row(live_migration):
    for _ in range(2):
        outbox.enqueue_email(
            to=["a@example.com"], subject="s", body="b", migration=live_migration, dedupe_key="k1"
        )
    assert OutboxMessage.objects.count() == 1


def test_the_panel_shows_each_delivery(client_for, live_migration, oncall):
    RollbackHook.objects.create(migration=live_migration, name="LB", url="http://127.0.0.1:9/lb")
    _roll_back(live_migration, oncall)
    outbox.dispatch_due()
    html = client_for(oncall).get("/migrations/card-payments/").content.decode()
    assert "Rollback deliveries" in html and "http://127.0.0.1:9/lb" in html and "ConnectError" in html
