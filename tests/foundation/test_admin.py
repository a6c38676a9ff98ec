import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.management.sql import emit_post_migrate_signal
from django.urls import reverse

from checklists.models import ChecklistTemplate
from checklists.services import create_migration_from_template
from migrations_app.access import Group
from migrations_app.audit import Actor
from migrations_app.demo.seed import demo_user
from migrations_app.inbound import services as inbound_services
from migrations_app.models import AuditEvent, Contact, ContactKind
from migrations_app.monitoring import services as monitoring_services
from migrations_app.monitoring import standard
from migrations_app.rollout import tokens

SYSTEM = Actor.system("tests")

pytestmark = pytest.mark.django_db


def _contact_form(**overrides):
    data = {
        "name": "Provider support",
        "kind": ContactKind.EXTERNAL_PARTNER,
        "organisation": "Acme",
        "role": "Support line",
        "phone": "+1 555 0100",
        "email": "support@acme.example",
        "escalation_order": "1",
        "on_call": "on",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_an_admin_adds_a_contact_for_a_migration_and_it_is_audited(client_for, admin_user, migration):
    client = client_for(admin_user)
    response = client.post("/admin/migrations_app/contact/add/", _contact_form(migrations=[migration.pk]))
    assert response.status_code == 302, response.text[:2000]
    contact = Contact.objects.get(name="Provider support")
    assert list(contact.migrations.all()) == [migration]
    event = AuditEvent.objects.get(action="contact.created")
    assert event.actor_user == admin_user
    assert event.after["phone"] == "+1 555 0100"
    assert "Provider support" in client.get(f"/migrations/{migration.slug}/").text


def test_an_admin_edit_records_before_and_after(client_for, admin_user, migration):
    contact = Contact.objects.create(
        name="NOC", kind=ContactKind.EXTERNAL_PARTNER, role="Hosting", phone="111"
    )
    client_for(admin_user).post(
        f"/admin/migrations_app/contact/{contact.pk}/change/",
        _contact_form(name="NOC", role="Hosting", phone="222", email="", on_call=""),
    )
    event = AuditEvent.objects.get(action="contact.updated")
    assert event.before["phone"] == "111"
    assert event.after["phone"] == "222"


def test_an_invalid_contact_names_the_field_and_saves_nothing(client_for, admin_user):
    response = client_for(admin_user).post(
        "/admin/migrations_app/contact/add/", _contact_form(email="not-an-email")
    )
    assert response.status_code == 200
    assert "Enter a valid email address." in response.text
    assert not Contact.objects.exists()
    assert not AuditEvent.objects.filter(action="contact.created").exists()


@pytest.mark.parametrize("role", ["ops", "pm", "oncall"])
def test_other_roles_cannot_edit_contacts(request, client_for, role):
    user = request.getfixturevalue(role)
    response = client_for(user).post("/admin/migrations_app/contact/add/", _contact_form())
    assert response.status_code == 403  # golive's 403 page, not the admin's login form
    assert "break-glass tool for staff accounts" in response.text
    assert not Contact.objects.exists()


def test_the_admin_offers_no_way_to_change_or_delete_audit_events(client_for, admin_user, migration):
    client = client_for(admin_user)
    event = AuditEvent.objects.first()
    assert (
        client.get(f"/admin/migrations_app/auditevent/{event.pk}/change/").status_code == 200
    )  # read-only view
    assert (
        client.post(f"/admin/migrations_app/auditevent/{event.pk}/change/", {"reason": "x"}).status_code
        == 403
    )
    assert (
        client.post(f"/admin/migrations_app/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk, reason="").exists()


def test_a_contact_edit_shows_on_the_timeline_of_every_migration_it_covers(client_for, admin_user, ops):
    from tests.factories import make_migration

    first, second = make_migration(owner=ops), make_migration(owner=ops)
    contact = Contact.objects.create(
        name="NOC", kind=ContactKind.EXTERNAL_PARTNER, role="Hosting", phone="111"
    )
    contact.migrations.add(first, second)
    client_for(admin_user).post(
        f"/admin/migrations_app/contact/{contact.pk}/change/",
        _contact_form(
            name="NOC", role="Hosting", phone="222", email="", on_call="", migrations=[first.pk, second.pk]
        ),
    )
    for migration in (first, second):
        event = AuditEvent.objects.get(action="contact.updated", migration=migration)
        assert event.after["phone"] == "222"
        assert "contact.updated" in client_for(admin_user).get(f"/migrations/{migration.slug}/").text


# --- the seeded Admin opens every model the admin registers ------------------------------------

# The data migrations that give the Admin group its admin permissions, in order.
GRANTS = [
    ("migrations_app.migrations.0002_groups_and_permissions", "create_groups"),
    ("checklists.migrations.0002_admin_group_permissions", "grant"),
    ("migrations_app.migrations.0004_admin_group_views_every_admin_model", "grant"),
]


@pytest.fixture
def seeded_admin(db):
    """The `admin` account exactly as `seed_demo` makes it: Admin group and staff, no superuser."""
    for module, function in GRANTS:  # a transactional test before this one flushed the groups
        getattr(importlib.import_module(module), function)(django_apps, None)
    user = demo_user("admin", "Ada Admin", Group.ADMIN)
    assert user.is_staff and not user.is_superuser
    return user


@pytest.mark.django_db(transaction=True)
def test_after_the_grants_ran_again_a_flush_still_brings_every_permission_back():
    """The grants run with the real app registry here; post_migrate (which a flush between
    transactional tests emits) must still see every app's models and write their permissions."""
    for module, function in GRANTS:
        getattr(importlib.import_module(module), function)(django_apps, None)
    Permission.objects.filter(codename="add_contact").delete()
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    assert Permission.objects.filter(
        content_type__app_label="migrations_app", codename="add_contact"
    ).exists()


def a_migration_with_rows_in_every_table(owner):
    """A template's checklist, a probe, the plan's KPIs and guardrails, webhook receipt, a token."""
    migration = create_migration_from_template(
        by=SYSTEM,
        template=ChecklistTemplate.objects.get(slug="webhook-service-release"),
        name="Webhook service release",
        slug="webhooks",
        owner=owner,
        integration="Webhook service",
    )
    probe = monitoring_services.create_probe(
        migration, by=SYSTEM, name="Health", url="https://api.example.com/h"
    )
    standard.add_plan_kpis(
        migration, plan="webhook-service-release", probe=probe, action="rollback", by=SYSTEM
    )
    inbound_services.configure_inbound(
        migration, by=SYSTEM, scheme="standard", enabled=True, tolerance_seconds=300
    )
    tokens.create_token(user=owner, name="ci", scopes="operate", by=SYSTEM)


def test_the_seeded_admin_opens_the_changelist_of_every_registered_model(client_for, seeded_admin):
    a_migration_with_rows_in_every_table(seeded_admin)
    client = client_for(seeded_admin)
    refused = {}
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        status = client.get(url).status_code
        if status != 200:
            refused[model._meta.label] = status
    assert refused == {}, f"the seeded admin cannot open these changelists: {refused}"
    assert len(admin.site._registry) > 30  # probes, KPIs, guardrails, hooks, channels... all registered


def test_every_model_is_on_the_admin_index_the_seeded_admin_opens_from_golive(client_for, seeded_admin):
    client = client_for(seeded_admin)
    page = client.get("/", follow=True).text
    assert f'href="{reverse("admin:index")}"' in page  # the one admin link golive's pages show
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    for model in admin.site._registry:
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert f'href="{changelist}"' in index.text, f"{model._meta.label} is not on the admin index"
