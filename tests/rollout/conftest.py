"""Fixtures for traffic, flags and rollback tests."""

import subprocess
import sys
from contextlib import contextmanager

import httpx
import pytest

from migrations_app.audit import Actor
from migrations_app.models import Migration, MigrationStatus
from migrations_app.rollout import selectors, tokens
from tests.factories import put_live
from tests.processes import ROOT, _stop, free_port, process_env, wait_until


@pytest.fixture(autouse=True)
def fresh_caches():
    """Each test starts with no cached flag state or tokens (the caches are per process)."""
    selectors.snapshot_cache.clear()
    tokens.cache.clear()
    yield
    selectors.snapshot_cache.clear()
    tokens.cache.clear()


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


@contextmanager
def gunicorn(tmp_path, **env: str):
    """A real gunicorn serving golive on the test database (2 processes, 4 threads each).

    Django's live_server answers about 50 ms per request over TCP; gunicorn is what production
    runs, and several processes show that each one's flag snapshot follows changes."""
    port = free_port()
    log_path = tmp_path / f"gunicorn-{port}.log"
    args = [sys.executable, "-m", "gunicorn", "golive_site.wsgi", "-b", f"127.0.0.1:{port}"]
    # Idle keep-alive longer than httpx keeps a connection (5 s): the client drops it first, so a
    # request never goes out on a connection the server is closing.
    args += ["-w", "2", "-k", "gthread", "--threads", "4", "--graceful-timeout", "3", "--keep-alive", "30"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(args, cwd=ROOT, env=process_env(**env), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up():
        if proc.poll() is not None:
            raise RuntimeError(log_path.read_text()[-3000:])
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, timeout=30, interval=0.2, message="gunicorn")
        proc.url = url  # type: ignore[attr-defined]
        proc.log_path = log_path  # type: ignore[attr-defined]
        yield proc
    finally:
        _stop(proc)


@pytest.fixture
def golive_server(tmp_path, transactional_db):
    with gunicorn(tmp_path) as server:
        yield server
