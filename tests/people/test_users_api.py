"""/api/v1/users: an Admin token creates a CI service account and changes accounts."""

import json

import pytest
from django.contrib.auth import get_user_model

from migrations_app.audit import Actor
from migrations_app.models import AuditEvent
from migrations_app.people import accounts
from migrations_app.rollout import tokens

pytestmark = pytest.mark.django_db
User = get_user_model()


def token_for(user) -> str:
    return tokens.create_token(user=user, name="ci", scopes="operate", by=Actor.system("tests"))[1]


def call(client, method, path, token, body=None):
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        kwargs.update(data=json.dumps(body), content_type="application/json")
    return getattr(client, method)(f"/api/v1{path}", **kwargs)


def test_an_admin_token_creates_a_service_account_and_gets_its_password_once(client, admin_user):
    body = {"username": "ci-bot", "group": "Ops", "first_name": "CI", "last_name": "Pipeline"}
    response = call(client, "post", "/users", token_for(admin_user), body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["name"] == "CI Pipeline (ci-bot)" and data["group"] == "Ops" and data["is_active"]
    assert User.objects.get(username="ci-bot").check_password(data["password"])
    assert AuditEvent.objects.get(action="user.created").actor_kind == "token"


def test_a_password_given_is_not_echoed(client, admin_user):
    body = {"username": "ci-bot", "group": "Ops", "password": "a-long-enough-secret-42"}
    assert call(client, "post", "/users", token_for(admin_user), body).json()["password"] is None


def test_a_taken_username_is_a_409_naming_it(client, admin_user, ops):
    response = call(client, "post", "/users", token_for(admin_user), {"username": "OPS-user", "group": "Ops"})
    assert response.status_code == 409 and response.json()["detail"][0]["field"] == "username"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"username": "a b", "group": "Ops"}, "username"), ({"username": "ab", "group": "Pilots"}, "group")],
)
def test_invalid_input_is_a_400_naming_the_field(client, admin_user, body, field):
    response = call(client, "post", "/users", token_for(admin_user), body)
    assert response.status_code == 400 and field in [d["field"] for d in response.json()["detail"]]
    assert not User.objects.filter(username=body["username"]).exists()


def test_patch_changes_only_what_it_names(client, admin_user, ops):
    response = call(client, "patch", "/users/ops-user", token_for(admin_user), {"group": "On-call"})
    assert response.status_code == 200 and response.json()["group"] == "On-call"
    ops.refresh_from_db()
    assert ops.first_name == "Olivia" and accounts.group_of(ops) == "On-call"


def test_patch_refuses_to_demote_the_last_admin(client, admin_user):
    response = call(client, "patch", "/users/admin-user", token_for(admin_user), {"group": "Ops"})
    assert response.status_code == 409 and response.json()["detail"][0]["field"] == "group"


def test_a_token_of_someone_not_admin_gets_403(client, ops):
    token = token_for(ops)
    assert call(client, "post", "/users", token, {"username": "x", "group": "Admin"}).status_code == 403
    assert call(client, "get", "/users", token).status_code == 403
    assert not User.objects.filter(username="x").exists()


def test_the_list_is_paginated(client, admin_user, ops, pm):
    data = call(client, "get", "/users?limit=1", token_for(admin_user)).json()
    assert data["count"] == 3 and len(data["items"]) == 1


def test_an_unknown_user_is_404(client, admin_user):
    assert (
        call(client, "patch", "/users/ghost", token_for(admin_user), {"is_active": False}).status_code == 404
    )
