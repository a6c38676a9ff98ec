"""Journey: the on-call engineer gets the alert, opens the control room, rolls back, sees 0 % and
the incident. Real worker and beat; the probes call the demo provider, which is told to fail."""

import httpx
import pytest

from migrations_app.models import Migration
from migrations_app.monitoring.models import Alert, Guardrail, GuardrailAction, Probe
from migrations_app.rollout.selectors import current_percent
from tests.processes import celery_beat, celery_worker, wait_until

pytest_plugins = ["tests.browser.journeys"]  # seeded, demo_login, docs_screenshot
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_on_call_gets_the_alert_rolls_back_and_sees_0_percent_and_the_incident(
    reporting,
    demo_login,
    live_server,
    docs_screenshot,
    tmp_path,
):
    migration = Migration.objects.get(slug="webhook-service")
    env = {"DEMO_PROVIDER_API_KEY": "demo-provider-key"}
    with celery_worker(tmp_path, concurrency=2, **env), celery_beat(tmp_path, **env):
        # First the healthy picture a newcomer sees after `make run` (the README's overview).
        wait_until(
            lambda: Probe.objects.filter(migration=migration, consecutive_passes__gte=3).count() == 3,
            timeout=60,
            interval=0.5,
            message="three passing probes on the demo provider",
        )
        page = demo_login("oncall")
        page.goto(f"{live_server.url}/migrations/{migration.slug}/control-room/")
        page.locator(".cr-tile", has_text="Payment success").locator("text=Healthy").wait_for()
        docs_screenshot("control-room", scroll_to="#live")

        # In the demo the guardrails roll back on their own; here they only alert, so a person acts.
        Guardrail.objects.filter(migration=migration).update(action=GuardrailAction.ALERT)
        httpx.post(f"{reporting.url}/_control", json={"mode": "error"})
        alert = wait_until(
            lambda: Alert.objects.filter(migration=migration, level="critical").first(),
            timeout=60,
            interval=0.5,
            message="a critical guardrail alert",
        )
        assert "breached" in alert.message

        page.goto(f"{live_server.url}/migrations/{migration.slug}/control-room/")
        page.locator(".cr-alerts", has_text="breached").wait_for()
        assert "25 %" in page.locator("[data-testid=traffic-percent]").inner_text()
        page.click("summary.btn-rollback")
        page.fill("#rollback-reason", "Provider answers HTTP 500 on every call")
        page.click("text=Confirm rollback from 25 % to 0 %")
        page.wait_for_selector(".rollback-state")
        assert page.locator("[data-testid=traffic-percent]").inner_text().startswith("0 %")
        assert current_percent(migration) == 0
        docs_screenshot("oncall-rollback", scroll_to="#traffic-panel")

        page.goto(f"{live_server.url}/migrations/{migration.slug}/")
        incidents = page.locator("#incidents-summary")
        incidents.get_by_text("rolled back from 25 %").first.wait_for()
        assert "Rolled back" in page.locator("#status-panel").inner_text()
