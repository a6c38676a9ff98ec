"""Probe targets that hang, reset the connection, trickle, or answer garbage: the outcome is an
error (never a pass, never a breach), the call ends within its timeout, and a healthy probe in the
same batch still gets its result at once."""

import socket
import threading
import time
from contextlib import contextmanager

import pytest
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.monitoring import probing, tasks
from migrations_app.monitoring import services as monitoring
from migrations_app.monitoring.models import ProbeResult
from tests.monitoring.servers import Route, local_server

TIMEOUT = 1.0


def _hang(conn):
    time.sleep(TIMEOUT * 4)


def _reset(conn):
    conn.recv(1024)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST on close


def _trickle(conn):
    conn.recv(1024)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    for _ in range(40):
        conn.sendall(b"x")
        time.sleep(0.2)


def _garbage(conn):
    conn.recv(1024)
    conn.sendall(bytes(range(256)) * 4)


def _headers_forever(conn):
    conn.recv(1024)
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    for n in range(100):
        conn.sendall(f"X-{n}: {'a' * 50}\r\n".encode())
        time.sleep(0.05)


BEHAVIOURS = {
    "hang": _hang,
    "reset": _reset,
    "trickle": _trickle,
    "garbage": _garbage,
    "headers": _headers_forever,  # each line arrives well within the timeout; the whole call does not
}


@contextmanager
def hostile_server(behaviour):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue

            def handle(c=conn):
                try:
                    behaviour(c)
                except OSError:
                    pass
                finally:
                    c.close()

            threading.Thread(target=handle, daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/health"
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()


@pytest.fixture(autouse=True)
def _allow_local(settings):
    settings.GOLIVE_PROBE_ALLOWLIST = ["127.0.0.1/32"]


@pytest.mark.parametrize("behaviour", sorted(BEHAVIOURS))
def test_a_hostile_target_gives_an_error_within_the_timeout(behaviour):
    with hostile_server(BEHAVIOURS[behaviour]) as url:
        started = time.monotonic()
        outcome = probing.run(probing.ProbeSpec("http_health", url, timeout=TIMEOUT))
        took = time.monotonic() - started
    assert outcome.outcome == "error", (behaviour, outcome)
    assert took < TIMEOUT + 1.0, f"{behaviour}: took {took:.2f}s"


@pytest.mark.parametrize("kind", ["tls_certificate", "webhook_signature", "prometheus"])
def test_every_kind_gives_an_error_within_its_timeout_when_the_target_drips_headers(kind):
    with hostile_server(_headers_forever) as url:
        if kind == "tls_certificate":
            url = url.replace("http://", "https://")  # a TLS handshake that never completes
        started = time.monotonic()
        spec = probing.ProbeSpec(kind, url, timeout=TIMEOUT, query="up", secret_env="SIGNING")
        outcome = probing.run(spec, environ={"SIGNING": "whsec_test"})
        took = time.monotonic() - started
    assert outcome.outcome == "error", (kind, outcome)
    assert took < TIMEOUT + 1.0, f"{kind}: took {took:.2f}s"


@pytest.mark.django_db
def test_a_hanging_probe_does_not_delay_a_healthy_one_in_the_same_batch(migration):
    with hostile_server(_hang) as bad_url, local_server() as good:
        good.routes["/health"] = Route(200, b"ok")
        system = Actor.system("tests")
        slot = timezone.now().replace(microsecond=0)  # before the probes exist: they are due after it
        bad = monitoring.create_probe(
            migration, by=system, name="hangs", url=bad_url, timeout_seconds=TIMEOUT
        )
        fine = monitoring.create_probe(migration, by=system, name="fine", url=good.url("/health"))
        started = time.monotonic()
        ran = tasks.run_probes(runs=[[bad.pk, slot.isoformat()], [fine.pk, slot.isoformat()]])
        took = time.monotonic() - started
    assert ran == 2
    fine_result, bad_result = ProbeResult.objects.get(probe=fine), ProbeResult.objects.get(probe=bad)
    assert fine_result.outcome == "pass"
    assert bad_result.outcome == "error"
    assert took < TIMEOUT + 1.5
    # The healthy result was stored as soon as it came, not when the batch ended.
    assert (bad_result.checked_at - fine_result.checked_at).total_seconds() > TIMEOUT / 2
    bad.refresh_from_db()
    assert bad.next_due_at > slot  # the hanging probe keeps its schedule too
