"""The JSON API under /api/v1 (django-ninja generates its OpenAPI document from the code).

Authentication is by API token (`Authorization: Bearer glv_...`) with a scope per router:
`TokenAuth(scope="operate")`. Errors answer JSON a pipeline can act on: invalid input 400 with
{"detail": [{"field": ..., "message": ...}]}, refusals 403, unknown objects 404."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer

from migrations_app.rollout import tokens


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


api = NinjaAPI(
    title="golive API",
    version="1",
    description=(
        "Automation API for CI/CD pipelines and applications. Authenticate with "
        "`Authorization: Bearer <token>`; create tokens on your profile page or with "
        "`python manage.py create_api_token <username> --scopes operate`."
    ),
    urls_namespace="api",
)


def _field(loc) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "payload")]
    return ".".join(parts) or "body"


@api.exception_handler(NinjaValidationError)
def invalid_input(request, exc: NinjaValidationError):
    detail = [
        {"field": _field(error.get("loc", ())), "message": error.get("msg", "invalid")}
        for error in exc.errors
    ]
    return api.create_response(request, {"detail": detail}, status=400)


@api.exception_handler(DjangoValidationError)
def refused_by_service(request, exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        detail = [
            {"field": field, "message": m} for field, messages in exc.message_dict.items() for m in messages
        ]
    else:
        detail = [{"field": "body", "message": m} for m in exc.messages]
    return api.create_response(request, {"detail": detail}, status=400)


@api.exception_handler(PermissionDenied)
def forbidden(request, exc: PermissionDenied):
    return api.create_response(request, {"detail": str(exc) or "Forbidden."}, status=403)


@api.exception_handler(Http404)
def not_found(request, exc: Http404):
    return api.create_response(request, {"detail": str(exc) or "Not found."}, status=404)


@api.exception_handler(AuthenticationError)
def unauthorized(request, exc: AuthenticationError):
    return api.create_response(
        request, {"detail": "Send a valid API token: Authorization: Bearer <token>."}, status=401
    )


from migrations_app.rollout.api import router as rollout_router  # noqa: E402  (the router needs TokenAuth)

api.add_router("/", rollout_router)

from migrations_app.monitoring.api import router as monitoring_router  # noqa: E402

api.add_router("/", monitoring_router)
