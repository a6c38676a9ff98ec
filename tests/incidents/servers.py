"""Real local servers for notification tests: an SMTP server (aiosmtpd) and a JSON receiver."""

from __future__ import annotations

import email
import json
import threading
from contextlib import contextmanager
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.processes import free_port


class _Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


@contextmanager
def smtp_server():
    """Yields an inbox (.messages, .port) of a real SMTP server on 127.0.0.1."""
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()


@contextmanager
def json_receiver(*, status: int = 200):
    """A local HTTP server recording JSON POSTs (path and body); answers `status`."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            received.append(
                {"path": self.path, "body": json.loads(body or "null"), "headers": dict(self.headers)}
            )
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(
                b'{"ok": true}' if status < 300 else b'{"ok": false, "description": "Bad Request"}'
            )

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    class Receiver:
        url = f"http://127.0.0.1:{server.server_address[1]}"

    receiver = Receiver()
    receiver.received = received
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
