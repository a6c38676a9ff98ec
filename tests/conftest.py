"""Fixtures shared by every test: role users, a migration, live processes and a browser.

The suite runs against real PostgreSQL and Redis (the Makefile and .ci/run point it there), in
parallel (pytest-xdist: see tests/parallel.py); a small lane also runs on SQLite (tests/sqlite_lane.py).
A skipped test counts as a failure: golive's tests must not pass by not running."""

import os

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.sql import emit_post_migrate_signal
from django.db import DEFAULT_DB_ALIAS, connection

from checklists.models import ChecklistTemplate
from checklists.yaml_io import load_builtin_templates
from golive_site.celery import app as celery_app
from migrations_app.access import Group
from tests import sqlite_lane
from tests.factories import make_migration, make_user
from tests.parallel import is_xdist_controller, mark_run_alone

pytest_plugins = ["tests.browser_fixtures"]

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # ORM beside Playwright's event loop


def pytest_sessionstart(session):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine and not sqlite_lane.is_sqlite(engine):
        pytest.exit(
            "The test suite needs PostgreSQL: run it with `make test` (which starts PostgreSQL and "
            "Redis) or set DATABASE_URL=postgres://...",
            returncode=3,
        )
    if settings.CELERY_BROKER_URL.startswith("redis") and not is_xdist_controller(session.config):
        # Tasks left queued by an earlier run would run against this run's reused row ids. Each
        # xdist worker purges its own Redis database (tests/parallel.py); the controller runs no test.
        celery_app.control.purge()


def pytest_report_header(config):
    if sqlite_lane.is_sqlite(settings.DATABASES["default"]["ENGINE"]):
        return [sqlite_lane.HEADER]
    return None


def pytest_collection_modifyitems(config, items):
    mark_run_alone(items)
    sqlite_lane.mark_known_postgresql_only(items)
    if sqlite_lane.is_sqlite(settings.DATABASES["default"]["ENGINE"]):
        sqlite_lane.keep_only_the_lane(config, items)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    sqlite_lane.report_exclusions(config, terminalreporter.write_line)
    skipped = terminalreporter.stats.get("skipped", [])
    if skipped:
        terminalreporter.write_line(
            f"FAILED: {len(skipped)} test(s) were skipped; every test must run (see tests/conftest.py).",
            red=True,
        )


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = 1


DATABASE_FIXTURES = {"db", "transactional_db", "live_server"}


@pytest.fixture(autouse=True)
def _reference_data(request):
    """The rows post_migrate writes (content types, permissions, the built-in templates) are back
    before a database test: a flush that skipped post_migrate left later tests of the same worker
    without them (seen as `Permission`/`ChecklistTemplate` DoesNotExist at setup)."""
    if request.node.get_closest_marker("django_db") is None:
        names = set(request.fixturenames) & DATABASE_FIXTURES
        if not names:
            return
        request.getfixturevalue("transactional_db" if names - {"db"} else "db")
    restore_reference_data()


def restore_reference_data(*, always: bool = False) -> None:
    """Content types, permissions and the built-in templates, as post_migrate writes them."""
    if not always and _reference_data_complete():
        return
    ContentType.objects.clear_cache()  # ids cached before a flush point at nothing
    emit_post_migrate_signal(verbosity=0, interactive=False, db=DEFAULT_DB_ALIAS)
    load_builtin_templates()
    assert _reference_data_complete(), _reference_data_diagnosis()


def _reference_data_complete() -> bool:
    return (
        Permission.objects.filter(content_type__app_label="migrations_app", codename="add_contact").exists()
        and ChecklistTemplate.objects.exists()
    )


def _reference_data_diagnosis() -> str:
    """What to look at when post_migrate wrote nothing (once: the data migrations' grant functions,
    called with the real app registry, left every app without its models_module)."""
    return (
        f"reference data still missing after post_migrate: database={connection.settings_dict['NAME']} "
        f"content types={ContentType.objects.count()} "
        f"autocommit={connection.get_autocommit()} in_atomic_block={connection.in_atomic_block} "
        f"templates={ChecklistTemplate.objects.count()} apps without models_module="
        f"{[c.label for c in apps.get_app_configs() if c.models_module is None]}"
    )


@pytest.fixture
def ops(db):
    return make_user("ops-user", groups=(Group.OPS,), first_name="Olivia", last_name="Ops")


@pytest.fixture
def pm(db):
    return make_user("pm-user", groups=(Group.PRODUCT_MANAGER,), first_name="Priya", last_name="PM")


@pytest.fixture
def oncall(db):
    return make_user("oncall-user", groups=(Group.ON_CALL,), first_name="Omar", last_name="Oncall")


@pytest.fixture
def admin_user(db):
    return make_user("admin-user", groups=(Group.ADMIN,), is_staff=True, first_name="Ada", last_name="Admin")


@pytest.fixture
def outsider(db):
    return make_user("outsider", first_name="Otto", last_name="Outsider")


@pytest.fixture
def migration(db, ops):
    return make_migration(owner=ops, name="Card payments go-live", slug="card-payments")


@pytest.fixture
def client_for(client):
    """A test client logged in as the given user."""

    def login(user):
        client.force_login(user)
        return client

    return login
