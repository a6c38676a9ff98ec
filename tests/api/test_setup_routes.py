"""The setup routes a pipeline needs beside the KPI and guardrail API: a reference plan's
standard KPIs, the webhook KPIs and the rollout plan (steps and soak time), each with the page's
rights, its validation naming the field, and an audit entry."""

import pytest

from migrations_app.models import AuditEvent
from migrations_app.monitoring import services as monitoring_services
from migrations_app.monitoring.models import Guardrail, Kpi
from migrations_app.rollout.models import RolloutPlan
from tests.api.conftest import SYSTEM, fields
from tests.factories import make_migration

pytestmark = pytest.mark.django_db


def test_it_adds_the_plans_own_kpis_with_a_guardrail_each_once(api, token_of, plan):
    probe = monitoring_services.create_probe(
        plan, by=SYSTEM, name="Health", url="https://api.example.com/health"
    )
    added = api("post", "/migrations/webhooks/kpis/standard", token_of("ops"), {"probe": probe.pk})
    assert added.status_code == 200, added.content
    body = added.json()
    assert body["plan"] == "webhook-service-release" and body["kept"] == [] and body["left_out"] == []
    by_name = {kpi["name"]: kpi for kpi in body["created"]}
    assert by_name["API error rate"]["critical"] == 5.0  # "API error rate > 5%" triggers rollback
    assert by_name["API error rate"]["probe"] == probe.pk
    assert Guardrail.objects.filter(migration=plan, action="rollback").count() == len(by_name)
    assert AuditEvent.objects.filter(migration=plan, action="kpi.created").count() == len(by_name)
    again = api("post", "/migrations/webhooks/kpis/standard", token_of("ops"), {"probe": probe.pk}).json()
    assert again["created"] == [] and sorted(again["kept"]) == sorted(by_name)
    assert Kpi.objects.filter(migration=plan).count() == len(by_name)


def test_without_a_probe_the_probe_kpis_are_left_out_and_said_so(api, token_of, plan):
    body = api("post", "/migrations/webhooks/kpis/standard", token_of("admin"), {"action": "alert"}).json()
    assert [kpi["name"] for kpi in body["created"]] == ["Webhook processing failures"]
    assert "API error rate" in body["left_out"]
    assert Guardrail.objects.get(migration=plan).action == "alert"


def test_another_plan_can_be_named_and_an_unknown_one_or_probe_is_refused(api, token_of, ops):
    migration = make_migration(owner=ops, slug="no-template")
    url = "/migrations/no-template/kpis/standard"
    unnamed = api("post", url, token_of("ops"), {})
    assert unnamed.status_code == 409 and fields(unnamed) == ["plan"]
    unknown = api("post", url, token_of("ops"), {"plan": "nope"})
    assert unknown.status_code == 400 and fields(unknown) == ["plan"]
    no_probe = api("post", url, token_of("ops"), {"plan": "payment-gateway-go-live", "probe": 999999})
    assert no_probe.status_code == 404 and fields(no_probe) == ["probe"]
    assert not Kpi.objects.filter(migration=migration).exists()
    named = api("post", url, token_of("ops"), {"plan": "payment-gateway-go-live"}).json()
    assert {kpi["name"]: kpi["critical"] for kpi in named["created"]}["Payment success"] == 90.0


def test_a_pm_token_may_not_add_kpis(api, token_of, plan):
    refused = api("post", "/migrations/webhooks/kpis/standard", token_of("pm"), {})
    assert refused.status_code == 403 and "may not" in refused.json()["detail"]
    refused = api("post", "/migrations/webhooks/webhook-receipt/kpis", token_of("pm"), {})
    assert refused.status_code == 403
    assert not Kpi.objects.filter(migration=plan).exists()


def test_it_adds_the_webhook_kpis_once(api, token_of, plan):
    added = api("post", "/migrations/webhooks/webhook-receipt/kpis", token_of("ops"), {"no_data_minutes": 15})
    assert added.status_code == 200, added.content
    body = added.json()
    assert body["created"] == body["kpis"] and "Webhooks received (10 min)" in body["created"]
    no_data = Guardrail.objects.get(migration=plan, kind="no_data")
    assert no_data.no_data_seconds == 15 * 60 and no_data.action == "alert"
    again = api("post", "/migrations/webhooks/webhook-receipt/kpis", token_of("ops"), {}).json()
    assert again["created"] == [] and again["kpis"] == body["kpis"]
    bad = api("post", "/migrations/webhooks/webhook-receipt/kpis", token_of("ops"), {"no_data_minutes": 0})
    assert bad.status_code == 400 and fields(bad) == ["no_data_minutes"]


def test_it_reads_and_sets_the_rollout_plan_with_an_audit_entry(api, token_of, plan):
    read = api("get", "/migrations/webhooks/rollout-plan", token_of("pm")).json()
    assert read["steps"] == [5, 25, 50, 100] and read["next_step"] == 5 and read["next_step_at"] is None
    changed = api(
        "put",
        "/migrations/webhooks/rollout-plan",
        token_of("ops"),
        {"steps": [10, 50, 100], "soak_minutes": 30},
    )
    assert changed.status_code == 200 and changed.json()["steps"] == [10, 50, 100]
    assert RolloutPlan.objects.get(migration=plan).soak_minutes == 30
    event = AuditEvent.objects.get(migration=plan, action="rollout_plan.updated")
    assert event.after == {"steps": [10, 50, 100], "soak_minutes": 30} and "token" in event.actor_label


def test_a_bad_rollout_plan_names_the_field_and_changes_nothing(api, token_of, plan):
    url = "/migrations/webhooks/rollout-plan"
    no_100 = api("put", url, token_of("ops"), {"steps": [5, 25], "soak_minutes": 30})
    assert no_100.status_code == 409 and fields(no_100) == ["steps"]
    negative = api("put", url, token_of("ops"), {"steps": [-5, 100], "soak_minutes": 30})
    assert negative.status_code == 400 and fields(negative) == ["steps.0"]
    too_short = api("put", url, token_of("ops"), {"steps": [5, 100], "soak_minutes": 0})
    assert too_short.status_code == 400 and fields(too_short) == ["soak_minutes"]
    refused = api("put", url, token_of("pm"), {"steps": [5, 100], "soak_minutes": 30})
    assert refused.status_code == 403
    oncall = api("put", url, token_of("oncall"), {"steps": [5, 100], "soak_minutes": 30})
    assert oncall.status_code == 403
    assert not AuditEvent.objects.filter(action="rollout_plan.updated").exists()
