"""Fixtures for the integrations golive offers other tools (Prometheus, Grafana)."""

import pytest

from migrations_app.audit import Actor
from migrations_app.rollout import selectors, tokens


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts with no cached flag state or tokens (the caches are per process)."""
    selectors.snapshot_cache.clear()
    tokens.cache.clear()
    yield
    selectors.snapshot_cache.clear()
    tokens.cache.clear()


@pytest.fixture
def make_token():
    def make(user, scopes, name="scraper"):
        _, raw = tokens.create_token(user=user, name=name, scopes=scopes, by=Actor.system("tests"))
        tokens.cache.clear()
        return raw

    return make


@pytest.fixture
def metrics_token(ops, make_token):
    return make_token(ops, "metrics", "prometheus")


@pytest.fixture
def scrape(client, metrics_token):
    """GET /metrics with the metrics token; the body as text (asserting a 200)."""

    def get(**headers) -> str:
        response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}", **headers)
        assert response.status_code == 200, response.content
        return response.content.decode()

    return get
