"""Probe pages: create, edit, pause and resume, delete with confirmation."""

import pytest
from django.urls import reverse

from migrations_app.audit import Actor
from migrations_app.models import AuditEvent
from migrations_app.monitoring import services
from migrations_app.monitoring.models import Guardrail, Kpi, Probe

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")
VALID = {
    "name": "Provider health",
    "kind": "http_health",
    "url": "http://127.0.0.1:9/health",
    "method": "GET",
    "expected_statuses": "200",
    "min_days_valid": 14,
    "interval_seconds": 30,
    "timeout_seconds": 5,
    "passes_to_tick": 3,
    "errors_to_page": 3,
    "webhook_scheme": "stripe",
    "enabled": "on",
}


@pytest.fixture
def probe(migration):
    return services.create_probe(migration, by=SYSTEM, name="Health", url="http://127.0.0.1:9/health")


def test_it_creates_a_probe_and_audits_it(client_for, ops, migration):
    response = client_for(ops).post(reverse("monitoring:probe_create", args=[migration.slug]), VALID)
    assert response.status_code == 302
    probe = Probe.objects.get(migration=migration)
    assert probe.name == "Provider health" and probe.enabled
    assert AuditEvent.objects.get(action="probe.created").after["url"] == "http://127.0.0.1:9/health"


@pytest.mark.parametrize(
    "field, value",
    [
        ("interval_seconds", "0"),
        ("expected_statuses", "ok"),
        ("json_path", "$[["),
        ("url", "not a url at all"),
    ],
)
def test_invalid_input_answers_422_naming_the_field_and_changes_nothing(
    client_for, ops, migration, field, value
):
    response = client_for(ops).post(
        reverse("monitoring:probe_create", args=[migration.slug]), VALID | {field: value}
    )
    assert response.status_code == 422
    assert f'id="error-{field}"' in response.content.decode()
    assert not Probe.objects.exists()


def test_editing_records_before_and_after(client_for, ops, migration, probe):
    url = reverse("monitoring:probe_edit", args=[migration.slug, probe.pk])
    response = client_for(ops).post(url, VALID | {"name": "Health", "interval_seconds": 60})
    assert response.status_code == 302
    row = AuditEvent.objects.get(action="probe.updated")
    assert row.before["interval_seconds"] == 30 and row.after["interval_seconds"] == 60


def test_the_edit_page_pauses_and_resumes(client_for, ops, migration, probe):
    client = client_for(ops)
    page = client.get(reverse("monitoring:probe_edit", args=[migration.slug, probe.pk])).content.decode()
    assert "Pause this probe" in page
    client.post(reverse("monitoring:probe_toggle", args=[migration.slug, probe.pk]))
    probe.refresh_from_db()
    assert not probe.enabled
    page = client.get(reverse("monitoring:probe_edit", args=[migration.slug, probe.pk])).content.decode()
    assert "Resume this probe" in page


def test_delete_without_confirmation_deletes_nothing(client_for, ops, migration, probe):
    response = client_for(ops).post(reverse("monitoring:probe_delete", args=[migration.slug, probe.pk]))
    assert response.status_code == 422 and "Confirm the deletion" in response.content.decode()
    assert Probe.objects.filter(pk=probe.pk).exists()


def test_delete_names_what_goes_with_it_and_audits_it(client_for, ops, migration, probe):
    services.add_standard_kpis(migration, probe=probe, by=SYSTEM)
    kpi_names = list(Kpi.objects.filter(probe=probe).values_list("name", flat=True))
    client = client_for(ops)
    page = client.get(reverse("monitoring:probe_edit", args=[migration.slug, probe.pk])).content.decode()
    assert kpi_names and all(name in page for name in kpi_names)
    response = client.post(
        reverse("monitoring:probe_delete", args=[migration.slug, probe.pk]), {"confirm": "yes"}
    )
    assert response.status_code == 302
    assert not Probe.objects.exists() and not Kpi.objects.filter(probe_id=probe.pk).exists()
    assert not Guardrail.objects.filter(kpi__name__in=kpi_names).exists()
    row = AuditEvent.objects.get(action="probe.deleted")
    assert row.before["name"] == "Health" and sorted(row.before["kpis"]) == sorted(kpi_names)


def test_outsiders_and_pms_may_not_delete(client_for, outsider, pm, migration, probe):
    url = reverse("monitoring:probe_delete", args=[migration.slug, probe.pk])
    for user in (outsider, pm):
        assert client_for(user).post(url, {"confirm": "yes"}).status_code == 403
    assert Probe.objects.filter(pk=probe.pk).exists()


def test_delete_refuses_get(client_for, ops, migration, probe):
    assert (
        client_for(ops).get(reverse("monitoring:probe_delete", args=[migration.slug, probe.pk])).status_code
        == 405
    )


def test_the_migration_page_links_every_setting(client_for, pm, migration):
    html = client_for(pm).get(reverse("migrations_app:detail", args=[migration.slug])).content.decode()
    for url in (
        reverse("inbound:page", args=[migration.slug]),
        reverse("rollback_hooks:list", args=[migration.slug]),
        reverse("incidents:announcements", args=[migration.slug]) + "#status-page",
        reverse("incidents_channels:list"),
    ):
        assert f'href="{url}' in html
