import datetime as dt

import pytest
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.demo.monitoring import add_demo_monitoring
from migrations_app.models import AuditEvent
from migrations_app.monitoring import kpis, services
from migrations_app.monitoring.models import (
    Aggregation,
    Alert,
    Direction,
    Guardrail,
    GuardrailAction,
    GuardrailKind,
    Kpi,
    Probe,
    ProbeField,
    ProbeResult,
    Rollup,
    Sample,
)
from migrations_app.monitoring.probing.kinds import Outcome
from migrations_app.rollout.models import Rollback
from migrations_app.rollout.selectors import current_percent
from tests.factories import put_live

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


@pytest.fixture
def probe(migration):
    return services.create_probe(
        migration, by=SYSTEM, name="Provider health", url="http://127.0.0.1:9/health", interval_seconds=1
    )


def passed(latency=100.0):
    return Outcome("pass", "HTTP 200", status_code=200, latency_ms=latency)


def failed():
    return Outcome("fail", "HTTP 500, expected 200.", status_code=500, latency_ms=30.0)


def errored():
    return Outcome("error", "No answer within 5 s.")


def slot(n):
    return dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=n)


def test_it_stores_a_redelivered_run_only_once(probe):
    first = services.record_probe_result(probe, due_at=slot(1), outcome=passed())
    again = services.record_probe_result(probe, due_at=slot(1), outcome=failed())
    assert first is not None and again is None
    assert ProbeResult.objects.filter(probe=probe).count() == 1
    probe.refresh_from_db()
    assert (probe.last_outcome, probe.consecutive_passes) == ("pass", 1)


def test_it_audits_probe_creation(probe):
    event = AuditEvent.objects.get(action="probe.created")
    assert event.after["url"] == "http://127.0.0.1:9/health"


def test_errors_are_neither_passes_nor_failures_and_page_after_a_run(probe, migration):
    for n in range(1, 4):
        services.record_probe_result(probe, due_at=slot(n), outcome=errored())
    probe.refresh_from_db()
    assert probe.consecutive_errors == 3
    alert = Alert.objects.get(level="page")
    assert "3 times in a row" in alert.message
    kpi = Kpi.objects.create(
        migration=migration, name="ok", probe=probe, aggregation=Aggregation.RATE, critical=99
    )
    assert kpis.measure(kpi, now=timezone.now()).samples == 0


def test_the_dispatcher_claims_each_due_probe_once_per_slot(probe):
    now = timezone.now()
    Probe.objects.filter(pk=probe.pk).update(next_due_at=now - dt.timedelta(seconds=10.5))
    runs = services.dispatch_due_probes(now=now)
    assert [probe_id for probe_id, _ in runs] == [probe.pk]
    assert services.dispatch_due_probes(now=now) == []
    probe.refresh_from_db()
    assert now < probe.next_due_at <= now + dt.timedelta(seconds=1)


def make_kpi(migration, probe, **fields):
    defaults = dict(
        name="Success rate",
        probe=probe,
        probe_field=ProbeField.SUCCESS,
        aggregation=Aggregation.RATE,
        direction=Direction.HIGHER_IS_BETTER,
        warning=99.8,
        critical=99.5,
        unit="%",
        window_seconds=60,
    )
    defaults.update(fields)
    return Kpi.objects.create(migration=migration, **defaults)


def test_kpi_aggregations(probe, migration):
    now = timezone.now()
    for n, latency in enumerate([100, 200, 300, 400, 1000], start=1):
        services.record_probe_result(probe, due_at=slot(n), outcome=passed(latency), now=now)
    services.record_probe_result(probe, due_at=slot(6), outcome=failed(), now=now)
    services.record_probe_result(probe, due_at=slot(7), outcome=errored(), now=now)
    later = now + dt.timedelta(seconds=1)
    rate = make_kpi(migration, probe)
    assert kpis.measure(rate, now=later).value == pytest.approx(500 / 6)
    assert kpis.measure(rate, now=later).samples == 6
    p95 = make_kpi(
        migration,
        probe,
        name="p95",
        probe_field=ProbeField.LATENCY,
        aggregation=Aggregation.P95,
        direction=Direction.LOWER_IS_BETTER,
        warning=1500,
        critical=2000,
    )
    assert kpis.measure(p95, now=later).value == pytest.approx(
        kpis.percentile([30, 100, 200, 300, 400, 1000], 0.95)
    )
    errors = make_kpi(
        migration,
        probe,
        name="errors",
        aggregation=Aggregation.ERROR_RATE,
        direction=Direction.LOWER_IS_BETTER,
        warning=0.3,
        critical=0.5,
    )
    assert kpis.measure(errors, now=later).value == pytest.approx(100 / 6)
    assert kpis.level_of(errors, 0.4) == "warning"
    assert kpis.level_of(rate, 99.9) == "ok"
    assert kpis.level_of(rate, 99.6) == "warning"


def test_counters_make_a_rate_per_traffic_level(migration):
    now = timezone.now()
    kpi = Kpi.objects.create(
        migration=migration,
        name="Payment success",
        metric="payment_success",
        aggregation=Aggregation.RATE,
        critical=99.9,
        warning=99.95,
        window_seconds=600,
    )
    Sample.objects.create(
        migration=migration, metric="payment_success", at=now, ok=999, failed=1, traffic_percent=0
    )
    Sample.objects.create(
        migration=migration, metric="payment_success", at=now, ok=90, failed=10, traffic_percent=10
    )
    later = now + dt.timedelta(seconds=1)
    reading = kpis.measure(kpi, now=later)
    assert reading.value == pytest.approx(100 * 1089 / 1100)
    levels = kpis.by_traffic_level(kpi, now=later, window=dt.timedelta(hours=1))
    assert [(level, round(r.value, 1)) for level, r in levels] == [(0, 99.9), (10, 90.0)]


def test_a_breaching_guardrail_rolls_back_with_evidence_after_n_evaluations(probe, migration):
    migration = put_live(migration, 25)
    kpi = make_kpi(migration, probe)
    guardrail = Guardrail.objects.create(
        migration=migration, name="Success", kpi=kpi, consecutive=3, min_samples=1
    )
    now = timezone.now()
    services.record_probe_result(probe, due_at=slot(1), outcome=passed(), now=now)
    guardrail.refresh_from_db()
    assert guardrail.state == "healthy"
    for n in (2, 3):
        services.record_probe_result(probe, due_at=slot(n), outcome=failed(), now=now)
    guardrail.refresh_from_db()
    assert (guardrail.state, guardrail.breach_streak) == ("warning", 2)
    assert current_percent(migration) == 25
    services.record_probe_result(probe, due_at=slot(4), outcome=failed(), now=now)
    guardrail.refresh_from_db()
    assert guardrail.state == "breached"
    migration.refresh_from_db()
    assert current_percent(migration) == 0
    rollback = Rollback.objects.get(migration=migration)
    assert rollback.by == "guardrail: Success"
    assert rollback.evidence["guardrail"] == "Success"
    assert len(rollback.evidence["breaching_samples"]) == 4
    assert rollback.incident is not None
    entry = rollback.incident.evidence[0]
    assert entry["by"] == "guardrail: Success"
    assert len(entry["evidence"]["breaching_samples"]) == 4
    assert AuditEvent.objects.filter(action="rollback.created", actor_label="guardrail: Success").exists()
    # More failures do not roll back twice.
    services.record_probe_result(probe, due_at=slot(5), outcome=failed(), now=now)
    assert Rollback.objects.filter(migration=migration).count() == 1


def test_an_alert_only_guardrail_alerts_once_and_does_not_roll_back(probe, migration):
    migration = put_live(migration, 25)
    kpi = make_kpi(migration, probe)
    Guardrail.objects.create(
        migration=migration,
        name="Success",
        kpi=kpi,
        consecutive=2,
        min_samples=1,
        action=GuardrailAction.ALERT,
    )
    for n in range(1, 6):
        services.record_probe_result(probe, due_at=slot(n), outcome=failed())
    assert current_percent(migration) == 25
    assert Alert.objects.filter(level="critical").count() == 1
    assert Alert.objects.filter(level="warning").count() == 1


def test_too_few_samples_is_insufficient_data(probe, migration):
    kpi = make_kpi(migration, probe)
    guardrail = Guardrail.objects.create(migration=migration, name="Success", kpi=kpi, min_samples=5)
    services.record_probe_result(probe, due_at=slot(1), outcome=failed())
    guardrail.refresh_from_db()
    assert guardrail.state == "insufficient_data"
    assert guardrail.breach_streak == 0


def test_the_no_data_rule_fires_on_silence_while_traffic_flows(migration):
    migration = put_live(migration, 10)
    kpi = Kpi.objects.create(
        migration=migration, name="Webhook delivery", metric="webhook_delivery", critical=99
    )
    guardrail = Guardrail.objects.create(
        migration=migration,
        name="Webhooks arrive",
        kpi=kpi,
        kind=GuardrailKind.NO_DATA,
        no_data_seconds=600,
        consecutive=1,
    )
    Sample.objects.create(
        migration=migration,
        metric="webhook_delivery",
        ok=1,
        failed=0,
        at=timezone.now() - dt.timedelta(minutes=11),
    )
    services.evaluate_guardrail(guardrail)
    guardrail.refresh_from_db()
    assert guardrail.state == "breached"
    assert current_percent(migration) == 0


def test_the_baseline_rule_compares_with_data_from_before_the_rollout(probe, migration):
    now = timezone.now()
    for n in range(1, 6):
        services.record_probe_result(
            probe, due_at=slot(n), outcome=passed(100), now=now - dt.timedelta(minutes=5)
        )
    migration = put_live(migration, 10)
    kpi = make_kpi(
        migration,
        probe,
        name="p95",
        probe_field=ProbeField.LATENCY,
        aggregation=Aggregation.P95,
        direction=Direction.LOWER_IS_BETTER,
        warning=1500,
        critical=2000,
        window_seconds=60,
    )
    guardrail = Guardrail.objects.create(
        migration=migration,
        name="p95 vs baseline",
        kpi=kpi,
        kind=GuardrailKind.BASELINE,
        degradation_percent=50,
        consecutive=2,
        min_samples=1,
    )
    services.record_probe_result(probe, due_at=slot(10), outcome=passed(180), now=now)
    guardrail.refresh_from_db()
    assert guardrail.baseline_value == pytest.approx(100)
    assert guardrail.state == "warning"  # 80 % worse: critical, but only the first of two in a row
    services.record_probe_result(probe, due_at=slot(11), outcome=passed(190), now=now)
    guardrail.refresh_from_db()
    assert guardrail.state == "breached"
    assert current_percent(migration) == 0


def test_alerts_are_not_repeated_within_the_period(migration, settings):
    assert services.send_alert(migration, key="k", level="warning", message="first") is not None
    assert services.send_alert(migration, key="k", level="warning", message="again") is None
    Alert.objects.update(
        created_at=timezone.now() - dt.timedelta(seconds=settings.GOLIVE_ALERT_DEDUPE_SECONDS + 1)
    )
    assert services.send_alert(migration, key="k", level="warning", message="later") is not None


def test_alerts_go_to_the_on_call_by_email(migration):
    from migrations_app.models import Contact, ContactKind
    from migrations_app.rollout.models import OutboxMessage

    contact = Contact.objects.create(
        name="Pager",
        kind=ContactKind.INTERNAL_TECHNICAL,
        role="On-call",
        email="oncall@example.com",
        on_call=True,
    )
    contact.migrations.add(migration)
    services.send_alert(migration, key="k", level="warning", message="p95 rising")
    message = OutboxMessage.objects.get(kind="email")
    assert "oncall@example.com" in message.target
    assert "p95 rising" in message.payload["body"]


def test_old_raw_data_is_rolled_up_per_minute(probe, migration):
    old = timezone.now() - dt.timedelta(days=3)
    old = old.replace(second=10)
    for n in range(1, 5):
        services.record_probe_result(probe, due_at=slot(n), outcome=passed(100 * n), now=old)
    Sample.objects.create(migration=migration, metric="payment_success", at=old, ok=5, failed=1)
    Sample.objects.create(migration=migration, metric="payment_success", at=timezone.now(), ok=5, failed=1)
    assert services.roll_up_old_data() == 5
    assert ProbeResult.objects.count() == 0
    assert Sample.objects.count() == 1
    rollup = Rollup.objects.get(source=f"probe:{probe.pk}")
    assert (rollup.count, rollup.ok, rollup.valued, rollup.total) == (4, 4, 4, 1000)
    assert Rollup.objects.get(source="payment_success").failed == 1
    assert services.roll_up_old_data() == 0


def test_standard_kpis_come_from_the_reference_plans(probe, migration):
    created = services.add_standard_kpis(migration, probe=probe, by=SYSTEM)
    assert {k.name: (k.critical, k.direction) for k in created} == {
        "Success rate": (99.5, "higher"),
        "p95 response time": (2000, "lower"),
        "Error rate": (0.5, "lower"),
        "Payment success": (99.9, "higher"),
        "Webhook delivery": (99.0, "higher"),
        "Uptime": (99.9, "higher"),
    }
    assert Guardrail.objects.filter(migration=migration).count() == 6
    assert services.add_standard_kpis(migration, probe=probe, by=SYSTEM) == []


def test_a_linked_checklist_item_is_ticked_after_n_passes_with_evidence(probe, migration):
    from checklists.models import ChecklistItem, ChecklistSection

    section = ChecklistSection.objects.create(phase=migration.phases.first(), name="Verification", position=1)
    item = ChecklistItem.objects.create(
        migration=migration, section=section, title="Health endpoint answers", probe_kind="http_health"
    )
    Probe.objects.filter(pk=probe.pk).update(checklist_item_id=item.pk, passes_to_tick=3)
    probe.refresh_from_db()
    services.record_probe_result(probe, due_at=slot(1), outcome=passed())
    services.record_probe_result(probe, due_at=slot(2), outcome=errored())  # an error breaks the run
    services.record_probe_result(probe, due_at=slot(3), outcome=passed())
    services.record_probe_result(probe, due_at=slot(4), outcome=passed())
    item.refresh_from_db()
    assert item.state == "open"
    services.record_probe_result(probe, due_at=slot(5), outcome=passed())
    item.refresh_from_db()
    assert item.state == "done"
    assert "passed 3 times in a row" in item.evidence_note
    assert item.changed_by_label == "probe: Provider health"


def test_the_demo_gets_a_health_probe_and_alert_only_guardrails(migration):
    probe = add_demo_monitoring(migration, base_url="http://127.0.0.1:8000", by=SYSTEM)
    assert probe.url == "http://127.0.0.1:8000/health"
    assert set(Guardrail.objects.filter(migration=migration).values_list("action", flat=True)) == {"alert"}
    assert add_demo_monitoring(migration, base_url="http://127.0.0.1:8000", by=SYSTEM) == probe


def test_charts_show_rolled_up_history(probe, migration, settings):
    from migrations_app.monitoring import selectors

    settings.GOLIVE_RAW_RETENTION_HOURS = 1
    old = timezone.now() - dt.timedelta(hours=3)
    for n in range(6):
        at = old + dt.timedelta(minutes=10 * n)
        services.record_probe_result(probe, due_at=at, outcome=passed(100 + n), now=at)
    assert services.roll_up_old_data() == 6
    figures = selectors.chart_figures(migration, now=timezone.now(), span=dt.timedelta(hours=6))
    latency = figures["latency"]["data"][0]
    assert latency["name"] == "Provider health"
    assert latency["y"] == [100, 101, 102, 103, 104, 105]
    assert figures["success"]["data"][0]["y"] == [100.0] * 6
