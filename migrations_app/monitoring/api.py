"""Push ingestion: applications send what only they know (payments, webhook deliveries, declines).

POST /api/v1/migrations/{slug}/samples with a token of the `ingest` scope and up to 1,000 items,
each a value {"metric", "value", "at"?} or counters {"metric", "ok", "failed", "at"?}, optionally
with the path it was measured on: "variant" ("new"/"old") or "targeting_key" (the user id; golive
derives the cohort, see cohorts.py). A batch is stored whole or not at all: one bad item answers
400 naming the item and the field. With an `Idempotency-Key` header a retry stores nothing new and
answers the same (batches.py)."""

from __future__ import annotations

import datetime as dt
import math

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from ninja import Router, Schema, Status

from migrations_app import access, jsonbody
from migrations_app.api_kit import TokenAuth, answers
from migrations_app.models import Migration
from migrations_app.monitoring import batches, services
from migrations_app.monitoring.models import METRIC_VALIDATOR

MAX_ITEMS = 1000
MAX_COUNT = 10_000_000
FUTURE_SLACK = dt.timedelta(minutes=5)
MAX_AGE = dt.timedelta(days=7)
MAX_TARGETING_KEY = 200
ITEM_FIELDS = {"metric", "value", "ok", "failed", "at", "variant", "targeting_key"}

router = Router(tags=["metrics"], auth=TokenAuth(scope="ingest"))

# What validate_item accepts, as far as JSON Schema can say it (the time window of `at` is relative
# to now, so only its description can state it).
_COUNT = {"type": "integer", "minimum": 0, "maximum": MAX_COUNT}
_ITEM_SCHEMA = {
    "type": "object",
    "required": ["metric"],
    "additionalProperties": False,
    "properties": {
        "metric": {"type": "string", "pattern": METRIC_VALIDATOR.regex.pattern, "example": "payment_success"},
        "value": {"type": "number", "description": "A measured value (e.g. latency in ms)."},
        "ok": {**_COUNT, "description": "Counter: successes since the last push."},
        "failed": {**_COUNT, "description": "Counter: failures since the last push."},
        "at": {
            "type": "string",
            "format": "date-time",
            "description": "When, with a time zone, within the last 7 days and not in the future; default: now.",
        },
        "variant": {
            "type": "string",
            "enum": ["new", "old"],
            "description": "The path this sample was measured on (for compare guardrails).",
        },
        "targeting_key": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_TARGETING_KEY,
            "pattern": r"^[^\x00]*$",
            "description": "The user's id as sent to OFREP/Unleash: golive derives the path from the "
            "bucketing and the traffic level at `at`. Send this or `variant`, not both.",
        },
    },
    "not": {"required": ["variant", "targeting_key"]},
    # A value, or ok/failed counters: not both, not neither.
    "oneOf": [{"required": ["value"]}, {"anyOf": [{"required": ["ok"]}, {"required": ["failed"]}]}],
}
_BODY = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "description": "A retry with the same key stores nothing new and answers as the first time.",
            "schema": {"type": "string", "pattern": batches.KEY_PATTERN},
        }
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["samples"],
                    "properties": {
                        "samples": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_ITEMS,
                            "items": _ITEM_SCHEMA,
                        }
                    },
                }
            }
        },
    },
}


class Stored(Schema):
    stored: int


class BatchError(Exception):
    def __init__(self, field: str, message: str):
        self.field, self.message = field, message


def _count(item: dict, name: str, where: str) -> int | None:
    value = item.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():  # JSON does not tell 3.0 from 3
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise BatchError(f"{where}.{name}", f"must be a whole number from 0 to {MAX_COUNT}")
    return value


def _time(value) -> dt.datetime | None:
    try:
        return parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but no such time, e.g. minute 99
        return None


def validate_item(item, index: int, now: dt.datetime) -> dict:
    where = f"samples[{index}]"
    if not isinstance(item, dict):
        raise BatchError(where, "must be an object")
    unknown = set(item) - ITEM_FIELDS
    if unknown:
        raise BatchError(f"{where}.{sorted(unknown)[0]}", "is not a known field")
    metric = item.get("metric")
    if not isinstance(metric, str) or not METRIC_VALIDATOR.regex.match(metric):
        raise BatchError(f"{where}.metric", METRIC_VALIDATOR.message)
    clean = {"metric": metric}
    value = item.get("value")
    ok, failed = _count(item, "ok", where), _count(item, "failed", where)
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise BatchError(f"{where}.value", "must be a finite number")
        if ok is not None or failed is not None:
            raise BatchError(f"{where}.value", "send either a value or ok/failed counters, not both")
        clean["value"] = float(value)
    elif ok is None and failed is None:
        raise BatchError(f"{where}.value", "send a value, or ok/failed counters")
    else:
        clean["ok"], clean["failed"] = ok or 0, failed or 0
    if item.get("at") is not None:
        at = _time(item["at"])
        if at is None or at.tzinfo is None:
            raise BatchError(
                f"{where}.at", "must be an ISO 8601 time with a time zone, e.g. 2026-05-01T12:00:00Z"
            )
        if at > now + FUTURE_SLACK or at < now - MAX_AGE:
            raise BatchError(f"{where}.at", "must be within the last 7 days and not in the future")
        clean["at"] = at
    clean.update(_path(item, where))
    return clean


def _path(item: dict, where: str) -> dict:
    """{"variant": ...} or {"targeting_key": ...} or nothing (a fleet-wide sample)."""
    variant, key = item.get("variant"), item.get("targeting_key")
    if variant is not None and key is not None:
        raise BatchError(f"{where}.variant", "send either a variant or a targeting_key, not both")
    if variant is not None:
        if variant not in ("new", "old"):
            raise BatchError(f"{where}.variant", 'must be "new" or "old"')
        return {"variant": variant}
    if key is not None:
        if not isinstance(key, str) or not key or len(key) > MAX_TARGETING_KEY or "\x00" in key:
            raise BatchError(
                f"{where}.targeting_key",
                f"must be a non-empty string of at most {MAX_TARGETING_KEY} characters",
            )
        return {"targeting_key": key}
    return {}


def validate_batch(body: bytes) -> list[dict]:
    document = jsonbody.parse(body, empty=[])  # a refused body answers 400/413 (migrations_app.api_kit)
    items = document.get("samples") if isinstance(document, dict) else document
    if not isinstance(items, list) or not items:
        raise BatchError("samples", "send a non-empty list of samples")
    if len(items) > MAX_ITEMS:
        raise BatchError("samples", f"at most {MAX_ITEMS} samples per batch (got {len(items)})")
    now = timezone.now()
    return [validate_item(item, index, now) for index, item in enumerate(items)]


@router.post(
    "/migrations/{slug}/samples", response=answers({202: Stored}, 400, 401, 403, 404), openapi_extra=_BODY
)
def push_samples(request, slug: str):
    """Store a batch of samples for a migration's KPIs; guardrails on them are evaluated at once."""
    access.require(request.auth.user, "view")
    migration = get_object_or_404(Migration, slug=slug)
    key = request.headers.get("Idempotency-Key")
    try:
        if not batches.valid_key(key):
            raise BatchError("Idempotency-Key", "use 1-200 printable characters without spaces, e.g. a UUID")
        items = validate_batch(request.body)
    except BatchError as error:
        return Status(400, {"detail": [{"field": error.field, "message": error.message}]})
    stored = services.ingest_samples(migration, items=items, idempotency_key=key or "")
    return Status(202, {"stored": stored})
