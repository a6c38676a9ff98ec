"""Guardrails on pushed metrics: every batch is evaluated, but a burst the worker is behind on is
evaluated once per guardrail, not once per batch."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from migrations_app.monitoring import services
from migrations_app.monitoring.models import Guardrail, Kpi
from migrations_app.monitoring.tasks import evaluate_metric_guardrails
from migrations_app.rollout.selectors import current_percent
from tests.factories import put_live

pytestmark = pytest.mark.django_db


@pytest.fixture
def guardrail(migration):
    migration = put_live(migration, 25)
    kpi = Kpi.objects.create(
        migration=migration, name="Payment success", metric="payment_success", critical=99, window_seconds=300
    )
    return Guardrail.objects.create(
        migration=migration, name="Payment success", kpi=kpi, consecutive=3, min_samples=1, action="rollback"
    )


def push(client, token, slug, body):
    return client.post(
        f"/api/v1/migrations/{slug}/samples",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def failing_batch():
    return {"samples": [{"metric": "payment_success", "ok": 0, "failed": 10}]}


@pytest.fixture
def eager_tasks():
    """Tasks run in this process when enqueued (Celery's own eager mode), as a worker would run them."""
    from golive_site.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_each_batch_pushed_after_the_last_evaluation_steps_the_guardrail_once(
    client, guardrail, ingest_token, eager_tasks, django_capture_on_commit_callbacks
):
    for streak in (1, 2):
        with django_capture_on_commit_callbacks(execute=True):
            assert push(client, ingest_token, guardrail.migration.slug, failing_batch()).status_code == 202
        guardrail.refresh_from_db()
        assert guardrail.breach_streak == streak
    assert current_percent(guardrail.migration) == 25


def test_a_batch_an_evaluation_already_saw_does_not_step_the_guardrail_again(guardrail):
    pushed_at = timezone.now()
    services.ingest_samples(guardrail.migration, items=failing_batch()["samples"])
    # The worker, behind a burst, evaluated after this batch was committed (for a later batch).
    services.evaluate_guardrail(guardrail, now=pushed_at + dt.timedelta(seconds=2))
    guardrail.refresh_from_db()
    assert guardrail.breach_streak == 1

    evaluated = evaluate_metric_guardrails(
        migration_id=guardrail.migration_id, metrics=["payment_success"], pushed_at=pushed_at.isoformat()
    )
    guardrail.refresh_from_db()
    assert evaluated == 0
    assert guardrail.breach_streak == 1


def test_a_batch_pushed_after_the_last_evaluation_is_evaluated(guardrail):
    services.evaluate_guardrail(guardrail, now=timezone.now() - dt.timedelta(seconds=5))
    services.ingest_samples(guardrail.migration, items=failing_batch()["samples"])
    evaluated = evaluate_metric_guardrails(
        migration_id=guardrail.migration_id, metrics=["payment_success"], pushed_at=timezone.now().isoformat()
    )
    guardrail.refresh_from_db()
    assert evaluated == 1
    assert (guardrail.state, guardrail.breach_streak) == ("warning", 1)


def test_a_message_queued_before_the_push_time_was_sent_still_evaluates(guardrail):
    services.ingest_samples(guardrail.migration, items=failing_batch()["samples"])
    services.evaluate_guardrail(guardrail)
    assert evaluate_metric_guardrails(migration_id=guardrail.migration_id, metrics=["payment_success"]) == 1
    guardrail.refresh_from_db()
    assert guardrail.breach_streak == 2


def test_the_batch_that_completes_the_breach_rolls_back(guardrail):
    for _ in range(3):
        services.ingest_samples(guardrail.migration, items=failing_batch()["samples"])
        evaluate_metric_guardrails(
            migration_id=guardrail.migration_id,
            metrics=["payment_success"],
            pushed_at=timezone.now().isoformat(),
        )
    guardrail.refresh_from_db()
    assert guardrail.state == "breached"
    assert current_percent(guardrail.migration) == 0
