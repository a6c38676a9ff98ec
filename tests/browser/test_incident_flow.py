"""From rollback to resolved in the browser: the on-call rolls back, opens the incident from the
migration page, acknowledges, writes notes, moves it to resolved and writes the post-mortem."""

import pytest

from migrations_app.audit import Actor
from migrations_app.incidents import announcements
from migrations_app.incidents.models import Incident
from migrations_app.models import AuditEvent
from tests.factories import put_live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_on_call_takes_an_incident_from_rollback_to_resolved(
    login, live_server, migration, oncall, screenshot
):
    put_live(migration, 25)
    page = login(oncall)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/")
    page.click("summary.btn-rollback")
    page.fill("#rollback-reason", "Card declines up to 12 % since 14:02")
    page.click("text=Confirm rollback from 25 % to 0 %")
    page.wait_for_selector(".rollback-state")

    # The incidents card refreshes itself after the rollback: no reload needed.
    card = page.locator("#incidents-summary")
    card.locator("text=SEV2 open").wait_for()
    assert "not acknowledged yet" in card.inner_text()
    screenshot("incident-card-after-rollback")
    card.locator("a", has_text="rolled back from 25 %").click()

    page.wait_for_selector("#ack-button")
    assert "Investigating" in page.locator("#incident-status").inner_text()
    assert "Rolled back" in page.locator("#timeline").inner_text()
    screenshot("incident-opened")
    page.evaluate("window.__sameDocument = true")

    page.click("#ack-button")
    page.locator("#incident-ack", has_text="Acknowledged by oncall-user").wait_for()
    page.fill("#note-body", "Provider status page reports a faulty deploy")
    page.click("text=Add note")
    page.locator("#timeline", has_text="Provider status page reports a faulty deploy").wait_for()

    page.fill("#status-note", "Provider rolled back their deploy")
    page.fill("#status-public", "We found the cause; payments work again for most customers.")
    page.click("button[name=to][value=identified]")
    page.locator("#incident-status", has_text="Identified").wait_for()
    page.click("button[name=to][value=monitoring]")
    page.locator("#incident-status", has_text="Monitoring").wait_for()
    screenshot("incident-monitoring")
    page.click("button[name=to][value=resolved]")
    page.locator("#incident-status", has_text="Resolved").wait_for()

    page.fill("#pm-summary", "Card payments failed for 12 % of customers for 6 minutes.")
    page.fill("#pm-root", "Provider deployed a faulty TLS configuration.")
    page.fill("#pm-actions", "Ask the provider for change notices (owner: Omar, 1 Dec).")
    page.click("text=Save post-mortem")
    page.locator(".banner-success", has_text="Post-mortem saved").wait_for()
    assert page.evaluate("window.__sameDocument") is True  # every step swapped in place
    screenshot("incident-resolved")

    incident = Incident.objects.get()
    assert incident.status == "resolved" and incident.acknowledged_by == "oncall-user"
    assert incident.postmortem_root_cause == "Provider deployed a faulty TLS configuration."
    assert incident.mitigated_at and incident.resolved_at
    actions = list(
        AuditEvent.objects.filter(object_type="incidents.incident").values_list("action", flat=True)
    )
    assert actions.count("incident.status_changed") == 3 and "incident.acknowledged" in actions


def test_the_status_page_and_evidence_pack_after_an_incident(
    login, live_server, migration, oncall, ops, screenshot
):
    from migrations_app.incidents import services

    announcements.configure_status_page(
        migration, by=Actor.for_user(ops), enabled=True, public_name="Card payments"
    )
    incident = services.open_incident(
        migration,
        by=Actor.for_user(oncall),
        title="Declines",
        severity="sev3",
        public_title="Some card payments fail",
    )
    services.change_status(
        incident,
        to="identified",
        by=Actor.for_user(oncall),
        public_update="We know the cause and are fixing it.",
    )
    page = login(ops)
    page.goto(f"{live_server.url}/status/{migration.slug}/")
    assert "Disruption" in page.locator("#state").inner_text()
    screenshot("status-page-identified")
    page.goto(f"{live_server.url}/migrations/{migration.slug}/evidence/")
    page.locator("#ev-criteria").wait_for()
    page.locator(
        "#ev-chart-latency", has_text="Not enough data yet"
    ).wait_for()  # the script ran under the CSP
    screenshot("evidence-pack")
    page.emulate_media(media="print")
    assert page.locator(".topbar").is_hidden()
    screenshot("evidence-pack-print")
    page.emulate_media(media="screen")
    page.goto(f"{live_server.url}/migrations/{migration.slug}/announcements/")
    screenshot("announcements")


def test_golive_proposes_the_maintenance_notice_and_a_pm_sends_it(
    login, live_server, migration, pm, screenshot
):
    from migrations_app.incidents.models import Announcement, StatusSubscriber
    from migrations_app.rollout.models import OutboxMessage

    put_live(migration, 5)
    StatusSubscriber.objects.create(migration=migration, email="merchant@example.com")
    page = login(pm)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/")
    page.locator("#incidents-summary").get_by_text("Draft it for review").click()
    page.wait_for_selector("#preview")
    page.fill("#id_date", "Saturday 5 December")
    page.fill("#id_window", "02:00-04:00 UTC")
    page.fill("#id_duration", "about 2 hours")
    page.fill("#id_contact", "support@cards.example")
    page.fill(
        "#id_body", "Card payments pause on {date} between {window} ({duration}). Questions: {contact}."
    )
    page.click("text=Save and preview")
    preview = page.locator("#preview")
    preview.locator("text=Saturday 5 December between 02:00-04:00 UTC").wait_for()
    screenshot("announcement-preview")
    page.click("#send-now")
    page.locator(".banner-success", has_text="Sent to 1 subscriber(s)").wait_for()
    assert Announcement.objects.get().status == "sent"
    assert OutboxMessage.objects.filter(kind="email", target="merchant@example.com").count() == 1


def test_an_admin_adds_a_channel_and_sends_a_test(login, live_server, admin_user, screenshot):
    page = login(admin_user)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Notifications").click()
    page.fill("#id_name", "Ops chat")
    page.select_option("#id_kind", "slack")
    page.fill("#id_url", "http://127.0.0.1:9/slack-hook")
    page.click("text=Add channel")
    page.click("button:has-text('Send a test notification')")
    page.locator(".banner-success", has_text="Test notification queued").wait_for()
    assert "Pending" in page.locator("tr[id^=channel-]").first.inner_text()
    screenshot("notification-channels")
