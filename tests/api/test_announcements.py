"""Announcements through /api/v1: draft, edit, delete a draft, schedule, send (never silently to
nobody), cancel; and the incident notice golive proposes after a rollback."""

import datetime as dt

import pytest
from django.utils import timezone

from migrations_app.incidents import announcements
from migrations_app.incidents.models import Announcement, AnnouncementStatus
from migrations_app.models import AuditEvent
from migrations_app.rollout import services as rollout_services
from migrations_app.rollout.models import OutboxMessage
from tests.api.conftest import SYSTEM, fields
from tests.factories import put_live

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(api, token_of, plan):
    body = {"kind": "maintenance", "date": "Saturday 5 December", "window": "02:00-04:00 UTC"}
    response = api("post", "/migrations/webhooks/announcements", token_of("pm"), body)
    assert response.status_code == 201, response.content
    return Announcement.objects.get(pk=response.json()["id"])


def test_a_draft_is_filled_from_its_template_listed_and_read(api, token_of, draft):
    assert "Saturday 5 December" in draft.subject and "02:00-04:00 UTC" in draft.body
    listed = api("get", "/migrations/webhooks/announcements", token_of("oncall")).json()
    assert listed["count"] == 1 and listed["items"][0]["status"] == "draft"
    assert api("get", f"/announcements/{draft.pk}", token_of("oncall")).json()["subject"] == draft.subject


def test_drafting_refuses_bad_input_and_roles_without_the_right(api, token_of, plan):
    kind = api("post", "/migrations/webhooks/announcements", token_of("pm"), {"kind": "gossip"})
    assert kind.status_code == 400 and fields(kind) == ["kind"]
    window = {"kind": "maintenance", "starts_at": "2030-01-02T03:00:00Z", "ends_at": "2030-01-02T01:00:00Z"}
    backwards = api("post", "/migrations/webhooks/announcements", token_of("pm"), window)
    assert backwards.status_code == 409 and fields(backwards) == ["ends_at"]
    oncall = api("post", "/migrations/webhooks/announcements", token_of("oncall"), {"kind": "maintenance"})
    assert oncall.status_code == 403 and "may not write or send announcements" in oncall.json()["detail"]
    assert api("post", "/migrations/webhooks/announcements", None, {"kind": "maintenance"}).status_code == 401
    assert not Announcement.objects.exists()


def test_a_draft_is_edited_and_deleted_but_a_sent_one_is_kept(api, token_of, draft, plan):
    edited = api(
        "put", f"/announcements/{draft.pk}", token_of("pm"), {"subject": "Short outage", "body": "On {date}."}
    )
    assert edited.status_code == 200 and edited.json()["body"] == "On [date]."
    empty = api("put", f"/announcements/{draft.pk}", token_of("pm"), {"subject": "", "body": "x"})
    assert empty.status_code == 400 and fields(empty) == ["subject"]
    assert api("delete", f"/announcements/{draft.pk}", token_of("oncall")).status_code == 403
    assert api("delete", f"/announcements/{draft.pk}", token_of("pm")).status_code == 204
    assert not Announcement.objects.filter(pk=draft.pk).exists()
    assert AuditEvent.objects.filter(action="announcement.deleted").exists()
    sent = announcements.draft(plan, by=SYSTEM, kind="complete")
    announcements.send(sent, by=SYSTEM)
    kept = api("delete", f"/announcements/{sent.pk}", token_of("pm"))
    assert kept.status_code == 409 and "Only a draft" in kept.json()["detail"][0]["message"]
    rewrite = api("put", f"/announcements/{sent.pk}", token_of("pm"), {"subject": "x", "body": "y"})
    assert rewrite.status_code == 409
    assert api("delete", "/announcements/999999", token_of("pm")).status_code == 404


def test_a_send_to_nobody_asks_for_confirmation_first(api, token_of, draft):
    refused = api("post", f"/announcements/{draft.pk}/send", token_of("pm"), {})
    assert refused.status_code == 409 and fields(refused) == ["confirm_no_recipients"]
    assert "Nobody would receive" in refused.json()["detail"][0]["message"]
    assert Announcement.objects.get(pk=draft.pk).status == AnnouncementStatus.DRAFT
    confirmed = api(
        "post", f"/announcements/{draft.pk}/send", token_of("pm"), {"confirm_no_recipients": True}
    )
    assert confirmed.status_code == 200 and confirmed.json()["announcement"]["status"] == "sent"


def test_a_send_reaches_each_subscriber_once(api, token_of, draft, plan):
    announcements.add_subscriber(plan, by=SYSTEM, email="reader@example.com")
    sent = api("post", f"/announcements/{draft.pk}/send", token_of("pm"), {})
    assert sent.status_code == 200 and sent.json()["already_sent"] is False
    assert "1 subscriber" in sent.json()["message"]
    again = api("post", f"/announcements/{draft.pk}/send", token_of("pm"), {})
    assert again.json()["already_sent"] is True
    assert OutboxMessage.objects.filter(dedupe_key__startswith=f"announcement:{draft.pk}:").count() == 1


def test_schedule_and_cancel(api, token_of, draft):
    past = api(
        "post", f"/announcements/{draft.pk}/schedule", token_of("pm"), {"send_at": "2001-01-01T00:00:00Z"}
    )
    assert past.status_code == 400 and fields(past) == ["send_at"]
    garbage = api("post", f"/announcements/{draft.pk}/schedule", token_of("pm"), {"send_at": "soon"})
    assert garbage.status_code == 400 and fields(garbage) == ["send_at"]
    later = (timezone.now() + dt.timedelta(hours=2)).isoformat()
    scheduled = api("post", f"/announcements/{draft.pk}/schedule", token_of("pm"), {"send_at": later})
    assert scheduled.status_code == 200 and scheduled.json()["status"] == "scheduled"
    cancelled = api("post", f"/announcements/{draft.pk}/cancel", token_of("pm"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    late = api("post", f"/announcements/{draft.pk}/schedule", token_of("pm"), {"send_at": later})
    assert late.status_code == 409
    assert api("post", f"/announcements/{draft.pk}/send", token_of("pm"), {}).status_code == 409


def test_after_a_rollback_golive_proposes_the_incident_notice(api, token_of, plan):
    put_live(plan, 25)
    assert "incident" not in [
        p["kind"]
        for p in api("get", "/migrations/webhooks/announcements/proposals", token_of("pm")).json()[
            "proposals"
        ]
    ]
    rollout_services.roll_back(plan, by=SYSTEM, reason="guardrail: error rate")
    proposals = api("get", "/migrations/webhooks/announcements/proposals", token_of("pm")).json()["proposals"]
    assert {"kind": "incident", "label": "Incident notice"} in proposals
    drafted = api(
        "post", "/migrations/webhooks/announcements", token_of("pm"), {"kind": "incident", "proposed": True}
    )
    assert drafted.status_code == 201 and drafted.json()["proposed"] is True
    after = api("get", "/migrations/webhooks/announcements/proposals", token_of("pm")).json()["proposals"]
    assert "incident" not in [p["kind"] for p in after]


def test_times_are_stored_in_utc_whatever_offset_they_come_with(api, token_of, draft):
    far_offset = "2030-06-01T12:00:00+18:30"  # RFC 3339 allows it, PostgreSQL would not store it
    response = api("post", f"/announcements/{draft.pk}/schedule", token_of("pm"), {"send_at": far_offset})
    assert response.status_code == 200 and response.json()["send_at"].startswith("2030-05-31T17:30:00")
    naive = api(
        "post", f"/announcements/{draft.pk}/schedule", token_of("pm"), {"send_at": "2030-06-01T12:00:00"}
    )
    assert naive.status_code == 400 and fields(naive) == ["send_at"]
