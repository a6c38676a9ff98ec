"""Roles and user accounts through /api/v1 (`operate` scope): the same services as the pages,
the token's user decides exactly as a person in the browser would."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Annotated

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from migrations_app import access
from migrations_app.api_kit import PAGE_QUERY, TEXT_PATTERN, Refused, TokenAuth, answers, only_query
from migrations_app.audit import Actor
from migrations_app.models import Migration, MigrationRoleName
from migrations_app.people import roles
from migrations_app.people.display import person_label

router = Router(auth=TokenAuth(scope="operate"), tags=["people"])

ROLE_CODES = ", ".join(MigrationRoleName.values)


class PersonOut(Schema):
    username: str
    name: str = Field(description="Full name, then user name, as golive's pages show the person.")


class RoleOut(Schema):
    code: str = Field(description=f"One of {ROLE_CODES}.")
    label: str
    users: list[PersonOut]
    signs: list[str] = Field(description="Names of the phases whose sign-off needs this role.")
    unfilled: bool = Field(
        description="The role signs a phase and nobody holds it: that phase cannot be signed."
    )


UserName = Annotated[str, Field(max_length=150, pattern=TEXT_PATTERN)]


class RoleHoldersIn(Schema):
    users: list[UserName] = Field(
        max_length=50,
        description="User names that hold the role afterwards (an empty list removes everyone).",
    )


def _role_out(holders: roles.RoleHolders) -> dict:
    return {
        "code": holders.code,
        "label": holders.label,
        "users": [{"username": u.get_username(), "name": person_label(u)} for u in holders.users],
        "signs": holders.signs,
        "unfilled": holders.unfilled,
    }


@contextmanager
def named_things():
    """A name that matches nothing is a 404 naming its field; a name the state refuses (a
    deactivated user) is a 409."""
    try:
        yield
    except roles.UnknownName as error:
        raise Refused(404, error) from error
    except ValidationError as error:
        raise Refused(409, error) from error


def _migration(request, slug: str) -> Migration:
    migration = get_object_or_404(Migration, slug=slug)
    access.require(request.auth.user, "view")
    return migration


@router.get(
    "/migrations/{slug}/roles",
    response=answers({200: list[RoleOut]}, 400, 401, 403, 404),
    summary="Who holds each role on a migration",
)
@paginate(LimitOffsetPagination)
def list_roles(request, slug: str):
    only_query(request, *PAGE_QUERY)
    return [_role_out(holders) for holders in roles.roles_for(_migration(request, slug))]


@router.put(
    "/migrations/{slug}/roles/{role}",
    response=answers({200: RoleOut}, 400, 401, 403, 404, 409),
    summary="Set exactly who holds one role (Admin or the migration's Deployment Lead)",
)
def put_role(request, slug: str, role: str, payload: RoleHoldersIn):
    migration = _migration(request, slug)
    with named_things():
        roles.parse_role(role)
        access.require_assign_roles(request.auth.user, migration)
        users = roles.users_by_username(payload.users)
        roles.set_role_holders(migration, role=role, users=users, by=Actor.for_token(request.auth))
    holders = next(h for h in roles.roles_for(migration) if h.code == role)
    return _role_out(holders)
