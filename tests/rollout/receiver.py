"""A local HTTP server that receives rollback webhooks and checks their Standard Webhooks signature."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


@contextmanager
def webhook_receiver(secret: str, *, fail_first: int = 0):
    """Yields an object with .url and .received (verified payloads and headers), answering 500
    to the first `fail_first` requests."""
    state = {"count": 0}
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
            state["count"] += 1
            if state["count"] <= fail_first:
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"down for maintenance")
                return
            headers = {key.lower(): value for key, value in self.headers.items()}
            try:
                payload = Webhook(secret).verify(body, headers)
            except Exception as error:  # a bad signature is recorded, and refused
                received.append({"error": str(error), "headers": headers})
                self.send_response(400)
                self.end_headers()
                return
            received.append({"payload": payload, "headers": headers})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    class Receiver:
        url = f"http://127.0.0.1:{server.server_address[1]}/golive-rollback"

    receiver = Receiver()
    receiver.received = received
    receiver.requests = state
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
