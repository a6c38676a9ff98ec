"""KPIs and guardrails through /api/v1: every kind and field, validation naming the field, the
token's user's rights, 404 for unknown ids, audit with before/after, the last verdict in lists."""

import datetime as dt
import json

import numpy as np
import pytest
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.models import AuditEvent
from migrations_app.monitoring import services
from migrations_app.monitoring.models import Guardrail, Kpi
from migrations_app.rollout import selectors, tokens
from tests.canary import engine

pytestmark = pytest.mark.django_db


@pytest.fixture
def token_of():
    tokens.cache.clear()

    def make(user):
        return tokens.create_token(
            user=user, name=f"ci {user.username}", scopes="operate", by=Actor.system("t")
        )[1]

    return make


@pytest.fixture
def call(client):
    def send(method, path, token, body=None):
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        if body is None:
            return getattr(client, method)(path, **kwargs)
        return getattr(client, method)(path, json.dumps(body), content_type="application/json", **kwargs)

    return send


def test_it_creates_lists_reads_updates_and_deletes_a_kpi_with_audit(call, migration, ops, token_of):
    token = token_of(ops)
    body = {
        "name": "Checkout p95",
        "metric": "checkout_latency",
        "aggregation": "p95",
        "direction": "lower",
        "window_seconds": 120,
        "unit": "ms",
    }
    created = call("post", f"/api/v1/migrations/{migration.slug}/kpis", token, body)
    assert created.status_code == 201, created.content
    kpi = created.json()
    assert kpi["critical"] is None and kpi["aggregation"] == "p95" and kpi["position"] == 1
    listed = call("get", f"/api/v1/migrations/{migration.slug}/kpis?limit=10", token).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == kpi["id"]
    changed = call("patch", f"/api/v1/kpis/{kpi['id']}", token, {"critical": 800, "warning": 500})
    assert changed.status_code == 200 and changed.json()["critical"] == 800
    assert changed.json()["name"] == "Checkout p95"  # untouched fields stay
    event = AuditEvent.objects.get(action="kpi.updated")
    assert event.before == {"warning": None, "critical": None} and event.after == {
        "warning": 500.0,
        "critical": 800.0,
    }
    assert event.actor_label.startswith("token")
    assert call("delete", f"/api/v1/kpis/{kpi['id']}", token).status_code == 204
    assert not Kpi.objects.exists()
    assert AuditEvent.objects.get(action="kpi.deleted").before["name"] == "Checkout p95"
    assert call("get", f"/api/v1/kpis/{kpi['id']}", token).status_code == 404


# 400: not what the schema says; 404: names something that does not exist; 409: well-formed, but
# the rules refuse it (in the same words as the page's form)
@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "X"}, 409, "metric"),  # neither probe nor metric
        ({"name": "X", "metric": "m", "probe": 999999}, 404, "probe"),
        ({"name": "X", "metric": "Not A Metric"}, 400, "metric"),
        ({"name": "X", "metric": "m", "warning": 5}, 409, "critical"),
        ({"name": "X", "metric": "m", "aggregation": "median"}, 400, "aggregation"),
        ({"name": "X", "metric": "m", "window_seconds": 0}, 400, "window_seconds"),
    ],
)
def test_a_bad_kpi_is_refused_naming_the_field_and_nothing_changes(
    call, migration, ops, token_of, body, status, field
):
    response = call("post", f"/api/v1/migrations/{migration.slug}/kpis", token_of(ops), body)
    assert response.status_code == status
    assert field in [error["field"] for error in response.json()["detail"]]
    assert not Kpi.objects.exists() and not AuditEvent.objects.filter(action="kpi.created").exists()


def test_a_token_whose_user_may_not_configure_gets_403(call, migration, pm, token_of):
    kpi = Kpi.objects.create(migration=migration, name="Pay", metric="pay", critical=90)
    token = token_of(pm)
    assert call("get", f"/api/v1/kpis/{kpi.pk}", token).status_code == 200  # viewing is allowed
    response = call("patch", f"/api/v1/kpis/{kpi.pk}", token, {"critical": 1})
    assert response.status_code == 403 and "may not" in response.json()["detail"]
    assert call("delete", f"/api/v1/kpis/{kpi.pk}", token).status_code == 403
    body = {"name": "G", "kpi": kpi.pk}
    assert call("post", f"/api/v1/migrations/{migration.slug}/guardrails", token, body).status_code == 403
    assert Kpi.objects.get(pk=kpi.pk).critical == 90 and not Guardrail.objects.exists()


def test_a_list_refuses_a_query_parameter_it_does_not_know(call, migration, ops, token_of):
    response = call("get", f"/api/v1/migrations/{migration.slug}/guardrails?limt=5", token_of(ops))
    assert response.status_code == 400 and response.json()["detail"][0]["field"] == "limt"


def test_unknown_migration_kpi_and_guardrail_are_404(call, ops, token_of, db):
    token = token_of(ops)
    assert call("get", "/api/v1/migrations/nope/kpis", token).status_code == 404
    assert call("get", "/api/v1/kpis/424242", token).status_code == 404
    assert call("patch", "/api/v1/guardrails/424242", token, {"consecutive": 2}).status_code == 404


def test_every_guardrail_kind_and_action_round_trips(call, migration, ops, token_of):
    kpi = Kpi.objects.create(migration=migration, name="Pay", metric="pay", critical=90)
    token = token_of(ops)
    bodies = [
        {"name": "Threshold", "kpi": kpi.pk, "kind": "threshold", "action": "alert", "consecutive": 2},
        {"name": "Baseline", "kpi": kpi.pk, "kind": "baseline", "action": "pause", "degradation_percent": 30},
        {"name": "Silence", "kpi": kpi.pk, "kind": "no_data", "action": "rollback", "no_data_seconds": 120},
        {
            "name": "Compare",
            "kpi": kpi.pk,
            "kind": "compare",
            "action": "pause",
            "tolerance_points": 2,
            "confidence": 99,
            "min_samples": 50,
            "consecutive": 3,
        },
    ]
    for body in bodies:
        response = call("post", f"/api/v1/migrations/{migration.slug}/guardrails", token, body)
        assert response.status_code == 201, response.content
        out = response.json()
        assert {key: out[key] for key in body} == body
        assert out["state"] == "insufficient_data" and out["last_verdict"] is None
    assert AuditEvent.objects.filter(action="guardrail.created").count() == 4


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"kind": "compare"}, 409, "tolerance_percent"),
        ({"kind": "compare", "tolerance_percent": 20, "tolerance_points": 2}, 409, "tolerance_points"),
        ({"kind": "threshold", "tolerance_percent": 20}, 409, "tolerance_percent"),
        ({"kind": "compare", "tolerance_percent": 20, "confidence": 20}, 400, "confidence"),
        ({"kind": "sometimes"}, 400, "kind"),
        ({"action": "panic"}, 400, "action"),
        ({"consecutive": 0}, 400, "consecutive"),
        ({"kpi": 987654}, 404, "kpi"),
    ],
)
def test_a_bad_guardrail_is_refused_naming_the_field(call, migration, ops, token_of, body, status, field):
    kpi = Kpi.objects.create(migration=migration, name="Pay", metric="pay", critical=90)
    response = call(
        "post",
        f"/api/v1/migrations/{migration.slug}/guardrails",
        token_of(ops),
        {"name": "G", "kpi": kpi.pk, **body},
    )
    assert response.status_code == status
    assert field in [error["field"] for error in response.json()["detail"]]
    assert not Guardrail.objects.exists()


def test_a_compare_guardrail_on_a_kpi_without_threshold_is_fine_but_threshold_is_refused(
    call, migration, ops, token_of
):
    kpi = Kpi.objects.create(
        migration=migration, name="Lat", metric="lat", aggregation="p95", direction="lower"
    )
    token = token_of(ops)
    threshold = call(
        "post", f"/api/v1/migrations/{migration.slug}/guardrails", token, {"name": "T", "kpi": kpi.pk}
    )
    assert (
        threshold.status_code == 409 and "no critical threshold" in threshold.json()["detail"][0]["message"]
    )
    compare = {"name": "C", "kpi": kpi.pk, "kind": "compare", "tolerance_percent": 20}
    assert call("post", f"/api/v1/migrations/{migration.slug}/guardrails", token, compare).status_code == 201


def test_the_guardrail_list_carries_state_and_the_last_verdict_with_its_numbers(
    call, migration, ops, token_of
):
    selectors.snapshot_cache.clear()
    live = engine.go_live(migration, 25)
    guardrail = engine.latency_guardrail(live)
    end = timezone.now() - dt.timedelta(seconds=5)
    engine.push_latencies(live, end, np.random.default_rng(9), count=200, new_factor=1.4)
    services.evaluate_guardrail(guardrail, now=end)
    listed = call("get", f"/api/v1/migrations/{live.slug}/guardrails", token_of(ops)).json()
    (item,) = listed["items"]
    assert item["state"] == "warning" and item["breach_streak"] == 1
    verdict = item["last_verdict"]
    assert verdict["verdict"] == "fail" and verdict["n_new"] == verdict["n_old"] == 200
    assert (
        verdict["new"] > verdict["old"]
        and verdict["interval"][0] < verdict["difference"] < verdict["interval"][1]
    )
    assert verdict["message"].endswith("fail, 1 of 3")


def test_changing_a_guardrails_rule_starts_it_afresh(call, migration, ops, token_of):
    kpi = Kpi.objects.create(migration=migration, name="Pay", metric="pay", critical=90)
    guardrail = Guardrail.objects.create(
        migration=migration, name="G", kpi=kpi, state="breached", fired=True, breach_streak=5
    )
    token = token_of(ops)
    renamed = call("patch", f"/api/v1/guardrails/{guardrail.pk}", token, {"name": "Payments"}).json()
    assert renamed["state"] == "breached"  # a name is not a rule
    changed = call("patch", f"/api/v1/guardrails/{guardrail.pk}", token, {"consecutive": 2}).json()
    assert changed["state"] == "insufficient_data" and changed["breach_streak"] == 0
    event = AuditEvent.objects.filter(action="guardrail.updated").order_by("-id").first()
    assert event.before == {"consecutive": 5} and event.after == {"consecutive": 2}
