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
    as `?phse=Testing` would otherwise silently list everything."""
    unknown = sorted(set(request.GET) - set(names))
    if unknown:
        known = ", ".join(names) or "none"
        raise ValidationError(
            {name: f"Unknown query parameter (this route takes: {known})." for name in unknown}
        )


def within_rows(request, queryset):
    """The queryset a paginated list returns, or none of it when the page asked for lies past
    any row PostgreSQL can number: ninja bounds neither limit nor offset (its document allows
    any integer), and the slice answered a 500 ("bigint out of range"). An empty page is what
    such a page holds anyway. Lists built in Python need no help: slicing a list never fails."""
    try:
        end = int(request.GET.get("offset", "0")) + int(request.GET.get("limit", "0"))
    except ValueError:
        return queryset  # ninja has refused it already, naming it
    return queryset.none() if end > _LARGEST_ROW_NUMBER else queryset


def _in_utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("The time lies outside the years 1 to 9999 once in UTC.") from None


# A time with its zone, stored in UTC: PostgreSQL refuses offsets beyond ±15:59 that RFC 3339
# allows, and a time without a zone would be read in whatever zone the server runs in.
UtcDateTime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
