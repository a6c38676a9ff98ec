"""Every page in a real Chromium with the Content-Security-Policy on: nothing refused, no script error."""

import pytest

from tests.security.test_permission_matrix import EXPECTED, parse
from tests.security.world import build_world, fill, url_patterns

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_every_page_loads_with_the_policy_on_and_no_console_errors(
    login, live_server, ops, pm, oncall, admin_user, screenshot
):
    world = build_world(ops=ops, pm=pm, oncall=oncall, admin_user=admin_user)
    page = login(admin_user)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
    visited = 0
    pages = {
        name for (name, method), codes in parse(EXPECTED).items() if method == "GET" and codes["admin"] == 200
    }
    for name, route, _ in url_patterns():
        if (
            name not in pages
            or name in ("logout", "login")
            or name.startswith(("api:", "rollout:ofrep", "rollout:unleash"))
        ):
            continue
        if ".csv" in route or ".json" in route or ".yaml" in route or name == "health":
            continue
        response = page.goto(live_server.url + fill(route, name, world))
        if response is None or response.status != 200 or "text/html" not in response.headers["content-type"]:
            continue
        page.wait_for_load_state("load")
        visited += 1
        if name == "monitoring:control_room":
            # The charts are drawn by the page's own script: proof that the policy lets it run.
            page.locator("#chart-latency .empty, #chart-latency .main-svg").first.wait_for(timeout=5000)
            screenshot("csp-control-room")
    assert visited >= 20
    assert not problems, "\n".join(problems)
