import pytest

from migrations_app.audit import Actor
from migrations_app.models import AuditEvent
from migrations_app.monitoring import services
from migrations_app.monitoring.models import Guardrail, Kpi, Probe
from migrations_app.monitoring.probing.kinds import Outcome

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


@pytest.fixture
def probe(migration):
    return services.create_probe(
        migration, by=SYSTEM, name="Provider health", url="http://127.0.0.1:9/health"
    )


def url(migration, suffix=""):
    return f"/migrations/{migration.slug}/control-room/{suffix}"


def test_it_shows_the_control_room_with_tiles_probes_and_guardrails(client_for, oncall, migration, probe):
    services.add_standard_kpis(migration, probe=probe, by=SYSTEM)
    services.record_probe_result(
        probe,
        due_at=probe.next_due_at,
        outcome=Outcome("pass", "HTTP 200 in 12 ms", status_code=200, latency_ms=12.0),
    )
    response = client_for(oncall).get(url(migration))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Control room" in html
    assert "Success rate" in html and "100.00 %" in html
    assert "HTTP 200 in 12 ms" in html
    assert "Success rate guardrail" in html
    assert 'id="chart-data"' in html
    assert "plotly-basic-3.7.0.min.js" in html
    assert 'id="traffic-panel"' in html


def test_the_live_partial_is_only_the_live_region(client_for, pm, migration, probe):
    response = client_for(pm).get(url(migration, "live/"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="live"')
    assert "<html" not in html
    assert "Last updated" in html


def test_an_outsider_cannot_see_the_control_room(client_for, outsider, migration):
    assert client_for(outsider).get(url(migration)).status_code == 403
    assert client_for(outsider).get(url(migration, "live/")).status_code == 403


def test_ops_creates_a_probe(client_for, ops, migration):
    data = {
        "name": "Auth test",
        "kind": "authenticated_call",
        "url": "http://127.0.0.1:8000/organizations/me",
        "method": "GET",
        "expected_statuses": "200",
        "headers_text": "Authorization: Bearer ${PROVIDER_API_KEY}",
        "expected_json_text": "status == ok",
        "webhook_scheme": "stripe",
        "min_days_valid": 14,
        "interval_seconds": 30,
        "timeout_seconds": 5,
        "passes_to_tick": 3,
        "errors_to_page": 3,
        "enabled": "on",
    }
    response = client_for(ops).post(url(migration, "probes/new/"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    probe = Probe.objects.get(name="Auth test")
    assert probe.headers == {"Authorization": "Bearer ${PROVIDER_API_KEY}"}
    assert probe.expected_json == [{"path": "status", "equals": "ok"}]
    assert AuditEvent.objects.filter(action="probe.created", object_id=str(probe.pk)).exists()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"headers_text": "Authorization: Bearer sk_live_123"}, "headers_text", "looks secret"),
        ({"url": "http://169.254.169.254/latest/meta-data/"}, "url", "link-local"),
        ({"interval_seconds": 0}, "interval_seconds", ""),
        ({"kind": "json_metric", "json_path": ""}, "json_path", "JSONPath"),
        ({"kind": "prometheus", "query": ""}, "query", "query"),
        ({"expected_statuses": "ok"}, "expected_statuses", "status codes"),
    ],
)
def test_invalid_probe_input_answers_422_naming_the_field(
    client_for, ops, migration, settings, change, field, words
):
    settings.GOLIVE_PROBE_ALLOWLIST = []
    data = {
        "name": "Health",
        "kind": "http_health",
        "url": "http://93.184.215.14/health",
        "method": "GET",
        "expected_statuses": "200",
        "webhook_scheme": "stripe",
        "min_days_valid": 14,
        "interval_seconds": 30,
        "timeout_seconds": 5,
        "passes_to_tick": 3,
        "errors_to_page": 3,
    }
    data.update(change)
    response = client_for(ops).post(url(migration, "probes/new/"), data)
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="error-{field}"' in html
    assert words in html
    assert Probe.objects.count() == 0


def test_probe_configuration_needs_ops_or_admin(client_for, oncall, outsider, migration, probe):
    assert client_for(oncall).get(url(migration, "probes/new/")).status_code == 403
    assert client_for(oncall).post(url(migration, "probes/new/"), {"name": "x"}).status_code == 403
    assert client_for(outsider).post(url(migration, f"probes/{probe.pk}/toggle/")).status_code == 403
    probe.refresh_from_db()
    assert probe.enabled


def test_ops_disables_a_probe_without_a_reload(client_for, ops, migration, probe):
    response = client_for(ops).post(url(migration, f"probes/{probe.pk}/toggle/"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "probesChanged" in response.headers["HX-Trigger"]
    assert response.content.decode().lstrip().startswith('<div id="live"')
    probe.refresh_from_db()
    assert not probe.enabled
    assert AuditEvent.objects.filter(action="probe.updated").exists()


def test_post_views_refuse_get(client_for, ops, migration, probe):
    assert client_for(ops).get(url(migration, f"probes/{probe.pk}/toggle/")).status_code == 405
    assert client_for(ops).get(url(migration, "standard-kpis/")).status_code == 405
    assert client_for(ops).post(url(migration, "live/")).status_code == 405


def test_ops_adds_the_standard_kpis(client_for, ops, outsider, migration, probe):
    assert client_for(outsider).post(url(migration, "standard-kpis/"), {"probe": probe.pk}).status_code == 403
    response = client_for(ops).post(url(migration, "standard-kpis/"), {"probe": probe.pk})
    assert response.status_code == 302
    assert Kpi.objects.filter(migration=migration).count() == 6
    assert Guardrail.objects.filter(migration=migration).count() == 6


def test_the_migration_page_shows_the_summary_card(client_for, ops, migration, probe):
    html = client_for(ops).get(f"/migrations/{migration.slug}/").content.decode()
    assert "Probes and guardrails" in html
    assert f"/migrations/{migration.slug}/control-room/" in html
