"""Fixtures for traffic, flags and rollback tests."""

import pytest

from migrations_app.audit import Actor
from migrations_app.models import Migration, MigrationStatus
from migrations_app.rollout import selectors, tokens
from migrations_app.rollout.models import RolloutPlan


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts with no cached flag state or tokens (the caches are per process)."""
    selectors.snapshot_cache.clear()
    tokens.cache.clear()
    yield
    selectors.snapshot_cache.clear()
    tokens.cache.clear()


def put_live(migration: Migration, percent: int, *, status: str = MigrationStatus.ROLLING_OUT) -> Migration:
    """Test setup only: a migration rolling out at `percent` without walking every gate."""
    RolloutPlan.objects.update_or_create(migration=migration, defaults={"percent": percent})
    Migration.objects.filter(pk=migration.pk).update(status=status)
    migration.refresh_from_db()
    selectors.snapshot_cache.clear()
    return migration


def make_ready(migration: Migration) -> Migration:
    from migrations_app.services import transition_migration

    for status in (MigrationStatus.PREPARING, MigrationStatus.READY):
        migration = transition_migration(migration, to=status, by=Actor.system("tests"))
    return migration


@pytest.fixture
def live_migration(migration):
    return put_live(migration, 25)


@pytest.fixture
def make_token():
    def make(user, scopes="flags", name="test token"):
        _, raw = tokens.create_token(user=user, name=name, scopes=scopes, by=Actor.system("tests"))
        return raw

    return make


@pytest.fixture
def flags_token(ops, make_token):
    return make_token(ops, "flags", "flags token")


@pytest.fixture
def operate_token(ops, make_token):
    return make_token(ops, "operate", "ops pipeline")


@pytest.fixture
def admin_operate_token(admin_user, make_token):
    return make_token(admin_user, "operate", "admin pipeline")


@pytest.fixture
def oncall_operate_token(oncall, make_token):
    return make_token(oncall, "operate", "oncall pipeline")
