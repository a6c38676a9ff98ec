"""Journey: an ops engineer logs in, filters "My items", ticks items and sees the progress move."""

import pytest

from checklists.models import ChecklistItem, ItemState

pytest_plugins = ["tests.browser.journeys"]  # seeded, demo_login, docs_screenshot
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_ops_engineer_filters_my_items_ticks_two_and_sees_the_progress(
    seeded,
    demo_login,
    live_server,
    docs_screenshot,
):
    page = demo_login("ops")
    page.click("text=Payment gateway go-live")
    page.wait_for_url("**/migrations/payment-gateway/")
    page.goto(f"{live_server.url}/checklists/migration/payment-gateway/")
    page.click("a:has-text('My items')")
    page.wait_for_url("**show=mine**")
    rows = page.locator("[data-state=open]")
    first, second = rows.nth(0), rows.nth(1)
    ids = [first.get_attribute("id"), second.get_attribute("id")]
    for row_id in ids:
        page.click(f"#{row_id} button.ck-box")
        page.locator(f"#{row_id}[data-state=done]").wait_for()
    mine = ChecklistItem.objects.filter(migration__slug="payment-gateway", owner_role="deployment_lead")
    done = mine.filter(state=ItemState.DONE)
    assert done.count() == 2
    assert {f"item-{pk}" for pk in done.values_list("pk", flat=True)} == set(ids)
    assert all(item.changed_by.username == "ops" for item in done)
    # The phase head counts them without a reload.
    phase_head = page.locator("[id^=phase-head-]").first
    phase_head.locator("[role=progressbar]").first.wait_for()
    assert "items done" in phase_head.inner_text()
    assert page.locator("[role=progressbar]").first.get_attribute("aria-valuenow") != "0"
    docs_screenshot("ops-my-items")
