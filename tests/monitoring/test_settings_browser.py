"""The KPI and guardrail settings in a real browser: from the migration page to a compare
guardrail with its replay preview, the way an engineer sets up a plan's rules."""

import datetime as dt

import numpy as np
import pytest
from django.utils import timezone

from migrations_app.monitoring import services
from migrations_app.monitoring.models import Guardrail, Probe
from tests.canary import engine

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_an_engineer_adds_a_plans_kpis_and_a_compare_guardrail_with_a_preview(
    login, live_server, migration, ops, screenshot
):
    engine.go_live(migration, 25)
    Probe.objects.create(migration=migration, name="Provider health", url="https://provider.example/health")
    rng = np.random.default_rng(1)
    now = timezone.now()
    for hours in range(1, 6):  # the new path 50 % slower every other hour, as fast in between
        factor = 1.5 if hours % 2 else 1.0
        engine.push_latencies(migration, now - dt.timedelta(hours=hours), rng, count=60, new_factor=factor)
    page = login(ops)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/")
    page.click("text=KPIs and guardrails")
    page.wait_for_selector("h1:has-text('KPIs and guardrails')")
    screenshot("settings-empty")
    page.check("input[value='payment-gateway-go-live']")
    page.select_option("#standard-action", "pause")
    page.click("text=Add these KPIs")
    page.wait_for_selector("text=Added 2 KPIs")
    assert page.locator("#kpis tbody tr").count() == 2

    page.click("text=Add a KPI")
    page.fill("#id_name", "Checkout p95")
    page.fill("#id_metric", "checkout_latency")
    page.select_option("#id_aggregation", "p95")
    page.select_option("#id_direction", "lower")
    page.fill("#id_window_seconds", "300")
    page.fill("#id_unit", "ms")
    page.click("text=Save KPI")
    page.wait_for_selector("text=KPI “Checkout p95” saved.")

    page.click("text=Add a guardrail")
    page.fill("#id_name", "Checkout latency vs old")
    page.select_option("#id_kpi", label="Checkout p95")
    page.select_option("#id_kind", "compare")
    page.select_option("#id_action", "pause")
    page.fill("#id_consecutive", "1")
    page.fill("#id_min_samples", "30")
    page.fill("#id_tolerance_percent", "20")
    page.click("text=Preview: would it have fired in the last 24 h?")
    preview = page.locator("#preview")
    preview.wait_for()
    assert "would have fired 3 times in the last 24 h" in preview.inner_text()
    screenshot("settings-guardrail-preview")
    page.click("text=Save guardrail")
    page.wait_for_selector("text=Guardrail “Checkout latency vs old” saved.")
    screenshot("settings-list")
    assert Guardrail.objects.get(name="Checkout latency vs old").tolerance_percent == 20

    # The on-call's view of a fired compare guardrail, in words and numbers
    guardrail = Guardrail.objects.get(name="Checkout latency vs old")
    engine.push_latencies(migration, timezone.now(), rng, count=200, new_factor=1.4)
    services.evaluate_guardrail(guardrail, now=timezone.now() + dt.timedelta(seconds=1))
    page.reload()
    row = page.locator(f"#guardrail-{guardrail.pk}")
    assert "new p95" in row.inner_text() and "fail, 1 of 1" in row.inner_text()
    screenshot("settings-compare-fired")
