"""The project's middleware: Django's and django-csp's without needless work on error and exempt
answers, and the answers to oversized bodies and database outages that must never be a 500. The
request context the audit trail reads is the app layer's (migrations_app.request_context)."""

import logging

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from migrations_app import jsonbody

log = logging.getLogger(__name__)


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, without reading the session for an error answer that will not save it.

    Django never saves a session or refreshes its cookie on a 5xx, but first reads the session to
    compute the cookie's expiry: during a database outage that read turned the 503 page into a 500."""

    def process_response(self, request, response):
        if response.status_code >= 500:
            return response
        return super().process_response(request, response)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, without building a policy for a response that will not carry one.

    django-csp builds both policies for every response and only then looks at `csp_exempt`; the
    flag APIs answer JSON to programs (exempt), and building was a fifth of their time."""

    def process_response(self, request, response):
        exempt = getattr(response, "_csp_exempt", False)
        if exempt and not getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None):
            return response
        return super().process_response(request, response)


# --- hostile sizes and database outages --------------------------------------------------------

RETRY_AFTER_SECONDS = 5
DATABASE_DOWN = (
    "golive cannot reach its database right now; nothing was changed. "
    f"Retry in {RETRY_AFTER_SECONDS} seconds."
)


def _json_error(request, *, status: int, field: str, message: str) -> JsonResponse | None:
    """`message` in the error shape of the JSON endpoint at this path, or None for a page."""
    path = request.path_info
    if path.startswith("/ofrep/"):
        code = "PARSE_ERROR" if status < 500 else "GENERAL"
        key = path.removeprefix("/ofrep/v1/evaluate/flags").strip("/")
        body = {"key": key} if key else {}
        return JsonResponse({**body, "errorCode": code, "errorDetails": message}, status=status)
    if path.startswith("/api/client/"):
        return JsonResponse({"error": message, "field": field}, status=status)
    if path.startswith("/api/"):
        detail = [{"field": field, "message": message}] if status < 500 else message
        return JsonResponse({"detail": detail}, status=status)
    return None


def _declared_length(request) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


class HostileInputMiddleware:
    """Answers what must never become a 500 or a traceback page, DEBUG on or off:

    - a body over the limit (declared by Content-Length) is 413 with a sentence, before anything
      reads it: JSON endpoints at GOLIVE_JSON_MAX_BYTES, pages at DATA_UPLOAD_MAX_MEMORY_SIZE;
    - a query parameter holding a NUL character is 400 naming it: PostgreSQL text cannot hold
      one, so every view that searched or filtered with it answered a 500;
    - a database error from a view during an outage is 503 with a readable page or JSON in the
      endpoint's shape (a 5xx also keeps the session middleware from writing to that database)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length, is_json = _declared_length(request), _is_json_endpoint(request)
        limit = jsonbody.max_bytes() if is_json else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return self._too_big(request, limit)
        if "%00" in request.META.get("QUERY_STRING", ""):
            refused = _nul_in_query(request)
            if refused is not None:
                return refused
        return self.get_response(request)

    def _too_big(self, request, limit: int) -> HttpResponse:
        message = f"The body is larger than {limit:,} bytes; send less per request."
        response = _json_error(request, status=413, field="body", message=message)
        if response is None:
            response = HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        _discard_body(request)
        return response

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        log.warning(
            "database unreachable during %s %s: %s", request.method, request.path, type(exception).__name__
        )
        return database_unavailable(request)


def _nul_in_query(request) -> HttpResponse | None:
    name = next((k for k, values in request.GET.lists() for v in [k, *values] if "\x00" in v), None)
    if name is None:
        return None
    shown = name.replace("\x00", "") or "(unnamed)"
    message = f"The query parameter “{shown}” contains a NUL character; nothing was done."
    response = _json_error(request, status=400, field=shown, message=message)
    return response or HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


DRAIN_MAX_BYTES = 16 * 1024 * 1024


def _discard_body(request) -> None:
    """Read and drop a refused body of up to DRAIN_MAX_BYTES, so that the client's keep-alive
    connection stays usable: gunicorn drains only 64 KiB of an unread body, then closes the
    connection after answering "keep-alive", and the client's next request on it fails. A WSGI
    app cannot say `Connection: close` (a hop-by-hop header: gunicorn drops it, wsgiref refuses
    it). Past the bound the connection closes, which is the right end for such a sender."""
    stream, left = request.META.get("wsgi.input"), min(_declared_length(request), DRAIN_MAX_BYTES)
    while stream is not None and left > 0 and (chunk := stream.read(min(left, 64 * 1024))):
        left -= len(chunk)


def _is_json_endpoint(request) -> bool:
    return request.path_info.startswith(("/ofrep/", "/api/"))


def database_unavailable(request) -> HttpResponse:
    """503 while the database is unreachable: JSON for programs, a page (no query) for people."""
    response = _json_error(request, status=503, field="body", message=DATABASE_DOWN)
    if response is None:
        html = render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
