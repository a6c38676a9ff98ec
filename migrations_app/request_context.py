"""Per-request context that the audit trail needs but services should not have to pass around:
the request id and the client's address, set by RequestContextMiddleware for the request's span."""

import ipaddress
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_ip: str | None


_current: ContextVar[RequestContext | None] = ContextVar("golive_request_context", default=None)


def current_request_context() -> RequestContext | None:
    return _current.get()


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _client_ip(request) -> str | None:
    # Behind a trusted proxy (BEHIND_TLS_PROXY) REMOTE_ADDR is the proxy and the client is the
    # first X-Forwarded-For entry; anywhere else that header is client-supplied and ignored.
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[0]
        if ip := _valid_ip(forwarded):
            return ip
    return _valid_ip(request.META.get("REMOTE_ADDR", ""))


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")[:64]
        request_id = incoming if incoming.isprintable() and incoming else uuid.uuid4().hex
        request.request_id = request_id
        token = _current.set(RequestContext(request_id=request_id, client_ip=_client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response
