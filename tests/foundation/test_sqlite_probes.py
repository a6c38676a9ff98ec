"""`make run` keeps golive on SQLite: probes must be dispatched and stored there too, not only on
PostgreSQL (whose one-statement dispatch and storing SQL SQLite cannot run)."""

import json
import subprocess
import sys

import pytest

from tests.processes import ROOT, process_env

pytestmark = pytest.mark.services

SCRIPT = """
import json, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import django
django.setup()
from django.core.management import call_command
from django.utils import timezone

call_command("migrate", verbosity=0)


class Healthy(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Healthy)
threading.Thread(target=server.serve_forever, daemon=True).start()

from django.contrib.auth import get_user_model
from migrations_app import services as migration_services
from migrations_app.audit import Actor
from migrations_app.monitoring import services, tasks
from migrations_app.monitoring.models import Probe, ProbeResult

owner = get_user_model().objects.create_user("owner", password="x-x-x-x-x-x")
migration = migration_services.create_migration(
    by=Actor.system("test"), slug="demo", owner=owner, name="Demo", integration="Demo provider"
)
for n in range(3):
    Probe.objects.create(
        migration=migration, name=f"health {n}", url=f"http://127.0.0.1:{server.server_port}/health",
        interval_seconds=60, next_due_at=timezone.now(),
    )
dispatched = tasks.dispatch_due_probes()  # beat's task; eager Celery: the batch runs on the spot
runs = [[pid, due.isoformat()] for pid, due in ProbeResult.objects.values_list("probe_id", "due_at")]
tasks.run_probes(runs=runs)  # the same batch redelivered
print(json.dumps({
    "dispatched": dispatched,
    "dispatched_again": len(services.dispatch_due_probes()),
    "results": sorted(ProbeResult.objects.values_list("outcome", flat=True)),
    "streaks": sorted(Probe.objects.values_list("consecutive_passes", "last_outcome")),
}))
"""


def test_probes_run_and_are_stored_once_on_the_sqlite_database_make_run_uses(tmp_path):
    env = process_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'golive.sqlite3'}",
        CELERY_TASK_ALWAYS_EAGER="true",
        CELERY_BROKER_URL=f"golivesql+sqlite:///{tmp_path / 'broker.sqlite3'}",
        GOLIVE_PROBE_ALLOWLIST="127.0.0.1/32",
        LOG_LEVEL="WARNING",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "dispatched": 3,
        "dispatched_again": 0,
        "results": ["pass", "pass", "pass"],
        "streaks": [[1, "pass"], [1, "pass"], [1, "pass"]],
    }
