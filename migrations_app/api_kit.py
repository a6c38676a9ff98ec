"""What the lifecycle routers of /api/v1 share: who acts, which refusal is whose mistake, and
looking people up by user name. The error shapes themselves live in golive_site/api.py."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Annotated

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from pydantic import AfterValidator, AwareDatetime

from golive_site.api import Refused
from migrations_app.audit import Actor


def actor(request) -> Actor:
    """The token acts for its user: the audit trail names both."""
    return Actor.for_token(request.auth)


@contextmanager
def refusals(*input_fields: str):
    """A service refusal naming only `input_fields` is the client's own mistake (400, e.g. a missing
    reason); anything else is the current state refusing the request (409, e.g. a gate)."""
    try:
        yield
    except ValidationError as error:
        fields = set(getattr(error, "error_dict", {}) or {"body"})
        if fields <= set(input_fields):
            raise
        raise Refused(409, error) from error


def person(field: str, username: str | None, *, queryset=None):
    """The active user called `username` (None stays None), or 404 naming the field."""
    if username is None:
        return None
    users = queryset if queryset is not None else get_user_model().objects.filter(is_active=True)
    user = users.filter(username=username).first()
    if user is None:
        raise Refused(404, ValidationError({field: f"No active golive user “{username}”."}))
    return user


PAGE_QUERY = ("limit", "offset")  # what ninja's LimitOffsetPagination reads
_LARGEST_ROW_NUMBER = 2**63 - 1  # PostgreSQL's LIMIT and OFFSET are bigint


def only_query(request, *names: str) -> None:
    """Refuse query parameters a route does not know (400 naming them): a misspelt filter such
    as `?phse=Testing` would otherwise silently list everything. Where the route pages, refuse a
    page past the largest row number too (ninja bounds neither; PostgreSQL answered a 500)."""
    unknown = sorted(set(request.GET) - set(names))
    if unknown:
        known = ", ".join(names) or "none"
        raise ValidationError(
            {name: f"Unknown query parameter (this route takes: {known})." for name in unknown}
        )
    if set(PAGE_QUERY) <= set(names):
        _refuse_a_page_past_any_row(request.GET)


def _refuse_a_page_past_any_row(query) -> None:
    numbers = {}
    for name in PAGE_QUERY:
        try:
            numbers[name] = int(query.get(name, "0"))
        except ValueError:
            return  # ninja has refused it already, naming it
    if numbers["limit"] > _LARGEST_ROW_NUMBER:
        raise ValidationError({"limit": f"must be at most {_LARGEST_ROW_NUMBER}."})
    if numbers["offset"] + numbers["limit"] > _LARGEST_ROW_NUMBER:
        raise ValidationError({"offset": f"offset plus limit must be at most {_LARGEST_ROW_NUMBER}."})


def _in_utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("The time lies outside the years 1 to 9999 once in UTC.") from None


# A time with its zone, stored in UTC: PostgreSQL refuses offsets beyond ±15:59 that RFC 3339
# allows, and a time without a zone would be read in whatever zone the server runs in.
UtcDateTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
