"""Incidents through /api/v1: open, list, read, acknowledge, status, details, notes, resolve, post-mortem."""

import pytest

from migrations_app.incidents.models import Incident, IncidentStatus, IncidentUpdate
from migrations_app.models import AuditEvent
from tests.api.conftest import fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(api, token_of, plan):
    body = {"title": "Webhook deliveries failing", "severity": "sev3", "public_title": "Webhooks delayed"}
    response = api("post", "/migrations/webhooks/incidents", token_of("oncall"), body)
    assert response.status_code == 201, response.content
    return Incident.objects.get(pk=response.json()["id"])


def test_opening_an_incident_answers_201_and_a_second_one_joins_it(api, token_of, incident):
    assert (incident.title, incident.severity, incident.public_title) == (
        "Webhook deliveries failing",
        "sev3",
        "Webhooks delayed",
    )
    again = api(
        "post",
        "/migrations/webhooks/incidents",
        token_of("ops"),
        {"title": "More failures", "severity": "sev2"},
    )
    assert (
        again.status_code == 201 and again.json()["id"] == incident.pk and again.json()["severity"] == "sev2"
    )
    listed = api("get", "/migrations/webhooks/incidents?open=true", token_of("pm")).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == incident.pk
    assert api("get", "/migrations/webhooks/incidents?open=false", token_of("pm")).json()["count"] == 0


def test_opening_refuses_bad_input_and_the_wrong_roles(api, token_of, plan):
    empty = api("post", "/migrations/webhooks/incidents", token_of("oncall"), {"title": ""})
    assert empty.status_code == 400 and fields(empty) == ["title"]
    severity = api(
        "post", "/migrations/webhooks/incidents", token_of("oncall"), {"title": "x", "severity": "sev9"}
    )
    assert severity.status_code == 400 and fields(severity) == ["severity"]
    pm = api("post", "/migrations/webhooks/incidents", token_of("pm"), {"title": "x"})
    assert pm.status_code == 403 and "may not open, acknowledge or update incidents" in pm.json()["detail"]
    assert api("post", "/migrations/webhooks/incidents", None, {"title": "x"}).status_code == 401
    assert api("post", "/migrations/nope/incidents", token_of("oncall"), {"title": "x"}).status_code == 404
    assert not Incident.objects.exists()


def test_acknowledging_stops_the_escalation_once(api, token_of, incident, oncall):
    first = api("post", f"/incidents/{incident.pk}/acknowledge", token_of("oncall"))
    assert first.status_code == 200 and first.json()["already_acknowledged"] is False
    assert first.json()["incident"]["commander"] == "oncall-user"
    second = api("post", f"/incidents/{incident.pk}/acknowledge", token_of("ops"))
    assert (
        second.json()["already_acknowledged"] is True and "Already acknowledged" in second.json()["message"]
    )
    assert api("post", f"/incidents/{incident.pk}/acknowledge", token_of("pm")).status_code == 403
    assert api("post", "/incidents/999999/acknowledge", token_of("ops")).status_code == 404


def test_patch_changes_status_severity_and_commander_and_refuses_a_bad_move(api, token_of, incident):
    body = {"status": "identified", "severity": "sev2", "commander": "ops-user", "note": "bad deploy of 4.2"}
    response = api("patch", f"/incidents/{incident.pk}", token_of("oncall"), body)
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["status"], data["severity"], data["commander"]) == ("identified", "sev2", "ops-user")
    assert data["notes"][-1]["body"] == "bad deploy of 4.2"
    unknown = api("patch", f"/incidents/{incident.pk}", token_of("oncall"), {"commander": "ghost"})
    assert unknown.status_code == 404 and fields(unknown) == ["commander"]
    bad = api("patch", f"/incidents/{incident.pk}", token_of("oncall"), {"status": "fixed"})
    assert bad.status_code == 400 and fields(bad) == ["status"]
    api("post", f"/incidents/{incident.pk}/resolve", token_of("oncall"), {})
    reopened = api("patch", f"/incidents/{incident.pk}", token_of("oncall"), {"status": "investigating"})
    assert reopened.status_code == 409 and fields(reopened) == ["status"]
    assert Incident.objects.get(pk=incident.pk).status == IncidentStatus.RESOLVED


def test_notes_are_added_listed_and_public_ones_reach_the_status_page(api, token_of, incident):
    private = api("post", f"/incidents/{incident.pk}/notes", token_of("ops"), {"body": "checking the queue"})
    assert private.status_code == 201 and private.json()["public"] is False
    public = {"body": "We are retrying deliveries.", "public": True}
    assert api("post", f"/incidents/{incident.pk}/notes", token_of("ops"), public).json()["public"] is True
    blank = api("post", f"/incidents/{incident.pk}/notes", token_of("ops"), {"body": "   "})
    assert blank.status_code == 400 and fields(blank) == ["body"]
    listed = api("get", f"/incidents/{incident.pk}/notes", token_of("pm")).json()
    assert [n["body"] for n in listed["items"]] == ["checking the queue", "We are retrying deliveries."]
    assert IncidentUpdate.objects.filter(incident=incident, public=True).count() == 1


def test_resolving_and_writing_the_post_mortem(api, token_of, incident):
    resolved = api(
        "post", f"/incidents/{incident.pk}/resolve", token_of("oncall"), {"public_update": "Fixed."}
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert resolved.json()["resolved_at"] is not None
    assert api("post", f"/incidents/{incident.pk}/resolve", token_of("oncall"), {}).status_code == 200
    body = {"summary": "Deliveries failed 12 min", "root_cause": "TLS cert", "actions": "Alert on expiry"}
    written = api("put", f"/incidents/{incident.pk}/postmortem", token_of("ops"), body)
    assert written.status_code == 200 and written.json()["postmortem_root_cause"] == "TLS cert"
    assert AuditEvent.objects.filter(action="incident.postmortem").count() == 1
    too_long = api("put", f"/incidents/{incident.pk}/postmortem", token_of("ops"), {"summary": "x" * 20001})
    assert too_long.status_code == 400 and fields(too_long) == ["summary"]
    assert api("put", f"/incidents/{incident.pk}/postmortem", token_of("pm"), body).status_code == 403
    assert (
        api("get", f"/incidents/{incident.pk}", token_of("pm")).json()["postmortem_summary"]
        == body["summary"]
    )
