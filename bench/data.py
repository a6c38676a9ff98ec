"""Bench data, made through golive's own services (the same rows production would hold)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from migrations_app import services
from migrations_app.audit import Actor
from migrations_app.models import Migration, MigrationStatus
from migrations_app.rollout import tokens
from migrations_app.rollout.models import RolloutPlan

BY = Actor.system("bench")


def user(username: str = "bench-ops"):
    found = get_user_model().objects.filter(username=username).first()
    return found or get_user_model().objects.create_user(username=username, password="bench-password")


def live_migration(slug: str, *, percent: int = 25, owner=None) -> Migration:
    """A migration rolling out at `percent`, set directly: the gates are not what is measured."""
    migration = Migration.objects.filter(slug=slug).first() or services.create_migration(
        by=BY, slug=slug, owner=owner or user(), name=f"Bench {slug}", integration="Bench provider"
    )
    RolloutPlan.objects.update_or_create(migration=migration, defaults={"percent": percent})
    Migration.objects.filter(pk=migration.pk).update(status=MigrationStatus.ROLLING_OUT)
    migration.refresh_from_db()
    return migration


def api_token(scopes: str = "flags", name: str = "bench token") -> str:
    _, raw = tokens.create_token(user=user(), name=name, scopes=scopes, by=BY)
    return raw


def member(username: str, *groups: str):
    """A user in golive groups ("On-call", "Ops"...), as the permission checks see them."""
    account = user(username)
    account.groups.add(*Group.objects.filter(name__in=groups))
    return account


def token_for(account, scopes: str, name: str = "bench token") -> str:
    _, raw = tokens.create_token(user=account, name=name, scopes=scopes, by=BY)
    return raw
