"""Reads for the people pages: finding people by name, the user list, recent account changes."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from migrations_app.models import AuditEvent

PICKER_LIMIT = 20
LIST_LIMIT = 200


def _matching(query: str) -> QuerySet:
    users = get_user_model().objects.order_by("first_name", "last_name", "username")
    for word in query.split():  # "ada adm" finds Ada Admin: every word must match some field
        users = users.filter(
            Q(username__icontains=word)
            | Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(email__icontains=word)
        )
    return users


def people_to_pick(query: str = "", *, limit: int = PICKER_LIMIT) -> list:
    """Active people whose name, user name or e-mail contains every word of `query`."""
    return list(_matching(query).filter(is_active=True)[:limit])


def users_for_list(*, query: str = "", status: str = "active") -> QuerySet:
    users = _matching(query).prefetch_related("groups")
    if status == "active":
        users = users.filter(is_active=True)
    elif status == "inactive":
        users = users.filter(is_active=False)
    return users[:LIST_LIMIT]


def recent_account_changes(limit: int = 10) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(object_type="auth.user")
        .select_related("actor_user")
        .order_by("-at", "-id")[:limit]
    )


def recent_contact_changes(limit: int = 10) -> QuerySet[AuditEvent]:
    return (
        AuditEvent.objects.filter(object_type="migrations_app.contact")
        .select_related("actor_user")
        .order_by("-at", "-id")[:limit]
    )
