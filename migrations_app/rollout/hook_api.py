"""Rollback hooks through /api/v1 (`operate` scope, Admins only, as on the page).

The signing secret is in the answer to create and rotate only; reading a hook never shows it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from migrations_app import access
from migrations_app.api_kit import PAGE_QUERY, TEXT_PATTERN, Refused, TokenAuth, answers, only_query
from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.rollout import hooks
from migrations_app.rollout.hook_forms import RollbackHookForm
from migrations_app.rollout.models import RollbackHook

router = Router(auth=TokenAuth(scope="operate"), tags=["rollback hooks"])
_URL = Field(
    min_length=1,
    max_length=500,
    pattern=r"^[^\x00\r\n]*$",
    examples=["https://deploy.example.com/hooks/golive"],
)


class HookIn(Schema):
    name: str = Field(min_length=1, max_length=80, pattern=TEXT_PATTERN)
    url: str = _URL
    active: bool = True


class HookUpdate(Schema):
    """Every field optional: the ones left out keep their value."""

    name: str | None = Field(None, min_length=1, max_length=80, pattern=TEXT_PATTERN)
    url: str | None = Field(None, min_length=1, max_length=500, pattern=r"^[^\x00\r\n]*$")
    active: bool | None = None


class HookOut(Schema):
    id: int
    migration: str = Field(description="The migration's slug.")
    name: str
    url: str
    active: bool


class HookWithSecret(HookOut):
    secret: str = Field(description="The whsec_… signing secret: shown in this answer only, store it now.")


def _out(hook: RollbackHook, *, secret: str | None = None) -> dict:
    out = {
        "id": hook.pk,
        "migration": hook.migration.slug,
        "name": hook.name,
        "url": hook.url,
        "active": hook.active,
    }
    return out if secret is None else out | {"secret": secret}


def _valid(values: dict, *, migration: Migration, hook: RollbackHook | None) -> dict:
    """The page's form decides, so the page and the API accept the same hooks."""
    data = {**values, "active": "on" if values.get("active") else ""}
    form = RollbackHookForm(data, instance=hook, migration=migration)
    if not form.is_valid():
        raise Refused(409, ValidationError(dict(form.errors)))
    return form.cleaned_data


def _migration(request, slug: str) -> Migration:
    migration = get_object_or_404(Migration, slug=slug)
    access.require(request.auth.user, "edit_rollback_hooks")
    return migration


def _hook(request, hook_id: int) -> RollbackHook:
    hook = get_object_or_404(RollbackHook.objects.select_related("migration"), pk=hook_id)
    access.require(request.auth.user, "edit_rollback_hooks")
    return hook


@router.get(
    "/migrations/{slug}/rollback-hooks",
    response=answers({200: list[HookOut]}, 400, 401, 403, 404),
    summary="List a migration's rollback hooks (Admin)",
)
@paginate(LimitOffsetPagination)
def list_hooks(request, slug: str):
    only_query(request, *PAGE_QUERY)
    migration = _migration(request, slug)
    return [_out(h) for h in RollbackHook.objects.filter(migration=migration).select_related("migration")]


@router.post(
    "/migrations/{slug}/rollback-hooks",
    response=answers({201: HookWithSecret}, 400, 401, 403, 404, 409),
    summary="Add a rollback hook; the answer carries its signing secret, once (Admin)",
)
def create_hook(request, slug: str, payload: HookIn):
    migration = _migration(request, slug)
    fields = _valid(payload.model_dump(), migration=migration, hook=None)
    hook, secret = hooks.create_hook(migration, by=Actor.for_token(request.auth), **fields)
    return Status(201, _out(hook, secret=secret))


@router.get(
    "/rollback-hooks/{hook_id}",
    response=answers({200: HookOut}, 400, 401, 403, 404),
    summary="One rollback hook (Admin)",
)
def get_hook(request, hook_id: int):
    return _out(_hook(request, hook_id))


@router.patch(
    "/rollback-hooks/{hook_id}",
    response=answers({200: HookOut}, 400, 401, 403, 404, 409),
    summary="Change a rollback hook (fields left out keep their value; Admin)",
)
def update_hook(request, hook_id: int, payload: HookUpdate):
    hook = _hook(request, hook_id)
    values = {"name": hook.name, "url": hook.url, "active": hook.active}
    values |= payload.model_dump(exclude_unset=True, exclude_none=True)
    fields = _valid(values, migration=hook.migration, hook=RollbackHook.objects.get(pk=hook.pk))
    return _out(hooks.update_hook(hook, by=Actor.for_token(request.auth), **fields))


@router.post(
    "/rollback-hooks/{hook_id}/rotate",
    response=answers({200: HookWithSecret}, 400, 401, 403, 404),
    summary="Give a rollback hook a new signing secret, shown in this answer only (Admin)",
)
def rotate_hook(request, hook_id: int):
    hook = _hook(request, hook_id)
    secret = hooks.rotate_hook_secret(hook, by=Actor.for_token(request.auth))
    return _out(hook, secret=secret)


@router.delete(
    "/rollback-hooks/{hook_id}",
    response=answers({204: None}, 400, 401, 403, 404),
    summary="Delete a rollback hook (Admin)",
)
def delete_hook(request, hook_id: int):
    hooks.delete_hook(_hook(request, hook_id), by=Actor.for_token(request.auth))
    return Status(204, None)
