"""Traffic and rollback services: gates, idempotence, audit, incident and outbox rows."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.incidents.models import Incident
from migrations_app.models import AuditEvent, Contact, MigrationRole, MigrationStatus
from migrations_app.rollout import gates, services
from migrations_app.rollout.models import (
    PLAYBOOK,
    OutboxMessage,
    Rollback,
    RollbackHook,
    RolloutPlan,
    TrafficChange,
)
from migrations_app.rollout.selectors import current_percent
from tests.factories import put_live
from tests.rollout.conftest import make_ready

pytestmark = pytest.mark.django_db


def _by(user):
    return Actor.for_user(user)


@pytest.fixture(autouse=True)
def open_gates(monkeypatch):
    """The checklist gate is tested by its own app; here it is open unless a test closes it."""
    monkeypatch.setattr(gates, "go_live_gate_blocker", lambda migration: None)
    monkeypatch.setattr(gates, "guardrail_blocker", lambda migration: None)


def _soak_done(migration):
    RolloutPlan.objects.filter(migration=migration).update(level_since=timezone.now() - dt.timedelta(days=2))


def test_it_starts_the_rollout_at_the_first_step(migration, ops):
    migration = make_ready(migration)
    services.set_traffic(migration, to=5, by=_by(ops), reason="go")
    migration.refresh_from_db()
    assert migration.status == MigrationStatus.ROLLING_OUT
    assert current_percent(migration) == 5
    change = TrafficChange.objects.get(migration=migration)
    assert (change.from_percent, change.to_percent, change.by, change.reason) == (0, 5, "ops-user", "go")
    assert AuditEvent.objects.filter(migration=migration, action="traffic.changed").count() == 1


def test_it_refuses_to_advance_before_the_soak_time(migration, ops):
    migration = make_ready(migration)
    services.set_traffic(migration, to=5, by=_by(ops))
    with pytest.raises(ValidationError, match="Soaking at 5 %"):
        services.set_traffic(migration, to=25, by=_by(ops))
    assert current_percent(migration) == 5


def test_it_advances_after_the_soak_and_reaches_monitoring_at_100(migration, ops):
    migration = make_ready(migration)
    for step in (5, 25, 50, 100):
        services.set_traffic(migration, to=step, by=_by(ops))
        _soak_done(migration)
    migration.refresh_from_db()
    assert migration.status == MigrationStatus.MONITORING
    assert current_percent(migration) == 100


def test_it_refuses_to_skip_a_step(migration, ops):
    migration = make_ready(migration)
    with pytest.raises(ValidationError, match="next step is 5 %"):
        services.set_traffic(migration, to=50, by=_by(ops))


def test_it_treats_a_repeat_as_a_no_op(migration, ops):
    migration = make_ready(migration)
    services.set_traffic(migration, to=5, by=_by(ops))
    services.set_traffic(migration, to=5, by=_by(ops))
    assert TrafficChange.objects.filter(migration=migration).count() == 1


@pytest.mark.parametrize("gate", ["go_live_gate_blocker", "guardrail_blocker"])
def test_it_refuses_when_a_gate_blocks_and_an_override_needs_a_reason(
    migration, admin_user, monkeypatch, gate
):
    monkeypatch.setattr(gates, gate, lambda m: "Testing is not signed off.")
    migration = make_ready(migration)
    with pytest.raises(ValidationError, match="Testing is not signed off"):
        services.set_traffic(migration, to=5, by=_by(admin_user))
    with pytest.raises(ValidationError) as error:
        services.set_traffic(migration, to=5, by=_by(admin_user), override=True)
    assert "reason" in error.value.message_dict
    services.set_traffic(
        migration, to=5, by=_by(admin_user), override=True, reason="Rehearsal with the provider"
    )
    event = AuditEvent.objects.get(migration=migration, action="traffic.overridden")
    assert event.reason == "Rehearsal with the provider"
    assert event.after["gate"] == "Testing is not signed off."


def test_it_pauses_and_resumes_with_reasons(live_migration, ops):
    services.pause_rollout(live_migration, by=_by(ops), reason="provider maintenance")
    live_migration.refresh_from_db()
    assert live_migration.status == MigrationStatus.PAUSED
    with pytest.raises(ValidationError, match="Paused"):
        services.set_traffic(live_migration, to=50, by=_by(ops))
    services.resume_rollout(live_migration, by=_by(ops), reason="maintenance over")
    live_migration.refresh_from_db()
    assert live_migration.status == MigrationStatus.ROLLING_OUT
    assert current_percent(live_migration) == 25


def test_it_rolls_back_in_one_transaction(live_migration, oncall, ops):
    RollbackHook.objects.create(
        migration=live_migration, name="Deploy pipeline", url="http://127.0.0.1:9/hook"
    )
    contact = Contact.objects.create(
        name="Pager", kind="internal_technical", role="On-call", email="pager@example.com", on_call=True
    )
    contact.migrations.add(live_migration)
    ops.email = "ops@example.com"
    ops.save()
    MigrationRole.objects.create(migration=live_migration, user=ops, role="on_call")

    rollback = services.roll_back(
        live_migration, by=_by(oncall), reason="error rate 4 %", evidence={"p95_ms": 900}
    )

    live_migration.refresh_from_db()
    assert rollback.already is False
    assert live_migration.status == MigrationStatus.ROLLED_BACK
    assert current_percent(live_migration) == 0
    assert (rollback.by, rollback.from_percent, rollback.reason) == ("oncall-user", 25, "error rate 4 %")
    assert [step.text for step in rollback.steps.all()] == PLAYBOOK
    incident = Incident.objects.get(migration=live_migration)
    assert rollback.incident == incident and incident.evidence[0]["evidence"]["p95_ms"] == 900
    actions = set(AuditEvent.objects.filter(migration=live_migration).values_list("action", flat=True))
    assert {"rollback.created", "migration.status_changed", "incident.opened"} <= actions
    hook = OutboxMessage.objects.get(migration=live_migration, kind="webhook")
    assert hook.payload["data"]["from_percent"] == 25 and hook.status == "pending"
    emails = OutboxMessage.objects.filter(migration=live_migration, kind="email").order_by("target")
    assert [email.target for email in emails] == ["ops@example.com", "pager@example.com"]


def test_it_returns_the_existing_rollback_when_repeated(live_migration, oncall, admin_user):
    first = services.roll_back(live_migration, by=_by(oncall), reason="errors")
    second = services.roll_back(live_migration, by=_by(admin_user), reason="errors too")
    assert second.pk == first.pk and second.already is True
    assert services.already_message(second).startswith("Already rolled back at ")
    assert services.already_message(second).endswith("by oncall-user.")
    assert Rollback.objects.count() == 1


def test_it_keeps_traffic_at_0_until_someone_resumes(live_migration, oncall, ops):
    services.roll_back(live_migration, by=_by(oncall), reason="errors")
    with pytest.raises(ValidationError, match="Rolled back"):
        services.set_traffic(live_migration, to=50, by=_by(ops))
    services.resume_rollout(live_migration, by=_by(ops), reason="fix deployed")
    live_migration.refresh_from_db()
    assert live_migration.status == MigrationStatus.ROLLING_OUT
    assert current_percent(live_migration) == 0
    assert Rollback.objects.get().resumed_by == "ops-user"
    assert AuditEvent.objects.filter(action="rollback.resumed").exists()
    services.set_traffic(live_migration, to=5, by=_by(ops))
    assert current_percent(live_migration) == 5


def test_it_attaches_a_second_rollback_to_the_open_incident(live_migration, oncall, ops):
    services.roll_back(live_migration, by=_by(oncall), reason="first")
    services.resume_rollout(live_migration, by=_by(ops), reason="retry")
    services.set_traffic(live_migration, to=5, by=_by(ops))
    services.roll_back(live_migration, by=_by(oncall), reason="second")
    incident = Incident.objects.get(migration=live_migration)
    assert len(incident.evidence) == 2
    assert Rollback.objects.filter(incident=incident).count() == 2


def test_it_refuses_to_roll_back_what_never_went_live(migration, oncall):
    with pytest.raises(ValidationError, match="nothing to roll back"):
        services.roll_back(migration, by=_by(oncall), reason="x")


def test_it_ticks_the_playbook(live_migration, oncall):
    rollback = services.roll_back(live_migration, by=_by(oncall), reason="errors")
    step = rollback.steps.first()
    services.tick_rollback_step(step, done=True, by=_by(oncall))
    step.refresh_from_db()
    assert step.done_at is not None and step.done_by == "oncall-user"
    assert AuditEvent.objects.filter(action="rollback_step.ticked").count() == 1


def test_it_validates_the_plan(live_migration, ops):
    with pytest.raises(ValidationError) as error:
        services.update_plan(live_migration, steps=[5, 50], soak_minutes=10, by=_by(ops))
    assert "steps" in error.value.message_dict
    plan = services.update_plan(live_migration, steps=[1, 10, 100], soak_minutes=5, by=_by(ops))
    assert (plan.steps, plan.soak_minutes) == ([1, 10, 100], 5)
    assert AuditEvent.objects.filter(action="rollout_plan.updated").count() == 1


def test_put_live_helper_sets_status(migration):
    assert put_live(migration, 50).status == MigrationStatus.ROLLING_OUT
