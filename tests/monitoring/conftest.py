import pytest

from tests.monitoring.servers import local_server


@pytest.fixture(autouse=True)
def _probe_allowlist(settings):
    from django.core.cache import cache

    from migrations_app.rollout.selectors import snapshot_cache

    cache.clear()
    snapshot_cache.clear()
    settings.GOLIVE_PROBE_ALLOWLIST = ["127.0.0.1/32"]
    settings.GOLIVE_ALERT_DEDUPE_SECONDS = 900


@pytest.fixture
def server():
    with local_server() as srv:
        yield srv


@pytest.fixture
def ingest_token(ops):
    from migrations_app.audit import Actor
    from migrations_app.rollout import tokens

    tokens.cache.clear()
    _, raw = tokens.create_token(user=ops, name="shop backend", scopes="ingest", by=Actor.system("tests"))
    return raw
