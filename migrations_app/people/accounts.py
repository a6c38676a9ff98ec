"""User accounts from golive's own pages and API: add, re-group, deactivate, reset a password.

Each person has exactly one of golive's groups (Ops, Product Manager, On-call, Admin). golive
always keeps one active Admin: the last one cannot be deactivated or moved to another group, and
nobody deactivates their own account (they would be logged out with nobody to undo it)."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group as AuthGroup
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from migrations_app import audit
from migrations_app.access import Group
from migrations_app.audit import Actor

PROFILE_FIELDS = ["first_name", "last_name", "email", "is_active"]


def group_of(user) -> str:
    """The golive group a user is in ("" for none); a superuser counts as an Admin."""
    names = {group.name for group in user.groups.all()}  # uses a prefetch when the list made one
    if user.is_superuser or Group.ADMIN in names:
        return Group.ADMIN
    return next((name for name in Group.ALL if name in names), "")


def _state(user) -> dict:
    return {**audit.snapshot(user, PROFILE_FIELDS), "group": group_of(user)}


def _active_admins():
    User = get_user_model()
    return User.objects.filter(Q(is_superuser=True) | Q(groups__name=Group.ADMIN), is_active=True).distinct()


def _check_group(group: str) -> None:
    if group not in Group.ALL:
        raise ValidationError({"group": f"Choose one of: {', '.join(Group.ALL)}."})


def _set_group(user, group: str) -> None:
    golive_groups = AuthGroup.objects.filter(name__in=Group.ALL)
    user.groups.remove(*golive_groups)
    user.groups.add(AuthGroup.objects.get_or_create(name=group)[0])


def _new_password(user, password: str) -> tuple[str, bool]:
    """(the password, whether golive generated it); an Admin's own choice must pass the validators."""
    if not password:
        return secrets.token_urlsafe(12), True
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error
    return password, False


@transaction.atomic
def create_user(
    *,
    by: Actor,
    username: str,
    group: str,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    password: str = "",
) -> tuple:
    """A new active account in `group`. Returns (user, the password if golive generated it, else "").
    A generated password is shown once and never stored in clear."""
    User = get_user_model()
    username = username.strip()
    _check_group(group)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": f"The user name “{username}” is taken."})
    user = User(
        username=username, first_name=first_name.strip(), last_name=last_name.strip(), email=email.strip()
    )
    user.full_clean(exclude=["password"])
    raw, generated = _new_password(user, password)
    user.set_password(raw)
    user.save()
    _set_group(user, group)
    audit.record(by, "user.created", user, after={"username": username, **_state(user)})
    return user, raw if generated else ""


@transaction.atomic
def update_user(user, *, by: Actor, group: str, first_name: str, last_name: str, email: str, is_active: bool):
    """Change a person's name, e-mail, group or active flag; refuses to leave golive without an Admin."""
    User = get_user_model()
    _check_group(group)
    # Lock the Admin group row: two Admins demoting each other at once are serialised, so one stays.
    AuthGroup.objects.get_or_create(name=Group.ADMIN)
    AuthGroup.objects.select_for_update().get(name=Group.ADMIN)
    user = User.objects.select_for_update().get(pk=user.pk)
    before = _state(user)
    if not is_active and by.user is not None and by.user.pk == user.pk:
        raise ValidationError({"is_active": "You cannot deactivate your own account. Ask another Admin."})
    loses_admin = (
        before["group"] == Group.ADMIN and before["is_active"] and (group != Group.ADMIN or not is_active)
    )
    if loses_admin and not _active_admins().exclude(pk=user.pk).exists():
        field = "group" if is_active else "is_active"
        raise ValidationError(
            {field: f"{user.get_username()} is the last active Admin: make someone else Admin first."}
        )
    user.first_name, user.last_name, user.email, user.is_active = (
        first_name.strip(),
        last_name.strip(),
        email.strip(),
        is_active,
    )
    user.full_clean(exclude=["password"])
    user.save()
    if group != before["group"]:
        if user.is_superuser and group != Group.ADMIN:
            raise ValidationError(
                {"group": "A superuser is always an Admin; change that in the Django admin."}
            )
        _set_group(user, group)
    old, new = audit.changed(before, _state(user))
    if new:
        audit.record(by, "user.updated", user, before=old, after=new)
    return user


@transaction.atomic
def reset_password(user, *, by: Actor, password: str = "") -> str:
    """Set a new password: the Admin's, or a generated one returned to be shown once ("" otherwise).
    The audit trail says who reset it and how, never the password."""
    User = get_user_model()
    user = User.objects.select_for_update().get(pk=user.pk)
    raw, generated = _new_password(user, password)
    user.set_password(raw)
    user.save(update_fields=["password"])
    how = "generated, shown once" if generated else "set by the Admin"
    audit.record(by, "user.password_reset", user, after={"password": how})
    return raw if generated else ""
