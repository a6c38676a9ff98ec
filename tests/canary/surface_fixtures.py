"""Fixtures the canary surface tests borrow from the rollout tests (a token, a live migration),
loaded with `pytest_plugins = ["tests.canary.surface_fixtures"]`."""

from tests.rollout.conftest import flags_token, live_migration, make_token

__all__ = ["flags_token", "live_migration", "make_token"]
