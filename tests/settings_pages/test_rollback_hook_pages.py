"""Rollback hook pages (Admins): create with the secret shown once, edit, rotate, delete."""

import pytest
from django.urls import reverse

from migrations_app.audit import Actor
from migrations_app.models import AuditEvent
from migrations_app.rollout import hooks
from migrations_app.rollout.models import RollbackHook

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


@pytest.fixture
def hook(migration):
    hook, _ = hooks.create_hook(
        migration, by=SYSTEM, name="Deploy pipeline", url="https://deploy.example.com/h"
    )
    return hook


def test_creating_shows_the_secret_once(client_for, admin_user, migration):
    client = client_for(admin_user)
    url = reverse("rollback_hooks:list", args=[migration.slug])
    response = client.post(url, {"name": "LB API", "url": "https://lb.example.com/drain", "active": "on"})
    hook = RollbackHook.objects.get(migration=migration)
    assert response.status_code == 200 and hook.secret in response.content.decode()
    assert hook.secret not in client.get(url).content.decode()
    row = AuditEvent.objects.get(action="rollback_hook.created")
    assert row.after == {"name": "LB API", "url": "https://lb.example.com/drain", "active": True}


@pytest.mark.parametrize("field, value", [("url", "ftp://nope"), ("name", "")])
def test_invalid_input_answers_422_naming_the_field(client_for, admin_user, migration, field, value):
    body = {"name": "LB API", "url": "https://lb.example.com/drain"} | {field: value}
    response = client_for(admin_user).post(reverse("rollback_hooks:list", args=[migration.slug]), body)
    assert response.status_code == 422 and f'id="error-{field}"' in response.content.decode()
    assert not RollbackHook.objects.exists()


def test_a_taken_name_is_refused(client_for, admin_user, migration, hook):
    body = {"name": "Deploy pipeline", "url": "https://other.example.com/"}
    response = client_for(admin_user).post(reverse("rollback_hooks:list", args=[migration.slug]), body)
    assert response.status_code == 422 and "has this name" in response.content.decode()


def test_editing_records_before_and_after_and_never_shows_the_secret(client_for, admin_user, migration, hook):
    client = client_for(admin_user)
    url = reverse("rollback_hooks:edit", args=[migration.slug, hook.pk])
    assert hook.secret not in client.get(url).content.decode()
    assert (
        client.post(url, {"name": "Deploy pipeline", "url": "https://deploy.example.com/v2"}).status_code
        == 302
    )
    row = AuditEvent.objects.get(action="rollback_hook.updated")
    assert row.before == {"url": "https://deploy.example.com/h", "active": True}
    assert row.after == {"url": "https://deploy.example.com/v2", "active": False}


def test_rotating_shows_the_new_secret_once(client_for, admin_user, migration, hook):
    old = hook.secret
    response = client_for(admin_user).post(reverse("rollback_hooks:rotate", args=[migration.slug, hook.pk]))
    hook.refresh_from_db()
    assert hook.secret != old and hook.secret in response.content.decode()
    assert AuditEvent.objects.get(action="rollback_hook.secret_rotated").after == {"secret": "rotated"}


def test_delete_asks_for_confirmation(client_for, admin_user, migration, hook):
    client = client_for(admin_user)
    url = reverse("rollback_hooks:delete", args=[migration.slug, hook.pk])
    assert client.post(url).status_code == 422 and RollbackHook.objects.exists()
    assert client.post(url, {"confirm": "yes"}).status_code == 302
    assert not RollbackHook.objects.exists()
    assert AuditEvent.objects.get(action="rollback_hook.deleted").before["name"] == "Deploy pipeline"


@pytest.mark.parametrize("name", ["edit", "rotate", "delete"])
def test_only_admins_change_hooks(client_for, ops, oncall, outsider, migration, hook, name):
    url = reverse(f"rollback_hooks:{name}", args=[migration.slug, hook.pk])
    for user in (ops, oncall, outsider):
        assert (
            client_for(user)
            .post(url, {"confirm": "yes", "name": "x", "url": "https://x.example/"})
            .status_code
            == 403
        )
    hook.refresh_from_db()
    assert hook.name == "Deploy pipeline"


@pytest.mark.parametrize("name", ["rotate", "delete"])
def test_actions_refuse_get(client_for, admin_user, migration, hook, name):
    assert (
        client_for(admin_user)
        .get(reverse(f"rollback_hooks:{name}", args=[migration.slug, hook.pk]))
        .status_code
        == 405
    )


def test_everyone_sees_the_list_without_secrets_or_forms(client_for, pm, migration, hook):
    html = client_for(pm).get(reverse("rollback_hooks:list", args=[migration.slug])).content.decode()
    assert "Deploy pipeline" in html and hook.secret not in html and "Add a rollback hook" not in html
