"""After a rollback: each person hears of it once per channel, the incident timeline folds the
routine rows so the rollback stands out, and the API's rolled_back transition is a real rollback."""

import datetime as dt

import pytest

from migrations_app.audit import Actor
from migrations_app.incidents.timeline_groups import grouped
from migrations_app.models import AuditEvent, Contact, MigrationRole
from migrations_app.rollout import services as rollout_services
from migrations_app.rollout.models import OutboxMessage, Rollback
from migrations_app.rollout.selectors import current_percent
from tests.api.conftest import SYSTEM
from tests.factories import put_live

pytestmark = pytest.mark.django_db


@pytest.fixture
def on_call_people(plan, oncall):
    """The on-call role holder, an on-call pager contact with the same address, and the
    provider's support line: three ways to reach two addresses."""
    oncall.email = "pager@example.com"
    oncall.save()
    for name, email in [
        ("Night pager", "pager@example.com"),
        ("Provider support", "support@provider.example"),
    ]:
        contact = Contact.objects.create(name=name, kind="internal_technical", email=email, on_call=True)
        contact.migrations.add(plan)
    assert MigrationRole.objects.filter(migration=plan, user=oncall, role="on_call").exists()
    return ["pager@example.com", "support@provider.example"]


def test_a_rollback_reaches_each_on_call_address_once(
    plan, on_call_people, django_capture_on_commit_callbacks
):
    put_live(plan, 25)
    with django_capture_on_commit_callbacks(execute=True):
        rollback = rollout_services.roll_back(
            plan, by=Actor.system("guardrail: errors"), reason="error rate 12 %"
        )
    emails = OutboxMessage.objects.filter(kind="email")
    assert sorted(emails.values_list("target", flat=True)) == on_call_people
    for email in emails:
        assert "ROLLED BACK" in email.payload["subject"] and "/ack/" in email.payload["body"]
    rollback.incident.refresh_from_db()
    assert rollback.incident.on_call_notified_at is not None  # the page ran and found them written


def test_the_incident_timeline_folds_routine_rows_and_marks_the_rollback(
    client_for, oncall, plan, on_call_people, django_capture_on_commit_callbacks
):
    put_live(plan, 25)
    for state in ["warning", "ok", "warning", "breached"]:
        AuditEvent.objects.create(
            actor_kind="system",
            actor_label="guardrail",
            action="guardrail.state_changed",
            migration=plan,
            object_id="1",
            after={"state": state},
        )
    with django_capture_on_commit_callbacks(execute=True):
        rollback = rollout_services.roll_back(plan, by=SYSTEM, reason="error rate 12 %")
    html = client_for(oncall).get(f"/migrations/webhooks/incidents/{rollback.incident.pk}/").content.decode()
    assert "4 × Guardrail changed" in html and "2 deliveries" in html and "Show all 4" in html
    assert html.count("inc-tl-key") >= 2  # "Rolled back" and "Incident opened" stand out


def test_grouping_keeps_order_and_never_folds_key_moments():
    rows = [
        {"at": _t(0), "kind": "audit", "what": "Guardrail changed", "detail": "warning", "who": "g"},
        {"at": _t(1), "kind": "audit", "what": "Guardrail changed", "detail": "breached", "who": "g"},
        {"at": _t(2), "kind": "audit", "what": "Rolled back", "detail": "25 -> 0", "who": "g"},
        {"at": _t(3), "kind": "notification", "what": "E-mail sent", "detail": "a", "who": "golive"},
        {"at": _t(4), "kind": "audit", "what": "Incident opened", "detail": "", "who": "g"},
        {"at": _t(5), "kind": "notification", "what": "E-mail sent", "detail": "b", "who": "golive"},
    ]
    out = grouped(rows)
    assert [row["what"] for row in out] == [
        "2 × Guardrail changed",
        "Rolled back",
        "E-mail sent",
        "Incident opened",
        "E-mail sent",
    ]
    assert [row.get("key") for row in out] == [None, True, None, True, None]


def _t(second: int):
    return dt.datetime(2026, 12, 2, 3, 0, second, tzinfo=dt.UTC)


def test_the_rolled_back_transition_is_the_one_rollback_path(api, token_of, plan):
    put_live(plan, 25)
    refused = api(
        "post", "/migrations/webhooks/transition", token_of("ops"), {"to": "rolled_back", "reason": "x"}
    )
    assert refused.status_code == 403 and "may not roll back" in refused.json()["detail"]
    body = {"to": "rolled_back", "reason": "p95 at 4 s"}
    response = api("post", "/migrations/webhooks/transition", token_of("oncall"), body)
    assert response.status_code == 200 and response.json()["traffic_percent"] == 0
    assert current_percent(plan) == 0 and Rollback.objects.filter(migration=plan).count() == 1
