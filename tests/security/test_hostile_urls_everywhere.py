"""The hostile URL corpus through every URL-taking page, admin page and /api/v1 route (the table
in url_surfaces.py), and the discovery that keeps the table complete: every OpenAPI operation
whose body has a URL property, every golive form with a URL field, every model URLField and
every admin page of a model golive calls must have a row."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.core.management import call_command
from django.db import models

from checklists import services as checklist_services
from checklists.models import ChecklistItem, ChecklistTemplate
from migrations_app.access import Group
from migrations_app.audit import Actor
from migrations_app.models import AuditEvent
from migrations_app.outbound import validate_outbound_url
from migrations_app.rollout import tokens
from tests.factories import make_user
from tests.security.hostile_urls import corpus, listening
from tests.security.url_surfaces import LINKS_ONLY, SURFACES, make_existing
from tests.security.world import TEMPLATE

GOLIVE_PACKAGES = ("migrations_app", "checklists", "golive_site")


@pytest.fixture
def listeners(settings):
    settings.GOLIVE_PROBE_ALLOWLIST = []
    settings.GOLIVE_OUTBOUND_ALLOWLIST = []
    with listening() as heard:
        yield heard


@pytest.fixture
def admin_everything(db):
    """An Admin with staff and superuser rights (the Django admin), and their token."""
    user = make_user("url-admin", groups=(Group.ADMIN,), is_staff=True, is_superuser=True)
    tokens.cache.clear()
    _, raw = tokens.create_token(user=user, name="urls", scopes=["operate"], by=Actor.system("tests"))
    return user, f"Bearer {raw}"


def _url_properties(schema: dict, components: dict) -> set[str]:
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    names = set()
    for name, prop in schema.get("properties", {}).items():
        if name == "url" or name.endswith(("_url", "_link")) or prop.get("format") == "uri":
            names.add(name)
    return names


def api_operations_taking_urls(client) -> set[str]:
    document = client.get("/api/v1/openapi.json").json()
    components = document["components"]["schemas"]
    found = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body and _url_properties(body["schema"], components):
                found.add(f"{method.upper()} {path}")
    return found


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def golive_forms_taking_urls() -> set[str]:
    found = set()
    for form in _subclasses(forms.BaseForm):
        if not form.__module__.startswith(GOLIVE_PACKAGES):
            continue
        fields = getattr(form, "base_fields", {})
        if any(isinstance(f, forms.URLField) or name == "url" for name, f in fields.items()):
            found.add(form.__name__)
    return found


def model_url_fields() -> set[str]:
    return {
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label
        in {"migrations_app", "checklists", "monitoring", "rollout", "incidents", "inbound"}
        for field in model._meta.get_fields()
        if isinstance(field, models.URLField)
    }


def test_every_url_taking_route_form_model_and_admin_page_has_a_row(client):
    covered = {name for s in SURFACES for name in (s.covers, *s.also_covers)} | set(LINKS_ONLY)
    assert api_operations_taking_urls(client) - covered == set()
    assert golive_forms_taking_urls() - covered == set()
    outbound_models = {surface.model._meta.label for surface in SURFACES}
    for label in model_url_fields():
        model_label = label.rsplit(".", 1)[0]
        assert model_label in outbound_models or label in LINKS_ONLY, label
        if label not in LINKS_ONLY:  # a field golive calls carries the guard itself (admin, forms, API)
            field = apps.get_model(model_label)._meta.get_field(label.rsplit(".", 1)[1])
            assert validate_outbound_url in field.validators, label
    admin_models = {m._meta.label for m in admin.site._registry if m._meta.label in outbound_models}
    assert admin_models - covered == set()
    assert {s.covers for s in SURFACES} - covered == set()  # and no row names nothing


@pytest.mark.parametrize("surface", SURFACES, ids=lambda s: s.name)
def test_every_surface_refuses_every_hostile_url_naming_url_and_stores_nothing(
    client, admin_everything, migration, listeners, surface
):
    user, bearer = admin_everything
    client.force_login(user)
    existing = make_existing(migration)
    before = (surface.model.objects.count(), AuditEvent.objects.count())
    accepted = []
    for url in corpus(listeners.port):
        response = surface.send(client, existing, url, bearer=bearer)
        assert response.status_code < 500, (url, response.status_code)
        fields = surface.named_fields(response)
        if fields is None or "url" not in fields:
            accepted.append((url, response.status_code, fields))
    assert accepted == []
    assert (surface.model.objects.count(), AuditEvent.objects.count()) == before
    if surface.stored is not None:
        row = surface.model.objects.get(pk=_pk_of(surface, existing))
        assert row.url == surface.stored(existing)
    assert listeners.connections == {"127.0.0.1": 0, "127.0.0.2": 0, "::1": 0}


def _pk_of(surface, existing):
    return {"Probe": existing.probe, "RollbackHook": existing.hook, "NotificationChannel": existing.channel}[
        surface.model.__name__
    ].pk


NOT_WEB_ADDRESSES = ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "file:///etc/passwd"]


def test_an_evidence_link_golive_only_shows_refuses_what_is_no_web_address(client, admin_everything, ops):
    """The link-only URL field: never fetched, but a page renders it as <a href>, so a scheme a
    browser would run or open locally is refused by the page and the API, naming the field."""
    user, bearer = admin_everything
    client.force_login(user)
    if not ChecklistTemplate.objects.filter(slug=TEMPLATE).exists():
        call_command("load_builtin_templates", verbosity=0)
    migration = checklist_services.create_migration_from_template(
        by=Actor.system("tests"),
        template=ChecklistTemplate.objects.get(slug=TEMPLATE),
        name="Links",
        slug="links",
        owner=ops,
        integration="Gateway",
        target_date=dt.date(2030, 6, 1),
    )
    item = ChecklistItem.objects.filter(section__phase__migration=migration).first()
    for link in NOT_WEB_ADDRESSES:
        page = client.post(f"/checklists/items/{item.pk}/", {"state": "done", "evidence_link": link})
        assert page.status_code == 422 and "evidence_link" in page.context["state_form"].errors, link
        api = client.post(
            f"/api/v1/items/{item.pk}/tick",
            {"done": True, "evidence_link": link},
            content_type="application/json",
            HTTP_AUTHORIZATION=bearer,
        )
        assert api.status_code == 400, (link, api.content)
        assert [e["field"] for e in api.json()["detail"]] == ["evidence_link"], link
    item.refresh_from_db()
    assert item.evidence_link == "" and item.state != "done"
