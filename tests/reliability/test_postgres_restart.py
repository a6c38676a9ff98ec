"""PostgreSQL restarts while golive serves 20 requests per second.

golive runs (gunicorn) against its own PostgreSQL cluster, created with initdb in a temporary
folder on another port, and its own redis-server; the shared services are not touched. The flag
APIs (OFREP and Unleash) answer 200 from their last good snapshot and token list all through
the outage; /api/v1 and the pages answer 503 with a sentence while it lasts, never 500, and
nothing fails before it or more than 5 s after; /health says the flag caches are stale, and
each process logs the failed refresh once. gunicorn is not restarted; afterwards a rollback
works and the invariant holds (rolled back, traffic 0 %, one outbox row per rollback hook)."""

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager

import httpx
import psycopg
import pytest

from tests.processes import ROOT, free_port, logged_in_client
from tests.rollout.conftest import gunicorn
from tests.rollout.test_rollback_broker_down import redis_server

pytestmark = [pytest.mark.services]
RATE = 20  # requests per second
DOWN_SECONDS = 3.0
GRACE = 5.0  # seconds after PostgreSQL is back during which errors are still allowed
IN_FLIGHT = 0.5  # a request sent this shortly before the stop may still meet it
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1] if glob.glob("/usr/lib/postgresql/*/bin") else ""

SETUP = """
import django; django.setup()
from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.rollout import tokens
from migrations_app.rollout.models import RolloutPlan, RollbackHook
from tests.factories import make_migration, make_user
from migrations_app.access import Group
user = make_user("oncall", groups=(Group.ON_CALL,))  # password: tests.factories.PASSWORD
m = make_migration(owner=user, slug="checkout")
RolloutPlan.objects.update_or_create(migration=m, defaults={"percent": 25})
Migration.objects.filter(pk=m.pk).update(status="rolling_out")
RollbackHook.objects.create(migration=m, name="pipeline", url="http://127.0.0.1:9/hook")
print(tokens.create_token(user=user, name="load", scopes=["operate", "flags"], by=Actor.system("tests"))[1])
"""


def _as_postgres(*args, **kwargs):
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(
        prefix + list(args), check=True, capture_output=True, text=True, timeout=60, **kwargs
    )


@contextmanager
def private_postgres():
    assert PG_BIN, "PostgreSQL server binaries are not installed"
    folder = tempfile.mkdtemp(prefix="golive-pg-")
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    data, port = os.path.join(folder, "data"), free_port()
    _as_postgres(f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [f"{PG_BIN}/pg_ctl", "-D", data, "-o", options, "-l", os.path.join(folder, "pg.log"), "-w"]
    _as_postgres(*ctl, "start")
    try:
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE golive")
        yield ctl, f"postgres://postgres@127.0.0.1:{port}/golive"
    finally:
        subprocess.run(
            (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else [])
            + ctl
            + ["-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)


def test_golive_rides_out_a_postgresql_restart_under_load(tmp_path):
    with private_postgres() as (ctl, database_url):
        redis_port = free_port()
        broker = f"redis://127.0.0.1:{redis_port}/0"
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "golive_site.settings",
            "CELERY_BROKER_URL": broker,
            "REDIS_URL": broker,
        }
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=300
        )
        token = subprocess.run(
            [sys.executable, "-c", SETUP],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout.split()[-1]
        auth = {"Authorization": f"Bearer {token}"}
        with (
            redis_server(redis_port, tmp_path),
            gunicorn(
                tmp_path, DATABASE_URL=database_url, CELERY_BROKER_URL=broker, REDIS_URL=broker
            ) as server,
        ):
            pid = server.pid
            log: list[tuple[float, str, int]] = []  # (time, what, status; 0 = no answer)
            stop = threading.Event()
            browser = logged_in_client(server.url, "oncall", timeout=3)
            flag = {"context": {"targetingKey": "user-42"}}
            unleash = {**auth, "unleash-appname": "shop", "unleash-instanceid": "i-1"}
            requests = [
                ("ofrep", lambda c: c.post("/ofrep/v1/evaluate/flags/checkout", json=flag)),
                ("unleash", lambda c: c.get("/api/client/features", headers=unleash)),
                ("api", lambda c: c.get("/api/v1/migrations/checkout")),
                ("api", lambda c: c.get("/api/v1/migrations")),
                ("page", lambda c: browser.get("/migrations/checkout/")),
            ]
            answers: dict[str, set] = {}  # what each kind answered while PostgreSQL was down

            def load():
                with httpx.Client(base_url=server.url, headers=auth, timeout=3) as client:
                    n = 0
                    while not stop.is_set():
                        what, send = requests[n % len(requests)]
                        n += 1
                        at = time.monotonic()
                        try:
                            response = send(client)
                            status = response.status_code
                            if status >= 500:
                                answers.setdefault(what, set()).add((status, response.text[:400]))
                        except httpx.HTTPError:
                            status = 0
                        log.append((at, what, status))
                        time.sleep(max(0.0, 1 / RATE - (time.monotonic() - at)))

            thread = threading.Thread(target=load, daemon=True)
            thread.start()
            time.sleep(3)
            down = time.monotonic()
            _as_postgres(*ctl, "-m", "fast", "stop")
            time.sleep(1)
            health = httpx.get(f"{server.url}/health", timeout=5)
            time.sleep(DOWN_SECONDS - 1)  # a restart that takes a while, as after a crash or a failover
            _as_postgres(*ctl, "start")
            up = time.monotonic()
            time.sleep(GRACE + 3)
            stop.set()
            thread.join(timeout=10)

            flag_errors = [
                (round(at - down, 2), w, st) for at, w, st in log if w in ("ofrep", "unleash") and st != 200
            ]
            assert not flag_errors, f"flag API errors (seconds after PostgreSQL stopped): {flag_errors}"
            outage = [(w, st) for at, w, st in log if down < at < up + GRACE and w in ("api", "page")]
            assert {st for _, st in outage} <= {200, 503}, f"not 200 or 503 during the outage: {outage}"
            assert {st for _, st in outage} >= {503}, "the outage was never seen"
            for status, text in answers.get("api", set()):
                assert status == 503 and "cannot reach its database" in text, text
            for status, text in answers.get("page", set()):
                assert status == 503 and "<title>Database unreachable" in text, text
            assert health.status_code == 503
            caches = health.json()["flag_caches"]
            assert caches["flag_snapshot"]["status"] == caches["token_list"]["status"] == "stale", caches
            assert httpx.get(f"{server.url}/health", timeout=5).json()["flag_caches"]["flag_snapshot"] == {
                "status": "ok"
            }
            server_log = server.log_path.read_text()
            for cache in ("flag snapshot", "token list"):  # once per gunicorn process (2), not per retry
                assert 1 <= server_log.count(f"{cache}: refresh failed") <= 2, server_log[-3000:]
            log = [(at, st) for at, _, st in log]

            errors = [(at, status) for at, status in log if status != 200]  # 503s of the outage included
            late = [(round(at - up, 2), status) for at, status in errors if at > up + GRACE]
            early = [(round(down - at, 2), status) for at, status in errors if at < down - IN_FLIGHT]
            assert not early, f"errors before PostgreSQL stopped: {early}"
            assert not late, f"errors more than {GRACE}s after PostgreSQL was back: {late}"
            assert server.poll() is None and server.pid == pid  # the same gunicorn, never restarted
            assert len(log) >= RATE * 8

            response = httpx.post(
                f"{server.url}/api/v1/migrations/checkout/rollback",
                json={"reason": "after the restart"},
                headers=auth,
                timeout=30,
            )
            assert response.status_code == 200, response.text
            state = httpx.get(f"{server.url}/api/v1/migrations/checkout", headers=auth, timeout=10).json()
            assert (state["status"], state["traffic_percent"]) == ("rolled_back", 0)
        with psycopg.connect(database_url.replace("postgres://", "postgresql://")) as conn:
            hooks = conn.execute("SELECT count(*) FROM rollout_rollbackhook").fetchone()[0]
            rows = conn.execute(
                "SELECT count(*) FROM rollout_outboxmessage WHERE kind = 'webhook'"
            ).fetchone()[0]
            rollbacks = conn.execute("SELECT count(*) FROM rollout_rollback").fetchone()[0]
        assert (rollbacks, rows) == (1, hooks)
        last_error = max((at for at, _ in errors), default=up) - up
        print(
            f"PostgreSQL down {up - down:.1f}s; {len(errors)} of {len(log)} requests answered 503 (flag APIs none); last {last_error:.1f}s after it was back"
        )
