"""Probes through /api/v1 (`operate` scope): the same rules as the probe page, as JSON.

Input passes the page's own ProbeForm, so a probe the page refuses is refused here too: the
schema catches malformed input (400); what only the form can judge (a taken name, an unreadable
JSONPath, an address probes may not call) answers 409 naming the field."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from migrations_app import access
from migrations_app.api_kit import PAGE_QUERY, TEXT_PATTERN, Refused, TokenAuth, answers, only_query
from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.monitoring import probe_settings, services
from migrations_app.monitoring.forms import ProbeForm
from migrations_app.monitoring.models import Probe, ProbeKind, WebhookScheme

router = Router(auth=TokenAuth(scope="operate"), tags=["probes"])

# The form's text fields and the API's structured ones.
_FORM_NAMES = {"headers_text": "headers", "expected_json_text": "expected_json"}
_ONE_LINE = r"^[^\x00\r\n]*$"


class Header(Schema):
    name: str = Field(pattern=r"^[A-Za-z0-9-]{1,60}$", examples=["Authorization"])
    value: str = Field(max_length=500, pattern=_ONE_LINE, examples=["Bearer ${PROVIDER_API_KEY}"])


class JsonCheck(Schema):
    path: str = Field(min_length=1, max_length=200, pattern=_ONE_LINE, examples=["status"])
    equals: str = Field(max_length=200, pattern=_ONE_LINE, examples=["ok"])


class ProbeIn(Schema):
    name: str = Field(min_length=1, max_length=80, pattern=TEXT_PATTERN)
    kind: ProbeKind = ProbeKind.HTTP_HEALTH
    url: str = Field(
        min_length=1, max_length=500, pattern=_ONE_LINE, examples=["https://api.example.com/health"]
    )
    method: str = Field("GET", pattern="^(GET|HEAD|POST)$")
    headers: list[Header] = Field(
        default_factory=list,
        max_length=30,
        description="Header values may use ${VARIABLE} (the worker's environment); secret-looking "
        "headers must.",
    )
    expected_statuses: str = Field("200", max_length=80, pattern=_ONE_LINE, examples=["200,204", "2xx"])
    expected_json: list[JsonCheck] = Field(default_factory=list, max_length=20)
    json_path: str = Field("", max_length=200, pattern=_ONE_LINE, examples=["$.availableCredits"])
    query: str = Field("", max_length=500, pattern=_ONE_LINE)
    secret_env: str = Field(
        "", max_length=80, pattern=_ONE_LINE, description="A variable NAME, not a secret."
    )
    webhook_scheme: WebhookScheme = WebhookScheme.STRIPE
    min_days_valid: int = Field(14, ge=0, le=32767)
    interval_seconds: int = Field(30, ge=1, le=86400)
    timeout_seconds: float = Field(5.0, ge=0.1, le=60)
    passes_to_tick: int = Field(3, ge=1, le=32767)
    errors_to_page: int = Field(3, ge=1, le=32767)
    enabled: bool = True


class ProbeUpdate(Schema):
    """Every field optional: the ones left out keep their value."""

    name: str | None = Field(None, min_length=1, max_length=80, pattern=TEXT_PATTERN)
    kind: ProbeKind | None = None
    url: str | None = Field(None, min_length=1, max_length=500, pattern=_ONE_LINE)
    method: str | None = Field(None, pattern="^(GET|HEAD|POST)$")
    headers: list[Header] | None = Field(None, max_length=30)
    expected_statuses: str | None = Field(None, max_length=80, pattern=_ONE_LINE)
    expected_json: list[JsonCheck] | None = Field(None, max_length=20)
    json_path: str | None = Field(None, max_length=200, pattern=_ONE_LINE)
    query: str | None = Field(None, max_length=500, pattern=_ONE_LINE)
    secret_env: str | None = Field(None, max_length=80, pattern=_ONE_LINE)
    webhook_scheme: WebhookScheme | None = None
    min_days_valid: int | None = Field(None, ge=0, le=32767)
    interval_seconds: int | None = Field(None, ge=1, le=86400)
    timeout_seconds: float | None = Field(None, ge=0.1, le=60)
    passes_to_tick: int | None = Field(None, ge=1, le=32767)
    errors_to_page: int | None = Field(None, ge=1, le=32767)
    enabled: bool | None = None


class ProbeOut(Schema):
    id: int
    migration: str = Field(description="The migration's slug.")
    name: str
    kind: str
    url: str
    method: str
    headers: list[Header]
    expected_statuses: str
    expected_json: list[JsonCheck]
    json_path: str
    query: str
    secret_env: str
    webhook_scheme: str
    min_days_valid: int
    interval_seconds: int
    timeout_seconds: float
    passes_to_tick: int
    errors_to_page: int
    enabled: bool
    last_outcome: str = Field(description="pass, fail, error, or empty before the first run.")
    last_checked_at: dt.datetime | None
    last_summary: str
    consecutive_passes: int
    consecutive_errors: int


def _headers(probe: Probe) -> list[dict]:
    return [{"name": name, "value": value} for name, value in (probe.headers or {}).items()]


def _out(probe: Probe) -> dict:
    fields = {name: getattr(probe, name) for name in ProbeOut.model_fields if name != "migration"}
    return fields | {"id": probe.pk, "migration": probe.migration.slug, "headers": _headers(probe)}


def _as_form_data(values: dict) -> dict:
    """The page's form fields from the API's values (lists of lines for the text fields)."""
    data = {k: v for k, v in values.items() if k not in ("headers", "expected_json", "enabled")}
    data["headers_text"] = "\n".join(f"{h['name']}: {h['value']}" for h in values.get("headers", []))
    data["expected_json_text"] = "\n".join(
        f"{check['path']} == {check['equals']}" for check in values.get("expected_json", [])
    )
    if values.get("enabled"):
        data["enabled"] = "on"
    return data


def _valid_form(values: dict, *, migration: Migration, probe: Probe | None) -> ProbeForm:
    form = ProbeForm(_as_form_data(values), instance=probe, migration=migration)
    if not form.is_valid():
        errors = {_FORM_NAMES.get(name, name): messages for name, messages in form.errors.items()}
        raise Refused(409, ValidationError(errors))
    return form


def _migration(request, slug: str, action: str) -> Migration:
    migration = get_object_or_404(Migration, slug=slug)
    access.require(request.auth.user, action)
    return migration


def _probe(request, probe_id: int, action: str) -> Probe:
    probe = get_object_or_404(Probe.objects.select_related("migration"), pk=probe_id)
    access.require(request.auth.user, action)
    return probe


@router.get(
    "/migrations/{slug}/probes",
    response=answers({200: list[ProbeOut]}, 400, 401, 403, 404),
    summary="List a migration's probes with their last result",
)
@paginate(LimitOffsetPagination)
def list_probes(request, slug: str):
    only_query(request, *PAGE_QUERY)
    migration = _migration(request, slug, "view")
    return [_out(p) for p in Probe.objects.filter(migration=migration).select_related("migration")]


@router.post(
    "/migrations/{slug}/probes",
    response=answers({201: ProbeOut}, 400, 401, 403, 404, 409),
    summary="Create a probe (its first run is due at once)",
)
def create_probe(request, slug: str, payload: ProbeIn):
    migration = _migration(request, slug, "manage_migration")
    form = _valid_form(payload.model_dump(mode="json"), migration=migration, probe=None)
    probe = services.create_probe(migration, by=Actor.for_token(request.auth), **form.service_fields())
    return Status(201, _out(probe))


@router.get("/probes/{probe_id}", response=answers({200: ProbeOut}, 400, 401, 403, 404), summary="One probe")
def get_probe(request, probe_id: int):
    return _out(_probe(request, probe_id, "view"))


@router.patch(
    "/probes/{probe_id}",
    response=answers({200: ProbeOut}, 400, 401, 403, 404, 409),
    summary="Change a probe (fields left out keep their value; enabled=false pauses it)",
)
def update_probe(request, probe_id: int, payload: ProbeUpdate):
    probe = _probe(request, probe_id, "manage_migration")
    current = {name: getattr(probe, name) for name in ProbeIn.model_fields} | {"headers": _headers(probe)}
    values = current | payload.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    form = _valid_form(values, migration=probe.migration, probe=Probe.objects.get(pk=probe.pk))
    probe = services.update_probe(probe, by=Actor.for_token(request.auth), **form.service_fields())
    return _out(probe)


@router.delete(
    "/probes/{probe_id}",
    response=answers({204: None}, 400, 401, 403, 404),
    summary="Delete a probe with its results, and the KPIs and guardrails built on it",
)
def delete_probe(request, probe_id: int):
    probe = _probe(request, probe_id, "manage_migration")
    probe_settings.delete_probe(probe, by=Actor.for_token(request.auth))
    return Status(204, None)
