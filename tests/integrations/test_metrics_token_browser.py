"""The ops engineer makes Prometheus its token in the browser, and the token scrapes /metrics."""

import httpx
import pytest

from tests.factories import put_live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_metrics_token_made_on_the_tokens_page_scrapes_the_live_server(
    login, live_server, migration, ops, screenshot
):
    put_live(migration, 25)
    page = login(ops)
    page.click("text=API tokens")
    assert "Prometheus scrapes /metrics (metrics)" in page.locator(".page-head").inner_text()
    page.fill("#token-name", "prometheus production")
    page.check("input[value=metrics]")
    page.click("text=Create token")
    token = page.locator("[data-testid=new-token]").inner_text()
    assert token.startswith("glv_")
    row = page.locator("tr", has_text="prometheus production")
    assert row.locator("td").nth(2).inner_text() == "metrics"
    screenshot("api-tokens-metrics")

    answer = httpx.get(f"{live_server.url}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200
    assert f'golive_traffic_percent{{migration="{migration.slug}"}} 25.0' in answer.text
    refused = httpx.get(f"{live_server.url}/metrics", timeout=10)
    assert refused.status_code == 401 and "'metrics' scope" in refused.text
