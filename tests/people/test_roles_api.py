"""GET/PUT /api/v1/migrations/{slug}/roles: what a pipeline sees and may change, and what it may not."""

import json

import pytest

from checklists import services as checklist_services
from checklists.models import ChecklistTemplate
from migrations_app.access import Group
from migrations_app.audit import Actor
from migrations_app.models import AuditEvent, MigrationRole
from migrations_app.people import roles
from migrations_app.rollout import tokens
from tests.factories import make_user

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def token_for(user) -> str:
    _, raw = tokens.create_token(user=user, name="ci", scopes="operate", by=SYSTEM)
    return raw


def call(client, method, path, token, body=None):
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(f"/api/v1{path}", **kwargs)


@pytest.fixture
def templated(ops):
    template = ChecklistTemplate.objects.get(slug="payment-gateway-go-live")
    return checklist_services.create_migration_from_template(
        by=SYSTEM, template=template, name="Checkout", slug="checkout", owner=ops, integration="Cards"
    )


def holders(migration, role):
    return sorted(
        MigrationRole.objects.filter(migration=migration, role=role).values_list("user__username", flat=True)
    )


def test_it_lists_every_role_with_its_holders_and_the_phases_it_signs(client, templated, ops, pm):
    roles.set_role_holders(templated, role="product_manager", users=[pm], by=SYSTEM)
    response = call(client, "get", "/migrations/checkout/roles", token_for(ops))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 5
    by_code = {r["code"]: r for r in body["items"]}
    assert list(by_code) == ["deployment_lead", "technical_lead", "product_manager", "qa_lead", "on_call"]
    assert by_code["product_manager"]["users"] == [{"username": "pm-user", "name": "Priya PM (pm-user)"}]
    assert by_code["product_manager"]["label"] == "Product Manager"
    assert by_code["product_manager"]["signs"] and not by_code["product_manager"]["unfilled"]
    assert by_code["qa_lead"]["users"] == [] and by_code["qa_lead"]["unfilled"]


def test_an_admin_token_sets_exactly_the_holders_and_the_audit_shows_before_and_after(
    client, migration, admin_user, ops, pm
):
    roles.set_role_holders(migration, role="on_call", users=[ops], by=SYSTEM)
    response = call(
        client,
        "put",
        "/migrations/card-payments/roles/on_call",
        token_for(admin_user),
        {"users": ["pm-user"]},
    )
    assert response.status_code == 200, response.content
    assert response.json()["users"] == [{"username": "pm-user", "name": "Priya PM (pm-user)"}]
    assert holders(migration, "on_call") == ["pm-user"]
    event = AuditEvent.objects.filter(migration=migration, action="roles.changed").latest("id")
    assert event.before == {"role": "on_call", "users": ["ops-user"]}
    assert event.after == {"role": "on_call", "users": ["pm-user"]}
    assert event.actor_kind == "token"


def test_repeating_the_same_put_records_nothing_new(client, migration, admin_user, pm):
    token = token_for(admin_user)
    for _ in range(2):
        assert (
            call(
                client, "put", "/migrations/card-payments/roles/qa_lead", token, {"users": ["pm-user"]}
            ).status_code
            == 200
        )
    assert AuditEvent.objects.filter(migration=migration, action="roles.changed").count() == 1


def test_the_migrations_deployment_lead_may_assign_roles(client, migration, ops, pm):
    roles.set_role_holders(migration, role="deployment_lead", users=[ops], by=SYSTEM)
    response = call(
        client, "put", "/migrations/card-payments/roles/qa_lead", token_for(ops), {"users": ["pm-user"]}
    )
    assert response.status_code == 200
    assert holders(migration, "qa_lead") == ["pm-user"]


def test_someone_who_is_neither_admin_nor_deployment_lead_gets_403_and_nothing_changes(
    client, migration, ops, pm
):
    response = call(
        client, "put", "/migrations/card-payments/roles/qa_lead", token_for(ops), {"users": ["ops-user"]}
    )
    assert response.status_code == 403
    assert "Deployment Lead" in response.json()["detail"]
    assert holders(migration, "qa_lead") == []


def test_an_unknown_user_answers_404_naming_users_and_changes_nothing(client, migration, admin_user, pm):
    roles.set_role_holders(migration, role="qa_lead", users=[pm], by=SYSTEM)
    response = call(
        client,
        "put",
        "/migrations/card-payments/roles/qa_lead",
        token_for(admin_user),
        {"users": ["ghost", "admin-user"]},
    )
    assert response.status_code == 404
    assert response.json()["detail"] == [{"field": "users", "message": "No user named ghost."}]
    assert holders(migration, "qa_lead") == ["pm-user"]


def test_a_deactivated_user_cannot_be_given_a_role(client, migration, admin_user):
    make_user("gone", groups=(Group.OPS,), is_active=False)
    response = call(
        client, "put", "/migrations/card-payments/roles/qa_lead", token_for(admin_user), {"users": ["gone"]}
    )
    assert response.status_code == 409 and response.json()["detail"][0]["field"] == "users"


def test_an_unknown_role_answers_404_naming_role(client, migration, admin_user):
    response = call(
        client, "put", "/migrations/card-payments/roles/captain", token_for(admin_user), {"users": []}
    )
    assert response.status_code == 404
    assert response.json()["detail"][0]["field"] == "role"


def test_an_unknown_migration_answers_404(client, admin_user):
    assert call(client, "get", "/migrations/nope/roles", token_for(admin_user)).status_code == 404


def test_a_body_without_users_answers_400_naming_users(client, migration, admin_user):
    response = call(client, "put", "/migrations/card-payments/roles/qa_lead", token_for(admin_user), {})
    assert response.status_code == 400 and response.json()["detail"][0]["field"] == "users"


def test_an_empty_list_removes_every_holder(client, migration, admin_user, pm):
    roles.set_role_holders(migration, role="qa_lead", users=[pm], by=SYSTEM)
    response = call(
        client, "put", "/migrations/card-payments/roles/qa_lead", token_for(admin_user), {"users": []}
    )
    assert response.status_code == 200 and response.json()["unfilled"] is False  # no template: signs nothing
    assert holders(migration, "qa_lead") == []


def test_a_misspelt_query_parameter_answers_400_naming_it(client, migration, admin_user):
    response = call(client, "get", "/migrations/card-payments/roles?limt=2", token_for(admin_user))
    assert response.status_code == 400 and response.json()["detail"][0]["field"] == "limt"


def test_the_list_is_paginated_with_limit_and_offset(client, migration, admin_user):
    response = call(client, "get", "/migrations/card-payments/roles?limit=2&offset=1", token_for(admin_user))
    body = response.json()
    assert body["count"] == 5 and [r["code"] for r in body["items"]] == ["technical_lead", "product_manager"]
