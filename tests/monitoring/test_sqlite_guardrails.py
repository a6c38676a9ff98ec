"""On SQLite (what `make run` uses) an alert-only guardrail that fires opens its incident once,
where the JSON containment lookup used to raise "contains lookup is not supported" in the worker;
compare guardrails, cohorts from targeting keys and pauses work there too."""

import json
import subprocess
import sys

import pytest

from tests.processes import ROOT, process_env

pytestmark = pytest.mark.services

SCRIPT = """
import datetime as dt, json

import django
django.setup()
from django.core.management import call_command
from django.utils import timezone

call_command("migrate", verbosity=0)

import numpy as np
from django.contrib.auth import get_user_model
from migrations_app import services as migration_services
from migrations_app.audit import Actor
from migrations_app.incidents.models import Incident
from migrations_app.incidents.services import open_for_fired_guardrails
from migrations_app.models import Migration
from migrations_app.monitoring import services
from migrations_app.monitoring.models import Guardrail, Kpi, Sample
from migrations_app.rollout.models import RolloutPlan, TrafficChange

owner = get_user_model().objects.create_user("owner", password="x-x-x-x-x-x")
migration = migration_services.create_migration(
    by=Actor.system("test"), slug="demo", owner=owner, name="Demo", integration="Demo provider"
)
RolloutPlan.objects.create(migration=migration, percent=25)
Migration.objects.filter(pk=migration.pk).update(status="rolling_out")
TrafficChange.objects.create(migration=migration, by="t", kind="advance", from_percent=0, to_percent=25)
TrafficChange.objects.update(at=timezone.now() - dt.timedelta(hours=1))
now = timezone.now()

alerting = Guardrail.objects.create(
    migration=migration, name="Errors", consecutive=1, min_samples=1, action="alert",
    kpi=Kpi.objects.create(migration=migration, name="Success", metric="payment_success", critical=90),
)
services.ingest_samples(migration, items=[{"metric": "payment_success", "ok": 1, "failed": 9, "at": now}])
services.evaluate_guardrail(alerting, now=now + dt.timedelta(seconds=1))
first, second = open_for_fired_guardrails(), open_for_fired_guardrails()

rng = np.random.default_rng(1)
comparing = Guardrail.objects.create(
    migration=migration, name="Latency vs old", kind="compare", tolerance_percent=20, consecutive=1,
    min_samples=30, action="pause",
    kpi=Kpi.objects.create(migration=migration, name="Latency", metric="latency", aggregation="p95",
                           direction="lower", window_seconds=300),
)
items = [{"metric": "latency", "value": float(v), "at": now, "targeting_key": f"user-{n}"}
         for n, v in enumerate(rng.lognormal(5.7, 0.4, 2000))]
services.ingest_samples(migration, items=items)
new = Sample.objects.filter(metric="latency", cohort="new")
new.update(value=django.db.models.F("value") * 1.5)  # the new path 50 % slower
services.evaluate_guardrail(comparing, now=now + dt.timedelta(seconds=1))
comparing.refresh_from_db()
migration.refresh_from_db()
print(json.dumps({
    "opened": [first, second],
    "incidents": Incident.objects.filter(migration=migration).count(),
    "cohorts": sorted(set(Sample.objects.filter(metric="latency").values_list("cohort", flat=True))),
    "verdict": comparing.last_verdict,
    "status": migration.status,
}))
"""


def test_guardrails_open_incidents_compare_and_pause_on_the_sqlite_database_make_run_uses(tmp_path):
    env = process_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'golive.sqlite3'}",
        CELERY_TASK_ALWAYS_EAGER="true",
        CELERY_BROKER_URL=f"golivesql+sqlite:///{tmp_path / 'broker.sqlite3'}",
        LOG_LEVEL="WARNING",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "opened": [1, 0],  # once per firing, not again on the next sweep
        "incidents": 1,
        "cohorts": ["new", "old"],
        "verdict": "fail",
        "status": "paused",
    }
