"""The demo's promise, end to end: probes pass on the demo provider, then "Make it erroring" on the
migration page leads to an automatic rollback within the guardrail's window. Real worker and beat."""

import time

import pytest
from django.contrib.auth import get_user_model

from migrations_app.demo.seed import ROLLING_SLUG, ROLLING_WINDOW_SECONDS
from migrations_app.models import Migration, MigrationStatus
from migrations_app.monitoring.models import Probe
from migrations_app.rollout.models import Rollback
from migrations_app.rollout.selectors import current_percent
from tests.processes import celery_beat, celery_worker, wait_until

pytest_plugins = ["tests.browser.journeys"]  # seeded: the demo as `make run` seeds it

pytestmark = pytest.mark.django_db(transaction=True)


def test_making_the_provider_fail_rolls_the_demo_back_within_the_guardrail_window(seeded, client, tmp_path):
    migration = Migration.objects.get(slug=ROLLING_SLUG)
    env = {"DEMO_PROVIDER_API_KEY": "demo-provider-key"}
    with celery_worker(tmp_path, concurrency=2, **env), celery_beat(tmp_path, **env):
        wait_until(
            lambda: Probe.objects.filter(migration=migration, last_outcome="pass").count() == 3,
            timeout=60,
            interval=0.5,
            message="all three demo probes passing",
        )
        assert current_percent(migration) == 25
        client.force_login(get_user_model().objects.get(username="oncall"))
        started = time.monotonic()
        response = client.post(f"/migrations/{ROLLING_SLUG}/demo-provider/", {"mode": "error"})
        assert response.status_code == 200
        wait_until(
            lambda: current_percent(migration) == 0,
            timeout=ROLLING_WINDOW_SECONDS,
            interval=0.25,
            message="the guardrail's automatic rollback",
        )
        took = time.monotonic() - started
    print(f"automatic rollback {took:.1f} s after the provider started failing")
    migration.refresh_from_db()
    assert migration.status == MigrationStatus.ROLLED_BACK
    rollback = Rollback.objects.get(migration=migration)
    assert rollback.by.startswith("guardrail:")
