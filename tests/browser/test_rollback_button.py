"""The on-call clicks the red button, gives a reason, and the page shows 0 % without a reload."""

import pytest

from migrations_app.rollout.models import Rollback, RollbackHook
from migrations_app.rollout.selectors import current_percent
from tests.factories import put_live
from tests.rollout.conftest import make_ready

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_on_call_rolls_back_with_one_click_and_sees_0_percent(
    login, live_server, migration, oncall, screenshot
):
    put_live(migration, 25)
    RollbackHook.objects.create(migration=migration, name="Deploy pipeline", url="http://127.0.0.1:9/hook")
    page = login(oncall)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/")
    panel = page.locator("#traffic-panel")
    assert "25 %" in panel.locator("[data-testid=traffic-percent]").inner_text()
    screenshot("traffic-panel-before-rollback")
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    page.click("summary.btn-rollback")
    page.fill("#rollback-reason", "Card declines up to 12 % since 14:02")
    screenshot("rollback-confirmation")
    page.click("text=Confirm rollback from 25 % to 0 %")

    page.wait_for_selector(".rollback-state")
    assert page.locator("[data-testid=traffic-percent]").inner_text().startswith("0 %")
    assert "Rolled back at" in page.locator(".rollback-state").inner_text()
    assert "by oncall-user" in page.locator(".rollback-state").inner_text()
    assert page.evaluate("window.__sameDocument") is True
    assert current_percent(migration) == 0 and Rollback.objects.count() == 1
    assert page.locator(".playbook li").count() == 5
    page.locator(".playbook li").first.locator("button").click()
    page.wait_for_selector(".playbook li.is-done")
    screenshot("traffic-panel-after-rollback")


def test_ops_sees_why_advancing_is_not_allowed_yet(login, live_server, migration, ops, screenshot):
    migration = make_ready(migration)
    page = login(ops)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/")
    page.click("text=Advance to 5 %")
    page.wait_for_selector("text=Traffic is now at 5 %.")
    button = page.locator("button", has_text="Advance to 25 %")
    assert button.is_disabled()
    assert "Soaking at 5 %" in page.locator("#advance-why").inner_text()
    page.locator("details.traffic-more summary").click()
    screenshot("traffic-panel-soaking-as-ops")


def test_the_tokens_page(login, live_server, ops, screenshot):
    page = login(ops)
    page.click("text=API tokens")
    page.fill("#token-name", "checkout-service production")
    page.check("input[value=flags]")
    page.click("text=Create token")
    token = page.locator("[data-testid=new-token]").inner_text()
    assert token.startswith("glv_")
    screenshot("api-tokens")


def test_an_open_page_notices_a_rollback_made_elsewhere(login, live_server, migration, ops, oncall, page):
    from migrations_app.audit import Actor
    from migrations_app.rollout import services

    put_live(migration, 50)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    login(ops)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/")
    page.evaluate("window.__sameDocument = true")
    services.roll_back(migration, by=Actor.system("guardrail: p95 latency"), reason="p95 over 800 ms")
    page.wait_for_selector(".rollback-state", timeout=20_000)
    assert page.locator("[data-testid=traffic-percent]").inner_text().startswith("0 %")
    assert "guardrail: p95 latency" in page.locator(".rollback-state").inner_text()
    assert page.evaluate("window.__sameDocument") is True
    assert not errors, errors
