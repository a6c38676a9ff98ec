"""Incident lifecycle: open or attach, evidence snapshot, statuses, notes, post-mortem, durations."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.incidents import selectors, services, success
from migrations_app.incidents.models import Incident, IncidentStatus, Severity
from migrations_app.models import AuditEvent
from migrations_app.monitoring.models import Probe, ProbeResult, Sample
from migrations_app.rollout import services as rollout


def _probe(migration):
    return Probe.objects.create(migration=migration, name="Health", url="https://acme.example/health")


def _result(probe, at, outcome, percent=25, latency=120.0):
    return ProbeResult.objects.create(
        probe=probe,
        migration=probe.migration,
        due_at=at,
        checked_at=at,
        outcome=outcome,
        status_code=200 if outcome == "pass" else 500,
        latency_ms=latency,
        traffic_percent=percent,
    )


def test_a_rollback_opens_an_incident_with_an_hour_of_evidence(live_migration, oncall):
    now = timezone.now()
    probe = _probe(live_migration)
    _result(probe, now - dt.timedelta(hours=2), "pass")  # outside the window
    _result(probe, now - dt.timedelta(minutes=10), "pass")
    _result(probe, now - dt.timedelta(minutes=4), "fail")
    _result(probe, now - dt.timedelta(minutes=3), "fail")
    Sample.objects.create(
        migration=live_migration, metric="payments", at=now - dt.timedelta(minutes=2), ok=90, failed=10
    )
    rollback = rollout.roll_back(live_migration, by=Actor.for_user(oncall), reason="errors")
    incident = rollback.incident
    assert incident.status == IncidentStatus.INVESTIGATING and incident.severity == Severity.SEV2
    assert [r["outcome"] for r in incident.snapshot["probe_results"]] == ["pass", "fail", "fail"]
    assert incident.snapshot["samples"][0]["ok"] == 90
    assert incident.started_at == (now - dt.timedelta(minutes=4)).replace(
        microsecond=incident.started_at.microsecond
    )
    d = selectors.durations(incident)
    assert d["detect"].endswith("min") or d["detect"].endswith("s")
    assert d["mitigate"] in ("0 s", "1 s")  # the rollback itself mitigated


def test_a_second_event_attaches_and_raises_the_severity(migration):
    first = services.open_or_attach_incident(
        migration, by=Actor.system("a"), title="slow", severity=Severity.SEV3
    )
    second = services.open_or_attach_incident(
        migration, by=Actor.system("b"), title="down", severity=Severity.SEV1
    )
    assert first.pk == second.pk and second.severity == Severity.SEV1 and len(second.evidence) == 2
    assert Incident.objects.count() == 1


def test_a_resolved_incident_lets_a_new_one_open(migration, ops):
    incident = services.open_or_attach_incident(
        migration, by=Actor.system("a"), title="slow", severity=Severity.SEV3
    )
    services.change_status(incident, to=IncidentStatus.RESOLVED, by=Actor.for_user(ops))
    again = services.open_or_attach_incident(
        migration, by=Actor.system("a"), title="slow again", severity=Severity.SEV3
    )
    assert again.pk != incident.pk


def test_it_moves_through_the_statuses_and_stamps_the_times(migration, oncall):
    by = Actor.for_user(oncall)
    t0 = timezone.now()
    incident = services.open_incident(migration, by=by, title="Card declines", severity=Severity.SEV2)
    services.change_status(
        incident, to=IncidentStatus.IDENTIFIED, by=by, note="provider bug", now=t0 + dt.timedelta(minutes=5)
    )
    incident.refresh_from_db()
    assert incident.acknowledged_by == "oncall-user"  # moving it on acknowledges it
    services.change_status(incident, to=IncidentStatus.MONITORING, by=by, now=t0 + dt.timedelta(minutes=9))
    services.change_status(incident, to=IncidentStatus.RESOLVED, by=by, now=t0 + dt.timedelta(minutes=40))
    incident.refresh_from_db()
    assert incident.mitigated_at == t0 + dt.timedelta(
        minutes=9
    ) and incident.resolved_at == t0 + dt.timedelta(minutes=40)
    assert list(incident.updates.values_list("status", flat=True)) == ["identified", "monitoring", "resolved"]
    changes = AuditEvent.objects.filter(action="incident.status_changed").order_by("at", "id")
    assert [e.after["status"] for e in changes] == ["identified", "monitoring", "resolved"]
    with pytest.raises(ValidationError, match="cannot move"):
        services.change_status(incident, to=IncidentStatus.INVESTIGATING, by=by)


def test_repeating_a_status_change_changes_nothing(migration, oncall):
    by = Actor.for_user(oncall)
    incident = services.open_incident(migration, by=by, title="x", severity=Severity.SEV3)
    services.change_status(incident, to=IncidentStatus.IDENTIFIED, by=by)
    services.change_status(incident, to=IncidentStatus.IDENTIFIED, by=by)
    assert AuditEvent.objects.filter(action="incident.status_changed").count() == 1


def test_acknowledging_twice_keeps_the_first(migration, oncall, ops):
    incident = services.open_incident(migration, by=Actor.for_user(ops), title="x", severity=Severity.SEV2)
    services.acknowledge(incident, by=Actor.for_user(oncall))
    again = services.acknowledge(incident, by=Actor.for_user(ops))
    assert again.already and again.acknowledged_by == "oncall-user"


def test_notes_and_the_postmortem_are_recorded(migration, oncall):
    by = Actor.for_user(oncall)
    incident = services.open_incident(migration, by=by, title="x", severity=Severity.SEV3)
    with pytest.raises(ValidationError):
        services.add_note(incident, by=by, body="   ")
    services.add_note(incident, by=by, body="Called the provider")
    services.save_postmortem(
        incident, by=by, summary="Cards failed", root_cause="Expired cert", actions="Alert on expiry"
    )
    services.save_postmortem(
        incident, by=by, summary="Cards failed", root_cause="Expired cert", actions="Alert on expiry"
    )
    incident.refresh_from_db()
    assert incident.postmortem_root_cause == "Expired cert"
    assert AuditEvent.objects.filter(action="incident.postmortem").count() == 1
    entries = selectors.timeline(incident)
    assert any(e["kind"] == "note" and e["detail"] == "Called the provider" for e in entries)
    assert any(e["what"] == "Incident opened" for e in entries)


def test_the_timeline_merges_traffic_rollbacks_probe_failures_and_notifications(
    live_migration, oncall, people
):
    probe = _probe(live_migration)
    _result(probe, timezone.now() - dt.timedelta(minutes=1), "fail")
    rollback = rollout.roll_back(live_migration, by=Actor.for_user(oncall), reason="errors")
    whats = {e["what"] for e in selectors.timeline(rollback.incident)}
    assert {"Rolled back", "Probe failed", "Incident opened", "Migration status"} <= whats
    assert any(w.startswith("E-mail") for w in whats)  # the rollback e-mail to the on-call


def test_manual_open_needs_a_title(migration, ops):
    with pytest.raises(ValidationError, match="title"):
        services.open_incident(migration, by=Actor.for_user(ops), title=" ", severity=Severity.SEV2)
    assert not Incident.objects.exists()


def test_success_criteria_are_computed_from_the_migration_data(live_migration, oncall):
    now = timezone.now()
    probe = _probe(live_migration)
    for minute in range(1, 101):
        _result(
            probe,
            now - dt.timedelta(minutes=minute),
            "pass" if minute != 50 else "fail",
            latency=100 + minute,
        )
    _result(probe, now - dt.timedelta(minutes=200), "fail", percent=0)  # before traffic: not counted
    rows = {r["key"]: r for r in success.criteria(live_migration, now=now)}
    assert rows["success_rate"]["value"] == pytest.approx(99.0) and rows["success_rate"]["state"] == "not_met"
    assert rows["uptime"]["value"] == pytest.approx(99.0) and rows["uptime"]["state"] == "not_met"
    assert rows["error_rate"]["value"] == pytest.approx(1.0) and rows["error_rate"]["state"] == "not_met"
    assert rows["response_time"]["state"] == "met" and 190 < rows["response_time"]["value"] < 200
    assert rows["recovery"]["state"] == "no_data" and rows["alert_response"]["state"] == "no_data"
    rollback = rollout.roll_back(live_migration, by=Actor.for_user(oncall), reason="errors")
    incident = rollback.incident
    services.acknowledge(
        incident, by=Actor.for_user(oncall), now=incident.opened_at + dt.timedelta(minutes=20)
    )
    services.change_status(
        incident, to="resolved", by=Actor.for_user(oncall), now=rollback.at + dt.timedelta(minutes=3)
    )
    rows = {r["key"]: r for r in success.criteria(live_migration, now=now)}
    assert rows["recovery"]["state"] == "met" and rows["recovery"]["value"] == pytest.approx(3, abs=0.01)
    assert rows["alert_response"]["state"] == "not_met"  # 20 min > 15 min
    assert rows["resolution"]["state"] == "met"


def _fire(guardrail):
    from migrations_app import audit

    guardrail.fired, guardrail.state = True, "breached"
    guardrail.save()
    audit.record(
        Actor.system(f"guardrail: {guardrail.name}"),
        "guardrail.state_changed",
        guardrail,
        migration=guardrail.migration,
        before={"state": "warning"},
        after={"state": "breached"},
    )


def test_an_alert_only_guardrail_that_fires_opens_one_incident_per_firing(migration):
    from migrations_app.monitoring.models import Guardrail, Kpi

    kpi = Kpi.objects.create(migration=migration, name="Error rate", metric="payments", critical=5)
    guardrail = Guardrail.objects.create(migration=migration, name="Errors", kpi=kpi, action="alert")
    assert services.open_for_fired_guardrails() == 0
    _fire(guardrail)
    assert services.open_for_fired_guardrails() == 1
    assert services.open_for_fired_guardrails() == 0  # the beat runs again: nothing new
    incident = Incident.objects.get()
    assert incident.severity == Severity.SEV3 and incident.title == "Guardrail Errors breached"
    assert incident.opened_by == "guardrail: Errors"
    _fire(guardrail)  # it recovered and fired again
    assert services.open_for_fired_guardrails() == 1
    incident.refresh_from_db()
    assert Incident.objects.count() == 1 and len(incident.evidence) == 2


def test_a_rollback_guardrail_is_left_to_its_rollback(migration):
    from migrations_app.monitoring.models import Guardrail, Kpi

    kpi = Kpi.objects.create(migration=migration, name="Error rate", metric="payments", critical=5)
    _fire(Guardrail.objects.create(migration=migration, name="Errors", kpi=kpi, action="rollback"))
    assert services.open_for_fired_guardrails() == 0 and not Incident.objects.exists()
