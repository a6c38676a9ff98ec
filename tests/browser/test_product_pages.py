"""Pages that look like a product: phone width without sideways scrolling, a loading indicator on
htmx requests, a confirmation before destructive demo actions, keyboard focus, times with a zone."""

import re

import httpx
import pytest
from playwright.sync_api import expect

pytest_plugins = ["tests.browser.journeys"]  # seeded, demo_login
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OWN_PAGES = [
    "/migrations/",
    "/migrations/webhook-service/",
    "/migrations/payment-gateway/",
    "/migrations/webhook-service/timeline/",
    "/migrations/new/",
]


def test_the_migration_pages_fit_a_phone_without_sideways_scrolling(seeded, demo_login, live_server, page):
    page.set_viewport_size({"width": 390, "height": 844})
    for username in ("ops", "admin"):  # the admin has one more link in the navigation
        demo_login(username)
        for path in OWN_PAGES:
            page.goto(f"{live_server.url}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 392, f"{path} is {width} px wide at a 390 px viewport for {username}"


def test_a_destructive_demo_action_asks_first_and_shows_the_loading_indicator(
    seeded, demo_login, live_server, page, screenshot
):
    demo_login("oncall")
    page.goto(f"{live_server.url}/migrations/webhook-service/")
    card = page.locator("#demo-provider")
    assert "Healthy" in card.locator("[data-testid=demo-mode]").inner_text()

    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    card.get_by_role("button", name="Make it down").click()
    page.wait_for_timeout(300)
    assert dialogs and "roll traffic back" in dialogs[0]
    assert httpx.get(f"{seeded.url}/_control").json()["mode"] == "ok"  # dismissed: nothing sent

    # Hold the request for a moment so the indicator can be seen.
    def slow(route):
        page.wait_for_timeout(1000)
        route.continue_()

    page.route("**/demo-provider/", slow)
    page.once("dialog", lambda dialog: dialog.accept())
    card.get_by_role("button", name="Make it erroring").click()
    expect(page.locator("#htmx-indicator")).to_have_css("opacity", "1", timeout=3000)
    page.locator("#demo-provider [data-testid=demo-mode]", has_text="Erroring").wait_for()
    assert httpx.get(f"{seeded.url}/_control").json()["mode"] == "error"
    screenshot("demo-provider-card-erroring")


def test_the_demo_buttons_are_reachable_by_keyboard_with_a_visible_focus(
    seeded, demo_login, live_server, page
):
    demo_login("ops")
    page.goto(f"{live_server.url}/migrations/webhook-service/")
    reached = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        label = page.evaluate("document.activeElement.textContent.trim()")
        if label.startswith("Make it"):
            reached.add(label)
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none"
    assert {"Make it slow", "Make it erroring", "Make it down"} <= reached


def test_times_on_the_migration_page_name_their_time_zone(seeded, demo_login, live_server, page):
    demo_login("ops")
    page.goto(f"{live_server.url}/migrations/webhook-service/")
    status = page.locator("#status-panel").inner_text()
    assert re.search(r"\d\d:\d\d (UTC|[A-Z]{3,4})", status), status
    assert "times in UTC" in page.locator("footer").inner_text()


def test_the_migration_list_shows_how_much_traffic_each_migration_carries(
    seeded, demo_login, live_server, page
):
    demo_login("pm")
    page.goto(f"{live_server.url}/migrations/")
    assert page.locator("[data-testid=traffic-webhook-service]").inner_text() == "25\u00a0%"
    assert page.locator("[data-testid=traffic-payment-gateway]").inner_text() == "0\u00a0%"
