"""What every /api/v1 router shares: the error shapes and who answers them, token authentication,
who acts, which refusal is whose mistake, and looking people up by user name. The project's API
object (golive_site/api.py) is a GoliveAPI with every router added.

Authentication is by API token (`Authorization: Bearer glv_...`) with a scope per router:
`TokenAuth(scope="operate")`. Errors answer JSON a pipeline can act on, all shaped as `Error`:
invalid input 400 and a request the current state refuses 409, both with
{"detail": [{"field": ..., "message": ...}]}; no valid token 401, scope or role missing 403 and an
unknown migration 404 with {"detail": "<sentence>"}. Each operation declares the errors it answers
with `answers(...)`, so the OpenAPI document lists them. Every body is read by
migrations_app.jsonbody (size, depth, non-finite numbers, NUL): a refused body is 400 naming the
field, or 413; a database outage is 503 with a sentence. Both are added to every operation."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Annotated

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer
from pydantic import AfterValidator, AwareDatetime

from migrations_app import jsonbody
from migrations_app.audit import Actor
from migrations_app.rollout import tokens

# --- error shapes ---------------------------------------------------------------------------

# What each error status means, in the words of the OpenAPI document.
ERROR_MEANINGS = {
    400: "Invalid input: one entry per refused field.",
    401: "No token, or an unknown, revoked or malformed one.",
    403: "The token lacks the scope, or its user the role, this operation needs.",
    404: "No such migration (a sentence), or a field naming something that does not exist.",
    409: "Well-formed, but the current state refuses it (a gate blocks, the slug is taken): the field named.",
    413: "The body is larger than the limit (1 MiB unless configured): `body` named.",
    503: "The database is unreachable; nothing was changed. Retry after the `Retry-After` seconds.",
}
# Statuses any operation may answer, whatever it declares.
EVERY_OPERATION = (413, 503)


# Free text an API field accepts: anything PostgreSQL can store, which excludes NUL.
TEXT_PATTERN = r"^[^\x00]*$"


class FieldError(Schema):
    field: str = Field(description="The refused field, dotted for nested ones (`samples[3].at`), or `body`.")
    message: str


class Error(Schema):
    """Every error golive's API answers."""

    detail: str | list[FieldError] = Field(
        description="A sentence (401, 403, an unknown migration's 404), or one entry per refused field."
    )


def answers(success: dict, *errors: int) -> dict:
    """An operation's `response=`: its success answer plus the error statuses it may answer."""
    unknown = set(errors) - set(ERROR_MEANINGS)
    assert not unknown, f"document what {sorted(unknown)} means in ERROR_MEANINGS"
    return {**success, **dict.fromkeys(errors, Error)}


class Refused(Exception):
    """A well-formed request that the data refuses, answered with `status` and the fields named."""

    def __init__(self, status: int, error: ValidationError):
        super().__init__(error)
        self.status, self.error = status, error


@contextmanager
def conflicts():
    """A service refusing input the schema already accepted is a conflict with the current state
    (a gate, the step order, a taken slug): 409, so that a client can tell it from its own mistake."""
    try:
        yield
    except ValidationError as error:
        raise Refused(409, error) from error


# --- token authentication -------------------------------------------------------------------


class TokenAuth(HttpBearer):
    """A golive API token with `scope`; request.auth is the ApiToken row (acting as its user)."""

    def __init__(self, scope: str):
        self.scope = scope
        super().__init__()

    def authenticate(self, request, token):
        row, status = tokens.authenticate_model(token, scope=self.scope)
        if status == 403:
            raise PermissionDenied(f"This token has no '{self.scope}' scope.")
        return row if status == 200 else None


# --- the API class: its OpenAPI document, its body parser and its error answers ---------------

_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


class GoliveAPI(NinjaAPI):
    """ninja's API answering every error in the `Error` shape (a database outage is the project's
    own answer, added by golive_site/api.py) and naming what each error status means."""

    def get_openapi_schema(self, *args, **kwargs):
        """Name what each error status means instead of ninja's bare reason phrase."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation["responses"]
                for status in EVERY_OPERATION:
                    responses.setdefault(str(status), {"content": _ERROR_CONTENT})
                for status, answer in responses.items():
                    answer["description"] = ERROR_MEANINGS.get(int(status), answer.get("description", ""))
        return schema

    def set_default_exception_handlers(self) -> None:
        super().set_default_exception_handlers()
        self.add_exception_handler(NinjaValidationError, self._invalid_input)
        self.add_exception_handler(ValidationError, self._refused_by_service)
        self.add_exception_handler(Refused, self._refused_by_state)
        self.add_exception_handler(PermissionDenied, self._forbidden)
        self.add_exception_handler(Http404, self._not_found)
        self.add_exception_handler(jsonbody.BodyRefused, self._refused_body)
        self.add_exception_handler(HttpError, self._http_error)
        self.add_exception_handler(AuthenticationError, self._unauthorized)

    def _invalid_input(self, request, exc: NinjaValidationError):
        detail = [
            {"field": _field(error.get("loc", ())), "message": error.get("msg", "invalid")}
            for error in exc.errors
        ]
        return self.create_response(request, {"detail": detail}, status=400)

    def _refused_by_service(self, request, exc: ValidationError):
        return self.create_response(request, {"detail": _field_errors(exc)}, status=400)

    def _refused_by_state(self, request, exc: Refused):
        return self.create_response(request, {"detail": _field_errors(exc.error)}, status=exc.status)

    def _forbidden(self, request, exc: PermissionDenied):
        return self.create_response(request, {"detail": str(exc) or "Forbidden."}, status=403)

    def _not_found(self, request, exc: Http404):
        return self.create_response(request, {"detail": str(exc) or "Not found."}, status=404)

    def _refused_body(self, request, exc: jsonbody.BodyRefused):
        return self.create_response(
            request, {"detail": [{"field": exc.field, "message": exc.message}]}, status=exc.status
        )

    def _http_error(self, request, exc: HttpError):
        """ninja's own refusals, a body it could not parse among them: a field named, no Python text."""
        if isinstance(exc.__cause__, jsonbody.BodyRefused):
            return self._refused_body(request, exc.__cause__)
        if exc.status_code >= 500:
            return self.create_response(
                request, {"detail": "golive could not answer."}, status=exc.status_code
            )
        field = {"field": "body", "message": str(exc) if exc.status_code != 400 else "Send a JSON document."}
        return self.create_response(request, {"detail": [field]}, status=exc.status_code)

    def _unauthorized(self, request, exc: AuthenticationError):
        return self.create_response(
            request, {"detail": "Send a valid API token: Authorization: Bearer <token>."}, status=401
        )


class JsonBodyParser(Parser):
    """ninja's parser through golive's JSON kit (ninja wraps what it raises in an HttpError)."""

    def parse_body(self, request):
        document = jsonbody.parse(request.body)
        # Every /api/v1 body is an object. ninja's schemas read attributes, so an array or a bare
        # value would otherwise pass as "every field left out" and a PUT would apply its defaults.
        if not isinstance(document, dict):
            raise jsonbody.BodyRefused("body", "Send a JSON object ({...}) as the body.")
        return document


_LOCATIONS = ("body", "query", "path", "header", "cookie")
_WRAPPERS = ("payload", "filters")  # the view's parameter holding a schema, not a field


def _field(loc) -> str:
    """ninja's error location as the client wrote it: ("body", "payload", "expected_json", 0,
    "path") is `expected_json.0.path`. Only the leading location and wrapper go: a field may
    itself be called `path` or `body`."""
    parts = [str(part) for part in loc]
    if parts[:1] and parts[0] in _LOCATIONS:
        parts = parts[1:]
    if parts[:1] and parts[0] in _WRAPPERS:
        parts = parts[1:]
    return ".".join(parts) or "body"


def _field_errors(exc: ValidationError) -> list[dict]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": field, "message": m} for field, messages in exc.message_dict.items() for m in messages
        ]
    return [{"field": "body", "message": m} for m in exc.messages]


# --- what the lifecycle routers share -------------------------------------------------------


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
