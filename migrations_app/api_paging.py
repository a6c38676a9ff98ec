"""Paginated API lists refuse query parameters they do not know, instead of silently ignoring a
typo such as `?limt=10` (and so that a list keeps to the OpenAPI document, which lists only
`limit` and `offset`)."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from golive_site.api import Refused

PAGING_PARAMETERS = frozenset({"limit", "offset"})


def refuse_unknown_query(request, *, allowed: frozenset[str] = PAGING_PARAMETERS) -> None:
    unknown = sorted(set(request.GET) - allowed)
    if unknown:
        message = f"is not a query parameter of this list (it takes {', '.join(sorted(allowed))})"
        raise Refused(400, ValidationError({unknown[0]: message}))
