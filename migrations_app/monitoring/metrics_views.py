"""GET /metrics: golive's state for Prometheus (the families are in metrics_export.py).

Who may scrape: a bearer token with the `metrics` scope, or, with no token at all, a client whose
address is in GOLIVE_METRICS_ALLOW. A token that is sent decides on its own (an allowlisted
scraper with a revoked token hears 401, so the mistake shows). The answer is for programs: no
Content-Security-Policy, never cached."""

from __future__ import annotations

import ipaddress

from csp.decorators import csp_exempt
from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from migrations_app.monitoring import metrics_export
from migrations_app.rollout import tokens
from migrations_app.rollout.models import TokenScope

TEXT = "text/plain; charset=utf-8"
NO_TOKEN = (
    "Send a golive API token with the 'metrics' scope: Authorization: Bearer <token> "
    "(create one on the API tokens page, /account/tokens/)."
)
UNKNOWN_TOKEN = "This token is unknown or revoked: create a new one with the 'metrics' scope."
WRONG_SCOPE = (
    "This token has no 'metrics' scope: create one that has it on the API tokens page, /account/tokens/."
)


def client_address(request) -> str:
    """The scraper's address. Behind the TLS proxy (BEHIND_TLS_PROXY) that is the X-Forwarded-For
    entry the proxy appended, the last one: earlier entries are whatever the client sent."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


def address_allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    networks = [ipaddress.ip_network(cidr, strict=False) for cidr in settings.GOLIVE_METRICS_ALLOW]
    return any(ip.version == network.version and ip in network for network in networks)


def _refusal(request) -> HttpResponse | None:
    """None when the scraper may read, else the 401 or 403 saying what to do."""
    raw = tokens.raw_from_header(request.headers.get("Authorization", ""))
    if raw:
        _, status = tokens.authenticate(raw, scope=TokenScope.METRICS)
        if status == 200:
            return None
        return _refused(401, UNKNOWN_TOKEN) if status == 401 else _refused(403, WRONG_SCOPE)
    if not settings.GOLIVE_METRICS_ALLOW:
        return _refused(401, NO_TOKEN)
    address = client_address(request)
    if address_allowed(address):
        return None
    return _refused(403, f"The address {address or '(unknown)'} is not in GOLIVE_METRICS_ALLOW. {NO_TOKEN}")


def _refused(status: int, message: str) -> HttpResponse:
    response = HttpResponse(message + "\n", status=status, content_type=TEXT)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="golive metrics"'
    return response


@csp_exempt()
@never_cache
@require_GET
def metrics(request):
    refused = _refusal(request)
    if refused is not None:
        return refused
    body, content_type = metrics_export.exposition(request.headers.get("Accept", ""))
    return HttpResponse(body, content_type=content_type)
