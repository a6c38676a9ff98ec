"""Flag APIs for applications: OFREP 0.3.0 and the Unleash client API.

Both read the in-process flag snapshot and token cache, so a request makes no database query in
steady state; a traffic change reaches them within a second with or without Redis. They answer
JSON to programs, never a document a browser renders, so they skip the Content-Security-Policy
header (building it was a fifth of an evaluation's time: docs/benchmarks.md)."""

from __future__ import annotations

import hashlib
import logging
import threading
import time

from csp.decorators import csp_exempt
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from migrations_app import jsonbody
from migrations_app.rollout import bucketing, exposure, tokens
from migrations_app.rollout.models import ClientInstance, TokenScope
from migrations_app.rollout.selectors import FlagState, flag_snapshot

log = logging.getLogger(__name__)

# --- shared -----------------------------------------------------------------------------------


def _authenticate(request) -> tuple[tokens.TokenInfo | None, HttpResponse | None]:
    raw = tokens.raw_from_header(request.headers.get("Authorization", "")) or request.headers.get(
        "X-API-Key", ""
    )
    info, status = tokens.authenticate(raw, scope=TokenScope.FLAGS)
    if status == 401:
        return None, JsonResponse(
            {"errorDetails": "Send a golive API token: Authorization: Bearer <token>."}, status=401
        )
    if status == 403:
        return None, JsonResponse({"errorDetails": "This token has no 'flags' scope."}, status=403)
    return info, None


def evaluate(flag: FlagState, identifier: str) -> tuple[bool, str]:
    """(value, OFREP reason) for one user: true means the new path."""
    if flag.percent <= 0:
        return False, "DISABLED"
    if flag.percent >= 100:
        return True, "STATIC"
    return bucketing.is_in_rollout(flag.key, identifier, flag.percent), "SPLIT"


# --- OFREP ------------------------------------------------------------------------------------


class _BadRequest(Exception):
    def __init__(self, code: str, details: str, *, status: int = 400):
        self.code, self.details, self.status = code, details, status


def _sentence(error: jsonbody.BodyRefused) -> str:
    return error.message if error.field == "body" else f"{error.field} {error.message}"


def _context(request) -> dict:
    try:  # a NUL in a targeting key is only data here: OFREP stores nothing of the body
        body = jsonbody.parse(request.body)
    except jsonbody.BodyRefused as error:
        raise _BadRequest("PARSE_ERROR", _sentence(error), status=error.status) from None
    if not isinstance(body, dict) or not isinstance(body.get("context"), dict):
        raise _BadRequest("INVALID_CONTEXT", "The body must be a JSON object with a 'context' object.")
    context = body["context"]
    key = context.get("targetingKey")
    if key is None or key == "":
        raise _BadRequest("TARGETING_KEY_MISSING", "The context has no targetingKey (the user id).")
    if not isinstance(key, str):
        raise _BadRequest("INVALID_CONTEXT", "targetingKey must be a string.")
    return context


def _success(flag: FlagState, identifier: str) -> dict:
    value, reason = evaluate(flag, identifier)
    exposure.counter.served(flag.key, value, identifier)  # in memory; written off the request path
    return {
        "key": flag.key,
        "value": value,
        "reason": reason,
        "variant": "on" if value else "off",
        "metadata": {"percent": flag.percent, "status": flag.status},
    }


@csp_exempt()
@csrf_exempt
@require_POST
def ofrep_evaluate_flag(request, key: str):
    _, refused = _authenticate(request)
    if refused:
        return refused
    try:
        context = _context(request)
    except _BadRequest as error:
        body = {"key": key, "errorCode": error.code, "errorDetails": error.details}
        return JsonResponse(body, status=error.status)
    flag = flag_snapshot().get(key)
    if flag is None:
        return JsonResponse(
            {"key": key, "errorCode": "FLAG_NOT_FOUND", "errorDetails": f"Flag '{key}' was not found"},
            status=404,
        )
    return JsonResponse(_success(flag, context["targetingKey"]))


@csp_exempt()
@csrf_exempt
@require_POST
def ofrep_evaluate_flags(request):
    _, refused = _authenticate(request)
    if refused:
        return refused
    try:
        context = _context(request)
    except _BadRequest as error:
        return JsonResponse({"errorCode": error.code, "errorDetails": error.details}, status=error.status)
    snapshot = flag_snapshot()
    identifier = context["targetingKey"]
    # The answer depends only on the flag state and the targeting key.
    etag = '"' + hashlib.sha256(f"{snapshot.version}:{identifier}".encode()).hexdigest()[:32] + '"'
    if etag in [value.strip() for value in request.headers.get("If-None-Match", "").split(",")]:
        # The application keeps serving the answers it has: still an exposure of each of them.
        for flag in snapshot.flags.values():
            exposure.counter.served(flag.key, evaluate(flag, identifier)[0], identifier)
        response = HttpResponse(status=304)
    else:
        flags = [_success(flag, identifier) for flag in sorted(snapshot.flags.values(), key=lambda f: f.key)]
        response = JsonResponse({"flags": flags, "metadata": {"version": snapshot.version}})
    response["ETag"] = etag
    return response


# --- Unleash client API -----------------------------------------------------------------------

SEEN_WRITE_SECONDS = 5
_seen_lock = threading.Lock()
_seen: dict[tuple[str, str], float] = {}


def _remember_fetch(request, token: tokens.TokenInfo) -> None:
    """Record that an instance polled, at most every few seconds per instance and process."""
    app = request.headers.get("unleash-appname", "")[:200]
    instance = request.headers.get("unleash-instanceid", "")[:200]
    if not app:
        return
    now = time.monotonic()
    with _seen_lock:
        if now - _seen.get((app, instance), -1e9) < SEEN_WRITE_SECONDS:
            return
        _seen[(app, instance)] = now
    try:
        _upsert_instance(
            app,
            instance,
            last_fetch_at=timezone.now(),
            token_name=token.name,
            sdk_version=request.headers.get("unleash-sdk", "")[:100],
        )
    except DatabaseError:  # bookkeeping only: the features answer from the snapshot must still go out
        log.info("could not record the poll of %s/%s: database unreachable", app, instance)


def unleash_feature(flag: FlagState) -> dict:
    return {
        "name": flag.key,
        "description": flag.name,
        "type": "release",
        "enabled": flag.enabled,
        "stale": False,
        "impressionData": False,
        "strategies": [
            {
                "name": "flexibleRollout",
                "parameters": {"rollout": str(flag.percent), "stickiness": "default", "groupId": flag.key},
                "constraints": [],
            }
        ],
        "variants": [],
    }


@csp_exempt()
@require_GET
def unleash_features(request):
    token, refused = _authenticate(request)
    if refused:
        return refused
    _remember_fetch(request, token)
    snapshot = flag_snapshot()
    etag = f'"{snapshot.version}"'
    if etag in [value.strip() for value in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        features = [unleash_feature(flag) for flag in sorted(snapshot.flags.values(), key=lambda f: f.key)]
        response = JsonResponse({"version": 2, "features": features, "meta": {"etag": etag}})
    response["ETag"] = etag
    return response


def _json_body(request, fields: str) -> tuple[dict | None, JsonResponse | None]:
    """(body, None), or (None, a 400/413 saying what is wrong) for an Unleash SDK's POST."""
    try:
        body = jsonbody.parse(request.body, empty={}, refuse_nul=True)  # stored as it came
    except jsonbody.BodyRefused as error:
        return None, JsonResponse({"error": _sentence(error), "field": error.field}, status=error.status)
    if not isinstance(body, dict) or not body.get("appName"):
        return None, JsonResponse({"error": f"Send JSON with {fields}.", "field": "appName"}, status=400)
    return body, None


def _sdk_report(request, fields: str, columns) -> HttpResponse:
    """An Unleash SDK's register or metrics POST: authenticate, read the body, note what the
    instance said on its row (columns(body) says which), answer 202."""
    token, refused = _authenticate(request)
    if refused:
        return refused
    body, refused = _json_body(request, fields)
    if refused:
        return refused
    _upsert_instance(body["appName"], body.get("instanceId", ""), token_name=token.name, **columns(body))
    return HttpResponse(status=202)


def _registration(body: dict) -> dict:
    return {
        "registered_at": timezone.now(),
        "sdk_version": str(body.get("sdkVersion", ""))[:100],
        "started_at": _parse_time(body.get("started")),
    }


def _metrics(body: dict) -> dict:
    exposure.record_unleash_metrics(body.get("bucket"))
    return {"last_metrics_at": timezone.now(), "last_metrics": body.get("bucket") or {}}


@csp_exempt()
@csrf_exempt
@require_POST
def unleash_register(request):
    return _sdk_report(request, "appName and instanceId", _registration)


@csp_exempt()
@csrf_exempt
@require_POST
def unleash_metrics(request):
    return _sdk_report(request, "appName, instanceId and bucket", _metrics)


def _upsert_instance(app: str, instance: str, **fields) -> None:
    """Update the instance row, creating it on first sight; SDK calls race, so a lost insert updates."""
    app, instance = str(app)[:200], str(instance)[:200]
    rows = ClientInstance.objects.filter(app_name=app, instance_id=instance)
    if rows.update(**fields):
        return
    try:
        with transaction.atomic():
            ClientInstance.objects.create(app_name=app, instance_id=instance, **fields)
    except IntegrityError:
        rows.update(**fields)


def _parse_time(value):

    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except ValueError:
        return None
