"""The public status page: off by default, no login, read-only, and nothing internal on it."""

import json
import re

import pytest

from migrations_app.audit import Actor
from migrations_app.incidents import announcements, services
from migrations_app.incidents.models import IncidentStatus, Severity, StatusPage
from migrations_app.monitoring import services as monitoring
from migrations_app.rollout.models import RollbackHook


@pytest.fixture
def public(migration):
    announcements.configure_status_page(
        migration, by=Actor.system("tests"), enabled=True, public_name="Card payments"
    )
    return migration


def test_it_is_not_found_until_someone_switches_it_on(client, migration):
    assert client.get("/status/card-payments/").status_code == 404
    assert client.get("/status/card-payments.json").status_code == 404
    StatusPage.objects.create(migration=migration, enabled=False)
    assert client.get("/status/card-payments/").status_code == 404


def test_it_shows_all_operational_without_a_login(client, public):
    response = client.get("/status/card-payments/")
    assert response.status_code == 200
    assert b"All systems operational" in response.content and b"Card payments" in response.content
    data = client.get("/status/card-payments.json").json()
    assert data["state"] == "operational" and data["service"] == "Card payments"


def test_it_refuses_writes(client, public):
    assert client.post("/status/card-payments/").status_code == 405
    assert client.post("/status/card-payments.json").status_code == 405


def test_it_shows_the_incident_with_its_public_updates_only(client, public, ops):
    incident = services.open_incident(
        public,
        by=Actor.for_user(ops),
        title="DB primary at 100 % CPU on db-7",
        severity=Severity.SEV2,
        public_title="Payments are failing for some customers",
    )
    services.add_note(incident, by=Actor.for_user(ops), body="Internal: ask Olivia about db-7")
    services.change_status(
        incident,
        to=IncidentStatus.IDENTIFIED,
        by=Actor.for_user(ops),
        note="failover planned",
        public_update="We found the cause and are fixing it.",
    )
    data = client.get("/status/card-payments.json").json()
    assert data["state"] == "identified"
    assert data["incidents"][0]["title"] == "Payments are failing for some customers"
    assert [u["text"] for u in data["incidents"][0]["updates"]] == ["We found the cause and are fixing it."]
    html = client.get("/status/card-payments/").content.decode()
    assert "We found the cause" in html and "db-7" not in html and "failover" not in html
    services.change_status(
        incident, to=IncidentStatus.RESOLVED, by=Actor.for_user(ops), public_update="Fixed."
    )
    data = client.get("/status/card-payments.json").json()
    assert data["state"] == "operational" and data["history"]["incidents"][0]["status"] == "resolved"


def test_it_lists_upcoming_maintenance(client, public, ops):
    import datetime as dt

    from django.utils import timezone

    start = timezone.now() + dt.timedelta(days=2)
    a = announcements.draft(
        public,
        by=Actor.for_user(ops),
        kind="maintenance",
        date="Saturday",
        window="02:00-04:00 UTC",
        duration="2 hours",
        contact="support@cards.example",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
    )
    assert client.get("/status/card-payments.json").json()["maintenance"] == []  # drafts are private
    announcements.send(a, by=Actor.for_user(ops))
    data = client.get("/status/card-payments.json").json()
    assert data["maintenance"][0]["subject"] == "Scheduled maintenance: Card payments on Saturday"
    assert "02:00-04:00 UTC" in data["maintenance"][0]["text"]


def test_neither_the_page_nor_the_json_leak_anything_internal(client, public, people, ops, oncall, pm):
    """Every user name, contact, probe URL and host, secret reference and hook of the migration
    is planted in internal fields, and some in public text by mistake; none may come out."""
    probe = monitoring.create_probe(
        public,
        by=Actor.system("tests"),
        name="Acme health",
        url="https://api.internal-acme.example:8443/health",
        interval_seconds=3600,
    )
    probe.secret_env = "ACME_API_KEY"
    probe.headers = {"Authorization": "Bearer sk_live_abcdef123"}
    probe.save()
    RollbackHook.objects.create(migration=public, name="Deploy", url="https://deploy.corp.example/rollback")
    incident = services.open_incident(
        public, by=Actor.for_user(oncall), title="Omar sees 500s", severity=Severity.SEV2
    )
    services.add_note(incident, by=Actor.for_user(oncall), body="paged Tess Techlead on +44 20 7946 0888")
    services.change_status(
        incident,
        to=IncidentStatus.MONITORING,
        by=Actor.for_user(oncall),
        public_update="Fixed by Tess Techlead on api.internal-acme.example; call pager@example.com",
    )
    a = announcements.draft(
        public, by=Actor.for_user(ops), kind="maintenance", contact="Olivia Ops (olivia.ops@example.com)"
    )
    announcements.send(a, by=Actor.for_user(ops))
    from migrations_app.incidents.selectors import sensitive_strings

    secrets = sensitive_strings(public)
    for expected in (
        "oncall-user",
        "Omar Oncall",
        "Tess Techlead",
        "pager@example.com",
        "+44 20 7946 0888",
        "api.internal-acme.example",
        "ACME_API_KEY",
        "Bearer sk_live_abcdef123",
        "deploy.corp.example",
    ):
        assert expected in secrets
    html = client.get("/status/card-payments/").content.decode()
    body = json.dumps(client.get("/status/card-payments.json").json())
    for text in (html, body):
        for secret in secrets:
            assert not re.search(rf"(?<!\w){re.escape(secret)}(?!\w)", text, flags=re.IGNORECASE), secret
    assert "[withheld]" in body  # the mistaken public text was scrubbed, not dropped
    assert "secret" not in html.lower() and "bearer" not in body.lower()


def test_scheduled_and_past_maintenance_is_not_upcoming(client, public, ops):
    import datetime as dt

    from django.utils import timezone

    now = timezone.now()
    later = announcements.draft(public, by=Actor.for_user(ops), kind="maintenance", date="later")
    announcements.schedule(later, by=Actor.for_user(ops), send_at=now + dt.timedelta(hours=1))
    past = announcements.draft(
        public,
        by=Actor.for_user(ops),
        kind="maintenance",
        date="last week",
        starts_at=now - dt.timedelta(days=7),
        ends_at=now - dt.timedelta(days=7, hours=-2),
    )
    announcements.send(past, by=Actor.for_user(ops))
    data = client.get("/status/card-payments.json").json()
    assert data["maintenance"] == []
    assert [a["subject"] for a in data["history"]["announcements"]] == [past.subject]
