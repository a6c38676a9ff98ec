"""In Chromium: the Admin override on the migration page, and the announcement that would reach
nobody, as an on-call engineer at 3 a.m. would meet them (screenshots for review)."""

import pytest
from django.core.management import call_command

from checklists import services as checklist_services
from checklists.models import ChecklistTemplate
from migrations_app import services as migration_services
from migrations_app.incidents import announcements
from migrations_app.incidents.models import Announcement, AnnouncementStatus
from migrations_app.models import AuditEvent, Migration, MigrationStatus
from migrations_app.rollout import services as rollout_services
from tests.api.conftest import SYSTEM
from tests.factories import put_live

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def preparing(ops):
    if not ChecklistTemplate.objects.filter(slug="webhook-service-release").exists():
        call_command("load_builtin_templates", verbosity=0)
    migration = checklist_services.create_migration_from_template(
        by=SYSTEM,
        template=ChecklistTemplate.objects.get(slug="webhook-service-release"),
        name="Webhook service release",
        slug="webhooks",
        owner=ops,
        integration="Webhook service",
    )
    return migration_services.transition_migration(migration, to=MigrationStatus.PREPARING, by=SYSTEM)


def test_an_admin_overrides_the_go_live_gate_on_the_page(
    login, live_server, admin_user, preparing, screenshot
):
    page = login(admin_user)
    page.goto(f"{live_server.url}/migrations/webhooks/")
    page.get_by_text("Mark ready although the phase gate is incomplete").click()
    page.fill("#override-ready", "Go/no-go signed on paper, scans attached to the change ticket")
    screenshot("api-admin-override")
    page.get_by_role("button", name="Override and mark ready").click()
    page.locator("#status-panel").get_by_text("Ready", exact=True).first.wait_for()
    screenshot("api-admin-override-done")
    assert Migration.objects.get(pk=preparing.pk).status == MigrationStatus.READY
    assert AuditEvent.objects.filter(action="migration.status_overridden").exists()


def test_sending_to_nobody_needs_a_conscious_tick(login, live_server, pm, preparing, screenshot):
    announcement = announcements.draft(preparing, by=SYSTEM, kind="maintenance", date="Saturday")
    page = login(pm)
    page.goto(f"{live_server.url}/migrations/webhooks/announcements/{announcement.pk}/")
    assert page.locator("#nobody-warning").is_visible()
    screenshot("api-announcement-nobody")
    page.get_by_role("button", name="Send to nobody").click()  # the required tick stops the form
    assert page.eval_on_selector("input[name=confirm_no_recipients]", "box => !box.checkValidity()")
    assert Announcement.objects.get(pk=announcement.pk).status == AnnouncementStatus.DRAFT
    page.get_by_label("I understand nobody receives it").check()
    page.get_by_role("button", name="Send to nobody").click()
    page.get_by_text("Sent to 0 subscriber(s)").wait_for()
    assert Announcement.objects.get(pk=announcement.pk).status == AnnouncementStatus.SENT


def test_the_incident_timeline_puts_the_rollback_first_in_the_eye(
    login, live_server, oncall, preparing, screenshot
):
    put_live(preparing, 25)
    for state in ["warning", "ok", "warning", "breached", "breached"]:
        AuditEvent.objects.create(
            actor_kind="system",
            actor_label="guardrail: error rate",
            action="guardrail.state_changed",
            migration=preparing,
            object_id="1",
            after={"state": state},
        )
    rollback = rollout_services.roll_back(preparing, by=SYSTEM, reason="error rate 12 % for 3 evaluations")
    page = login(oncall)
    page.goto(f"{live_server.url}/migrations/webhooks/incidents/{rollback.incident.pk}/")
    timeline = page.locator("#timeline")
    assert timeline.locator(".inc-tl-key").get_by_text("Rolled back", exact=True).is_visible()
    assert timeline.get_by_text("5 × Guardrail changed").is_visible()
    timeline.scroll_into_view_if_needed()
    screenshot("api-incident-timeline")
