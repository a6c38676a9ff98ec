import pytest

from tests.monitoring.servers import local_server


@pytest.fixture(autouse=True)
def _probe_allowlist(settings):
    settings.GOLIVE_PROBE_ALLOWLIST = ["127.0.0.1/32"]
    settings.GOLIVE_ALERT_DEDUPE_SECONDS = 900


@pytest.fixture
def server():
    with local_server() as srv:
        yield srv
