"""Real local servers for probe tests: plain HTTP, HTTPS with a self-signed certificate,
a webhook receiver that checks signatures, and a Prometheus-compatible query endpoint."""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import subprocess
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Route:
    """What the server answers at one path; tests change it while the server runs."""

    def __init__(self, status=200, body=b"", headers=None, delay=0.0):
        self.status, self.body, self.headers, self.delay = status, body, headers or {}, delay

    @classmethod
    def json(cls, document, status=200, headers=None):
        return cls(
            status, json.dumps(document).encode(), {"Content-Type": "application/json", **(headers or {})}
        )


class LocalServer:
    def __init__(self, server: ThreadingHTTPServer, scheme: str):
        self.server, self.scheme = server, scheme
        self.routes: dict[str, Route] = {}
        self.requests: list[dict] = []
        self.handler = None  # optional callable(method, path, headers, body) -> Route

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


def _handler_class(state: LocalServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK stall)

        def log_message(self, *args):
            pass

        def _serve(self):
            import time

            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            record = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            state.requests.append(record)
            route = state.handler(self.command, self.path, self.headers, body) if state.handler else None
            route = route or state.routes.get(path) or Route(404, b"not found")
            if route.delay:
                time.sleep(route.delay)
            self.send_response(route.status)
            for name, value in route.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(route.body)

        do_GET = do_POST = do_HEAD = _serve

    return Handler


@contextmanager
def local_server(*, tls_files: tuple[Path, Path] | None = None):
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)
    state = LocalServer(server, "https" if tls_files else "http")
    server.RequestHandlerClass = _handler_class(state)
    server.daemon_threads = True
    if tls_files:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls_files[0]), str(tls_files[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def self_signed_certificate(directory: Path, *, days: int = 90, names=("localhost",)) -> tuple[Path, Path]:
    cert, key = directory / f"cert-{days}.pem", directory / f"key-{days}.pem"
    san = ",".join([f"DNS:{n}" for n in names] + ["IP:127.0.0.1"])
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            str(days),
            "-subj",
            f"/CN={names[0]}",
            "-addext",
            f"subjectAltName={san}",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def stripe_receiver(secret: str):
    """A webhook endpoint that accepts only events signed Stripe-style with `secret`."""

    def handle(method, path, headers, body):
        header = headers.get("Stripe-Signature", "")
        parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        expected = hmac.new(secret.encode(), f"{parts.get('t')}.".encode() + body, hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, parts.get("v1", "")):
            return Route.json({"received": True})
        return Route.json({"error": "bad signature"}, status=400)

    return handle


def standard_receiver(secret: str):
    """A webhook endpoint that verifies Standard Webhooks signatures with the reference library."""

    def handle(method, path, headers, body):
        try:
            Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})
        except WebhookVerificationError:
            return Route.json({"error": "bad signature"}, status=401)
        return Route(204)

    return handle


def prometheus_handler(values: dict[str, float | None]):
    """/api/v1/query answering a vector with the configured value for the query (None: empty)."""

    def handle(method, path, headers, body):
        parts = urlsplit(path)
        if parts.path != "/api/v1/query":
            return None
        query = parse_qs(parts.query).get("query", [""])[0]
        if query not in values:
            return Route.json(
                {"status": "error", "errorType": "bad_data", "error": "parse error"}, status=400
            )
        value = values[query]
        result = [] if value is None else [{"metric": {}, "value": [1700000000.0, str(value)]}]
        return Route.json({"status": "success", "data": {"resultType": "vector", "result": result}})

    return handle
