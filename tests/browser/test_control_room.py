"""The control room updates itself: a KPI tile changes without a reload."""

import datetime as dt

import pytest
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.monitoring import services
from migrations_app.monitoring.models import Kpi, Sample
from migrations_app.monitoring.probing.kinds import Outcome
from tests.factories import healthy_probe_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_control_room_updates_a_kpi_tile_without_a_reload(
    login, live_server, migration, oncall, screenshot
):
    healthy_probe_history(migration, start=timezone.now() - dt.timedelta(minutes=4), runs=8)
    Sample.objects.create(migration=migration, metric="payment_success", at=timezone.now(), ok=999, failed=0)
    kpi = Kpi.objects.get(migration=migration, name="Payment success")

    page = login(oncall)
    sizes = []
    page.on("response", lambda response: sizes.append(len(response.body())) if response.ok else None)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/control-room/")
    page.wait_for_load_state("load")
    first_load = sum(sizes)
    assert first_load < 1.5 * 1024 * 1024, f"first load is {first_load} bytes"
    tile = page.locator(f"#kpi-{kpi.pk}")
    assert "100.00 %" in tile.inner_text()
    assert "Healthy" in tile.inner_text()
    page.evaluate("window.__marker = 'same page'")
    page.locator("#chart-latency .main-svg").first.wait_for()
    screenshot("control-room-healthy")

    Sample.objects.create(migration=migration, metric="payment_success", at=timezone.now(), ok=0, failed=999)
    page.locator(f"#kpi-{kpi.pk}", has_text="50.00 %").wait_for(timeout=12_000)
    assert "Critical" in page.locator(f"#kpi-{kpi.pk}").inner_text()
    assert page.evaluate("window.__marker") == "same page"
    screenshot("control-room-critical")


def test_the_control_room_warns_when_updates_stop(login, live_server, migration, oncall):
    page = login(oncall)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/control-room/")
    assert page.locator("#live-stale").is_hidden()
    page.route("**/control-room/live/**", lambda route: route.abort())
    page.locator("#live-stale").wait_for(state="visible", timeout=25_000)
    assert "Live updates stopped" in page.locator("#live-stale").inner_text()


def test_ops_points_a_probe_at_a_service_from_the_control_room(
    login, live_server, migration, ops, screenshot
):
    from migrations_app.monitoring.models import Probe

    page = login(ops)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/")
    screenshot("migration-detail-monitoring-card")
    page.click("text=Open the control room")
    page.click("text=Add a probe")
    page.fill("#id_name", "Provider health")
    page.select_option("#id_kind", "http_health")
    page.fill("#id_url", "http://169.254.169.254/latest/meta-data/")
    page.fill("#id_headers_text", "Authorization: Bearer sk_live_oops")
    page.click("main button[type=submit]")
    assert "looks secret" in page.locator("#error-headers_text").inner_text()
    assert "link-local" in page.locator("#error-url").inner_text()
    screenshot("probe-form-errors")
    page.fill("#id_url", f"{live_server.url}/health")
    page.fill("#id_headers_text", "Authorization: Bearer ${PROVIDER_API_KEY}")
    page.fill("#id_expected_json_text", "status == ok")
    page.click("main button[type=submit]")
    page.locator("#probes", has_text="Provider health").wait_for()
    assert Probe.objects.get(name="Provider health").headers == {
        "Authorization": "Bearer ${PROVIDER_API_KEY}"
    }
    screenshot("control-room-new-probe")


def test_the_charts_mark_traffic_steps_and_rollbacks(login, live_server, migration, oncall, screenshot):
    from migrations_app.models import Migration
    from migrations_app.rollout import selectors
    from migrations_app.rollout.models import RolloutPlan, TrafficChange
    from migrations_app.rollout.services import roll_back

    probe = services.create_probe(
        migration, by=Actor.system("tests"), name="Provider health", url="http://127.0.0.1:9/health"
    )
    services.add_standard_kpis(migration, probe=probe, by=Actor.system("tests"))
    start = timezone.now() - dt.timedelta(minutes=20)
    for n in range(40):
        failing = n >= 34
        outcome = (
            Outcome("fail", "HTTP 503", status_code=503, latency_ms=2400)
            if failing
            else Outcome("pass", "HTTP 200", status_code=200, latency_ms=150 + (n % 5) * 20)
        )
        at = start + dt.timedelta(seconds=30 * n)
        services.record_probe_result(probe, due_at=at, outcome=outcome, now=at)
    RolloutPlan.objects.update_or_create(migration=migration, defaults={"percent": 25})
    Migration.objects.filter(pk=migration.pk).update(status="rolling_out")
    selectors.snapshot_cache.clear()
    step = TrafficChange.objects.create(
        migration=migration, by="ops-user", kind="advance", from_percent=0, to_percent=25
    )
    TrafficChange.objects.filter(pk=step.pk).update(at=start + dt.timedelta(minutes=10))
    migration.refresh_from_db()
    roll_back(migration, by=Actor.system("guardrail: Success rate guardrail"), reason="Success rate 0 %")

    page = login(oncall)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/control-room/")
    page.locator("#chart-success .main-svg").first.wait_for()
    svg = page.locator("#chart-latency").inner_text()
    assert "→ 25 %" in svg
    assert "rollback → 0 %" in svg
    screenshot("control-room-after-rollback")


def test_the_rollback_button_answers_while_the_charts_are_still_loading(
    login, live_server, migration, oncall
):

    from tests.factories import put_live

    put_live(migration, 25)
    probe = services.create_probe(
        migration, by=Actor.system("tests"), name="Provider health", url="http://127.0.0.1:9/health"
    )
    start = timezone.now() - dt.timedelta(minutes=4)
    for n in range(8):
        at = start + dt.timedelta(seconds=30 * n)
        outcome = Outcome("pass", "HTTP 200", status_code=200, latency_ms=120 + 10 * n)
        services.record_probe_result(probe, due_at=at, outcome=outcome, now=at)
    services.add_standard_kpis(migration, probe=probe, by=Actor.system("tests"))

    page = login(oncall)
    held = []  # Plotly stays on its way (a slow link) until the end of the test
    page.route("**/vendor/plotly-basic-*", lambda route: held.append(route))
    page.goto(f"{live_server.url}/migrations/{migration.slug}/control-room/", wait_until="domcontentloaded")
    page.click("summary.btn-rollback")
    assert page.locator("#rollback-reason").is_visible()
    assert "Success rate" in page.locator("#live").inner_text()
    assert page.locator("#chart-latency .main-svg").count() == 0

    for route in held:
        route.continue_()
    page.locator("#chart-latency .main-svg").first.wait_for()
    page.locator("#chart-success .main-svg").first.wait_for()
