import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from checklists import gates
from migrations_app import access
from migrations_app.models import AuditEvent, Contact, Migration, MigrationRole, MigrationStatus
from migrations_app.monitoring.models import Guardrail, GuardrailAction, Kpi, Probe, ProbeKind
from migrations_app.rollout.models import ApiToken
from migrations_app.rollout.selectors import current_percent
from migrations_app.rollout.tokens import hash_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def seed(tmp_path):
    token_file = tmp_path / "demo-ingest-token"

    def run(**options):
        call_command("seed_demo", token_file=str(token_file), provider_url="http://127.0.0.1:8765", **options)
        return token_file

    return run


def _counts():
    return {
        "users": get_user_model().objects.count(),
        "migrations": Migration.objects.count(),
        "roles": MigrationRole.objects.count(),
        "contacts": Contact.objects.count(),
        "audit": AuditEvent.objects.count(),
        "probes": Probe.objects.count(),
        "tokens": ApiToken.objects.count(),
    }


def test_seed_demo_creates_one_user_per_role_and_prints_the_logins(capsys, seed):
    seed()
    out = capsys.readouterr().out
    User = get_user_model()
    for username, group in [
        ("ops", "Ops"),
        ("pm", "Product Manager"),
        ("oncall", "On-call"),
        ("admin", "Admin"),
    ]:
        assert username in out
        assert User.objects.get(username=username).groups.filter(name=group).exists()
        assert User.objects.get(username=username).check_password("golive-demo")
    assert "golive-demo" in out
    assert access.can(User.objects.get(username="admin"), "edit_contacts")
    migration = Migration.objects.get(slug="payment-gateway")
    assert migration.contacts.count() >= 3


def test_running_seed_demo_twice_changes_nothing(seed):
    seed()
    first = _counts()
    seed()
    assert _counts() == first


def test_it_points_the_demo_probes_at_the_demo_provider(seed):
    seed()
    for slug in ("payment-gateway", "webhook-service"):
        probes = {p.kind: p for p in Probe.objects.filter(migration__slug=slug)}
        assert probes[ProbeKind.HTTP_HEALTH].url == "http://127.0.0.1:8765/health"
        assert probes[ProbeKind.AUTHENTICATED_CALL].headers == {
            "Authorization": "Bearer ${DEMO_PROVIDER_API_KEY}"
        }
        assert probes[ProbeKind.JSON_METRIC].url == "http://127.0.0.1:8765/organizations/me"
        assert probes[ProbeKind.JSON_METRIC].json_path == "$.availableCredits"


def test_it_seeds_a_second_migration_past_its_gate_at_25_percent_with_rollback_guardrails(seed):
    seed()
    migration = Migration.objects.get(slug="webhook-service")
    assert migration.status == MigrationStatus.ROLLING_OUT
    assert current_percent(migration) == 25
    assert gates.go_live_gate_blocker(migration) is None
    # The gate was completed through the services: sign-offs by the demo users are on the trail.
    signers = set(
        AuditEvent.objects.filter(migration=migration, action="signoff.signed").values_list(
            "actor_label", flat=True
        )
    )
    assert len(signers) >= 4
    guardrails = Guardrail.objects.filter(migration=migration).exclude(kind="compare")
    assert guardrails.exists()
    assert set(guardrails.values_list("action", flat=True)) == {GuardrailAction.ROLLBACK}
    assert set(guardrails.values_list("consecutive", flat=True)) == {3}
    assert set(Kpi.objects.filter(migration=migration).values_list("window_seconds", flat=True)) == {60}
    assert set(Probe.objects.filter(migration=migration).values_list("interval_seconds", flat=True)) == {5}
    payment = Migration.objects.get(slug="payment-gateway")
    assert set(Guardrail.objects.filter(migration=payment).values_list("action", flat=True)) == {
        GuardrailAction.ALERT
    }


def test_it_writes_an_ingest_token_for_the_demo_provider_only_once(seed):
    token_file = seed()
    raw = token_file.read_text().strip()
    token = ApiToken.objects.get(token_hash=hash_token(raw))
    assert sorted(token.scopes) == ["flags", "ingest"]  # flags: the simulated checkout asks OFREP
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    seed()
    assert token_file.read_text().strip() == raw


def test_it_replaces_an_ingest_only_token_from_before_the_simulated_checkout(seed):
    token_file = seed()
    ApiToken.objects.update(scopes=["ingest"])
    old = token_file.read_text().strip()
    seed()
    new = token_file.read_text().strip()
    assert new != old
    assert sorted(ApiToken.objects.get(token_hash=hash_token(new)).scopes) == ["flags", "ingest"]


def test_it_seeds_compare_guardrails_that_pause_on_the_simulated_checkout(seed):
    seed()
    compare = Guardrail.objects.filter(migration__slug="webhook-service", kind="compare").select_related(
        "kpi"
    )
    by_metric = {g.kpi.metric: g for g in compare}
    assert set(by_metric) == {"checkout_latency_ms", "checkout_success"}
    assert {g.action for g in compare} == {"pause"}
    assert by_metric["checkout_latency_ms"].tolerance_percent == 20
    assert by_metric["checkout_success"].tolerance_points == 2
    assert {g.kpi.critical for g in compare} == {None}  # compared only, no fixed threshold
    seed()
    assert Guardrail.objects.filter(migration__slug="webhook-service", kind="compare").count() == 2
