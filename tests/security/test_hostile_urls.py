"""Every URL-taking form, admin page and outbound call refuses every hostile spelling: listeners
on 127.0.0.1, 127.0.0.2 and [::1] hear nothing, redirects included, and save-time refusals name
the `url` field."""

from __future__ import annotations

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from migrations_app.incidents import channels
from migrations_app.incidents.models import ChannelKind, NotificationChannel
from migrations_app.monitoring.models import Probe
from migrations_app.monitoring.probing import ProbeSpec, run
from migrations_app.rollout import outbox
from migrations_app.rollout.models import OutboxMessage, OutboxStatus, RollbackHook
from tests.factories import make_user
from tests.security.hostile_urls import corpus, listening

PROBE_FIELDS = {
    "name": "Health",
    "kind": "http_health",
    "method": "GET",
    "expected_statuses": "200",
    "webhook_scheme": "stripe",
    "min_days_valid": 14,
    "interval_seconds": 30,
    "timeout_seconds": 1,
    "passes_to_tick": 3,
    "errors_to_page": 3,
}


@pytest.fixture
def listeners(settings):
    settings.GOLIVE_PROBE_ALLOWLIST = []  # the old name: tests elsewhere set it, it must still win
    settings.GOLIVE_OUTBOUND_ALLOWLIST = []
    with listening() as heard:
        yield heard


@pytest.fixture
def superuser(db):
    return make_user("break-glass", is_staff=True, is_superuser=True)


def test_the_corpus_is_big_and_its_host_name_is_really_local(listeners):
    urls = corpus(listeners.port)
    assert len(urls) >= 50
    assert len(set(urls)) == len(urls)
    for address in {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), 80)}:
        assert not ipaddress.ip_address(address).is_global


def _refusals(client, path, data_for, errors_of, urls) -> list[str]:
    """The URLs that were NOT refused with an error on `url` (expected: none)."""
    accepted = []
    for url in urls:
        response = client.post(path, data_for(url))
        errors = errors_of(response)
        if errors is None or "url" not in errors:
            accepted.append(url)
    return accepted


def _page_errors(response):
    return response.context["form"].errors if response.status_code == 422 else None


def _admin_errors(response):
    return response.context["adminform"].form.errors if response.status_code == 200 else None


@pytest.mark.parametrize("kind", ["http_health", "prometheus"])
def test_the_probe_form_refuses_every_hostile_url_by_name(client_for, ops, migration, listeners, kind):
    def data(url):
        return {**PROBE_FIELDS, "kind": kind, "query": "up", "url": url}

    path = f"/migrations/{migration.slug}/control-room/probes/new/"
    urls = corpus(listeners.port)
    assert _refusals(client_for(ops), path, data, _page_errors, urls) == []
    assert Probe.objects.count() == 0
    assert listeners.connections == {"127.0.0.1": 0, "127.0.0.2": 0, "::1": 0}


@pytest.mark.parametrize("kind", [ChannelKind.SLACK, ChannelKind.WEBHOOK])
def test_the_channel_form_refuses_every_hostile_url_by_name(client_for, admin_user, listeners, kind):
    def data(url):
        return {
            "name": "Ops chat",
            "kind": kind,
            "url": url,
            "secret": "whsec_" + "A" * 32,
            "incidents": "on",
        }

    urls = corpus(listeners.port)
    assert _refusals(client_for(admin_user), "/notifications/new/", data, _page_errors, urls) == []
    assert NotificationChannel.objects.count() == 0
    assert listeners.total() == 0


def test_the_admin_refuses_every_hostile_url_on_probes_channels_and_rollback_hooks(
    client_for, superuser, migration, listeners
):
    client = client_for(superuser)
    urls = corpus(listeners.port)
    pages = [
        ("/admin/monitoring/probe/add/", lambda url: {**PROBE_FIELDS, "migration": migration.pk, "url": url}),
        (
            "/admin/incidents/notificationchannel/add/",
            lambda url: {"name": "Hook", "kind": "slack", "url": url, "active": "on", "incidents": "on"},
        ),
        (
            "/admin/rollout/rollbackhook/add/",
            lambda url: {"migration": migration.pk, "name": "Deploy", "url": url, "secret": "whsec_x"},
        ),
    ]
    for path, data in pages:
        assert _refusals(client, path, data, _admin_errors, urls) == [], path
    assert not Probe.objects.exists()
    assert not NotificationChannel.objects.exists()
    assert not RollbackHook.objects.exists()
    assert listeners.total() == 0


def test_every_call_checks_again_so_rows_saved_around_the_forms_still_connect_nowhere(
    migration, listeners, monkeypatch, settings
):
    """A name can resolve differently tomorrow: rows written without validation (or validated
    yesterday) are checked again when probes run and when the outbox delivers."""
    monkeypatch.setenv("HOSTILE_BOT_TOKEN", "123:abc")
    for url in corpus(listeners.port):
        for kind in ("http_health", "prometheus", "json_metric", "security_headers"):
            outcome = run(ProbeSpec(kind, url, query="up", json_path="$.x", timeout=1))
            assert outcome.outcome == "error", (kind, url, outcome.summary)
        webhook = outbox.enqueue_webhook(
            url=url, secret="whsec_" + "A" * 32, event_type="t", payload={}, migration=migration
        )
        chat = outbox.enqueue_channel(
            target=url, event_type="t", payload={"channel_kind": "slack", "body": {}}, migration=None
        )
        for message in (webhook, chat):
            assert outbox.deliver(message.pk) == OutboxStatus.PENDING, url
        if url.startswith("http"):
            settings.GOLIVE_TELEGRAM_API_BASE = url.rstrip("/")
            telegram = OutboxMessage(
                payload={"channel_kind": "telegram", "token_env": "HOSTILE_BOT_TOKEN", "body": {}}
            )
            with pytest.raises(channels.ChannelDeliveryError) as refused:
                channels.deliver(telegram)
            assert "123:abc" not in str(refused.value)
    assert listeners.connections == {"127.0.0.1": 0, "127.0.0.2": 0, "::1": 0}


class _Redirector(BaseHTTPRequestHandler):
    location = ""
    hits = 0

    def _answer(self):
        type(self).hits += 1
        self.send_response(307)
        self.send_header("Location", self.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_HEAD = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def redirector(listeners, settings):
    """An allowed target (127.0.0.3 is allowlisted) that redirects to the listeners."""
    settings.GOLIVE_PROBE_ALLOWLIST = ["127.0.0.3/32"]
    handler = type("Redirector", (_Redirector,), {"hits": 0})
    server = ThreadingHTTPServer(("127.0.0.3", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield handler, f"http://127.0.0.3:{server.server_port}/"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("target", ["http://127.0.0.1:{p}/", "http://[::1]:{p}/", "http://localhost:{p}/"])
def test_a_redirect_to_a_forbidden_address_is_never_followed(migration, listeners, redirector, target):
    handler, allowed_url = redirector
    handler.location = target.format(p=listeners.port)
    outcome = run(ProbeSpec("http_health", allowed_url, timeout=1))
    assert outcome.outcome == "fail" and "do not follow redirects" in outcome.summary
    webhook = outbox.enqueue_webhook(
        url=allowed_url, secret="whsec_" + "A" * 32, event_type="t", payload={}, migration=migration
    )
    chat = outbox.enqueue_channel(
        target=allowed_url, event_type="t", payload={"channel_kind": "slack", "body": {}}, migration=None
    )
    for message in (webhook, chat):
        assert outbox.deliver(message.pk) == OutboxStatus.PENDING
        message.refresh_from_db()
        assert "not followed" in message.last_error
    assert handler.hits == 3
    assert listeners.total() == 0
