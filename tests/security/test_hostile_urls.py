"""Every outbound call refuses every hostile spelling: listeners on 127.0.0.1, 127.0.0.2 and [::1]
hear nothing, redirects included. The save-time refusals of every page, admin page and API route
are in test_hostile_urls_everywhere.py."""

from __future__ import annotations

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from migrations_app.incidents import channels
from migrations_app.monitoring.probing import ProbeSpec, run
from migrations_app.rollout import outbox
from migrations_app.rollout.models import OutboxMessage, OutboxStatus
from tests.security.hostile_urls import corpus, listening


@pytest.fixture
def listeners(settings):
    settings.GOLIVE_PROBE_ALLOWLIST = []  # the old name: tests elsewhere set it, it must still win
    settings.GOLIVE_OUTBOUND_ALLOWLIST = []
    with listening() as heard:
        yield heard


def test_the_corpus_is_big_and_its_host_name_is_really_local(listeners):
    urls = corpus(listeners.port)
    assert len(urls) >= 50
    assert len(set(urls)) == len(urls)
    for address in {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), 80)}:
        assert not ipaddress.ip_address(address).is_global


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
