"""The JSON API under /api/v1 (django-ninja generates its OpenAPI document from the code).

Authentication is by API token (`Authorization: Bearer glv_...`) with a scope per router:
`TokenAuth(scope="operate")`. Errors answer JSON a pipeline can act on, all shaped as `Error`:
invalid input 400 and a request the current state refuses 409, both with
{"detail": [{"field": ..., "message": ...}]}; no valid token 401, scope or role missing 403 and an
unknown migration 404 with {"detail": "<sentence>"}. Each operation declares the errors it answers
with `answers(...)`, so the OpenAPI document lists them. Every body is read by
migrations_app.jsonbody (size, depth, non-finite numbers, NUL): a refused body is 400 naming the
field, or 413; a database outage is 503 with a sentence. Both are added to every operation."""

from contextlib import contextmanager

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from golive_site.middleware import database_unavailable
from migrations_app import jsonbody
from migrations_app.rollout import tokens

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

    def __init__(self, status: int, error: DjangoValidationError):
        super().__init__(error)
        self.status, self.error = status, error


@contextmanager
def conflicts():
    """A service refusing input the schema already accepted is a conflict with the current state
    (a gate, the step order, a taken slug): 409, so that a client can tell it from its own mistake."""
    try:
        yield
    except DjangoValidationError as error:
        raise Refused(409, error) from error


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


class GoliveAPI(NinjaAPI):
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


_ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


class JsonBodyParser(Parser):
    """ninja's parser through golive's JSON kit (ninja wraps what it raises in an HttpError)."""

    def parse_body(self, request):
        document = jsonbody.parse(request.body)
        # Every /api/v1 body is an object. ninja's schemas read attributes, so an array or a bare
        # value would otherwise pass as "every field left out" and a PUT would apply its defaults.
        if not isinstance(document, dict):
            raise jsonbody.BodyRefused("body", "Send a JSON object ({...}) as the body.")
        return document


api = GoliveAPI(
    title="golive API",
    version="1",
    description=(
        "Automation API for CI/CD pipelines and applications. Authenticate with "
        "`Authorization: Bearer <token>`; create tokens on your profile page or with "
        "`python manage.py create_api_token <username> --scopes operate`."
    ),
    urls_namespace="api",
    parser=JsonBodyParser(),
)


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


@api.exception_handler(NinjaValidationError)
def invalid_input(request, exc: NinjaValidationError):
    detail = [
        {"field": _field(error.get("loc", ())), "message": error.get("msg", "invalid")}
        for error in exc.errors
    ]
    return api.create_response(request, {"detail": detail}, status=400)


def _field_errors(exc: DjangoValidationError) -> list[dict]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": field, "message": m} for field, messages in exc.message_dict.items() for m in messages
        ]
    return [{"field": "body", "message": m} for m in exc.messages]


@api.exception_handler(DjangoValidationError)
def refused_by_service(request, exc: DjangoValidationError):
    return api.create_response(request, {"detail": _field_errors(exc)}, status=400)


@api.exception_handler(Refused)
def refused_by_state(request, exc: Refused):
    return api.create_response(request, {"detail": _field_errors(exc.error)}, status=exc.status)


@api.exception_handler(PermissionDenied)
def forbidden(request, exc: PermissionDenied):
    return api.create_response(request, {"detail": str(exc) or "Forbidden."}, status=403)


@api.exception_handler(Http404)
def not_found(request, exc: Http404):
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


@api.exception_handler(jsonbody.BodyRefused)
def refused_body(request, exc: jsonbody.BodyRefused):
    return api.create_response(
        request, {"detail": [{"field": exc.field, "message": exc.message}]}, status=exc.status
    )


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    """ninja's own refusals, a body it could not parse among them: a field named, no Python text."""
    if isinstance(exc.__cause__, jsonbody.BodyRefused):
        return refused_body(request, exc.__cause__)
    if exc.status_code >= 500:
        return api.create_response(request, {"detail": "golive could not answer."}, status=exc.status_code)
    field = {"field": "body", "message": str(exc) if exc.status_code != 400 else "Send a JSON document."}
    return api.create_response(request, {"detail": [field]}, status=exc.status_code)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def database_down(request, exc):
    # Answered here because ninja, in DEBUG, would answer its traceback as a 500.
    return database_unavailable(request)


@api.exception_handler(AuthenticationError)
def unauthorized(request, exc: AuthenticationError):
    return api.create_response(
        request, {"detail": "Send a valid API token: Authorization: Bearer <token>."}, status=401
    )


# The routers import TokenAuth and the error kit from this module, so they are mounted after it.
from checklists.api import router as checklist_router  # noqa: E402
from checklists.signoffs_api import router as signoff_router  # noqa: E402
from migrations_app.inbound.api import router as inbound_router  # noqa: E402
from migrations_app.inbound.kpis_api import router as webhook_kpis_router  # noqa: E402
from migrations_app.incidents.announcements_api import router as announcement_router  # noqa: E402
from migrations_app.incidents.api import router as incident_router  # noqa: E402
from migrations_app.incidents.settings_api import router as notification_settings_router  # noqa: E402
from migrations_app.lifecycle_api import router as lifecycle_router  # noqa: E402
from migrations_app.monitoring.api import router as monitoring_router  # noqa: E402
from migrations_app.monitoring.probe_api import router as probe_router  # noqa: E402
from migrations_app.monitoring.rules_api import router as rules_router  # noqa: E402
from migrations_app.monitoring.standard_api import router as standard_kpis_router  # noqa: E402
from migrations_app.people.account_api import router as accounts_router  # noqa: E402
from migrations_app.people.api import router as people_router  # noqa: E402
from migrations_app.rollout.api import router as rollout_router  # noqa: E402
from migrations_app.rollout.hook_api import router as hook_router  # noqa: E402
from migrations_app.rollout.plan_api import router as plan_router  # noqa: E402

for _router in (
    rollout_router,
    plan_router,
    monitoring_router,
    probe_router,
    standard_kpis_router,
    rules_router,
    hook_router,
    notification_settings_router,
    inbound_router,
    webhook_kpis_router,
    lifecycle_router,
    checklist_router,
    signoff_router,
    incident_router,
    announcement_router,
    people_router,
    accounts_router,
):
    api.add_router("/", _router)
