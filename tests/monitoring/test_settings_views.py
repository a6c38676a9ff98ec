"""The KPI and guardrail settings pages: forms that name the bad field, audit, confirmation
before deleting, reorder, the replay preview and the reference plans' standard KPIs."""

import datetime as dt

import pytest
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.models import AuditEvent
from migrations_app.monitoring import services
from migrations_app.monitoring.models import Guardrail, Kpi, Probe
from tests.canary import engine

pytestmark = pytest.mark.django_db


def base(migration):
    return f"/migrations/{migration.slug}/control-room"


@pytest.fixture
def kpi(migration):
    return Kpi.objects.create(
        migration=migration, name="Payment success", metric="payment_success", critical=90
    )


def test_everyone_who_views_sees_the_settings_and_only_configurers_get_buttons(
    client_for, migration, kpi, pm, ops
):
    page = client_for(pm).get(f"{base(migration)}/settings/")
    assert page.status_code == 200 and "Payment success" in page.content.decode()
    assert "Add a KPI" not in page.content.decode()
    assert "Add a KPI" in client_for(ops).get(f"{base(migration)}/settings/").content.decode()


def test_an_outsider_is_refused_everywhere(client_for, migration, kpi, outsider):
    client = client_for(outsider)
    assert client.get(f"{base(migration)}/settings/").status_code == 403
    assert client.post(f"{base(migration)}/kpis/new/", {"name": "x"}).status_code == 403
    assert client.post(f"{base(migration)}/kpis/{kpi.pk}/delete/").status_code == 403
    assert Kpi.objects.filter(pk=kpi.pk).exists()


def test_post_only_urls_refuse_get(client_for, migration, kpi, ops):
    client = client_for(ops)
    assert client.get(f"{base(migration)}/kpis/{kpi.pk}/move/").status_code == 405
    assert client.get(f"{base(migration)}/settings/plan-kpis/").status_code == 405


def test_creating_a_kpi_saves_it_with_an_audit_entry(client_for, migration, ops):
    response = client_for(ops).post(
        f"{base(migration)}/kpis/new/",
        {
            "name": "Checkout p95",
            "metric": "checkout_latency",
            "probe_field": "success",
            "aggregation": "p95",
            "window_seconds": 300,
            "direction": "lower",
            "critical": "900",
            "warning": "600",
            "unit": "ms",
        },
    )
    assert response.status_code == 302
    kpi = Kpi.objects.get(name="Checkout p95")
    assert (kpi.critical, kpi.warning, kpi.aggregation) == (900, 600, "p95")
    assert AuditEvent.objects.get(action="kpi.created").after["critical"] == 900


def test_an_invalid_kpi_is_422_naming_the_field_and_saves_nothing(client_for, migration, ops):
    response = client_for(ops).post(
        f"{base(migration)}/kpis/new/",
        {
            "name": "Checkout",
            "metric": "checkout",
            "probe_field": "success",
            "aggregation": "rate",
            "window_seconds": 300,
            "direction": "higher",
            "critical": "90",
            "warning": "80",
        },
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="error-warning"' in body and "The warning level comes before critical" in body
    assert not Kpi.objects.exists()


def test_deleting_asks_first_then_deletes_with_its_guardrails(client_for, migration, kpi, ops):
    Guardrail.objects.create(migration=migration, name="Payments guard", kpi=kpi)
    client = client_for(ops)
    confirm = client.get(f"{base(migration)}/kpis/{kpi.pk}/delete/")
    assert confirm.status_code == 200 and "Payments guard" in confirm.content.decode()
    assert Kpi.objects.filter(pk=kpi.pk).exists()  # asking deletes nothing
    assert client.post(f"{base(migration)}/kpis/{kpi.pk}/delete/").status_code == 302
    assert not Kpi.objects.exists() and not Guardrail.objects.exists()
    assert AuditEvent.objects.get(action="kpi.deleted").before["guardrails"] == ["Payments guard"]


def test_moving_a_kpi_reorders_the_list_and_audits_it(client_for, migration, ops):
    by = Actor.system("tests")
    from migrations_app.monitoring import configuration

    first = configuration.create_kpi(migration, by=by, name="A", metric="a", critical=1)
    second = configuration.create_kpi(migration, by=by, name="B", metric="b", critical=1)
    client_for(ops).post(f"{base(migration)}/kpis/{second.pk}/move/", {"direction": "up"})
    assert list(Kpi.objects.filter(migration=migration).values_list("name", flat=True)) == ["B", "A"]
    event = AuditEvent.objects.get(action="kpi.reordered")
    assert event.before == {"order": ["A", "B"]} and event.after == {"order": ["B", "A"]}
    assert first.pk != second.pk


def _guardrail_post(kpi, **fields):
    return {
        "name": "Payments guard",
        "kpi": kpi.pk,
        "kind": "threshold",
        "action": "pause",
        "consecutive": 2,
        "min_samples": 1,
        "confidence": 95,
        "no_data_seconds": 600,
        "degradation_percent": 50,
        "enabled": "on",
        **fields,
    }


def test_the_preview_counts_how_often_the_rule_would_have_fired_without_saving(
    client_for, migration, kpi, ops
):
    engine.go_live(migration, 25)
    now = timezone.now()
    # two bad stretches of 15 minutes with a healthy one between (the rule re-arms on healthy data)
    stretches = [
        (dt.timedelta(hours=6), 1),
        (dt.timedelta(hours=4, minutes=30), 10),
        (dt.timedelta(hours=3), 1),
    ]
    for start, ok in stretches:
        for minute in range(15):
            at = now - start + dt.timedelta(minutes=minute)
            item = {"metric": "payment_success", "ok": ok, "failed": 10 - ok, "at": at}
            services.ingest_samples(migration, items=[item])
    response = client_for(ops).post(f"{base(migration)}/guardrails/new/", _guardrail_post(kpi, preview="1"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "This rule would have fired 2 times in the last 24 h" in body
    assert not Guardrail.objects.exists()


def test_saving_a_compare_guardrail_needs_a_tolerance(client_for, migration, kpi, ops):
    client = client_for(ops)
    refused = client.post(f"{base(migration)}/guardrails/new/", _guardrail_post(kpi, kind="compare"))
    assert refused.status_code == 422 and 'id="error-tolerance_percent"' in refused.content.decode()
    saved = client.post(
        f"{base(migration)}/guardrails/new/", _guardrail_post(kpi, kind="compare", tolerance_points="2")
    )
    assert saved.status_code == 302
    guardrail = Guardrail.objects.get()
    assert (guardrail.kind, guardrail.action, guardrail.tolerance_points) == ("compare", "pause", 2)
    assert AuditEvent.objects.get(action="guardrail.created").after["tolerance_points"] == 2


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        (
            "appointment-api-staging-to-live",
            {"Error rate": 10.0, "Response time p95": 2000, "Available credits": 50},
        ),
        ("payment-gateway-go-live", {"Payment success": 90.0, "Webhook delivery": 95.0}),
        ("mobile-money-deployment", {"Payment success": 95.0, "Error rate": 5.0, "Uptime": 99.9}),
    ],
)
def test_standard_kpis_carry_the_reference_plans_own_numbers(client_for, migration, ops, plan, expected):
    probe = Probe.objects.create(migration=migration, name="Provider", url="https://provider.example/health")
    response = client_for(ops).post(
        f"{base(migration)}/settings/plan-kpis/", {"plan": plan, "probe": probe.pk, "action": "pause"}
    )
    assert response.status_code == 302
    criticals = dict(Kpi.objects.filter(migration=migration).values_list("name", "critical"))
    assert {name: criticals.get(name) for name in expected} == expected
    assert set(Guardrail.objects.values_list("action", flat=True)) == {"pause"}


def test_the_appointment_plan_rolls_back_on_10_percent_errors_over_5_minutes(client_for, migration, ops):
    probe = Probe.objects.create(migration=migration, name="Provider", url="https://provider.example/health")
    client_for(ops).post(
        f"{base(migration)}/settings/plan-kpis/",
        {"plan": "appointment-api-staging-to-live", "probe": probe.pk, "action": "rollback"},
    )
    errors = Kpi.objects.get(name="Error rate")
    assert (errors.critical, errors.window_seconds, errors.direction) == (10.0, 300, "lower")
    silence = Guardrail.objects.get(kpi__name="Webhooks received")
    assert (silence.kind, silence.no_data_seconds) == ("no_data", 600)


def test_the_settings_page_preselects_the_migrations_template(client_for, ops):
    from django.core.management import call_command

    from checklists import services as checklist_services
    from checklists.models import ChecklistTemplate

    call_command("load_builtin_templates", verbosity=0)
    migration = checklist_services.create_migration_from_template(
        by=Actor.system("t"),
        template=ChecklistTemplate.objects.get(slug="payment-gateway-go-live"),
        name="Tickets",
        slug="tickets",
        owner=ops,
        integration="Gateway",
    )
    body = client_for(ops).get(f"{base(migration)}/settings/").content.decode()
    assert 'value="payment-gateway-go-live" checked' in body and "this migration's template" in body
