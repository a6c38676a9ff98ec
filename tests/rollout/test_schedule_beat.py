"""Real beat and worker processes apply a step when its time comes, and skip one a freeze holds."""

import datetime as dt

import pytest

from migrations_app.audit import Actor
from migrations_app.rollout import schedule
from migrations_app.rollout.models import RolloutPlan, ScheduledStep, ScheduledStepState
from tests.factories import make_migration, put_live
from tests.processes import celery_beat, celery_worker, wait_until

SYSTEM = Actor.system("tests")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_beat_applies_a_due_step_and_skips_the_frozen_one(tmp_path, migration, ops):
    frozen = make_migration(owner=ops, name="Wallet go-live", slug="wallet")
    for each in (migration, frozen):
        put_live(each, 25)
    now = dt.datetime.now(dt.UTC)
    schedule.create_freeze(
        migration=frozen,
        name="Wallet freeze",
        zone="Europe/Paris",
        by=SYSTEM,
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(hours=1),
    )
    soon = now + dt.timedelta(seconds=3)
    applied = schedule.schedule_step(migration, to=50, at=soon, zone="Europe/Paris", by=SYSTEM)
    held = schedule.schedule_step(frozen, to=50, at=soon, zone="Europe/Paris", by=SYSTEM)
    assert RolloutPlan.objects.get(migration=migration).percent == 25  # nothing before its time

    with celery_worker(tmp_path), celery_beat(tmp_path, GOLIVE_SCHEDULED_STEPS_SECONDS="1"):
        wait_until(
            lambda: not ScheduledStep.objects.filter(state=ScheduledStepState.SCHEDULED).exists(),
            timeout=60,
            message="beat and the worker to run both steps",
        )
    applied.refresh_from_db()
    held.refresh_from_db()
    assert applied.state == ScheduledStepState.APPLIED
    assert RolloutPlan.objects.get(migration=migration).percent == 50
    assert held.state == ScheduledStepState.SKIPPED and "Change freeze on: Wallet freeze" in held.outcome
    assert RolloutPlan.objects.get(migration=frozen).percent == 25
