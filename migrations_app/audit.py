"""Recording the audit trail. Services call `record` inside the transaction of the change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models

from migrations_app.models import ActorKind, AuditEvent, Migration
from migrations_app.request_context import current_request_context


@dataclass(frozen=True)
class Actor:
    """Who caused a change: a person, an API token (acting for its owner) or a system rule."""

    kind: str
    label: str
    user: Any = None

    @classmethod
    def for_user(cls, user) -> Actor:
        return cls(kind=ActorKind.USER, label=user.get_username(), user=user)

    @classmethod
    def for_token(cls, token) -> Actor:
        return cls(
            kind=ActorKind.TOKEN, label=f"token {token.name} ({token.user.get_username()})", user=token.user
        )

    @classmethod
    def system(cls, rule: str) -> Actor:
        return cls(kind=ActorKind.SYSTEM, label=rule)


def record(
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    *,
    migration: Migration | None = None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    object_type: str = "",
) -> AuditEvent:
    context = current_request_context()
    if migration is None and isinstance(obj, Migration):
        migration = obj
    return AuditEvent.objects.create(
        actor_kind=actor.kind,
        actor_user=actor.user if actor.user is not None and actor.user.pk else None,
        actor_label=actor.label[:150],
        action=action,
        object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        migration=migration,
        before=before,
        after=after,
        reason=reason,
        request_id=context.request_id if context else "",
        client_ip=context.client_ip if context else None,
    )


def snapshot(obj: models.Model, fields: list[str]) -> dict:
    """The values of `fields` as the audit trail stores them (foreign keys as their text)."""
    values = {}
    for name in fields:
        value = getattr(obj, name)
        values[name] = str(value) if isinstance(value, models.Model) else value
    return values


def changed(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields whose value changed, so the timeline reads as a diff."""
    keys = [key for key in after if before.get(key) != after.get(key)]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}
