"""The page and the API go through the same service path: the Admin's gate override on the
migration page, and the warning before an announcement goes to nobody."""

import pytest

from migrations_app import services as migration_services
from migrations_app.incidents import announcements
from migrations_app.incidents.models import AnnouncementStatus
from migrations_app.models import AuditEvent, Migration, MigrationStatus
from tests.api.conftest import SYSTEM

pytestmark = pytest.mark.django_db


@pytest.fixture
def preparing(plan):
    return migration_services.transition_migration(plan, to=MigrationStatus.PREPARING, by=SYSTEM)


def test_the_migration_page_offers_admins_the_override_and_it_is_audited(client_for, admin_user, preparing):
    client = client_for(admin_user)
    page = client.get("/migrations/webhooks/").content.decode()
    assert "Admin override" in page and 'name="override"' in page
    reason = "Go/no-go signed on paper"
    response = client.post(
        "/migrations/webhooks/transition/",
        {"to": "ready", "override": "1", "reason": reason},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert Migration.objects.get(pk=preparing.pk).status == MigrationStatus.READY
    assert AuditEvent.objects.get(action="migration.status_overridden").reason == reason


def test_the_page_refuses_an_override_from_anyone_but_an_admin(client_for, ops, preparing):
    client = client_for(ops)
    assert "Admin override" not in client.get("/migrations/webhooks/").content.decode()
    response = client.post(
        "/migrations/webhooks/transition/", {"to": "ready", "override": "1", "reason": "x"}
    )
    assert response.status_code == 403
    assert Migration.objects.get(pk=preparing.pk).status == MigrationStatus.PREPARING


def test_without_the_override_the_page_still_names_the_gate(client_for, admin_user, preparing):
    response = client_for(admin_user).post(
        "/migrations/webhooks/transition/", {"to": "ready"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422 and "phase gate is complete" in response.content.decode()


def test_the_announcement_page_warns_before_sending_to_nobody(client_for, pm, plan):
    announcement = announcements.draft(plan, by=SYSTEM, kind="maintenance")
    client = client_for(pm)
    url = f"/migrations/webhooks/announcements/{announcement.pk}/"
    assert "Nobody would receive this" in client.get(url).content.decode()
    refused = client.post(url + "send/")
    assert refused.status_code == 422 and "Nobody would receive this announcement" in refused.content.decode()
    announcement.refresh_from_db()
    assert announcement.status == AnnouncementStatus.DRAFT
    client.post(url + "send/", {"confirm_no_recipients": "1"})
    announcement.refresh_from_db()
    assert announcement.status == AnnouncementStatus.SENT
