"""Alert intake through /api/v1 (`ingest` scope): Prometheus Alertmanager's webhook, Grafana's
webhook contact point, and a plain JSON form for any other sender.

An alert names its migration with the label golive_migration="<slug>" (and optionally its path,
golive_path="new"|"old"). Alerts naming no known migration are counted as ignored, not refused,
so one stray alert does not make Alertmanager retry the whole group. A body that does not fit the
schema answers 400 naming the field and stores nothing. What happens next (dedupe by fingerprint,
alert guardrails firing or clearing) is services/intake.py."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Router, Schema
from pydantic import BeforeValidator, WithJsonSchema

from migrations_app import access
from migrations_app.api_kit import TEXT_PATTERN, TokenAuth, UtcDateTime, actor, answers
from migrations_app.monitoring.models import AlertSource
from migrations_app.monitoring.services.intake import receive_alerts

router = Router(auth=TokenAuth(scope="ingest"), tags=["alerts"])

MAX_ALERTS = 1000
MAX_KEY, MAX_TEXT = 200, 10_000
Text = Annotated[str, Field(max_length=MAX_TEXT, pattern=TEXT_PATTERN)]
Url = Annotated[str, Field(max_length=2000, pattern=TEXT_PATTERN)]
Key = Annotated[str, Field(min_length=1, max_length=MAX_KEY, pattern=TEXT_PATTERN)]
_KEYS = {"minLength": 1, "maxLength": MAX_KEY, "pattern": TEXT_PATTERN}
# pydantic writes a constrained key as patternProperties, which lets any other key through in the
# document: say what is checked (keys and values) in propertyNames and additionalProperties.
Labels = Annotated[
    dict[Key, Text],
    WithJsonSchema(
        {
            "type": "object",
            "propertyNames": _KEYS,
            "additionalProperties": {"type": "string", "maxLength": MAX_TEXT, "pattern": TEXT_PATTERN},
        }
    ),
]
Values = Annotated[dict[Key, Any], WithJsonSchema({"type": "object", "propertyNames": _KEYS})]
Fingerprint = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9._:-]*$")]
Status = Literal["firing", "resolved"]
# Alertmanager writes "no end yet" as the zero time, 0001-01-01T00:00:00Z.
ZERO_TIME_BEFORE = dt.datetime(1970, 1, 2, tzinfo=dt.UTC)


def _text_only(value):
    """A time is an RFC 3339 string: pydantic would also read a number as seconds since 1970."""
    if value is not None and not isinstance(value, str):
        raise ValueError("Send the time as an RFC 3339 string with a time zone, e.g. 2026-12-04T18:00:00Z.")
    return value


def _whole(value):
    """A whole number as JSON writes it (3 or 3.0), never true/false, which pydantic reads as 1/0."""
    if isinstance(value, bool):
        raise ValueError("Send a whole number, not true or false.")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Time = Annotated[UtcDateTime, BeforeValidator(_text_only)]
Whole = Annotated[int, BeforeValidator(_whole)]

LABELS_HELP = 'Must include golive_migration="<slug>"; optional golive_path="new"|"old".'


class AlertmanagerAlert(Schema):
    status: Status
    labels: Labels = Field(description=LABELS_HELP)
    annotations: Labels = Field(default_factory=dict)
    startsAt: Time | None = None
    endsAt: Time | None = Field(None, description="0001-01-01T00:00:00Z while firing.")
    generatorURL: Url = ""
    fingerprint: Fingerprint = Field("", description="Computed from the sorted labels when empty.")


class AlertmanagerIn(Schema):
    """Alertmanager's webhook payload, version 4 (webhook_configs)."""

    version: Annotated[str, Field(max_length=20, pattern=TEXT_PATTERN)] = "4"
    groupKey: Text = ""
    truncatedAlerts: Whole = Field(0, ge=0, le=2**31)
    status: Status | None = None
    receiver: Text = ""
    groupLabels: Labels = Field(default_factory=dict)
    commonLabels: Labels = Field(default_factory=dict)
    commonAnnotations: Labels = Field(default_factory=dict)
    externalURL: Url = ""
    alerts: list[AlertmanagerAlert] = Field(max_length=MAX_ALERTS)


class GrafanaAlert(AlertmanagerAlert):
    values: Values | None = None
    valueString: Text = ""
    silenceURL: Url = ""
    dashboardURL: Url = ""
    panelURL: Url = ""
    imageURL: Url = ""


class GrafanaIn(AlertmanagerIn):
    """Grafana unified alerting's webhook contact point: Alertmanager's shape plus these."""

    orgId: Whole | None = Field(None, ge=0, le=2**53)
    title: Text = ""
    state: Annotated[str, Field(max_length=40, pattern=TEXT_PATTERN)] = ""
    message: Text = ""
    alerts: list[GrafanaAlert] = Field(max_length=MAX_ALERTS)


class GenericAlert(Schema):
    status: Status
    labels: Labels = Field(description=LABELS_HELP)
    annotations: Labels = Field(default_factory=dict, description="e.g. summary, description.")
    fingerprint: Fingerprint = Field("", description="Repeats with one fingerprint are one alert.")
    starts_at: Time | None = None
    ends_at: Time | None = None
    url: Url = Field("", description="Where a person sees the alert (its rule, a dashboard).")


class GenericIn(Schema):
    alerts: list[GenericAlert] = Field(max_length=MAX_ALERTS)


class IntakeOut(Schema):
    accepted: int = Field(description="Alerts stored (new, changed or repeated).")
    ignored: int = Field(description="Alerts naming no known migration (golive_migration).")


def _time(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None or value < ZERO_TIME_BEFORE else value


def _normal(alert, *, url: str) -> dict:
    return {
        "status": alert.status,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "fingerprint": alert.fingerprint,
        "starts_at": _time(getattr(alert, "startsAt", None) or getattr(alert, "starts_at", None)),
        "ends_at": _time(getattr(alert, "endsAt", None) or getattr(alert, "ends_at", None)),
        "url": url,
    }


def _intake(request, alerts: list[dict], source: str) -> dict[str, Any]:
    access.require(request.auth.user, "view")
    intake = receive_alerts(alerts=alerts, source=source, by=actor(request))
    return {"accepted": intake.accepted, "ignored": intake.ignored}


RESPONSES = answers({200: IntakeOut}, 400, 401, 403)


@router.post("/alerts/alertmanager", response=RESPONSES, summary="Receive Alertmanager's webhook")
def receive_alertmanager(request, payload: AlertmanagerIn):
    """Point an Alertmanager receiver's webhook_configs here with an ingest token
    (http_config.authorization.credentials) and send_resolved: true."""
    alerts = [_normal(a, url=a.generatorURL or payload.externalURL) for a in payload.alerts]
    return _intake(request, alerts, AlertSource.ALERTMANAGER)


@router.post("/alerts/grafana", response=RESPONSES, summary="Receive Grafana's webhook")
def receive_grafana(request, payload: GrafanaIn):
    """A Grafana webhook contact point, with the ingest token as its Authorization credentials."""
    alerts = [
        _normal(a, url=a.panelURL or a.dashboardURL or a.generatorURL or payload.externalURL)
        for a in payload.alerts
    ]
    return _intake(request, alerts, AlertSource.GRAFANA)


@router.post("/alerts", response=RESPONSES, summary="Receive alerts in golive's JSON form")
def receive_generic(request, payload: GenericIn):
    """{"alerts": [{"status": "firing"|"resolved", "labels": {...}, "annotations": {...},
    "fingerprint"?, "starts_at"?, "ends_at"?, "url"?}]} from any sender."""
    return _intake(request, [_normal(a, url=a.url) for a in payload.alerts], AlertSource.GENERIC)
