"""The demo provider (a real HTTP server on a free port) and the card that controls it."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from standardwebhooks import Webhook

from migrations_app.demo import provider as demo_provider
from migrations_app.models import AuditEvent
from migrations_app.monitoring.models import Sample
from tests.factories import make_migration
from tests.processes import free_port

pytest_plugins = ["tests.browser.journeys"]  # seeded: the demo as `make run` seeds it


@pytest.fixture
def provider():
    server = demo_provider.serve(host="127.0.0.1", port=free_port())
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def demo(settings, provider, ops):
    settings.GOLIVE_DEMO_PROVIDER_URL = provider.url
    return make_migration(owner=ops, slug="webhook-service")


def _mode(provider) -> str:
    return httpx.get(f"{provider.url}/_control").json()["mode"]


def test_it_answers_health_with_status_and_version(provider):
    response = httpx.get(f"{provider.url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": demo_provider.VERSION}


def test_it_refuses_the_api_without_the_key_and_answers_with_it(provider):
    assert httpx.get(f"{provider.url}/v1/account").status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert httpx.get(f"{provider.url}/v1/account", headers=wrong).status_code == 401
    key = {"Authorization": f"Bearer {demo_provider.DEFAULT_API_KEY}"}
    assert httpx.get(f"{provider.url}/v1/account", headers=key).json()["status"] == "active"


def test_it_spends_credits_slowly(provider):
    key = {"Authorization": f"Bearer {demo_provider.DEFAULT_API_KEY}"}
    first = httpx.get(f"{provider.url}/organizations/me", headers=key).json()["availableCredits"]
    time.sleep(1.1)
    second = httpx.get(f"{provider.url}/organizations/me", headers=key).json()["availableCredits"]
    assert 0 < first - second < 5


def test_it_errors_drops_connections_and_recovers_on_command(provider):
    httpx.post(f"{provider.url}/_control", json={"mode": "error"})
    assert httpx.get(f"{provider.url}/health").status_code == 500
    httpx.post(f"{provider.url}/_control", json={"mode": "down"})
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{provider.url}/health", timeout=2)
    assert _mode(provider) == "down"  # the control endpoint keeps answering
    httpx.post(f"{provider.url}/_control", json={"mode": "ok"})
    assert httpx.get(f"{provider.url}/health").json()["status"] == "ok"


def test_it_is_slow_when_told(provider):
    httpx.post(f"{provider.url}/_control", json={"mode": "slow"})
    started = time.monotonic()
    assert httpx.get(f"{provider.url}/health", timeout=10).status_code == 200
    assert time.monotonic() - started >= demo_provider.SLOW_SECONDS


def test_it_refuses_an_unknown_mode(provider):
    response = httpx.post(f"{provider.url}/_control", json={"mode": "exploding"})
    assert response.status_code == 400
    assert _mode(provider) == "ok"


def test_it_signs_its_webhooks_with_standard_webhooks(provider, tmp_path):
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    sender = demo_provider.Sender(
        provider.state,
        golive_url="http://127.0.0.1:1",
        slug="",
        token_file=tmp_path / "none",
        webhook_url=f"http://127.0.0.1:{receiver.server_address[1]}/hook",
        webhook_secret=demo_provider.DEFAULT_WEBHOOK_SECRET,
        every=60,
    )
    try:
        with httpx.Client() as client:
            sender.send_webhook(client)
    finally:
        receiver.shutdown()
        receiver.server_close()
    headers, body = received[0]
    headers = {k.lower(): v for k, v in headers.items()}
    event = Webhook(demo_provider.DEFAULT_WEBHOOK_SECRET).verify(body, headers)
    assert event["type"] == "payment.succeeded"


@pytest.mark.django_db(transaction=True)
def test_it_reports_payment_outcomes_to_the_ingestion_api(live_server, seeded, provider, tmp_path):
    token_file = tmp_path / "token"  # written by the seeded fixture's seed_demo
    sender = demo_provider.Sender(
        provider.state,
        golive_url=live_server.url,
        slug="webhook-service",
        token_file=token_file,
        webhook_url="",
        webhook_secret=demo_provider.DEFAULT_WEBHOOK_SECRET,
        every=60,
    )
    httpx.post(f"{provider.url}/_control", json={"mode": "error"})
    with httpx.Client() as client:
        sender.send_samples(client)
    samples = Sample.objects.filter(migration__slug="webhook-service", metric="payment_success")
    assert samples.count() == 1
    assert samples.get().failed > 0


# --- the control card ---------------------------------------------------------------------------


def test_it_shows_the_card_on_a_demo_migration_with_the_current_mode(client_for, ops, demo):
    response = client_for(ops).get(f"/migrations/{demo.slug}/")
    assert response.status_code == 200
    assert b"Demo provider" in response.content
    assert b"Make it erroring" in response.content


def test_it_hides_the_card_without_a_configured_provider(client_for, ops, settings):
    settings.GOLIVE_DEMO_PROVIDER_URL = ""
    migration = make_migration(owner=ops, slug="webhook-service")
    assert b"Demo provider" not in client_for(ops).get(f"/migrations/{migration.slug}/").content


def test_it_hides_the_card_on_other_migrations(client_for, ops, demo, migration):
    assert b"Demo provider" not in client_for(ops).get(f"/migrations/{migration.slug}/").content


def test_it_says_when_the_provider_does_not_answer(client_for, ops, settings):
    settings.GOLIVE_DEMO_PROVIDER_URL = f"http://127.0.0.1:{free_port()}"
    migration = make_migration(owner=ops, slug="webhook-service")
    response = client_for(ops).get(f"/migrations/{migration.slug}/")
    assert b"does not answer" in response.content


def test_it_sets_the_mode_audits_it_and_rerenders_the_card(client_for, oncall, provider, demo):
    response = client_for(oncall).post(
        f"/migrations/{demo.slug}/demo-provider/", {"mode": "error"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "demoProviderChanged" in response.headers["HX-Trigger"]
    assert b'id="demo-provider"' in response.content
    assert b"<html" not in response.content
    assert _mode(provider) == "error"
    event = AuditEvent.objects.get(action="demo_provider.mode_changed", migration=demo)
    assert event.before == {"mode": "ok"} and event.after == {"mode": "error"}
    assert event.actor_label.startswith(oncall.username) or oncall.username in event.actor_label


def test_it_refuses_an_unknown_mode_with_422_and_changes_nothing(client_for, ops, provider, demo):
    response = client_for(ops).post(f"/migrations/{demo.slug}/demo-provider/", {"mode": "exploding"})
    assert response.status_code == 422
    assert b"Choose one of" in response.content
    assert _mode(provider) == "ok"
    assert not AuditEvent.objects.filter(action="demo_provider.mode_changed").exists()


def test_it_refuses_a_product_manager(client_for, pm, provider, demo):
    response = client_for(pm).post(f"/migrations/{demo.slug}/demo-provider/", {"mode": "down"})
    assert response.status_code == 403
    assert _mode(provider) == "ok"


def test_it_refuses_an_outsider(client_for, outsider, provider, demo):
    response = client_for(outsider).post(f"/migrations/{demo.slug}/demo-provider/", {"mode": "down"})
    assert response.status_code == 403
    assert _mode(provider) == "ok"


def test_it_refuses_get(client_for, ops, demo):
    assert client_for(ops).get(f"/migrations/{demo.slug}/demo-provider/").status_code == 405


def test_it_answers_422_when_the_provider_is_gone(client_for, ops, provider, demo):
    provider.shutdown()
    provider.server_close()
    response = client_for(ops).post(f"/migrations/{demo.slug}/demo-provider/", {"mode": "down"})
    assert response.status_code == 422
    assert not AuditEvent.objects.filter(action="demo_provider.mode_changed").exists()


# --- the simulated checkout's two paths -----------------------------------------------------------


def _sender(provider, tmp_path):
    return demo_provider.Sender(
        provider.state,
        golive_url="http://127.0.0.1:1",
        slug="webhook-service",
        token_file=tmp_path / "none",
        webhook_url="",
        webhook_secret=demo_provider.DEFAULT_WEBHOOK_SECRET,
        every=60,
    )


def _median_latency(sender, path: str) -> float:
    values = sorted(sender.checkout(path)[0] for _ in range(400))
    return values[200]


def _failures(sender, path: str) -> int:
    return sum(not sender.checkout(path)[1] for _ in range(1000))


@pytest.mark.parametrize(
    ("mode", "new_slower", "old_slower"),
    [("ok", False, False), ("new_slow", True, False), ("both_slow", True, True), ("new_error", False, False)],
)
def test_its_canary_modes_slow_only_the_paths_they_name(provider, tmp_path, mode, new_slower, old_slower):
    httpx.post(f"{provider.url}/_control", json={"mode": mode})
    sender = _sender(provider, tmp_path)
    healthy = demo_provider.CHECKOUT_MEDIAN_MS
    assert (_median_latency(sender, "new") > 1.3 * healthy) is new_slower
    assert (_median_latency(sender, "old") > 1.3 * healthy) is old_slower


def test_making_the_new_path_fail_fails_only_the_new_paths_checkouts(provider, tmp_path):
    httpx.post(f"{provider.url}/_control", json={"mode": "new_error"})
    sender = _sender(provider, tmp_path)
    assert _failures(sender, "new") > 40  # about 8 %
    assert _failures(sender, "old") < 15  # about 0.2 %


def test_its_canary_modes_leave_the_provider_endpoints_healthy(provider):
    for mode in ("new_slow", "new_error", "both_slow"):
        httpx.post(f"{provider.url}/_control", json={"mode": mode})
        started = time.monotonic()
        assert httpx.get(f"{provider.url}/health").status_code == 200
        assert time.monotonic() - started < 1


def test_a_user_golive_cannot_answer_takes_the_old_path(provider, tmp_path):
    assert _sender(provider, tmp_path).path_of(httpx.Client(timeout=1), "demo-user-1", "token") == "old"


@pytest.mark.django_db(transaction=True)
def test_it_pushes_each_users_checkout_with_their_targeting_key(live_server, seeded, provider, tmp_path):
    sender = demo_provider.Sender(
        provider.state,
        golive_url=live_server.url,
        slug="webhook-service",
        token_file=tmp_path / "token",  # written by the seeded fixture's seed_demo (ingest and flags)
        webhook_url="",
        webhook_secret=demo_provider.DEFAULT_WEBHOOK_SECRET,
        every=60,
    )
    with httpx.Client() as client:
        sender.send_checkouts(client)
    latencies = Sample.objects.filter(migration__slug="webhook-service", metric="checkout_latency_ms")
    assert latencies.count() == demo_provider.CHECKOUT_USERS
    cohorts = set(latencies.values_list("cohort", flat=True))
    assert cohorts == {"new", "old"}  # golive derived each user's path at 25 %
    outcomes = Sample.objects.filter(migration__slug="webhook-service", metric="checkout_success")
    assert outcomes.count() == demo_provider.CHECKOUT_USERS


def test_the_card_offers_to_degrade_the_new_path_only_or_both(client_for, ops, demo):
    page = client_for(ops).get(f"/migrations/{demo.slug}/").content.decode()
    for button in ("Slow down the new path only", "Make the new path fail", "Slow down both paths"):
        assert button in page


def test_it_audits_degrading_the_new_path(client_for, oncall, provider, demo):
    response = client_for(oncall).post(
        f"/migrations/{demo.slug}/demo-provider/", {"mode": "new_slow"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert _mode(provider) == "new_slow"
    event = AuditEvent.objects.get(action="demo_provider.mode_changed", migration=demo)
    assert event.before == {"mode": "ok"} and event.after == {"mode": "new_slow"}
    assert "old path stays healthy" in event.reason
