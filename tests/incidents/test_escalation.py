"""Escalation timing under a frozen clock (every service takes `now=`), and the signed link."""

import datetime as dt

import pytest
from django.core import signing

from migrations_app.audit import Actor
from migrations_app.incidents import escalation, services
from migrations_app.incidents.models import Incident, Severity
from migrations_app.models import AuditEvent
from migrations_app.rollout import services as rollout
from migrations_app.rollout.models import OutboxMessage

T0 = dt.datetime(2026, 11, 21, 3, 0, tzinfo=dt.UTC)


def _emails_to(address):
    return OutboxMessage.objects.filter(kind="email", target=address, dedupe_key__startswith="incident:")


def _open(migration, severity=Severity.SEV1):
    return services.open_or_attach_incident(
        migration, by=Actor.system("tests"), title="Payments failing", severity=severity, now=T0
    )


def test_it_pages_the_on_call_once_the_incident_commits(
    migration, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        incident = _open(migration)
    incident.refresh_from_db()
    assert incident.on_call_notified_at is not None
    for address in people["on_call"]:
        assert _emails_to(address).count() == 1
    for address in people["leads"]:
        assert not _emails_to(address).exists()
    assert AuditEvent.objects.filter(action="incident.notified", object_id=str(incident.pk)).count() == 1


def test_it_pages_nobody_for_sev3(migration, people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        incident = _open(migration, Severity.SEV3)
    assert escalation.escalate_due(now=T0 + dt.timedelta(hours=1)) == 0
    incident.refresh_from_db()
    assert incident.on_call_notified_at is None and not OutboxMessage.objects.exists()


def test_it_escalates_to_the_leads_only_after_the_delay(migration, people, settings):
    settings.GOLIVE_ESCALATION_MINUTES = 15
    incident = _open(migration)
    # The commit hook never ran (as if the process died): the beat task pages the on-call.
    assert escalation.escalate_due(now=T0) == 0
    incident.refresh_from_db()
    assert incident.on_call_notified_at == T0 and incident.escalate_at == T0 + dt.timedelta(minutes=15)
    assert escalation.escalate_due(now=T0 + dt.timedelta(minutes=14, seconds=59)) == 0
    assert not any(_emails_to(a).exists() for a in people["leads"])
    assert escalation.escalate_due(now=T0 + dt.timedelta(minutes=15)) == 1
    for address in people["leads"]:
        message = _emails_to(address).get()
        assert "ESCALATED" in message.payload["subject"]
    assert escalation.escalate_due(now=T0 + dt.timedelta(minutes=30)) == 0  # once only
    assert AuditEvent.objects.filter(action="incident.escalated").count() == 1


def test_an_acknowledgement_stops_the_escalation(migration, people, oncall):
    incident = _open(migration)
    escalation.escalate_due(now=T0)
    services.acknowledge(incident, by=Actor.for_user(oncall), now=T0 + dt.timedelta(minutes=3))
    assert escalation.escalate_due(now=T0 + dt.timedelta(hours=2)) == 0
    assert not any(_emails_to(a).exists() for a in people["leads"])
    incident.refresh_from_db()
    assert incident.acknowledged_by == "oncall-user" and incident.commander == oncall


def test_raising_the_severity_to_sev2_pages_the_on_call(
    migration, people, ops, django_capture_on_commit_callbacks
):
    incident = _open(migration, Severity.SEV4)
    with django_capture_on_commit_callbacks(execute=True):
        services.update_details(
            incident,
            by=Actor.for_user(ops),
            severity=Severity.SEV2,
            commander=None,
            public_title="Slow payments",
        )
    assert all(_emails_to(a).count() == 1 for a in people["on_call"])


def test_a_rollback_opens_a_sev2_incident_and_pages_the_on_call(
    live_migration, people, oncall, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rollback = rollout.roll_back(live_migration, by=Actor.for_user(oncall), reason="p95 at 4 s")
    incident = rollback.incident
    incident.refresh_from_db()
    assert incident.severity == Severity.SEV2 and incident.on_call_notified_at is not None
    page = _emails_to("pager@example.com").get()
    assert page.payload["subject"].startswith("[golive] SEV2 ")
    assert "/ack/" in page.payload["body"] and f"/incidents/{incident.pk}/" in page.payload["body"]


def test_the_signed_link_acknowledges_with_one_post_and_no_login(client, migration, people):
    incident = _open(migration)
    token = escalation.ack_token(incident, "pager@example.com")
    page = client.get(f"/ack/{token}/")
    assert page.status_code == 200 and b"Acknowledge as pager@example.com" in page.content
    incident.refresh_from_db()
    assert incident.acknowledged_at is None  # a GET (mail scanners) changes nothing
    done = client.post(f"/ack/{token}/")
    assert done.status_code == 200 and b"escalation to the leads is stopped" in done.content
    incident.refresh_from_db()
    assert incident.acknowledged_by == "pager@example.com via e-mail link"
    again = client.post(f"/ack/{token}/")
    assert b"had already acknowledged" in again.content
    assert AuditEvent.objects.filter(action="incident.acknowledged").count() == 1


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + "xx", lambda t: "1:someone@example.com:abc"])
def test_a_forged_link_acknowledges_nothing(client, migration, people, mangle):
    incident = _open(migration)
    response = client.post(f"/ack/{mangle(escalation.ack_token(incident, 'pager@example.com'))}/")
    assert response.status_code == 400 and b"not valid" in response.content
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_an_expired_link_is_refused(client, migration, people, settings):
    incident = _open(migration)
    token = escalation.ack_token(incident, "pager@example.com")
    settings.GOLIVE_ACK_LINK_HOURS = -1  # every link is older than that
    response = client.post(f"/ack/{token}/")
    assert response.status_code == 400 and b"expired" in response.content
    with pytest.raises(signing.SignatureExpired):
        escalation.read_ack_token(token)
    assert Incident.objects.get().acknowledged_at is None
