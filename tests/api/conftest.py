"""Fixtures for the lifecycle routes of /api/v1: tokens per role and a migration built from a
built-in template with its roles held by the role fixtures."""

import json

import pytest

from checklists import services as checklist_services
from checklists.models import ChecklistTemplate
from migrations_app import services as migration_services
from migrations_app.audit import Actor
from migrations_app.models import MigrationRoleName
from migrations_app.rollout import selectors, tokens

SYSTEM = Actor.system("tests")
TEMPLATE = "webhook-service-release"


@pytest.fixture(autouse=True)
def fresh_caches():
    selectors.snapshot_cache.clear()
    tokens.cache.clear()
    yield
    selectors.snapshot_cache.clear()
    tokens.cache.clear()


def make_token(user, scopes="operate", name="pipeline") -> str:
    return tokens.create_token(user=user, name=name, scopes=scopes, by=SYSTEM)[1]


@pytest.fixture
def token_of(ops, pm, oncall, admin_user, outsider):
    """role name -> an `operate` token of that role's user."""
    users = {"ops": ops, "pm": pm, "oncall": oncall, "admin": admin_user, "outsider": outsider}
    made = {}

    def token(role: str) -> str:
        if role not in made:
            made[role] = make_token(users[role], name=f"{role} pipeline")
        return made[role]

    return token


@pytest.fixture
def api(client):
    """call(method, path, token, body=None) -> response, against /api/v1."""

    def call(method: str, path: str, token: str | None, body=None):
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(client, method)(f"/api/v1{path}", **kwargs)

    return call


@pytest.fixture
def plan(db, ops, pm, oncall):
    """The webhook service release, created from its built-in template; ops is Deployment Lead,
    pm the Product Manager, oncall the On-call."""
    migration = checklist_services.create_migration_from_template(
        by=SYSTEM,
        template=ChecklistTemplate.objects.get(slug=TEMPLATE),
        name="Webhook service release",
        slug="webhooks",
        owner=ops,
        integration="Webhook service",
    )
    for user, role in [
        (ops, MigrationRoleName.DEPLOYMENT_LEAD),
        (pm, MigrationRoleName.PRODUCT_MANAGER),
        (oncall, MigrationRoleName.ON_CALL),
    ]:
        migration_services.assign_role(migration, user=user, role=role, by=SYSTEM)
    return migration


def fields(response) -> list[str]:
    return [entry["field"] for entry in response.json()["detail"]]
