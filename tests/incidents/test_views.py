"""Views: pages for every role, outsiders refused, GET refused on POST routes, invalid input
answered 422 naming the field with nothing changed, htmx partials and events."""

import pytest

from migrations_app.audit import Actor
from migrations_app.incidents import announcements, services
from migrations_app.incidents.models import (
    Announcement,
    Incident,
    IncidentStatus,
    NotificationChannel,
    Severity,
    StatusPage,
    StatusSubscriber,
)
from migrations_app.models import AuditEvent
from migrations_app.rollout.models import OutboxMessage


@pytest.fixture
def incident(migration):
    return services.open_incident(
        migration, by=Actor.system("tests"), title="Card declines", severity=Severity.SEV3
    )


@pytest.fixture
def announcement(migration, ops):
    return announcements.draft(migration, by=Actor.for_user(ops), kind="maintenance", date="Saturday")


@pytest.fixture
def channel(db):
    return NotificationChannel.objects.create(name="#ops", kind="slack", url="http://127.0.0.1:9/x")


def _post_urls(incident, announcement, channel):
    base = "/migrations/card-payments"
    sub = StatusSubscriber.objects.create(migration=incident.migration, email="s@example.com")
    return [
        f"{base}/incidents/open/",
        f"{base}/incidents/{incident.pk}/acknowledge/",
        f"{base}/incidents/{incident.pk}/status/",
        f"{base}/incidents/{incident.pk}/note/",
        f"{base}/incidents/{incident.pk}/details/",
        f"{base}/incidents/{incident.pk}/postmortem/",
        f"{base}/announcements/draft/",
        f"{base}/announcements/{announcement.pk}/edit/",
        f"{base}/announcements/{announcement.pk}/send/",
        f"{base}/announcements/{announcement.pk}/schedule/",
        f"{base}/announcements/{announcement.pk}/cancel/",
        f"{base}/subscribers/add/",
        f"{base}/subscribers/{sub.pk}/remove/",
        f"{base}/status-page/",
        "/notifications/new/",
        f"/notifications/{channel.pk}/test/",
    ]


def test_outsiders_are_refused_every_post(client_for, outsider, incident, announcement, channel):
    client = client_for(outsider)
    before = AuditEvent.objects.count()
    for url in _post_urls(incident, announcement, channel):
        assert (
            client.post(url, {"to": "resolved", "body": "x", "email": "x@example.com"}).status_code == 403
        ), url
    assert AuditEvent.objects.count() == before


def test_every_post_route_refuses_get(client_for, admin_user, incident, announcement, channel):
    client = client_for(admin_user)
    for url in _post_urls(incident, announcement, channel):
        assert client.get(url).status_code == 405, url


@pytest.mark.parametrize(
    ("role", "url", "allowed"),
    [
        ("pm", "incidents/{i}/acknowledge/", False),
        ("oncall", "incidents/{i}/acknowledge/", True),
        ("oncall", "announcements/{a}/send/", False),
        ("pm", "announcements/{a}/send/", True),
    ],
)
def test_rights_follow_the_permission_table(request, client_for, incident, announcement, role, url, allowed):
    client = client_for(request.getfixturevalue(role))
    response = client.post("/migrations/card-payments/" + url.format(i=incident.pk, a=announcement.pk))
    assert (response.status_code != 403) is allowed


@pytest.mark.parametrize("role", ["ops", "pm", "oncall", "admin_user"])
def test_every_role_sees_the_pages(request, client_for, role, incident, announcement, channel):
    client = client_for(request.getfixturevalue(role))
    base = "/migrations/card-payments"
    for url in (
        f"{base}/",
        f"{base}/incidents/",
        f"{base}/incidents/{incident.pk}/",
        f"{base}/announcements/",
        f"{base}/announcements/{announcement.pk}/",
        f"{base}/evidence/",
        f"{base}/evidence.csv",
        f"{base}/evidence.json",
        "/notifications/",
    ):
        assert client.get(url).status_code == 200, url


def test_the_migration_page_shows_the_incident_card(client_for, ops, incident):
    html = client_for(ops).get("/migrations/card-payments/").content.decode()
    assert 'id="incidents-summary"' in html and "SEV3 open: Card declines" in html


def test_acknowledge_over_htmx_answers_the_partial_and_an_event(client_for, oncall, incident):
    response = client_for(oncall).post(
        f"/migrations/card-payments/incidents/{incident.pk}/acknowledge/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "incidentChanged" in response["HX-Trigger"]
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="incident-main"') and "Acknowledged by oncall-user" in html
    incident.refresh_from_db()
    assert incident.acknowledged_by == "oncall-user"


def test_without_javascript_a_status_change_redirects_back(client_for, oncall, incident):
    url = f"/migrations/card-payments/incidents/{incident.pk}/"
    response = client_for(oncall).post(url + "status/", {"to": "identified", "note": "found it"})
    assert response.status_code == 302 and response["Location"] == url
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.IDENTIFIED


@pytest.mark.parametrize(
    ("path", "data", "label"),
    [
        ("status/", {"to": "closed"}, "To"),
        ("status/", {"to": "bogus"}, "To"),
        ("note/", {"body": ""}, "Body"),
        ("details/", {"severity": "sev9", "public_title": "x"}, "Severity"),
        ("details/", {"severity": "sev2", "public_title": ""}, "Public title"),
    ],
)
def test_invalid_incident_input_is_422_naming_the_field(client_for, oncall, incident, path, data, label):
    before = AuditEvent.objects.count()
    response = client_for(oncall).post(
        f"/migrations/card-payments/incidents/{incident.pk}/{path}", data, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422 and f"{label}:" in response.content.decode()
    assert AuditEvent.objects.count() == before
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.INVESTIGATING and incident.severity == Severity.SEV3


def test_resolving_a_resolved_incident_again_is_422(client_for, oncall, incident):
    services.change_status(incident, to="resolved", by=Actor.system("t"))
    response = client_for(oncall).post(
        f"/migrations/card-payments/incidents/{incident.pk}/status/",
        {"to": "identified"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422 and "Status:" in response.content.decode()


def test_opening_by_hand_needs_a_title(client_for, ops, migration):
    response = client_for(ops).post(
        "/migrations/card-payments/incidents/open/", {"title": "", "severity": "sev2"}
    )
    assert response.status_code == 422 and "Title:" in response.content.decode()
    assert not Incident.objects.exists()


def test_opening_by_hand_goes_to_the_new_incident(client_for, ops, migration):
    response = client_for(ops).post(
        "/migrations/card-payments/incidents/open/", {"title": "Slow refunds", "severity": "sev3"}
    )
    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/incidents/{incident.pk}/")


@pytest.mark.parametrize(
    ("path", "data", "label"),
    [
        ("announcements/draft/", {"kind": "party"}, "Kind"),
        ("announcements/{a}/edit/", {"subject": "", "body": "x"}, "Subject"),
        ("announcements/{a}/schedule/", {"send_at": "yesterday"}, "Send at"),
        ("announcements/{a}/schedule/", {"send_at": "2001-01-01T10:00"}, "Send at"),
        ("subscribers/add/", {"email": "nope"}, "Email"),
    ],
)
def test_invalid_announcement_input_is_422_naming_the_field(client_for, ops, announcement, path, data, label):
    before = (AuditEvent.objects.count(), Announcement.objects.count(), StatusSubscriber.objects.count())
    response = client_for(ops).post("/migrations/card-payments/" + path.format(a=announcement.pk), data)
    assert response.status_code == 422 and f"{label}:" in response.content.decode()
    assert (
        AuditEvent.objects.count(),
        Announcement.objects.count(),
        StatusSubscriber.objects.count(),
    ) == before
    announcement.refresh_from_db()
    assert announcement.status == "draft"


def test_send_now_sends_and_says_to_how_many(client_for, pm, announcement):
    StatusSubscriber.objects.create(migration=announcement.migration, email="s@example.com")
    client = client_for(pm)
    response = client.post(f"/migrations/card-payments/announcements/{announcement.pk}/send/", follow=True)
    assert "Sent to 1 subscriber(s)" in response.content.decode()
    assert OutboxMessage.objects.filter(kind="email", target="s@example.com").count() == 1


def test_the_status_page_switch(client_for, ops, migration, client):
    client_for(ops).post("/migrations/card-payments/status-page/", {"enabled": "on", "public_name": "Cards"})
    assert StatusPage.objects.get().enabled
    client.logout()
    assert client.get("/status/card-payments/").status_code == 200


def test_admins_add_channels_and_invalid_ones_are_422(client_for, admin_user):
    client = client_for(admin_user)
    bad = client.post(
        "/notifications/new/", {"name": "TG", "kind": "telegram", "telegram_token_env": "bad name!"}
    )
    assert bad.status_code == 422 and "Telegram chat id:" in bad.content.decode()
    assert "Telegram token variable:" in bad.content.decode()
    assert not NotificationChannel.objects.exists()
    good = client.post(
        "/notifications/new/",
        {
            "name": "Ops list",
            "kind": "email",
            "addresses": "ops@example.com",
            "incidents": "on",
            "active": "on",
        },
    )
    assert good.status_code == 302 and NotificationChannel.objects.get().address_list() == ["ops@example.com"]


def test_the_test_button_queues_a_notice_and_the_page_shows_its_delivery(client_for, admin_user, channel):
    client = client_for(admin_user)
    response = client.post(f"/notifications/{channel.pk}/test/", follow=True)
    assert "Test notification queued" in response.content.decode()
    message = OutboxMessage.objects.get()
    OutboxMessage.objects.filter(pk=message.pk).update(status="failed", last_error="ConnectError: refused")
    html = client.get("/notifications/").content.decode()
    assert "ConnectError: refused" in html and "Failed" in html


def test_ops_may_see_channels_but_not_add_them(client_for, ops):
    client = client_for(ops)
    assert client.get("/notifications/").status_code == 200
    assert client.post("/notifications/new/", {"name": "x", "kind": "email"}).status_code == 403


def test_channel_urls_are_shown_to_admins_only(client_for, ops, admin_user, channel):
    # A Slack incoming-webhook URL is itself a credential.
    assert "127.0.0.1:9/x" not in client_for(ops).get("/notifications/").content.decode()
    assert "127.0.0.1:9/x" in client_for(admin_user).get("/notifications/").content.decode()


def test_people_who_may_announce_are_offered_an_incident_notice(client_for, pm, oncall, incident):
    url = f"/migrations/card-payments/incidents/{incident.pk}/"
    assert "Tell users: draft an incident notice" in client_for(pm).get(url).content.decode()
    assert "Tell users" not in client_for(oncall).get(url).content.decode()


def test_the_default_templates_exist_for_admins_to_edit(db):
    from migrations_app.incidents.models import AnnouncementTemplate

    assert set(AnnouncementTemplate.objects.values_list("kind", flat=True)) == {
        "maintenance",
        "complete",
        "incident",
    }
