"""KPIs and guardrails through /api/v1 (`operate` scope): list and create under a migration, read,
update and delete by id. The token's user needs the same rights as in the pages (view to read,
manage_migration to change), and the input goes through the same forms (rule_forms), so a field
the page refuses is refused here with the same words, {"detail": [{"field", "message"}]}: 400 when
the request does not fit the schema, 404 when a field names a probe or KPI that does not exist, 409
when well-formed input is refused by the rules or the current state (a name taken, a warning
level past critical, a compare rule without tolerance, a threshold rule on a KPI without one, a
KPI missing for any kind but `alert`, which watches received alerts and takes label `matchers`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status
from pydantic import WithJsonSchema

from migrations_app import access
from migrations_app.api_kit import TEXT_PATTERN, TokenAuth, answers
from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.monitoring import canary, configuration
from migrations_app.monitoring.models import METRIC_VALIDATOR, Guardrail, GuardrailKind, Kpi
from migrations_app.monitoring.rule_forms import (
    GUARDRAIL_FIELDS,
    KPI_FIELDS,
    LABEL_NAME,
    MAX_LABEL_VALUE,
    MAX_MATCHERS,
    GuardrailForm,
    KpiForm,
)

router = Router(auth=TokenAuth(scope="operate"), tags=["kpis and guardrails"])
CONFIGURE = "manage_migration"

AggregationName = Literal["rate", "error_rate", "mean", "p50", "p95", "p99", "last", "count"]
DirectionName = Literal["higher", "lower"]
ProbeFieldName = Literal["success", "latency_ms", "value"]
KindName = Literal["threshold", "baseline", "no_data", "compare", "alert"]
ActionName = Literal["alert", "pause", "rollback"]
Name = Field(min_length=1, max_length=80, pattern=TEXT_PATTERN)
METRIC_PATTERN = f"^$|{METRIC_VALIDATOR.regex.pattern}"  # empty: the KPI reads a probe
LabelName = Annotated[str, Field(pattern=LABEL_NAME.pattern)]
LabelValue = Annotated[str, Field(min_length=1, max_length=MAX_LABEL_VALUE, pattern=TEXT_PATTERN)]
# pydantic writes a constrained key as patternProperties, which lets any other key through in the
# document: say that every key must be a label name.
Matchers = Annotated[
    dict[LabelName, LabelValue],
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": MAX_MATCHERS,
            "propertyNames": {"pattern": LABEL_NAME.pattern},
            "additionalProperties": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_LABEL_VALUE,
                "pattern": TEXT_PATTERN,
            },
        }
    ),
]
MATCHERS_HELP = (
    'alert: labels a received alert must all carry, e.g. {"alertname": "HighErrorRate"}; '
    "empty: any alert labelled golive_migration=<slug>."
)


class KpiIn(Schema):
    name: str = Name
    metric: str = Field(
        "", max_length=80, pattern=METRIC_PATTERN, description="A pushed metric's name; or give `probe`."
    )
    probe: int | None = Field(None, description="Id of one of the migration's probes; or give `metric`.")
    probe_field: ProbeFieldName = "success"
    aggregation: AggregationName = "rate"
    window_seconds: int = Field(300, ge=1, le=7 * 24 * 3600)
    direction: DirectionName = Field(
        "higher", description="Which way is better; for compare, the other is worse."
    )
    warning: float | None = None
    critical: float | None = Field(None, description="Optional for a KPI only a compare guardrail watches.")
    unit: str = Field("", max_length=12, pattern=TEXT_PATTERN)


class KpiPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=80, pattern=TEXT_PATTERN)
    metric: str | None = Field(None, max_length=80, pattern=METRIC_PATTERN)
    probe: int | None = None
    probe_field: ProbeFieldName | None = None
    aggregation: AggregationName | None = None
    window_seconds: int | None = Field(None, ge=1, le=7 * 24 * 3600)
    direction: DirectionName | None = None
    warning: float | None = None
    critical: float | None = None
    unit: str | None = Field(None, max_length=12, pattern=TEXT_PATTERN)


class KpiOut(KpiIn):
    id: int
    position: int


class GuardrailIn(Schema):
    name: str = Name
    kpi: int | None = Field(None, description="Id of one of the migration's KPIs; none for kind alert.")
    kind: KindName = Field(
        "threshold", description="alert: fires on a matching alert from Prometheus/Grafana."
    )
    action: ActionName = Field("rollback", description="alert, pause the rollout at its level, or roll back.")
    consecutive: int = Field(5, ge=1, le=1000, description="Failing evaluations in a row before it fires.")
    min_samples: int = Field(3, ge=0, le=1_000_000, description="Per path for compare.")
    tolerance_percent: float | None = Field(None, ge=0, le=1000, description="compare: relative tolerance.")
    tolerance_points: float | None = Field(None, ge=0, le=1000, description="compare: absolute tolerance.")
    confidence: float = Field(95, ge=50, le=99.9, description="compare: interval confidence in percent.")
    no_data_seconds: int = Field(600, ge=10, le=7 * 24 * 3600)
    degradation_percent: float = Field(50, gt=0, le=1000)
    baseline_value: float | None = None
    matchers: Matchers = Field(default_factory=dict, max_length=MAX_MATCHERS, description=MATCHERS_HELP)
    enabled: bool = True


class GuardrailPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=80, pattern=TEXT_PATTERN)
    kpi: int | None = None
    kind: KindName | None = None
    action: ActionName | None = None
    consecutive: int | None = Field(None, ge=1, le=1000)
    min_samples: int | None = Field(None, ge=0, le=1_000_000)
    tolerance_percent: float | None = Field(None, ge=0, le=1000)
    tolerance_points: float | None = Field(None, ge=0, le=1000)
    confidence: float | None = Field(None, ge=50, le=99.9)
    no_data_seconds: int | None = Field(None, ge=10, le=7 * 24 * 3600)
    degradation_percent: float | None = Field(None, gt=0, le=1000)
    baseline_value: float | None = None
    matchers: Matchers | None = Field(None, max_length=MAX_MATCHERS, description=MATCHERS_HELP)
    enabled: bool | None = None


class VerdictOut(Schema):
    verdict: str = Field(description="pass, fail, inconclusive or no_data")
    message: str
    new: float | None
    old: float | None
    n_new: int
    n_old: int
    difference: float | None
    interval: list[float] | None = Field(description="[low, high] of the difference, when there is one.")
    at: dt.datetime | None


class GuardrailOut(GuardrailIn):
    id: int
    state: str
    breach_streak: int
    last_evaluated_at: dt.datetime | None
    last_verdict: VerdictOut | None


def _only_paging(request) -> None:
    """A list takes limit and offset only: a misspelt parameter is refused, not silently ignored."""
    unknown = sorted(set(request.GET) - {"limit", "offset"})
    if unknown:
        raise ValidationError({unknown[0]: "is not a query parameter of this list (use limit and offset)."})


def _migration(request, slug: str, action: str) -> Migration:
    access.require(request.auth.user, action)
    return get_object_or_404(Migration, slug=slug)


def _kpi(request, kpi_id: int, action: str) -> Kpi:
    access.require(request.auth.user, action)
    return get_object_or_404(Kpi.objects.select_related("migration"), pk=kpi_id)


def _guardrail(request, guardrail_id: int, action: str) -> Guardrail:
    access.require(request.auth.user, action)
    return get_object_or_404(Guardrail.objects.select_related("migration", "kpi"), pk=guardrail_id)


def _refused(form) -> Status:
    detail = [
        {"field": "body" if field == "__all__" else field, "message": message}
        for field, messages in form.errors.items()
        for message in messages
    ]
    unknown = any(
        error.code == "invalid_choice"
        for name in ("kpi", "probe")
        for error in form.errors.as_data().get(name, [])
    )
    return Status(404 if unknown else 409, {"detail": detail})


def _kpi_out(kpi: Kpi) -> dict:
    return {**model_to_dict(kpi, fields=KPI_FIELDS), "id": kpi.pk, "position": kpi.position}


def _verdict_out(guardrail: Guardrail) -> dict | None:
    if guardrail.kind == GuardrailKind.COMPARE and (row := canary.last_verdict(guardrail)):
        interval = [row.low, row.high] if row.low is not None else None
        fields = {"new": row.new, "old": row.old, "n_new": row.n_new, "n_old": row.n_old}
        return {
            "verdict": row.verdict,
            "message": row.message,
            "difference": row.difference,
            "interval": interval,
            "at": row.at,
            **fields,
        }
    if not guardrail.last_verdict:
        return None
    return {
        "verdict": guardrail.last_verdict,
        "message": guardrail.last_message,
        "new": guardrail.last_value,
        "old": None,
        "n_new": 0,
        "n_old": 0,
        "difference": None,
        "interval": None,
        "at": guardrail.last_evaluated_at,
    }


def _guardrail_out(guardrail: Guardrail) -> dict:
    return {
        **model_to_dict(guardrail, fields=GUARDRAIL_FIELDS),
        "id": guardrail.pk,
        "state": guardrail.state,
        "breach_streak": guardrail.breach_streak,
        "last_evaluated_at": guardrail.last_evaluated_at,
        "last_verdict": _verdict_out(guardrail),
    }


def _bound(form_class, migration, instance, data: dict):
    """The form over the current values (an update) overlaid with what the request sent."""
    fields = KPI_FIELDS if form_class is KpiForm else GUARDRAIL_FIELDS
    current = model_to_dict(instance, fields=fields) if instance and instance.pk else {}
    merged = {key: ("" if value is None else value) for key, value in {**current, **data}.items()}
    return form_class(merged, instance=instance, migration=migration)


# --- KPIs ---------------------------------------------------------------------------------------


@router.get(
    "/migrations/{slug}/kpis", response=answers({200: list[KpiOut]}, 400, 401, 403, 404), summary="List KPIs"
)
@paginate(LimitOffsetPagination)
def list_kpis(request, slug: str):
    _only_paging(request)
    migration = _migration(request, slug, "view")
    return [_kpi_out(kpi) for kpi in Kpi.objects.filter(migration=migration).order_by("position", "id")]


@router.post(
    "/migrations/{slug}/kpis",
    response=answers({201: KpiOut}, 400, 401, 403, 404, 409),
    summary="Create a KPI",
)
def create_kpi(request, slug: str, payload: KpiIn):
    migration = _migration(request, slug, CONFIGURE)
    form = _bound(KpiForm, migration, Kpi(migration=migration), payload.dict())
    if not form.is_valid():
        return _refused(form)
    kpi = configuration.create_kpi(migration, by=Actor.for_token(request.auth), **form.service_fields())
    return Status(201, _kpi_out(kpi))


@router.get("/kpis/{kpi_id}", response=answers({200: KpiOut}, 400, 401, 403, 404), summary="One KPI")
def get_kpi(request, kpi_id: int):
    return _kpi_out(_kpi(request, kpi_id, "view"))


@router.patch(
    "/kpis/{kpi_id}", response=answers({200: KpiOut}, 400, 401, 403, 404, 409), summary="Change a KPI"
)
def update_kpi(request, kpi_id: int, payload: KpiPatch):
    kpi = _kpi(request, kpi_id, CONFIGURE)
    form = _bound(KpiForm, kpi.migration, kpi, payload.dict(exclude_unset=True))
    if not form.is_valid():
        return _refused(form)
    kpi = configuration.update_kpi(kpi, by=Actor.for_token(request.auth), **form.service_fields())
    return _kpi_out(kpi)


@router.delete(
    "/kpis/{kpi_id}",
    response=answers({204: None}, 400, 401, 403, 404),
    summary="Delete a KPI and its guardrails",
)
def delete_kpi(request, kpi_id: int):
    configuration.delete_kpi(_kpi(request, kpi_id, CONFIGURE), by=Actor.for_token(request.auth))
    return Status(204, None)


# --- guardrails ---------------------------------------------------------------------------------


@router.get(
    "/migrations/{slug}/guardrails",
    response=answers({200: list[GuardrailOut]}, 400, 401, 403, 404),
    summary="List guardrails with their state and last verdict",
)
@paginate(LimitOffsetPagination)
def list_guardrails(request, slug: str):
    _only_paging(request)
    migration = _migration(request, slug, "view")
    guardrails = Guardrail.objects.filter(migration=migration).select_related("kpi").order_by("name", "id")
    return [_guardrail_out(guardrail) for guardrail in guardrails]


@router.post(
    "/migrations/{slug}/guardrails",
    response=answers({201: GuardrailOut}, 400, 401, 403, 404, 409),
    summary="Create a guardrail",
)
def create_guardrail(request, slug: str, payload: GuardrailIn):
    migration = _migration(request, slug, CONFIGURE)
    form = _bound(GuardrailForm, migration, Guardrail(migration=migration), payload.dict())
    if not form.is_valid():
        return _refused(form)
    guardrail = configuration.create_guardrail(
        migration, by=Actor.for_token(request.auth), **form.service_fields()
    )
    return Status(201, _guardrail_out(guardrail))


@router.get(
    "/guardrails/{guardrail_id}",
    response=answers({200: GuardrailOut}, 400, 401, 403, 404),
    summary="One guardrail",
)
def get_guardrail(request, guardrail_id: int):
    return _guardrail_out(_guardrail(request, guardrail_id, "view"))


@router.patch(
    "/guardrails/{guardrail_id}",
    response=answers({200: GuardrailOut}, 400, 401, 403, 404, 409),
    summary="Change a guardrail",
)
def update_guardrail(request, guardrail_id: int, payload: GuardrailPatch):
    guardrail = _guardrail(request, guardrail_id, CONFIGURE)
    form = _bound(GuardrailForm, guardrail.migration, guardrail, payload.dict(exclude_unset=True))
    if not form.is_valid():
        return _refused(form)
    guardrail = configuration.update_guardrail(
        guardrail, by=Actor.for_token(request.auth), **form.service_fields()
    )
    return _guardrail_out(guardrail)


@router.delete(
    "/guardrails/{guardrail_id}",
    response=answers({204: None}, 400, 401, 403, 404),
    summary="Delete a guardrail",
)
def delete_guardrail(request, guardrail_id: int):
    configuration.delete_guardrail(
        _guardrail(request, guardrail_id, CONFIGURE), by=Actor.for_token(request.auth)
    )
    return Status(204, None)
