import pytest

from tests.security.world import build_world


@pytest.fixture
def world(ops, pm, oncall, admin_user, settings):
    """One object of every kind, reachable by every URL pattern (tests/security/world.py).
    Probes may call 127.0.0.1, where the world's own peers answer."""
    settings.GOLIVE_PROBE_ALLOWLIST = ["127.0.0.1/32"]
    return build_world(ops=ops, pm=pm, oncall=oncall, admin_user=admin_user)
