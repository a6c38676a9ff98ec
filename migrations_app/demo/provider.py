"""A stand-in for the payment provider of the reference plans, for `make run` and the tests.

    python -m migrations_app.demo.provider --port 8001

It answers what golive's demo probes call:
  GET  /health              {"status": "ok", "version": "..."}
  GET  /v1/account          needs `Authorization: Bearer <DEMO_PROVIDER_API_KEY>`
  GET  /organizations/me    {"availableCredits": ...}, slowly decreasing (also needs the key)
  POST /_control            {"mode": one of MODES}; GET /_control shows the mode
and, when a migration and a token (scopes ingest and flags) are configured, it reports its payment
outcomes every few seconds to golive's ingestion API and sends signed (Standard Webhooks)
"payment.succeeded" events to a receiver URL, if one is given.

It also plays a checkout with two paths: each round, CHECKOUT_USERS simulated users ask golive's
OFREP endpoint which path they take (the old one when golive does not answer, as the integration
guide says), check out on it, and their latency and outcome are pushed with their targeting key,
so golive derives each sample's cohort itself and compare guardrails can set the paths side by side.

Modes: slow adds SLOW_SECONDS of latency, error answers 500, down drops the connection of every
endpoint except /_control (so the demo can always be brought back). The canary modes leave the
provider's endpoints (and so the probes) healthy and change only the checkout: new_slow makes the
new path CANARY_SLOWDOWN times slower, new_error fails CANARY_FAILURE_RATE of the new path's
checkouts, both_slow slows both paths alike (a bad hour for everyone, which is no reason to pause).
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import logging
import math
import os
import random
import signal
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from standardwebhooks import Webhook

VERSION = "2026.11-demo"
DEFAULT_API_KEY = "demo-provider-key"
# A Standard Webhooks secret is "whsec_" + base64 of the key bytes.
DEFAULT_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"golive-demo-webhook-secret-0001").decode()
MODES = ("ok", "slow", "error", "down", "new_slow", "new_error", "both_slow")
SLOW_SECONDS = 2.5
CHECKOUT_USERS = 40  # simulated users per round, out of a pool of USER_POOL
USER_POOL = 2000
CHECKOUT_MEDIAN_MS = 120.0
CHECKOUT_SPREAD = 0.35  # sigma of the log-normal latency: a realistic long right tail
CANARY_SLOWDOWN = 1.5
CANARY_FAILURE_RATE = 0.08
HEALTHY_FAILURE_RATE = 0.002
STARTING_CREDITS = 50_000.0

log = logging.getLogger("demo_provider")


class State:
    """What the provider does now; shared by the request threads and the sender thread."""

    def __init__(self, api_key: str):
        self.api_key = api_key
        self.mode = "ok"
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def set_mode(self, mode: str) -> None:
        with self.lock:
            self.mode = mode

    def credits(self) -> float:
        # About one credit spent every two seconds: the credits KPI moves while you watch.
        return round(STARTING_CREDITS - (time.monotonic() - self.started) / 2, 1)


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        server_version = "DemoProvider/" + VERSION

        def log_message(self, format, *args):
            log.debug("%s " + format, self.address_string(), *args)

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _misbehave(self) -> bool:
            """Apply the mode to a provider endpoint; True when the request has been dealt with."""
            mode = state.mode
            if mode == "down":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)  # the client sees the connection dropped
                return True
            if mode == "slow":
                time.sleep(SLOW_SECONDS)
            if mode == "error":
                self._send(500, {"error": "internal_error", "message": "The demo provider is set to fail."})
                return True
            return False

        def _authorised(self) -> bool:
            if self.headers.get("Authorization", "") == f"Bearer {state.api_key}":
                return True
            self._send(401, {"error": "unauthorized", "message": "Send Authorization: Bearer <api key>."})
            return False

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path == "/_control":
                return self._send(200, {"mode": state.mode})
            if path not in ("/health", "/v1/account", "/organizations/me"):
                return self._send(404, {"error": "not_found"})
            if self._misbehave():
                return None
            if path == "/health":
                return self._send(200, {"status": "ok", "version": VERSION})
            if not self._authorised():
                return None
            if path == "/v1/account":
                return self._send(200, {"id": "acct_demo", "livemode": True, "status": "active"})
            return self._send(200, {"id": "org_demo", "availableCredits": state.credits()})

        def do_POST(self):
            if self.path.split("?", 1)[0] != "/_control":
                return self._send(404, {"error": "not_found"})
            length = int(self.headers.get("Content-Length") or 0)
            try:
                mode = json.loads(self.rfile.read(length) or b"{}").get("mode")
            except (ValueError, AttributeError):
                mode = None
            if mode not in MODES:
                return self._send(
                    400, {"error": "invalid_mode", "message": f"mode is one of {', '.join(MODES)}"}
                )
            state.set_mode(mode)
            log.warning("mode is now %s", mode)
            return self._send(200, {"mode": mode})

    return Handler


class Sender(threading.Thread):
    """Every `every` seconds: a batch of payment outcomes to golive's ingestion API, and a signed
    payment.succeeded event to the webhook receiver (when configured). Failures are logged, never fatal."""

    def __init__(
        self,
        state: State,
        *,
        golive_url: str,
        slug: str,
        token_file: Path,
        webhook_url: str,
        webhook_secret: str,
        every: float,
    ):
        super().__init__(daemon=True, name="demo-provider-sender")
        self.state, self.golive_url, self.slug = state, golive_url.rstrip("/"), slug
        self.token_file, self.webhook_url, self.every = token_file, webhook_url, every
        self.webhook = Webhook(webhook_secret)
        self.stopped = threading.Event()

    def run(self):
        with httpx.Client(timeout=5) as client:
            while not self.stopped.wait(self.every):
                try:
                    self.send_samples(client)
                    self.send_checkouts(client)
                    self.send_webhook(client)
                except httpx.HTTPError as error:
                    log.info("sending failed: %s", error)

    def outcomes(self) -> tuple[int, int]:
        """(succeeded, failed) payments in the last period: almost all succeed unless the mode says otherwise."""
        total = random.randint(40, 60)
        # The canary modes degrade only the checkout (send_checkouts), not these fleet-wide counts.
        failed = {"slow": random.randint(0, 1), "error": total // 3, "down": total}.get(self.state.mode, 0)
        return total - failed, failed

    def token(self) -> str:
        return self.token_file.read_text().strip() if self.token_file.exists() else ""

    def send_samples(self, client: httpx.Client) -> None:
        token = self.token()
        if not (token and self.slug):
            return
        ok, failed = self.outcomes()
        body = {
            "samples": [
                {"metric": "payment_success", "ok": ok, "failed": failed},
                {"metric": "webhook_delivery", "ok": ok, "failed": failed},
                {
                    "metric": "uptime",
                    "ok": int(self.state.mode != "down"),
                    "failed": int(self.state.mode == "down"),
                },
            ]
        }
        url = f"{self.golive_url}/api/v1/migrations/{self.slug}/samples"
        client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})

    def path_of(self, client: httpx.Client, user: str, token: str) -> str:
        """ "new" or "old": what golive's OFREP endpoint answers this user (old when it cannot)."""
        url = f"{self.golive_url}/ofrep/v1/evaluate/flags/{self.slug}"
        try:
            response = client.post(
                url, json={"context": {"targetingKey": user}}, headers={"Authorization": f"Bearer {token}"}
            )
            return "new" if response.status_code == 200 and response.json().get("value") is True else "old"
        except (httpx.HTTPError, ValueError):
            return "old"

    def checkout(self, path: str) -> tuple[float, bool]:
        """(latency in ms, succeeded) of one simulated checkout on `path` in the current mode."""
        mode = self.state.mode
        degraded = mode == "both_slow" or (path == "new" and mode in ("new_slow", "new_error"))
        latency = random.lognormvariate(math.log(CHECKOUT_MEDIAN_MS), CHECKOUT_SPREAD)
        if degraded and mode != "new_error":
            latency *= CANARY_SLOWDOWN
        failure_rate = CANARY_FAILURE_RATE if degraded and mode == "new_error" else HEALTHY_FAILURE_RATE
        return round(latency, 1), random.random() >= failure_rate

    def checkout_samples(self, client: httpx.Client, token: str) -> list[dict]:
        samples = []
        for number in random.sample(range(USER_POOL), CHECKOUT_USERS):
            user = f"demo-user-{number}"
            latency, succeeded = self.checkout(self.path_of(client, user, token))
            samples.append({"metric": "checkout_latency_ms", "value": latency, "targeting_key": user})
            samples.append(
                {
                    "metric": "checkout_success",
                    "ok": int(succeeded),
                    "failed": int(not succeeded),
                    "targeting_key": user,
                }
            )
        return samples

    def send_checkouts(self, client: httpx.Client) -> None:
        """One round of simulated checkouts, pushed with each user's targeting key."""
        token = self.token()
        if not (token and self.slug):
            return
        url = f"{self.golive_url}/api/v1/migrations/{self.slug}/samples"
        samples = self.checkout_samples(client, token)
        client.post(url, json={"samples": samples}, headers={"Authorization": f"Bearer {token}"})

    def send_webhook(self, client: httpx.Client) -> None:
        if not self.webhook_url or self.state.mode in ("down", "error"):
            return
        msg_id = f"msg_{uuid.uuid4().hex}"
        now = dt.datetime.now(tz=dt.UTC)
        payload = json.dumps({"type": "payment.succeeded", "data": {"id": f"pay_{uuid.uuid4().hex[:12]}"}})
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self.webhook.sign(msg_id, now, payload),
            "Content-Type": "application/json",
        }
        client.post(self.webhook_url, content=payload, headers=headers)


def serve(*, host: str, port: int, sender_options: dict | None = None) -> ThreadingHTTPServer:
    """Start the server in a thread (for tests); returns it with `.state` and `.sender` attached."""
    state = State(os.environ.get("DEMO_PROVIDER_API_KEY") or DEFAULT_API_KEY)
    server = ThreadingHTTPServer((host, port), make_handler(state))
    server.daemon_threads = True
    server.state = state  # type: ignore[attr-defined]
    server.sender = None  # type: ignore[attr-defined]
    if sender_options:
        server.sender = Sender(state, **sender_options)  # type: ignore[attr-defined]
        server.sender.start()
    threading.Thread(target=server.serve_forever, daemon=True, name="demo-provider").start()
    return server


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PROVIDER_PORT", 8001)))
    parser.add_argument("--golive-url", default=os.environ.get("GOLIVE_URL", "http://127.0.0.1:8000"))
    parser.add_argument(
        "--slug",
        default=os.environ.get("DEMO_PROVIDER_SLUG", "webhook-service"),
        help="The migration whose ingestion API receives the payment outcomes.",
    )
    parser.add_argument(
        "--token-file",
        default=os.environ.get("DEMO_PROVIDER_TOKEN_FILE", "var/demo-ingest-token"),
        help="File holding an API token of the ingest scope (seed_demo writes it).",
    )
    parser.add_argument(
        "--webhook-url",
        default=os.environ.get("DEMO_PROVIDER_WEBHOOK_URL", ""),
        help="Where to send signed payment.succeeded events (none by default).",
    )
    parser.add_argument("--every", type=float, default=5.0, help="Seconds between two reports.")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="demo-provider: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    server = serve(
        host=args.host,
        port=args.port,
        sender_options={
            "golive_url": args.golive_url,
            "slug": args.slug,
            "token_file": Path(args.token_file),
            "webhook_url": args.webhook_url,
            "webhook_secret": os.environ.get("DEMO_PROVIDER_WEBHOOK_SECRET") or DEFAULT_WEBHOOK_SECRET,
            "every": args.every,
        },
    )
    log.info("listening on http://%s:%s (modes: %s)", args.host, args.port, ", ".join(MODES))
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    server.shutdown()


if __name__ == "__main__":
    main()
