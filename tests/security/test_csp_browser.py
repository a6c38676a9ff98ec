"""Every page in a real Chromium with the Content-Security-Policy on: nothing refused, no script error.

The policy allows no inline handler and no inline script without the request's nonce; the two
pages whose code moved to static/js (the control room, the sign-off sheet) are checked for what
that code does, with a listener for the browser's own `securitypolicyviolation` events."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from checklists import services as checklist_services
from checklists.models import ChecklistTemplate
from migrations_app.audit import Actor
from migrations_app.monitoring import services as monitoring_services
from migrations_app.monitoring.probing.kinds import Outcome
from migrations_app.rollout import services as rollout_services
from tests.security.test_permission_matrix import EXPECTED, parse
from tests.security.world import TEMPLATE, build_world, fill, put_live, url_patterns

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SYSTEM = Actor.system("tests")
# Runs in every document before its own scripts: what the browser refused, and why.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.effectiveDirective + " refused " + (e.blockedURI || "?") + " at " + e.sourceFile + ":" + e.lineNumber);
});
"""


@pytest.fixture
def watched(login):
    """Log `user` in; every page after that records CSP violations and script errors."""

    def start(user):
        page = login(user)
        page.add_init_script(RECORD_VIOLATIONS)
        page.errors = []
        page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        return page

    return start


def violations(page) -> list[str]:
    return page.evaluate("window.__violations") + page.errors


def test_the_sign_off_sheet_print_button_prints_with_no_inline_handler(
    watched, live_server, ops, pm, screenshot
):
    if not ChecklistTemplate.objects.filter(slug=TEMPLATE).exists():  # flushed by a transactional test
        call_command("load_builtin_templates", verbosity=0)
    migration = checklist_services.create_migration_from_template(
        by=SYSTEM,
        template=ChecklistTemplate.objects.get(slug=TEMPLATE),
        name="Checkout go-live",
        slug="checkout",
        owner=ops,
        integration="Card gateway",
    )
    phase = migration.phases.order_by("position").first()
    page = watched(pm)
    page.goto(live_server.url + reverse("checklists:phase_sheet", args=[phase.pk]))
    page.wait_for_load_state("load")
    # The print dialog cannot be seen headless: count the calls instead.
    page.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; }")
    button = page.get_by_role("button", name="Print this sheet")
    assert button.get_attribute("onclick") is None
    button.click()
    assert page.evaluate("window.__printed") == 1
    screenshot("csp-phase-sheet")
    assert violations(page) == []

    # The detector works, and the old way is now refused: an inline onclick does not run.
    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', "
        "'<button id=old type=button onclick=\"window.print()\">old</button>')"
    )
    page.click("#old")
    page.wait_for_function("() => window.__violations.length > 0")
    assert page.evaluate("window.__printed") == 1
    assert "script-src-attr" in page.evaluate("window.__violations")[0]


def test_the_control_room_script_draws_tells_and_warns_under_the_policy(
    watched, live_server, migration, oncall, screenshot
):
    put_live(migration, 25)
    probe = monitoring_services.create_probe(
        migration, by=SYSTEM, name="Provider health", url="http://127.0.0.1:9/health"
    )
    monitoring_services.add_standard_kpis(migration, probe=probe, by=SYSTEM)
    start = timezone.now() - dt.timedelta(minutes=4)
    for n in range(8):
        at = start + dt.timedelta(seconds=30 * n)
        outcome = Outcome("pass", "HTTP 200", status_code=200, latency_ms=120 + 10 * n)
        monitoring_services.record_probe_result(probe, due_at=at, outcome=outcome, now=at)

    page = watched(oncall)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/control-room/")
    page.wait_for_load_state("load")
    assert page.locator("script:not([src]):not([type='application/json'])").count() == 0
    # 1. It draws the charts from the JSON the page carries.
    page.locator("#chart-latency .main-svg").first.wait_for(timeout=5000)
    page.locator("#chart-success .main-svg, #chart-success .empty").first.wait_for(timeout=5000)
    screenshot("csp-control-room-live")

    # 2. A status change seen in a poll tells the other panels (the traffic panel reloads).
    page.evaluate(
        "() => { window.__changed = 0;"
        " document.body.addEventListener('migrationChanged', () => { window.__changed += 1; }); }"
    )
    rollout_services.roll_back(migration, by=SYSTEM, reason="CSP test")
    page.wait_for_function("() => window.__changed === 1", timeout=15_000)
    page.locator("#traffic-panel .rollback-state").wait_for(timeout=10_000)

    # 3. When polls stop arriving, the red banner says since when; it goes when they come back.
    assert violations(page) == []
    banner = page.locator("#live-stale")
    assert banner.is_hidden()
    page.route("**/control-room/live/**", lambda route: route.abort())
    banner.wait_for(state="visible", timeout=25_000)
    assert "Live updates stopped" in banner.inner_text()
    assert "?" not in banner.locator("[data-stale-time]").inner_text()
    page.unroute("**/control-room/live/**")
    banner.wait_for(state="hidden", timeout=15_000)
    assert page.evaluate("window.__violations") == []  # (the aborted polls log errors on purpose)


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
        if ".csv" in route or ".json" in route or ".yaml" in route or ".ics" in route or name == "health":
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
