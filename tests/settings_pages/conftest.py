import pytest

from migrations_app.audit import Actor
from migrations_app.rollout import tokens

SYSTEM = Actor.system("tests")


@pytest.fixture(autouse=True)
def _probes_may_call_this_machine(settings):
    settings.GOLIVE_PROBE_ALLOWLIST = ["127.0.0.1/32"]


@pytest.fixture
def bearer_for(db):
    """An `operate` token for the user, as request headers."""

    def make(user):
        tokens.cache.clear()
        _, raw = tokens.create_token(user=user, name=f"ci {user.username}", scopes=["operate"], by=SYSTEM)
        return {"Authorization": f"Bearer {raw}"}

    return make
