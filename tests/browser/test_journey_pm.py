"""Journey: a product manager reviews a phase, signs it off, and sees the sign-off go stale after
someone changes one of its items."""

import re

import pytest

from checklists import gates
from checklists import services as checklist
from checklists.models import ChecklistItem, SignOff
from migrations_app.audit import Actor
from migrations_app.models import Migration, MigrationRoleName

pytest_plugins = ["tests.browser.journeys"]  # seeded, demo_login, docs_screenshot
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _phase_the_pm_signs(migration):
    for phase in migration.phases.order_by("position"):
        if MigrationRoleName.PRODUCT_MANAGER in gates.signoff_roles(phase):
            return phase
    raise AssertionError("no phase needs a Product Manager sign-off")


def test_a_product_manager_signs_a_phase_off_and_sees_it_go_stale(
    seeded,
    demo_login,
    live_server,
    docs_screenshot,
):
    from django.contrib.auth import get_user_model

    migration = Migration.objects.get(slug="payment-gateway")
    phase = _phase_the_pm_signs(migration)
    ops = get_user_model().objects.get(username="ops")
    for item in ChecklistItem.objects.filter(section__phase=phase):
        checklist.tick_item(item, by=Actor.for_user(ops))

    page = demo_login("pm")
    page.goto(f"{live_server.url}/checklists/migration/{migration.slug}/")
    head = page.locator(f"#phase-head-{phase.pk}")
    head.scroll_into_view_if_needed()
    assert "Product Manager" in head.inner_text()
    head.locator("input[name=comment]").fill("Reviewed the evidence with the provider")
    head.get_by_role("button", name="Sign off as Product Manager").click()
    head.locator("[data-role=product_manager] .badge", has_text=re.compile(r"^Signed$")).wait_for()
    signoff = SignOff.objects.get(phase=phase, role=MigrationRoleName.PRODUCT_MANAGER)
    assert signoff.user.username == "pm"

    # Ops reopens one of the phase's required items: the sign-off no longer counts.
    item = ChecklistItem.objects.filter(section__phase=phase, required=True).order_by("id").first()
    checklist.tick_item(item, by=Actor.for_user(ops), done=False)
    page.reload()
    head = page.locator(f"#phase-head-{phase.pk}")
    head.locator("[data-role=product_manager] .badge", has_text="Stale").wait_for()
    assert "Product Manager sign-off stale" in head.inner_text()
    docs_screenshot("pm-signoff-stale", scroll_to=f"#phase-head-{phase.pk}")
