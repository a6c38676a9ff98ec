"""Status-page settings (on/off, the public name, whether history is public) and subscribers."""

import pytest
from django.urls import reverse

from migrations_app.audit import Actor
from migrations_app.incidents import services
from migrations_app.incidents.models import IncidentStatus, StatusPage, StatusSubscriber
from migrations_app.models import AuditEvent

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def settings_url(migration):
    return reverse("incidents:status_page_settings", args=[migration.slug])


def test_a_pm_switches_the_page_on_and_keeps_history_private(client, client_for, pm, ops, migration):
    incident = services.open_incident(migration, by=SYSTEM, title="Declines", severity="sev3")
    services.change_status(
        incident, to=IncidentStatus.RESOLVED, by=Actor.for_user(ops), public_update="Fixed."
    )
    response = client_for(pm).post(settings_url(migration), {"enabled": "on", "public_name": "Card payments"})
    assert response.status_code == 302
    page = StatusPage.objects.get(migration=migration)
    assert page.enabled and not page.show_history
    row = AuditEvent.objects.get(action="status_page.changed")
    assert row.before == {"enabled": False, "public_name": "", "show_history": True}
    assert row.after == {"enabled": True, "public_name": "Card payments", "show_history": False}
    data = client.get(f"/status/{migration.slug}.json").json()
    assert data["service"] == "Card payments" and data["history"]["incidents"] == []


def test_with_history_public_the_resolved_incident_is_listed(client, client_for, pm, ops, migration):
    incident = services.open_incident(migration, by=SYSTEM, title="Declines", severity="sev3")
    services.change_status(
        incident, to=IncidentStatus.RESOLVED, by=Actor.for_user(ops), public_update="Fixed."
    )
    client_for(pm).post(settings_url(migration), {"enabled": "on", "show_history": "on"})
    data = client.get(f"/status/{migration.slug}.json").json()
    assert [i["status"] for i in data["history"]["incidents"]] == ["resolved"]


def test_on_call_may_not_change_the_status_page(client_for, oncall, outsider, migration):
    for user in (oncall, outsider):
        assert client_for(user).post(settings_url(migration), {"enabled": "on"}).status_code == 403
    assert not StatusPage.objects.exists()


def test_a_bad_subscriber_address_answers_422_naming_the_field(client_for, pm, migration):
    response = client_for(pm).post(
        reverse("incidents:subscriber_add", args=[migration.slug]), {"email": "nope"}
    )
    assert response.status_code == 422 and "Email: Enter a valid e-mail address." in response.content.decode()
    assert not StatusSubscriber.objects.exists()


def test_subscribers_are_added_and_removed_with_the_address_audited(client_for, pm, migration):
    client = client_for(pm)
    client.post(reverse("incidents:subscriber_add", args=[migration.slug]), {"email": "reader@example.com"})
    subscriber = StatusSubscriber.objects.get()
    client.post(reverse("incidents:subscriber_remove", args=[migration.slug, subscriber.pk]))
    assert not StatusSubscriber.objects.exists()
    assert AuditEvent.objects.get(action="subscriber.removed").before == {"email": "reader@example.com"}
