"""The cohort chart in a real Chromium: both paths drawn on one clock, the verdict in words, and a
phone-sized control room that does not scroll sideways with Roll back on its first screen."""

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from tests.browser_fixtures import SCREENSHOTS
from tests.canary.surface_data import compared_latency, evaluate_windows, served
from tests.factories import put_live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def paused_by_a_slow_new_path(migration):
    """Five healthy windows, then the new path 40 % slower until the compare guardrail pauses."""
    put_live(migration, 25)
    guardrail = compared_latency(migration)
    start = timezone.now() - dt.timedelta(seconds=20 * 9)
    evaluate_windows(guardrail, windows=5, new_factor=1.0, start=start)
    evaluate_windows(guardrail, windows=4, new_factor=1.4, start=start + dt.timedelta(seconds=100))
    served(migration, new=137, old=411)
    return guardrail


def test_the_cohort_chart_draws_both_paths_and_says_the_verdict(
    login, live_server, oncall, paused_by_a_slow_new_path
):
    guardrail = paused_by_a_slow_new_path
    page = login(oncall)
    page.goto(f"{live_server.url}/migrations/{guardrail.migration.slug}/control-room/")
    chart = page.locator(f"#cohort-chart-{guardrail.kpi_id}")
    chart.locator(".main-svg").first.wait_for()
    legend = chart.locator(".legendtext").evaluate_all("nodes => nodes.map(node => node.textContent)")
    assert {"new path", "old path", "Fail: new path worse", "Pass: within tolerance"} <= set(legend)
    assert chart.locator(".scatterlayer .trace").count() >= 4  # two lines, two verdict kinds
    canary = page.locator("#canary")
    text = canary.inner_text()
    assert "Fail: new path worse than old" in text
    assert "tolerance +20 %: fail, 3 of 3" in text
    assert "by guardrail “New path checkout latency”" in text
    assert "137 on the new path, 411 on the old path" in text
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    canary.scroll_into_view_if_needed()
    page.evaluate("document.getElementById('canary').scrollIntoView({block: 'start'})")
    page.screenshot(path=str(DOCS_SCREENSHOTS / "cohort-chart.png"))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "cohort-control-room.png"), full_page=True)


def test_on_a_phone_nothing_scrolls_sideways_and_roll_back_is_on_the_first_screen(
    browser, live_server, oncall, paused_by_a_slow_new_path
):
    context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", oncall.username)
        page.fill("#id_password", "correct-horse-battery")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/migrations/**")
        page.goto(f"{live_server.url}/migrations/{paused_by_a_slow_new_path.migration.slug}/control-room/")
        page.locator(f"#cohort-chart-{paused_by_a_slow_new_path.kpi_id} .main-svg").first.wait_for()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "cohort-control-room-375.png"), full_page=True)
        page.screenshot(path=str(SCREENSHOTS / "cohort-control-room-375-first-screen.png"))
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], f"the page is {widths[0]} px wide on a {widths[1]} px screen"
        button = page.locator(".btn-rollback").first
        box = button.bounding_box()
        assert box and box["y"] + box["height"] <= 667, f"Roll back is at {box} on a 667 px screen"
    finally:
        context.close()
