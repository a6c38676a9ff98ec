"""A new user creates a migration from a built-in template and finds its checklist."""

import pytest

from checklists.models import ChecklistItem, ChecklistTemplate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_ops_creates_a_migration_from_a_builtin_template_and_opens_its_checklist(
    login, live_server, ops, screenshot
):
    template = ChecklistTemplate.objects.get(slug="mobile-money-deployment")
    page = login(ops)
    page.goto(f"{live_server.url}/migrations/new/")
    page.select_option("#id_template", label=template.name)
    page.fill("#id_name", "Mobile money launch")
    page.fill("#id_slug", "mobile-money")
    page.fill("#id_integration", "Mobile money provider")
    page.fill("#id_target_date", "2031-03-01")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{live_server.url}/migrations/mobile-money/")
    card = page.locator("#checklist-summary")
    assert "Go-live gate not complete." in card.inner_text()
    screenshot("migration-detail-checklist-card")
    card.get_by_role("link", name="Open the checklist").click()
    page.wait_for_url(f"{live_server.url}/checklists/migration/mobile-money/")
    assert (
        page.locator(".ck-row").count()
        == ChecklistItem.objects.filter(migration__slug="mobile-money").count()
        == 59
    )
