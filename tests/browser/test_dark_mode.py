"""Dark mode: it follows the system setting, a person may choose light or dark for themselves,
and the control room's charts take the page's colours."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import healthy_probe_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BACKGROUND = "getComputedStyle(document.body).backgroundColor"
CHART_PAPER = "document.getElementById('chart-latency').layout.paper_bgcolor"


def _brightness(rgb: str) -> int:
    return sum(int(part) for part in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])


def test_the_control_room_follows_a_dark_system_setting_charts_included(
    login, live_server, migration, oncall, screenshot
):
    healthy_probe_history(migration, start=timezone.now() - dt.timedelta(minutes=3), runs=6)
    page = login(oncall)
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_server.url}/migrations/{migration.slug}/control-room/")
    page.locator("#chart-latency .main-svg").first.wait_for()
    assert _brightness(page.evaluate(BACKGROUND)) < 150  # near black, not the light grey
    assert page.evaluate(CHART_PAPER) == "#1a212b"  # the dark card colour
    rollback = page.get_by_role("button", name="Roll back to 0 %")
    assert (
        _brightness(rollback.evaluate("b => getComputedStyle(b).backgroundColor")) < 400
    )  # a red that white text reads on
    screenshot("control-room-dark")

    page.emulate_media(color_scheme="light")
    for _ in range(50):  # redrawn without a reload (the page's CSP allows no wait_for_function)
        if page.evaluate(CHART_PAPER) == "#fff":
            break
        page.wait_for_timeout(100)
    assert page.evaluate(CHART_PAPER) == "#fff"
    assert _brightness(page.evaluate(BACKGROUND)) > 700


def test_a_person_who_chooses_light_keeps_it_on_a_dark_system(login, live_server, migration, ops, screenshot):
    page = login(ops)
    page.emulate_media(color_scheme="dark")
    page.goto(f"{live_server.url}/people/me/")
    assert _brightness(page.evaluate(BACKGROUND)) < 150
    screenshot("your-settings-dark")
    page.get_by_label("Light").check()
    page.select_option("#id_time_zone", "Europe/Paris")
    page.get_by_role("button", name="Save my settings").click()
    page.get_by_text("Your settings are saved.").wait_for()
    assert page.locator("html").get_attribute("data-theme") == "light"
    assert _brightness(page.evaluate(BACKGROUND)) > 700
    assert "times in Europe/Paris" in page.locator("footer").inner_text()
    page.goto(f"{live_server.url}/migrations/{migration.slug}/")
    assert _brightness(page.evaluate(BACKGROUND)) > 700
    screenshot("migration-light-on-dark-system")
