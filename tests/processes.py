"""Real processes for end-to-end tests: Celery workers and beat pointed at the test database."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database the current test uses: pytest-django's test_<name> database, or
    test_<name>_gw<N> in xdist worker N, so the processes a test starts see that worker's rows."""
    db = settings.DATABASES["default"]
    name = connection.settings_dict["NAME"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{name}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{name}"


def process_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "golive_site.settings",
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def _wait_for_line(proc: subprocess.Popen, log_path: Path, needle: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early ({proc.returncode}):\n{log_path.read_text()[-3000:]}")
        if needle in log_path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise TimeoutError(f"no '{needle}' after {timeout}s:\n{log_path.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextmanager
def celery_worker(
    tmp_path: Path, *, queues: str = "", concurrency: int = 1, pool: str = "prefork", **env: str
):
    """A real `celery worker` process on the configured broker, using the test database."""
    log_path = tmp_path / f"worker-{time.monotonic_ns()}.log"
    args = [sys.executable, "-m", "celery", "-A", "golive_site", "worker", "--loglevel=INFO"]
    args += [f"--concurrency={concurrency}", f"--pool={pool}", "--without-gossip", "--without-mingle"]
    args += [f"--hostname=test-{time.monotonic_ns()}@%h"]
    if queues:
        args += ["-Q", queues]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(args, cwd=ROOT, env=process_env(**env), stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_line(proc, log_path, "ready.", timeout=30)
        proc.log_path = log_path  # type: ignore[attr-defined]
        yield proc
    finally:
        _stop(proc)


@contextmanager
def celery_beat(tmp_path: Path, **env: str):
    """A real `celery beat` process (its schedule file in tmp_path)."""
    log_path = tmp_path / f"beat-{time.monotonic_ns()}.log"
    args = [sys.executable, "-m", "celery", "-A", "golive_site", "beat", "--loglevel=INFO"]
    args += [f"--schedule={tmp_path / 'celerybeat-schedule'}"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(args, cwd=ROOT, env=process_env(**env), stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_line(proc, log_path, "beat: Starting", timeout=30)
        proc.log_path = log_path  # type: ignore[attr-defined]
        yield proc
    finally:
        _stop(proc)


@contextmanager
def together(*managers: AbstractContextManager):
    """Start several processes (their context managers) in order, and stop them all at once.

    Stopping is mostly waiting: a Celery worker's warm shutdown, gunicorn's graceful timeout. One
    after the other, a test waited for the sum; side by side, for the slowest. Starting stays in
    order: it is mostly CPU (importing Django), and started together on a busy machine they only
    kept each other from answering within their ready timeouts."""
    entered: list[tuple[AbstractContextManager, object]] = []
    try:
        for manager in managers:
            entered.append((manager, manager.__enter__()))
        yield [value for _, value in entered]
    finally:
        with ThreadPoolExecutor(max_workers=len(managers)) as pool:
            stopping = [pool.submit(manager.__exit__, None, None, None) for manager, _ in entered]
        for future in stopping:
            future.result()


def wait_until(predicate, *, timeout: float, interval: float = 0.05, message: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail with `message` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def logged_in_client(base_url: str, username: str, *, timeout: float = 30) -> httpx.Client:
    """An HTTP client logged in through the login form, as a browser would be (session + CSRF)."""
    from tests.factories import PASSWORD

    client = httpx.Client(base_url=base_url, timeout=timeout)
    page = client.get("/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/login/", data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302, response.text[:500]
    return client
