"""User accounts through /api/v1 for Admin tokens, e.g. a service account a CI job signs as.

The same services as the People pages: one group per person, the last active Admin stays, a
generated password is in the answer once and never again."""

from __future__ import annotations

from typing import Literal

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from migrations_app import access
from migrations_app.api_kit import PAGE_QUERY, TEXT_PATTERN, TokenAuth, answers, conflicts, only_query
from migrations_app.audit import Actor
from migrations_app.people import accounts, selectors
from migrations_app.people.display import person_label

router = Router(auth=TokenAuth(scope="operate"), tags=["people"])

GroupName = Literal["Ops", "Product Manager", "On-call", "Admin"]
USERNAME_PATTERN = r"^[\w.@+-]+$"  # what Django's username validator accepts
EMAIL_PATTERN = r"^$|^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$"
NAME = Field("", max_length=150, pattern=TEXT_PATTERN)


class UserOut(Schema):
    username: str
    name: str = Field(description="Full name, then user name, as the pages show the person.")
    first_name: str
    last_name: str
    email: str
    group: str = Field(description="Ops, Product Manager, On-call or Admin; empty for none.")
    is_active: bool


class CreatedUserOut(UserOut):
    password: str | None = Field(description="The generated password, shown this once; null if you set one.")


class UserIn(Schema):
    username: str = Field(min_length=1, max_length=150, pattern=USERNAME_PATTERN)
    group: GroupName
    first_name: str = NAME
    last_name: str = NAME
    email: str = Field("", max_length=254, pattern=EMAIL_PATTERN)
    password: str = Field(
        "",
        max_length=128,
        pattern=TEXT_PATTERN,
        description="Leave out and golive generates one (in the answer).",
    )


class UserPatch(Schema):
    group: GroupName | None = None
    first_name: str | None = Field(None, max_length=150, pattern=TEXT_PATTERN)
    last_name: str | None = Field(None, max_length=150, pattern=TEXT_PATTERN)
    email: str | None = Field(None, max_length=254, pattern=EMAIL_PATTERN)
    is_active: bool | None = Field(None, description="false deactivates: the person can no longer log in.")


def _out(user) -> dict:
    return {
        "username": user.get_username(),
        "name": person_label(user),
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "group": accounts.group_of(user),
        "is_active": user.is_active,
    }


def _admin(request) -> Actor:
    access.require(request.auth.user, "manage_users")
    return Actor.for_token(request.auth)


@router.get(
    "/users", response=answers({200: list[UserOut]}, 400, 401, 403), summary="List user accounts (Admin)"
)
@paginate(LimitOffsetPagination)
def list_users(request):
    only_query(request, *PAGE_QUERY)
    _admin(request)
    return [_out(user) for user in selectors.users_for_list(status="all")]


@router.post(
    "/users",
    response=answers({201: CreatedUserOut}, 400, 401, 403, 409),
    summary="Add a user account (Admin)",
)
def create_user(request, payload: UserIn):
    by = _admin(request)
    with conflicts():  # a taken user name, a password the validators refuse
        user, generated = accounts.create_user(by=by, **payload.dict())
    return Status(201, {**_out(user), "password": generated or None})


@router.patch(
    "/users/{username}",
    response=answers({200: UserOut}, 400, 401, 403, 404, 409),
    summary="Change a user's names, e-mail, group or active flag (Admin)",
)
def update_user(request, username: str, payload: UserPatch):
    by = _admin(request)
    user = get_object_or_404(get_user_model(), username=username)
    current = {"group": accounts.group_of(user), **{f: getattr(user, f) for f in accounts.PROFILE_FIELDS}}
    changes = {key: value for key, value in payload.dict().items() if value is not None}
    with conflicts():  # the last active Admin, deactivating your own account
        user = accounts.update_user(user, by=by, **{**current, **changes})
    return _out(user)
