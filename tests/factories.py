"""Small builders for test data. Everything goes through the services, as in production."""

import datetime as dt
import functools
import itertools

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from migrations_app import services
from migrations_app.audit import Actor
from migrations_app.models import Migration, MigrationStatus
from migrations_app.monitoring import services as monitoring_services
from migrations_app.monitoring.probing.kinds import Outcome
from migrations_app.rollout import selectors as rollout_selectors
from migrations_app.rollout.models import RolloutPlan

_numbers = itertools.count(1)
PASSWORD = "correct-horse-battery"


def password_hash() -> str:
    """PASSWORD hashed once per test process by the production hasher (PBKDF2, a million rounds:
    most of a second here). Every test user shares it, so logging in checks a real hash, but a
    test that makes five users no longer spends seconds hashing the same password five times.
    Kept per hasher list: a test that sets PASSWORD_HASHERS (a fast one) gets a hash it can check."""
    return _hash_with(tuple(settings.PASSWORD_HASHERS))


@functools.cache
def _hash_with(hashers: tuple[str, ...]) -> str:
    return make_password(PASSWORD)


def make_user(username: str | None = None, *, groups: tuple[str, ...] = (), **fields):
    username = username or f"user{next(_numbers)}"
    user = get_user_model().objects.create_user(username=username, password=None, **fields)
    user.password = password_hash()
    user.save(update_fields=["password"])
    for name in groups:
        # get_or_create: transactional tests flush the groups the data migration made.
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


def make_migration(*, owner=None, slug: str | None = None, **fields):
    owner = owner or make_user()
    number = next(_numbers)
    slug = slug or f"migration-{number}"
    defaults = {"name": f"Migration {number}", "integration": "Acme Payments"}
    defaults.update(fields)
    return services.create_migration(by=Actor.system("tests"), slug=slug, owner=owner, **defaults)


def put_live(migration: Migration, percent: int, *, status: str = MigrationStatus.ROLLING_OUT) -> Migration:
    """Test setup only: a migration rolling out at `percent` without walking every gate."""
    RolloutPlan.objects.update_or_create(migration=migration, defaults={"percent": percent})
    Migration.objects.filter(pk=migration.pk).update(status=status)
    migration.refresh_from_db()
    rollout_selectors.snapshot_cache.clear()
    return migration


def healthy_probe_history(migration: Migration, *, start: dt.datetime, runs: int):
    """A health probe with the standard KPIs and `runs` passing results every 30 s from `start`,
    slowing by 10 ms a run from 120 ms: enough for the KPI tiles and the latency chart."""
    system = Actor.system("tests")
    probe = monitoring_services.create_probe(
        migration, by=system, name="Provider health", url="http://127.0.0.1:9/health"
    )
    monitoring_services.add_standard_kpis(migration, probe=probe, by=system)
    for n in range(runs):
        at = start + dt.timedelta(seconds=30 * n)
        outcome = Outcome("pass", "HTTP 200", status_code=200, latency_ms=120 + 10 * n)
        monitoring_services.record_probe_result(probe, due_at=at, outcome=outcome, now=at)
    return probe
