"""Announcements: templates with placeholders, proposals tied to the migration's state, sending
to subscribers and channels (over a real SMTP server), scheduling."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.incidents import announcements
from migrations_app.incidents.models import (
    Announcement,
    AnnouncementStatus,
    AnnouncementTemplate,
    ChannelKind,
    NotificationChannel,
)
from migrations_app.models import AuditEvent, Migration
from migrations_app.rollout import outbox
from migrations_app.rollout.models import OutboxMessage, OutboxStatus
from tests.incidents.servers import json_receiver


def _set_status(migration, status):
    Migration.objects.filter(pk=migration.pk).update(status=status)
    migration.refresh_from_db()
    return migration


def test_it_fills_the_placeholders_and_leaves_unknown_braces(migration, ops):
    AnnouncementTemplate.objects.update_or_create(
        kind="maintenance",
        defaults=dict(
            subject="Work on {migration} {date}",
            body="{window} for {duration}; ask {contact}. {other} {",
        ),
    )
    a = announcements.draft(
        migration,
        by=Actor.for_user(ops),
        kind="maintenance",
        date="Sat 5 Dec",
        window="02:00-04:00 UTC",
        duration="2 h",
        contact="help@example.com",
    )
    assert a.subject == "Work on Card payments go-live Sat 5 Dec"
    assert a.body == "02:00-04:00 UTC for 2 h; ask help@example.com. {other} {"


def test_a_missing_value_shows_as_a_visible_gap(migration, ops):
    a = announcements.draft(migration, by=Actor.for_user(ops), kind="maintenance")
    assert "[date]" in a.subject and "[window]" in a.body


@pytest.mark.parametrize(
    ("status", "kinds"),
    [
        ("draft", []),
        ("ready", ["maintenance"]),
        ("rolling_out", ["maintenance"]),
        ("completed", ["complete"]),
    ],
)
def test_golive_proposes_the_notice_that_fits_the_state(migration, status, kinds):
    _set_status(migration, status)
    assert [p["kind"] for p in announcements.proposals(migration)] == kinds


def test_a_proposal_is_drafted_once_and_then_disappears(migration, ops):
    _set_status(migration, "rolling_out")
    first = announcements.draft(migration, by=Actor.for_user(ops), kind="maintenance", proposed=True)
    second = announcements.draft(migration, by=Actor.for_user(ops), kind="maintenance", proposed=True)
    assert first.pk == second.pk and first.proposed
    assert announcements.proposals(migration) == []


def test_sending_mails_each_subscriber_and_posts_to_channels_once(smtp, migration, ops):
    for address in ("a@example.com", "b@example.com"):
        announcements.add_subscriber(migration, by=Actor.for_user(ops), email=address)
    with json_receiver() as chat:
        NotificationChannel.objects.create(
            name="#status", kind=ChannelKind.SLACK, url=chat.url, incidents=False
        )
        a = announcements.draft(
            migration, by=Actor.for_user(ops), kind="complete", date="today", contact="support"
        )
        announcements.send(a, by=Actor.for_user(ops))
        again = announcements.send(a, by=Actor.for_user(ops))
        assert again.already
        for message in OutboxMessage.objects.filter(status=OutboxStatus.PENDING):
            assert outbox.deliver(message.pk) == OutboxStatus.DELIVERED
    assert sorted(m["X-Envelope-To"] for m in smtp.messages) == ["a@example.com", "b@example.com"]
    assert smtp.messages[0]["Subject"] == "Maintenance complete: Card payments go-live"
    assert "Card payments go-live" in chat.received[0]["body"]["text"]
    a.refresh_from_db()
    assert a.status == AnnouncementStatus.SENT and a.recipients == 2 and a.sent_by == "ops-user"
    assert AuditEvent.objects.filter(action="announcement.sent").count() == 1


def test_a_scheduled_announcement_is_sent_by_the_beat_once_due(migration, ops):
    announcements.add_subscriber(migration, by=Actor.for_user(ops), email="a@example.com")
    now = timezone.now()
    a = announcements.draft(migration, by=Actor.for_user(ops), kind="maintenance")
    announcements.schedule(a, by=Actor.for_user(ops), send_at=now + dt.timedelta(hours=1), now=now)
    assert announcements.send_due(now=now + dt.timedelta(minutes=59)) == 0
    assert announcements.send_due(now=now + dt.timedelta(hours=1)) == 1
    assert announcements.send_due(now=now + dt.timedelta(hours=2)) == 0
    assert OutboxMessage.objects.filter(kind="email").count() == 1
    a.refresh_from_db()
    assert a.sent_by == "announcement schedule"


def test_scheduling_in_the_past_or_sending_a_cancelled_one_is_refused(migration, ops):
    a = announcements.draft(migration, by=Actor.for_user(ops), kind="maintenance")
    with pytest.raises(ValidationError, match="future"):
        announcements.schedule(a, by=Actor.for_user(ops), send_at=timezone.now() - dt.timedelta(minutes=1))
    announcements.cancel(a, by=Actor.for_user(ops))
    with pytest.raises(ValidationError, match="cancelled"):
        announcements.send(a, by=Actor.for_user(ops))
    assert not OutboxMessage.objects.exists()


def test_editing_fills_placeholders_and_sent_ones_cannot_change(migration, ops):
    a = announcements.draft(migration, by=Actor.for_user(ops), kind="maintenance")
    announcements.edit(
        a,
        by=Actor.for_user(ops),
        subject="Work on {date}",
        body="Window {window}",
        date="Sunday",
        window="1-2",
    )
    a.refresh_from_db()
    assert (a.subject, a.body) == ("Work on Sunday", "Window 1-2")
    announcements.send(a, by=Actor.for_user(ops))
    with pytest.raises(ValidationError):
        announcements.edit(a, by=Actor.for_user(ops), subject="x", body="y")
    assert Announcement.objects.get().subject == "Work on Sunday"


def test_subscribers_are_validated_and_kept_once(migration, ops):
    with pytest.raises(ValidationError):
        announcements.add_subscriber(migration, by=Actor.for_user(ops), email="not-an-address")
    announcements.add_subscriber(migration, by=Actor.for_user(ops), email="A@Example.com")
    announcements.add_subscriber(migration, by=Actor.for_user(ops), email="a@example.com")
    assert list(migration.status_subscribers.values_list("email", flat=True)) == ["a@example.com"]
