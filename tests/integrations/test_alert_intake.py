"""Alerts from Prometheus Alertmanager, Grafana and plain JSON senders as guardrail evidence:
the three payloads, their token, their validation, dedupe by fingerprint, and alert guardrails
that roll back, pause or clear; at the end a real Alertmanager delivering to a live server."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from django.urls import reverse

from migrations_app.audit import Actor
from migrations_app.models import AuditEvent, MigrationStatus
from migrations_app.monitoring import configuration, received
from migrations_app.monitoring.models import Guardrail, GuardrailState, ReceivedAlert
from migrations_app.rollout import tokens
from migrations_app.rollout.models import Rollback, RolloutPlan
from tests.factories import make_migration, make_user, put_live
from tests.processes import free_port, wait_until

pytestmark = pytest.mark.django_db

GRAFANA_EXAMPLE = json.loads((Path(__file__).parent / "fixtures/grafana_webhook.json").read_text())
SYSTEM = Actor.system("tests")


@pytest.fixture
def ingest_token(ops):
    tokens.cache.clear()
    return tokens.create_token(user=ops, name="alertmanager", scopes="ingest", by=SYSTEM)[1]


@pytest.fixture
def live(migration):
    return put_live(migration, 25)


def post(client, path: str, body, token: str | None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def am_alert(status="firing", *, slug="card-payments", **labels) -> dict:
    return {
        "status": status,
        "labels": {"alertname": "HighErrorRate", "golive_migration": slug, **labels},
        "annotations": {"summary": "5xx above 2 % on the new provider"},
        "startsAt": "2026-12-04T18:00:00.123Z",
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-04T18:05:00Z",
        "generatorURL": "http://prometheus.example/graph?g0.expr=errors",
        "fingerprint": "",
    }


def alertmanager_body(*alerts, status="firing") -> dict:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "golive",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {"alertname": "HighErrorRate"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example",
        "alerts": list(alerts),
    }


def alert_guardrail(migration, *, action="rollback", matchers=None, name="Prometheus alert"):
    return configuration.create_guardrail(
        migration, by=SYSTEM, name=name, kind="alert", action=action, kpi=None, matchers=matchers or {}
    )


# --- the three payloads -------------------------------------------------------------------------


def test_it_stores_an_alertmanager_alert_with_the_fingerprint_alertmanager_would_give(
    client, migration, ingest_token
):
    response = post(client, "/api/v1/alerts/alertmanager", alertmanager_body(am_alert()), ingest_token)
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 1, "ignored": 0}
    alert = ReceivedAlert.objects.get()
    assert (alert.migration, alert.status, alert.name, alert.source) == (
        migration,
        "firing",
        "HighErrorRate",
        "alertmanager",
    )
    # Alertmanager's own fingerprint of these labels (checked against a real one at the end).
    assert alert.fingerprint == received.fingerprint(am_alert()["labels"]) and len(alert.fingerprint) == 16
    assert alert.url == "http://prometheus.example/graph?g0.expr=errors"
    assert alert.ends_at is None and alert.starts_at.isoformat() == "2026-12-04T18:00:00.123000+00:00"
    assert alert.summary == "5xx above 2 % on the new provider"


def test_it_reads_grafanas_documented_example_and_ignores_alerts_naming_no_migration(
    client, migration, ingest_token
):
    response = post(client, "/api/v1/alerts/grafana", GRAFANA_EXAMPLE, ingest_token)
    assert response.status_code == 200, response.content
    assert response.json() == {"accepted": 0, "ignored": 2}
    assert not ReceivedAlert.objects.exists()

    body = copy.deepcopy(GRAFANA_EXAMPLE)
    body["alerts"][0]["labels"]["golive_migration"] = "card-payments"
    body["alerts"][1]["labels"]["golive_migration"] = "no-such-migration"
    response = post(client, "/api/v1/alerts/grafana", body, ingest_token)
    assert response.json() == {"accepted": 1, "ignored": 1}
    alert = ReceivedAlert.objects.get()
    assert (alert.fingerprint, alert.name, alert.source) == (
        "c6eadffa33fcdf37",
        "High memory usage",
        "grafana",
    )
    assert alert.starts_at.isoformat() == "2021-10-12T07:51:03.157076+00:00"  # stored in UTC
    assert alert.url == "https://play.grafana.org/alerting/1afz29v7z/edit"  # no panel or dashboard URL
    assert alert.summary == "This alert was triggered for zone us-1"


def test_it_takes_the_generic_form_and_computes_a_fingerprint_when_none_is_sent(
    client, migration, ingest_token
):
    body = {
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "QueueBacklog",
                    "golive_migration": "card-payments",
                    "golive_path": "new",
                },
                "annotations": {"description": "webhook queue over 10k"},
                "url": "https://status.example/queue",
            },
            {"status": "firing", "labels": {"alertname": "Other"}},  # names no migration
        ]
    }
    response = post(client, "/api/v1/alerts", body, ingest_token)
    assert response.json() == {"accepted": 1, "ignored": 1}
    alert = ReceivedAlert.objects.get()
    assert alert.fingerprint == received.fingerprint(body["alerts"][0]["labels"])
    assert (alert.path, alert.source, alert.url) == ("new", "generic", "https://status.example/queue")
    assert alert.summary == "webhook queue over 10k"


def test_the_fingerprint_is_alertmanagers_fnv1a_over_sorted_labels():
    # Prometheus' common/model: an empty label set hashes to the FNV-1a offset basis.
    assert received.fingerprint({}) == "cbf29ce484222325"
    assert received.fingerprint({"b": "2", "a": "1"}) == received.fingerprint({"a": "1", "b": "2"})
    assert received.fingerprint({"a": "1"}) != received.fingerprint({"a": "2"})


# --- token and validation -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/alerts/alertmanager", "/api/v1/alerts/grafana", "/api/v1/alerts"])
def test_it_answers_401_without_a_token_and_403_for_the_wrong_scope_or_user(client, migration, ops, path):
    body = {"alerts": [am_alert()]} if path == "/api/v1/alerts" else alertmanager_body(am_alert())
    if path == "/api/v1/alerts":
        body["alerts"][0] = {"status": "firing", "labels": am_alert()["labels"]}
    tokens.cache.clear()
    flags = tokens.create_token(user=ops, name="flags only", scopes="flags", by=SYSTEM)[1]
    stranger = make_user("no-group")
    no_rights = tokens.create_token(user=stranger, name="stranger", scopes="ingest", by=SYSTEM)[1]
    assert post(client, path, body, None).status_code == 401
    assert post(client, path, body, "glv_not_a_token").status_code == 401
    response = post(client, path, body, flags)
    assert response.status_code == 403 and "ingest" in response.json()["detail"]
    response = post(client, path, body, no_rights)
    assert response.status_code == 403 and isinstance(response.json()["detail"], str)
    assert not ReceivedAlert.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["alerts"][0].update(status="burning"), "alerts.0.status"),
        (lambda b: b["alerts"][0]["labels"].update(severity=3), "alerts.0.labels.severity"),
        (lambda b: b["alerts"][0].update(startsAt="yesterday"), "alerts.0.startsAt"),
        (lambda b: b["alerts"][0].pop("labels"), "alerts.0.labels"),
        (lambda b: b.pop("alerts"), "alerts"),
    ],
)
def test_bad_input_answers_400_naming_the_field_and_stores_nothing(client, live, ingest_token, change, field):
    alert_guardrail(live)
    body = alertmanager_body(am_alert(), am_alert(alertname="Second"))
    change(body)
    events = AuditEvent.objects.count()
    response = post(client, "/api/v1/alerts/alertmanager", body, ingest_token)
    assert response.status_code == 400, response.content
    assert field in [entry["field"] for entry in response.json()["detail"]]
    assert not ReceivedAlert.objects.exists() and AuditEvent.objects.count() == events
    assert not Rollback.objects.exists()


# --- dedupe, and alert guardrails ---------------------------------------------------------------


def test_a_repeated_delivery_is_one_alert_and_one_audit_event(client, migration, ingest_token):
    for _ in range(3):
        post(client, "/api/v1/alerts/alertmanager", alertmanager_body(am_alert()), ingest_token)
    alert = ReceivedAlert.objects.get()
    assert alert.last_received_at > alert.first_received_at
    assert AuditEvent.objects.filter(action="alert.firing").count() == 1


def test_a_firing_alert_rolls_back_once_and_the_audit_says_which_alert(client, live, ingest_token):
    guardrail = alert_guardrail(live, matchers={"alertname": "HighErrorRate"})
    for _ in range(3):  # Alertmanager repeats a firing group every repeat_interval
        post(client, "/api/v1/alerts/alertmanager", alertmanager_body(am_alert()), ingest_token)
    rollback = Rollback.objects.get()
    assert RolloutPlan.objects.get(migration=live).percent == 0
    assert rollback.by == "guardrail: Prometheus alert"
    assert "HighErrorRate" in rollback.reason and "5xx above 2 %" in rollback.reason
    assert rollback.evidence["alerts"][0]["fingerprint"] == ReceivedAlert.objects.get().fingerprint
    event = AuditEvent.objects.get(action="rollback.created")
    assert "HighErrorRate" in event.reason
    guardrail.refresh_from_db()
    assert guardrail.state == GuardrailState.BREACHED

    response = post(
        client, "/api/v1/alerts/alertmanager", alertmanager_body(am_alert("resolved")), ingest_token
    )
    assert response.json() == {"accepted": 1, "ignored": 0}
    guardrail.refresh_from_db()
    assert guardrail.state == GuardrailState.HEALTHY and not guardrail.fired
    assert ReceivedAlert.objects.get().status == "resolved" and Rollback.objects.count() == 1


def test_an_alert_that_does_not_match_the_labels_changes_nothing(client, live, ingest_token):
    guardrail = alert_guardrail(live, matchers={"alertname": "HighErrorRate", "severity": "critical"})
    post(client, "/api/v1/alerts/alertmanager", alertmanager_body(am_alert(severity="warning")), ingest_token)
    other = make_migration(slug="other-migration")
    put_live(other, 50)
    alert_guardrail(other)
    post(
        client,
        "/api/v1/alerts",
        {"alerts": [{"status": "firing", "labels": {"golive_migration": "card-payments"}}]},
        ingest_token,
    )
    guardrail.refresh_from_db()
    assert guardrail.state == GuardrailState.HEALTHY
    assert not Rollback.objects.exists() and RolloutPlan.objects.get(migration=other).percent == 50


def test_a_pause_guardrail_pauses_the_rollout_at_its_level(client, live, ingest_token):
    alert_guardrail(live, action="pause")
    post(client, "/api/v1/alerts/alertmanager", alertmanager_body(am_alert()), ingest_token)
    live.refresh_from_db()
    assert live.status == MigrationStatus.PAUSED
    assert RolloutPlan.objects.get(migration=live).percent == 25 and not Rollback.objects.exists()
    pause = AuditEvent.objects.filter(actor_label="guardrail: Prometheus alert").exclude(
        action="guardrail.state_changed"
    )
    assert pause.exists() and "HighErrorRate" in pause.first().reason


def test_an_alert_only_guardrail_notifies_and_fires_again_after_a_resolve(client, live, ingest_token):
    guardrail = alert_guardrail(live, action="alert")
    body = alertmanager_body(am_alert())
    post(client, "/api/v1/alerts/alertmanager", body, ingest_token)
    post(client, "/api/v1/alerts/alertmanager", body, ingest_token)
    post(client, "/api/v1/alerts/alertmanager", alertmanager_body(am_alert("resolved")), ingest_token)
    post(client, "/api/v1/alerts/alertmanager", body, ingest_token)
    firings = AuditEvent.objects.filter(
        action="guardrail.state_changed", object_id=str(guardrail.pk), after__state="breached"
    )
    assert firings.count() == 2 and RolloutPlan.objects.get(migration=live).percent == 25


# --- creating alert guardrails: the API and the page --------------------------------------------


@pytest.fixture
def operate_token(ops):
    tokens.cache.clear()
    return tokens.create_token(user=ops, name="pipeline", scopes="operate", by=SYSTEM)[1]


def test_the_api_creates_an_alert_guardrail_without_a_kpi_and_still_requires_one_for_other_kinds(
    client, migration, operate_token
):
    path = "/api/v1/migrations/card-payments/guardrails"
    body = {
        "name": "Error alert",
        "kind": "alert",
        "action": "pause",
        "matchers": {"alertname": "HighErrorRate"},
    }
    response = post(client, path, body, operate_token)
    assert response.status_code == 201, response.content
    assert response.json()["kpi"] is None and response.json()["matchers"] == {"alertname": "HighErrorRate"}
    guardrail = Guardrail.objects.get(name="Error alert")
    assert (guardrail.kind, guardrail.action, guardrail.kpi) == ("alert", "pause", None)
    assert AuditEvent.objects.filter(action="guardrail.created", object_id=str(guardrail.pk)).exists()

    response = post(client, path, {"name": "No KPI", "kind": "threshold"}, operate_token)
    assert response.status_code == 409
    assert response.json()["detail"][0]["field"] == "kpi"
    response = post(
        client, path, {"name": "Bad label", "kind": "alert", "matchers": {"9x": "y"}}, operate_token
    )
    assert response.status_code == 400 and "matchers" in response.json()["detail"][0]["field"]
    response = post(
        client, path, {"name": "Labels on KPI rule", "kind": "no_data", "matchers": {"a": "b"}}, operate_token
    )
    assert response.status_code == 409
    assert {entry["field"] for entry in response.json()["detail"]} == {"kpi", "matchers"}
    assert Guardrail.objects.count() == 1


def test_the_guardrail_page_creates_an_alert_guardrail_from_label_lines(client_for, ops, migration):
    url = reverse("monitoring:guardrail_create", args=[migration.slug])
    page = client_for(ops).get(url)
    assert page.status_code == 200 and "An alert from Prometheus/Grafana is firing" in page.content.decode()
    data = {
        "name": "Checkout alerts",
        "kind": "alert",
        "action": "rollback",
        "consecutive": 1,
        "min_samples": 3,
        "confidence": 95,
        "no_data_seconds": 600,
        "degradation_percent": 50,
        "matchers": "alertname=HighErrorRate\nseverity = critical",
        "enabled": "on",
    }
    response = client_for(ops).post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    guardrail = Guardrail.objects.get(name="Checkout alerts")
    assert (
        guardrail.matchers == {"alertname": "HighErrorRate", "severity": "critical"} and guardrail.kpi is None
    )
    settings_page = (
        client_for(ops).get(reverse("monitoring:settings", args=[migration.slug])).content.decode()
    )
    assert "labels alertname=HighErrorRate, severity=critical" in settings_page

    preview = client_for(ops).post(url, {**data, "name": "Preview only", "preview": "1"}).content.decode()
    assert "No matching alert was received in the last 24 h" in preview
    assert not Guardrail.objects.filter(name="Preview only").exists()

    response = client_for(ops).post(url, {**data, "name": "Threshold without KPI", "kind": "threshold"})
    assert response.status_code == 422
    assert "Choose the KPI this guardrail watches" in response.content.decode()


# --- what a person sees: the control room and the incident timeline ------------------------------


def test_the_control_room_lists_received_alerts_and_the_incident_timeline_shows_the_alert(
    client, client_for, ops, oncall, live, ingest_token
):
    alert_guardrail(live)
    post(client, "/api/v1/alerts/alertmanager", alertmanager_body(am_alert()), ingest_token)
    page = client_for(oncall).get(reverse("monitoring:control_room", args=[live.slug])).content.decode()
    assert (
        "Alerts received" in page and "HighErrorRate" in page and "5xx above 2 % on the new provider" in page
    )
    assert "http://prometheus.example/graph?g0.expr=errors" in page and "Firing" in page
    preview = client_for(ops).post(
        reverse("monitoring:guardrail_create", args=[live.slug]),
        {
            "name": "Preview",
            "kind": "alert",
            "action": "alert",
            "consecutive": 1,
            "min_samples": 3,
            "confidence": 95,
            "no_data_seconds": 600,
            "degradation_percent": 50,
            "matchers": "alertname=HighErrorRate",
            "preview": "1",
        },
    )
    assert "A matching alert started firing once in the last 24 h" in preview.content.decode()
    incident = Rollback.objects.get().incident
    detail = (
        client_for(oncall).get(reverse("incidents:detail", args=[live.slug, incident.pk])).content.decode()
    )
    assert "Alert firing" in detail and "HighErrorRate" in detail


# --- a real Alertmanager ------------------------------------------------------------------------

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def alertmanager_config(webhook_url: str, token: str) -> str:
    return json.dumps(  # JSON is YAML: no YAML writer needed
        {
            "route": {
                "receiver": "golive",
                "group_by": ["alertname", "golive_migration"],
                "group_wait": "1s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [
                {
                    "name": "golive",
                    "webhook_configs": [
                        {
                            "url": webhook_url,
                            "send_resolved": True,
                            "http_config": {"authorization": {"credentials": token}},
                        }
                    ],
                }
            ],
        }
    )


@pytest.fixture
def alertmanager(tmp_path, live_server, ops):
    """Alertmanager on a free 127.0.0.1 port, delivering to this test's live server with an
    ingest token; stopped by its PID."""
    assert ALERTMANAGER, "prometheus-alertmanager is not installed (.ci/ensure-services installs it)"
    tokens.cache.clear()
    token = tokens.create_token(user=ops, name="alertmanager", scopes="ingest", by=SYSTEM)[1]
    config = tmp_path / "alertmanager.yml"
    config.write_text(alertmanager_config(f"{live_server.url}/api/v1/alerts/alertmanager", token))
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("w")
    process = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=debug",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(base), timeout=15, interval=0.2, message="Alertmanager to be ready")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/-/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.django_db(transaction=True)
def test_a_real_alertmanager_delivers_an_alert_that_rolls_the_migration_back(ops, alertmanager):
    migration = put_live(make_migration(owner=ops, slug="card-payments"), 25)
    alert_guardrail(migration, matchers={"alertname": "PaymentsFailing"})
    labels = {"alertname": "PaymentsFailing", "golive_migration": "card-payments", "severity": "critical"}
    response = httpx.post(
        f"{alertmanager}/api/v2/alerts",
        json=[{"labels": labels, "annotations": {"summary": "card declines at 40 %"}}],
        timeout=5,
    )
    assert response.status_code == 200, response.text
    wait_until(
        lambda: RolloutPlan.objects.get(migration=migration).percent == 0,
        timeout=30,
        interval=0.2,
        message="the alert guardrail to roll the migration back",
    )
    rollback = Rollback.objects.get(migration=migration)
    assert rollback.by == "guardrail: Prometheus alert" and "PaymentsFailing" in rollback.reason
    alert = ReceivedAlert.objects.get(migration=migration)
    assert (alert.source, alert.status, alert.summary) == ("alertmanager", "firing", "card declines at 40 %")
    assert alert.fingerprint == received.fingerprint(labels)  # the same hash Alertmanager computed


# --- in a browser -------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_oncall_sees_the_alert_that_rolled_back_in_the_control_room_and_the_incident(
    login, live_server, ops, oncall, screenshot
):
    migration = put_live(make_migration(owner=ops, slug="card-payments", name="Card payments go-live"), 25)
    alert_guardrail(migration, matchers={"alertname": "HighErrorRate"}, name="Error-rate alert")
    tokens.cache.clear()
    token = tokens.create_token(user=ops, name="alertmanager", scopes="ingest", by=SYSTEM)[1]
    resolved = am_alert("resolved", alertname="LatencyHigh")
    resolved["annotations"] = {"summary": "p95 over 800 ms on the old provider"}
    body = alertmanager_body(am_alert(severity="critical", golive_path="new"), resolved)
    response = httpx.post(
        f"{live_server.url}/api/v1/alerts/alertmanager",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.json() == {"accepted": 2, "ignored": 0}

    page = login(oncall)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/control-room/")
    alerts = page.locator("#received-alerts")
    firing = alerts.locator("tr", has_text="HighErrorRate")
    assert "Firing" in firing.inner_text() and "5xx above 2 % on the new provider" in firing.inner_text()
    assert "severity=critical" in firing.inner_text() and "New path" in firing.inner_text()
    assert "Resolved" in alerts.locator("tr", has_text="LatencyHigh").inner_text()
    guardrail = page.locator("#guardrails tr", has_text="Error-rate alert")
    assert "Breached" in guardrail.inner_text() and "alertname=HighErrorRate" in guardrail.inner_text()
    alerts.scroll_into_view_if_needed()
    screenshot("alerts-control-room")

    incident = Rollback.objects.get(migration=migration).incident
    page.goto(f"{live_server.url}/migrations/{migration.slug}/incidents/{incident.pk}/")
    assert page.get_by_text("Alert firing").first.is_visible()
    screenshot("alerts-incident-timeline")

    page.context.clear_cookies()
    login(ops)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/control-room/guardrails/new/")
    page.select_option("#id_kind", "alert")
    page.fill("#id_name", "Any checkout alert")
    page.fill("#id_matchers", "alertname=CheckoutDown")
    screenshot("alerts-guardrail-form")
    page.click("button:has-text('Save guardrail')")
    page.wait_for_url(f"{live_server.url}/migrations/{migration.slug}/control-room/settings/**")
    row = page.locator("tr", has_text="Any checkout alert")
    assert "labels alertname=CheckoutDown" in row.inner_text() and "Healthy" in row.inner_text()
    screenshot("alerts-settings")
