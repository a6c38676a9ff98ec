"""Scheduled steps: set on the traffic panel or the API in a named zone, cancellable, audited; at
their time applied through the same gates as the button, or skipped with a notice that says why."""

import datetime as dt
import json

import pytest
from django.conf import settings
from django.core import mail

from golive_site.celery import app as celery_app
from migrations_app.audit import Actor
from migrations_app.incidents.models import NotificationChannel
from migrations_app.models import AuditEvent
from migrations_app.monitoring.models import Guardrail, GuardrailState, Kpi
from migrations_app.rollout import outbox, schedule, tasks
from migrations_app.rollout.models import (
    OutboxMessage,
    RolloutPlan,
    ScheduledStep,
    ScheduledStepState,
    TrafficChange,
)
from tests.factories import put_live

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
SYSTEM = Actor.system("tests")
State = ScheduledStepState


def due_step(migration, percent=50, *, minutes_ago=1, by="ops-user") -> ScheduledStep:
    """A step whose time came `minutes_ago` minutes ago (scheduled before that, as a person would)."""
    at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes_ago)
    return schedule.schedule_step(
        migration,
        to=percent,
        at=at,
        zone="Europe/Paris",
        by=Actor.system(by),
        now=at - dt.timedelta(hours=1),
    )


@pytest.fixture
def ops_email(migration):
    return NotificationChannel.objects.create(name="Ops e-mail", kind="email", addresses="ops@example.com")


def delivered_notices() -> list:
    for message in OutboxMessage.objects.filter(dedupe_key__contains=":scheduled-step:"):
        outbox.deliver(message.pk)
    return mail.outbox


def test_a_due_step_is_applied_like_the_button_and_audited(migration):
    put_live(migration, 25)
    step = due_step(migration, 50)
    assert [s.pk for s in schedule.run_due_steps()] == [step.pk]
    step.refresh_from_db()
    assert step.state == State.APPLIED and "Applied: traffic 25 % → 50 %" in step.outcome
    assert RolloutPlan.objects.get(migration=migration).percent == 50
    change = TrafficChange.objects.get(to_percent=50)
    assert change.by == "scheduled step (set by ops-user)" and change.kind == "advance"
    assert AuditEvent.objects.filter(action="scheduled_step.applied", object_id=str(step.pk)).exists()
    assert AuditEvent.objects.filter(action="traffic.changed", after__percent=50).exists()
    assert schedule.run_due_steps() == []  # a second beat (or a redelivered task) finds nothing to do
    assert TrafficChange.objects.filter(to_percent=50).count() == 1


def test_a_step_is_skipped_when_a_gate_is_closed_and_the_channels_hear_why(migration, ops_email):
    put_live(migration, 25)
    kpi = Kpi.objects.create(
        migration=migration, name="Payment success", metric="payment_success", critical=99
    )
    Guardrail.objects.create(
        migration=migration, name="Payment success", kpi=kpi, state=GuardrailState.BREACHED
    )
    step = due_step(migration, 50)
    schedule.run_due_steps()
    step.refresh_from_db()
    assert step.state == State.SKIPPED
    assert "Payment success" in step.outcome and "is breached" in step.outcome
    assert RolloutPlan.objects.get(migration=migration).percent == 25  # nothing moved
    (notice,) = delivered_notices()
    assert notice.to == ["ops@example.com"]
    assert "Scheduled step skipped: Card payments go-live stays below 50 %" in notice.subject
    assert "is breached: fix the cause before adding traffic" in notice.body
    skipped = AuditEvent.objects.get(action="scheduled_step.skipped")
    assert "breached" in skipped.reason


def test_a_step_due_during_a_freeze_is_skipped_naming_the_freeze(migration, ops_email):
    put_live(migration, 25)
    now = dt.datetime.now(dt.UTC)
    schedule.create_freeze(
        migration=None,
        name="Year-end freeze",
        zone="Europe/Paris",
        by=SYSTEM,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=3),
    )
    step = due_step(migration, 50)
    schedule.run_due_steps()
    step.refresh_from_db()
    assert step.state == State.SKIPPED and "Change freeze on: Year-end freeze" in step.outcome
    (notice,) = delivered_notices()
    assert "Change freeze on: Year-end freeze (every migration) until" in notice.body
    assert RolloutPlan.objects.get(migration=migration).percent == 25


def test_a_step_found_long_after_its_time_is_skipped_not_applied(migration):
    put_live(migration, 25)
    step = due_step(migration, 50, minutes_ago=90)
    schedule.run_due_steps()
    step.refresh_from_db()
    assert step.state == State.SKIPPED and "scheduler only reached it at" in step.outcome
    assert RolloutPlan.objects.get(migration=migration).percent == 25


def test_the_beat_task_runs_due_steps_at_the_configured_interval(migration):
    entry = settings.CELERY_BEAT_SCHEDULE["rollout-run-scheduled-steps"]
    assert entry["task"] == "migrations_app.rollout.tasks.run_scheduled_steps"
    assert entry["schedule"] == settings.GOLIVE_SCHEDULED_STEPS_SECONDS == 30.0
    assert entry["task"] in celery_app.tasks
    put_live(migration, 25)
    due_step(migration, 50)
    assert tasks.run_scheduled_steps() == 1
    assert RolloutPlan.objects.get(migration=migration).percent == 50


# --- the traffic panel --------------------------------------------------------------------------


def test_ops_schedule_a_step_in_paris_time_on_the_panel_and_cancel_it(client_for, ops, migration):
    put_live(migration, 25)
    client = client_for(ops)
    data = {"percent": "50", "at": "2027-04-06T09:00", "zone": "Europe/Paris", "reason": "after standup"}
    response = client.post("/migrations/card-payments/traffic/schedule/", data, **HX)
    assert response.status_code == 200 and "trafficChanged" in response.headers["HX-Trigger"]
    html = response.content.decode()
    assert "Scheduled: traffic to 50 % on Tue 6 Apr 2027, 09:00 Europe/Paris (CEST)" in html
    step = ScheduledStep.objects.get()
    assert step.at == dt.datetime(2027, 4, 6, 7, tzinfo=dt.UTC) and step.created_by == "ops-user"
    assert AuditEvent.objects.get(action="scheduled_step.created").actor_user == ops
    page = client.get("/migrations/card-payments/").content.decode()
    assert "Traffic to 50 %</strong> on Tue 6 Apr 2027, 09:00 Europe/Paris (CEST)" in page
    cancel = f"/migrations/card-payments/traffic/schedule/{step.pk}/cancel/"
    assert client.get(cancel).status_code == 405
    response = client.post(cancel, **HX)
    assert response.status_code == 200 and "Step to 50 %: cancelled." in response.content.decode()
    step.refresh_from_db()
    assert step.state == State.CANCELLED
    assert AuditEvent.objects.get(action="scheduled_step.cancelled").actor_user == ops
    assert schedule.run_due_steps(now=dt.datetime(2027, 4, 6, 7, 1, tzinfo=dt.UTC)) == []


def test_a_product_manager_may_not_schedule_or_cancel(client_for, pm, migration):
    put_live(migration, 25)
    client = client_for(pm)
    data = {"percent": "50", "at": "2027-04-06T09:00", "zone": "Europe/Paris"}
    assert client.post("/migrations/card-payments/traffic/schedule/", data, **HX).status_code == 403
    step = schedule.schedule_step(
        migration, to=50, at=dt.datetime(2027, 4, 6, 7, tzinfo=dt.UTC), zone="UTC", by=SYSTEM
    )
    assert (
        client.post(f"/migrations/card-payments/traffic/schedule/{step.pk}/cancel/", **HX).status_code == 403
    )
    step.refresh_from_db()
    assert step.state == State.SCHEDULED


@pytest.mark.parametrize(
    "change, message",
    [
        ({"at": "2020-01-01T09:00"}, "Choose a time in the future."),
        ({"at": "tomorrow"}, "Give the date and time"),
        ({"at": "2027-03-28T02:30"}, "does not exist in Europe/Paris"),  # clocks skip 02:00-03:00
        ({"percent": "30"}, "30 % is not a step of the rollout plan"),
        ({"percent": "9223372036854775808"}, "is not a step of the rollout plan"),
        ({"percent": "x"}, "choose the traffic level"),
        ({"zone": "Mars/Olympus"}, "is not a time zone golive knows"),
    ],
)
def test_a_bad_schedule_is_refused_saying_why_and_nothing_is_saved(
    client_for, ops, migration, change, message
):
    put_live(migration, 25)
    data = {"percent": "50", "at": "2027-04-06T09:00", "zone": "Europe/Paris", **change}
    response = client_for(ops).post("/migrations/card-payments/traffic/schedule/", data, **HX)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ScheduledStep.objects.exists() and not AuditEvent.objects.filter(
        action__startswith="scheduled"
    )


# --- the API --------------------------------------------------------------------------------------


def api(client, method, path, token, body=None):
    return client.generic(
        method,
        f"/api/v1/migrations/card-payments/schedule{path}",
        json.dumps(body) if body is not None else "",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_the_api_schedules_lists_and_cancels_steps(client, operate_token, migration):
    put_live(migration, 25)
    body = {"percent": 50, "at": "2027-04-06T07:00:00Z", "zone": "Europe/Paris"}
    created = api(client, "POST", "", operate_token, body)
    assert created.status_code == 201, created.content
    assert created.json()["local_time"] == "Tue 6 Apr 2027, 09:00 Europe/Paris (CEST)"
    assert created.json()["state"] == "scheduled"
    again = api(client, "POST", "", operate_token, body)  # a retried call: the same step
    assert again.json()["id"] == created.json()["id"] and ScheduledStep.objects.count() == 1
    past = api(client, "POST", "", operate_token, {**body, "at": "2020-01-01T00:00:00Z"})
    assert past.status_code == 409 and past.json()["detail"][0]["field"] == "at"
    assert [s["percent"] for s in api(client, "GET", "", operate_token).json()] == [50]
    cancelled = api(client, "DELETE", f"/{created.json()['id']}", operate_token)
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert api(client, "DELETE", "/999999", operate_token).status_code == 404
