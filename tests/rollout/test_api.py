"""The automation API (/api/v1): tokens with the operate scope, gates, 400s naming the field, OpenAPI."""

import json
import re

import pytest

from migrations_app.models import AuditEvent, Migration, MigrationStatus
from migrations_app.rollout import gates
from migrations_app.rollout.models import Rollback
from migrations_app.rollout.selectors import current_percent
from tests.rollout.conftest import make_ready

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def open_gates(monkeypatch):
    monkeypatch.setattr(gates, "go_live_gate_blocker", lambda migration: None)
    monkeypatch.setattr(gates, "guardrail_blocker", lambda migration: None)


def call(client, method, path, token, body=None):
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(f"/api/v1{path}", **kwargs)


def test_it_refuses_missing_wrong_and_unscoped_tokens(client, migration, flags_token):
    assert call(client, "get", "/migrations", None).status_code == 401
    assert call(client, "get", "/migrations", "glv_nope_nope").status_code == 401
    response = call(client, "get", "/migrations", flags_token)
    assert response.status_code == 403 and "operate" in response.json()["detail"]


def test_it_lists_templates(client, operate_token):
    response = call(client, "get", "/templates", operate_token)
    assert response.status_code == 200
    assert "payment-gateway-go-live" in {t["slug"] for t in response.json()}


def test_it_creates_a_migration_from_a_template(client, operate_token, ops):
    body = {
        "name": "Mobile money",
        "slug": "mobile-money",
        "template": "mobile-money-deployment",
        "target_date": "2026-12-24",
    }
    response = call(client, "post", "/migrations", operate_token, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["slug"], data["status"], data["traffic_percent"]) == ("mobile-money", "draft", 0)
    migration = Migration.objects.get(slug="mobile-money")
    assert migration.owner == ops and str(migration.target_date) == "2026-12-24"
    event = AuditEvent.objects.filter(migration=migration, action="migration.created").get()
    assert event.actor_kind == "token" and "ops pipeline" in event.actor_label


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "x", "template": "payment-gateway-go-live"}, "name"),
        ({"name": "X", "slug": "Not A Slug", "template": "payment-gateway-go-live"}, "slug"),
        (
            {"name": "X", "slug": "x", "template": "payment-gateway-go-live", "target_date": "someday"},
            "target_date",
        ),
        ({"name": "X\x00", "slug": "x", "template": "payment-gateway-go-live"}, "name"),
        ({"name": "X", "slug": "x", "template": ""}, "template"),
    ],
)
def test_invalid_input_answers_400_naming_the_field(client, operate_token, body, field):
    response = call(client, "post", "/migrations", operate_token, body)
    assert response.status_code == 400
    assert field in [item["field"] for item in response.json()["detail"]]
    assert not Migration.objects.exists()


def test_an_unknown_template_answers_404_naming_the_field(client, operate_token):
    body = {"name": "X", "slug": "x", "template": "no-such-template"}
    response = call(client, "post", "/migrations", operate_token, body)
    assert response.status_code == 404 and response.json()["detail"][0]["field"] == "template"
    assert not Migration.objects.exists()


def test_a_duplicate_slug_answers_409_naming_the_slug(client, operate_token, migration):
    body = {"name": "X", "slug": "card-payments", "template": "payment-gateway-go-live"}
    response = call(client, "post", "/migrations", operate_token, body)
    assert response.status_code == 409 and response.json()["detail"][0]["field"] == "slug"


def test_it_shows_traffic_and_state(client, operate_token, migration):
    make_ready(migration)
    call(
        client,
        "post",
        "/migrations/card-payments/traffic",
        operate_token,
        {"percent": 5, "reason": "pipeline"},
    )
    data = call(client, "get", "/migrations/card-payments", operate_token).json()
    assert (data["traffic_percent"], data["status"], data["rollout_steps"]) == (
        5,
        "rolling_out",
        [5, 25, 50, 100],
    )
    assert call(client, "get", "/migrations/nope", operate_token).status_code == 404


def test_traffic_passes_the_same_gates_as_the_button(client, operate_token, migration):
    make_ready(migration)
    assert (
        call(
            client, "post", "/migrations/card-payments/traffic", operate_token, {"percent": 5, "reason": "go"}
        ).status_code
        == 200
    )
    response = call(
        client, "post", "/migrations/card-payments/traffic", operate_token, {"percent": 25, "reason": "go"}
    )
    assert response.status_code == 409  # well-formed: the current state (soaking) refuses it
    assert (
        response.json()["detail"][0]["field"] == "percent"
        and "Soaking" in response.json()["detail"][0]["message"]
    )
    assert current_percent(migration) == 5


def test_only_an_admin_token_may_override(client, operate_token, admin_operate_token, migration):
    make_ready(migration)
    call(client, "post", "/migrations/card-payments/traffic", operate_token, {"percent": 5})
    body = {"percent": 25, "reason": "rehearsal", "override": True}
    assert call(client, "post", "/migrations/card-payments/traffic", operate_token, body).status_code == 403
    response = call(client, "post", "/migrations/card-payments/traffic", admin_operate_token, body)
    assert response.status_code == 200 and response.json()["traffic_percent"] == 25
    assert AuditEvent.objects.get(action="traffic.overridden").actor_kind == "token"


def test_a_bad_percent_names_the_field(client, operate_token, migration):
    response = call(client, "post", "/migrations/card-payments/traffic", operate_token, {"percent": 250})
    assert response.status_code == 400 and response.json()["detail"][0]["field"] == "percent"
    response = call(client, "post", "/migrations/card-payments/traffic", operate_token, {"reason": "x"})
    assert response.status_code == 400 and response.json()["detail"][0]["field"] == "percent"


def test_it_rolls_back_once(client, oncall_operate_token, operate_token, migration):

    from tests.factories import put_live

    put_live(migration, 50)
    assert (
        call(client, "post", "/migrations/card-payments/rollback", operate_token, {"reason": "x"}).status_code
        == 403
    )
    first = call(
        client, "post", "/migrations/card-payments/rollback", oncall_operate_token, {"reason": "p95 high"}
    )
    assert first.status_code == 200 and first.json()["already_rolled_back"] is False
    assert first.json()["from_percent"] == 50
    second = call(
        client, "post", "/migrations/card-payments/rollback", oncall_operate_token, {"reason": "again"}
    )
    assert second.json()["already_rolled_back"] is True
    assert re.match(r"Already rolled back at \d\d:\d\d by token oncall pipeline", second.json()["message"])
    assert Rollback.objects.count() == 1
    migration.refresh_from_db()
    assert migration.status == MigrationStatus.ROLLED_BACK


def test_a_rollback_without_a_reason_names_the_field(client, oncall_operate_token, migration):

    from tests.factories import put_live

    put_live(migration, 50)
    response = call(client, "post", "/migrations/card-payments/rollback", oncall_operate_token, {})
    assert response.status_code == 400 and response.json()["detail"][0]["field"] == "reason"
    assert not Rollback.objects.exists()


def test_it_serves_a_generated_openapi_document_and_local_docs(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/migrations",
        "/api/v1/migrations/{slug}/traffic",
        "/api/v1/migrations/{slug}/rollback",
        "/api/v1/templates",
    } <= set(schema["paths"])
    assert "TrafficIn" in schema["components"]["schemas"]
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    html = docs.content.decode()
    external = re.findall(r"(?:src|href)=\"(https?://[^\"]+)\"", html)
    assert external == [] and "/static/ninja/" in html


def test_listing_migrations_costs_a_fixed_number_of_queries(
    client, operate_token, ops, django_assert_max_num_queries
):
    from tests.factories import make_migration, put_live

    for n in range(10):
        put_live(make_migration(owner=ops, slug=f"m-{n}"), 5 * n)
    call(client, "get", "/migrations", operate_token)
    with django_assert_max_num_queries(6):
        response = call(client, "get", "/migrations", operate_token)
    assert sorted(m["traffic_percent"] for m in response.json()) == [0, 5, 10, 15, 20, 25, 30, 35, 40, 45]
