"""Rollback hooks: the URLs golive calls, signed, when a migration is rolled back (Admins).

Every write locks, checks, writes and audits, like the rest of rollout's services. The signing
secret is returned only by create and rotate, the two moments a page or an API answer may show
it; the audit trail records that it changed, never its value."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.rollout.models import RollbackHook, new_webhook_secret

HOOK_FIELDS = ["name", "url", "active"]


def _check_name(hook: RollbackHook) -> None:
    others = RollbackHook.objects.filter(migration_id=hook.migration_id, name=hook.name).exclude(pk=hook.pk)
    if others.exists():
        raise ValidationError({"name": "Another rollback hook of this migration has this name."})


@transaction.atomic
def create_hook(
    migration: Migration, *, by: Actor, name: str, url: str, active: bool = True
) -> tuple[RollbackHook, str]:
    Migration.objects.select_for_update().get(pk=migration.pk)  # two clicks, one name check at a time
    hook = RollbackHook(migration=migration, name=name.strip(), url=url, active=active)
    hook.full_clean()
    _check_name(hook)
    hook.save()
    audit.record(
        by, "rollback_hook.created", hook, migration=migration, after=audit.snapshot(hook, HOOK_FIELDS)
    )
    return hook, hook.secret


@transaction.atomic
def update_hook(hook: RollbackHook, *, by: Actor, **fields) -> RollbackHook:
    hook = RollbackHook.objects.select_for_update().get(pk=hook.pk)
    before = audit.snapshot(hook, HOOK_FIELDS)
    for name, value in fields.items():
        if name not in HOOK_FIELDS:
            raise ValueError(f"update_hook cannot change {name}")
        setattr(hook, name, value.strip() if name == "name" else value)
    hook.full_clean()
    _check_name(hook)
    old, new = audit.changed(before, audit.snapshot(hook, HOOK_FIELDS))
    if not new:
        return hook  # a repeated save records nothing
    hook.save()
    audit.record(by, "rollback_hook.updated", hook, migration=hook.migration, before=old, after=new)
    return hook


@transaction.atomic
def rotate_hook_secret(hook: RollbackHook, *, by: Actor) -> str:
    """A new secret from now on; deliveries already queued keep the secret they were signed with."""
    hook = RollbackHook.objects.select_for_update().get(pk=hook.pk)
    hook.secret = new_webhook_secret()
    hook.save(update_fields=["secret"])
    audit.record(
        by, "rollback_hook.secret_rotated", hook, migration=hook.migration, after={"secret": "rotated"}
    )
    return hook.secret


@transaction.atomic
def delete_hook(hook: RollbackHook, *, by: Actor) -> None:
    hook = RollbackHook.objects.select_for_update().filter(pk=hook.pk).first()
    if hook is None:
        return  # deleted meanwhile (a double click)
    audit.record(
        by, "rollback_hook.deleted", hook, migration=hook.migration, before=audit.snapshot(hook, HOOK_FIELDS)
    )
    hook.delete()
