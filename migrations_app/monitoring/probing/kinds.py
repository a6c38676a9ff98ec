"""What each probe kind does with the network, and how its answer becomes pass, fail or error.

`run(spec)` never raises for a network problem: it returns an Outcome with outcome "error".
Every kind runs as a coroutine on the process's probe loop (probing.loop): `run` for one probe,
`run_many` for a batch whose calls overlap. Every network call has one overall deadline, the
probe's timeout (the webhook check makes two calls).
Secret values (${NAME} references) are read from the environment here and scrubbed from every
message, so they never reach a result, a page or a log."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import os
import queue
import re
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from migrations_app.monitoring.probing import loop, net
from migrations_app.monitoring.probing.jsonpath import JsonPathError, extract

log = logging.getLogger(__name__)
_REFERENCE = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)\}")


@dataclass
class ProbeSpec:
    """The probe's configuration as plain data, so the runner needs no database."""

    kind: str
    url: str
    method: str = "GET"
    headers: dict = field(default_factory=dict)
    expected_statuses: str = "200"
    expected_json: list = field(default_factory=list)
    json_path: str = ""
    query: str = ""
    secret_env: str = ""
    webhook_scheme: str = "stripe"
    min_days_valid: int = 14
    timeout: float = 5.0

    @classmethod
    def from_probe(cls, probe) -> ProbeSpec:
        return cls(
            kind=probe.kind,
            url=probe.url,
            method=probe.method,
            headers=dict(probe.headers or {}),
            expected_statuses=probe.expected_statuses,
            expected_json=list(probe.expected_json or []),
            json_path=probe.json_path,
            query=probe.query,
            secret_env=probe.secret_env,
            webhook_scheme=probe.webhook_scheme,
            min_days_valid=probe.min_days_valid,
            timeout=probe.timeout_seconds,
        )


@dataclass
class Outcome:
    outcome: str  # pass, fail, error
    summary: str
    status_code: int | None = None
    latency_ms: float | None = None
    value: float | None = None
    detail: dict = field(default_factory=dict)

    @property
    def error(self) -> str:
        return "" if self.outcome == "pass" else self.summary


class SecretMissing(Exception):
    pass


class _Secrets:
    def __init__(self, environ=None):
        self.environ = os.environ if environ is None else environ
        self.used: list[str] = []

    def expand(self, template: str) -> str:
        def replace(match):
            name = match.group(1)
            value = self.environ.get(name)
            if not value:
                raise SecretMissing(f"The environment variable {name} is not set on the worker.")
            self.used.append(value)
            return value

        return _REFERENCE.sub(replace, template)

    def scrub(self, text: str) -> str:
        for value in sorted(self.used, key=len, reverse=True):
            if value:
                text = text.replace(value, "[secret]")
        return text


def references(text: str) -> list[str]:
    return _REFERENCE.findall(text or "")


def status_matches(code: int, expected: str) -> bool:
    for token in (expected or "200").replace(" ", "").split(","):
        if not token:
            continue
        if token.lower().endswith("xx") and token[0].isdigit():
            if code // 100 == int(token[0]):
                return True
        elif token.isdigit() and int(token) == code:
            return True
    return False


def run(spec: ProbeSpec, *, resolver: net.Resolver | None = None, environ=None) -> Outcome:
    return loop.call(run_async(spec, resolver=resolver, environ=environ))


# How many calls of one batch are in flight at once (the rest wait their turn; a probe's
# deadline starts when its call starts).
CONCURRENCY = 100


def run_many(
    specs: list[ProbeSpec], *, concurrency: int = CONCURRENCY
) -> Iterator[list[tuple[int, Outcome]]]:
    """Run a batch with overlapping calls; yield (index, outcome) pairs as they finish: each
    time everything finished so far, waiting for at least one. The caller stores each chunk
    at once, so a slow target in the batch delays no other probe's result."""
    finished: queue.SimpleQueue = queue.SimpleQueue()

    async def one(index: int, spec: ProbeSpec, gate: asyncio.Semaphore) -> None:
        async with gate:
            try:
                outcome = await run_async(spec)
            except Exception as error:  # a bug must not leave the caller waiting for this probe
                log.exception("probe %s crashed", spec.url)
                outcome = Outcome("error", f"The probe crashed: {type(error).__name__}")
        finished.put((index, outcome))

    async def batch() -> None:
        gate = asyncio.Semaphore(concurrency)
        await asyncio.gather(*(one(index, spec, gate) for index, spec in enumerate(specs)))

    loop.submit(batch())
    remaining = len(specs)
    while remaining:
        chunk = [finished.get()]
        while True:
            try:
                chunk.append(finished.get_nowait())
            except queue.Empty:
                break
        remaining -= len(chunk)
        yield chunk


async def run_async(spec: ProbeSpec, *, resolver: net.Resolver | None = None, environ=None) -> Outcome:
    secrets = _Secrets(environ)
    try:
        outcome = await _RUNNERS[spec.kind](spec, secrets, resolver)
        if secrets.used:
            # Whatever the target echoed back (an error quoting our header, say) loses the secret here.
            outcome.summary = secrets.scrub(outcome.summary)
            outcome.detail = json.loads(secrets.scrub(json.dumps(outcome.detail)))
        return outcome
    except SecretMissing as error:
        return Outcome("error", str(error))
    except net.ProbeTargetRefused as error:
        return Outcome("error", f"Refused: {secrets.scrub(str(error))}", detail={"refused": True})
    except net.ProbeTransportError as error:
        return Outcome("error", secrets.scrub(str(error)))
    except (OSError, ValueError, UnicodeError) as error:
        return Outcome("error", secrets.scrub(f"{type(error).__name__}: {error}")[:300])


def _headers(spec: ProbeSpec, secrets: _Secrets) -> dict[str, str]:
    return {name: secrets.expand(str(value)) for name, value in spec.headers.items()}


def _redirect(resp: net.Response) -> Outcome | None:
    if 300 <= resp.status_code < 400:
        location = resp.headers.get("location", "")
        return Outcome(
            "fail",
            f"Redirect ({resp.status_code}) to {location[:200] or 'nowhere'}; probes do not follow redirects.",
            status_code=resp.status_code,
            latency_ms=resp.latency_ms,
            detail={"location": location[:300]},
        )
    return None


async def _http(spec: ProbeSpec, secrets: _Secrets, resolver) -> Outcome:
    resp = await net.request(
        spec.method, spec.url, headers=_headers(spec, secrets), timeout=spec.timeout, resolver=resolver
    )
    redirect = _redirect(resp)
    if redirect:
        return redirect
    base = {"status_code": resp.status_code, "latency_ms": resp.latency_ms}
    if not status_matches(resp.status_code, spec.expected_statuses):
        return Outcome("fail", f"HTTP {resp.status_code}, expected {spec.expected_statuses}.", **base)
    for check in spec.expected_json:
        try:
            document = resp.json()
        except ValueError:
            return Outcome("fail", f"HTTP {resp.status_code} but the body is not JSON.", **base)
        path, wanted = check.get("path", ""), check.get("equals")
        try:
            actual = extract(document, path)
        except JsonPathError as error:
            return Outcome("fail", f"{path}: {error}", **base)
        if actual != wanted and str(actual) != str(wanted):
            shown = secrets.scrub(json.dumps(actual)[:60])
            return Outcome("fail", f"{path} is {shown}, expected {json.dumps(wanted)}.", **base)
    return Outcome("pass", f"HTTP {resp.status_code} in {resp.latency_ms:.0f} ms", **base)


async def _json_metric(spec: ProbeSpec, secrets: _Secrets, resolver) -> Outcome:
    resp = await net.request(
        "GET", spec.url, headers=_headers(spec, secrets), timeout=spec.timeout, resolver=resolver
    )
    redirect = _redirect(resp)
    if redirect:
        return redirect
    base = {"status_code": resp.status_code, "latency_ms": resp.latency_ms}
    if not status_matches(resp.status_code, spec.expected_statuses or "2xx"):
        return Outcome("fail", f"HTTP {resp.status_code}, expected {spec.expected_statuses}.", **base)
    try:
        number = _number(extract(resp.json(), spec.json_path))
    except (ValueError, JsonPathError) as error:
        return Outcome("error", f"No number at {spec.json_path}: {error}", **base)
    return Outcome("pass", f"{spec.json_path} = {number:g}", value=number, **base)


def _number(value) -> float:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{json.dumps(value)} is not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value} is not a finite number")
    return number


def prometheus_query_url(base: str, query: str) -> str:
    """The instant-query URL under `base` (Prometheus HTTP API, /api/v1/query), built from the
    parsed base so its host can never be shifted by what the base's query or fragment holds;
    the outbound guard checks the result again before calling it."""
    parts = urlsplit(base)
    params = [*parse_qsl(parts.query, keep_blank_values=True), ("query", query)]
    path = parts.path.rstrip("/") + "/api/v1/query"
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(params), ""))


async def _prometheus(spec: ProbeSpec, secrets: _Secrets, resolver) -> Outcome:
    url = prometheus_query_url(spec.url, spec.query)
    resp = await net.request(
        "GET", url, headers=_headers(spec, secrets), timeout=spec.timeout, resolver=resolver
    )
    redirect = _redirect(resp)
    if redirect:
        return redirect
    base = {"status_code": resp.status_code, "latency_ms": resp.latency_ms}
    try:
        document = resp.json()
    except ValueError:
        return Outcome("error", f"Prometheus answered HTTP {resp.status_code} without JSON.", **base)
    if resp.status_code != 200 or document.get("status") != "success":
        return Outcome(
            "error", f"Prometheus error: {str(document.get('error', resp.status_code))[:200]}", **base
        )
    data = document.get("data") or {}
    result = data.get("result")
    try:
        if data.get("resultType") == "vector":
            if not result:
                return Outcome("error", "The query returned no series.", **base)
            number = _number(result[0]["value"][1])
        elif data.get("resultType") == "scalar":
            number = _number(result[1])
        else:
            return Outcome("error", f"Unsupported result type {data.get('resultType')!r}.", **base)
    except (KeyError, IndexError, TypeError, ValueError) as error:
        return Outcome("error", f"Unreadable Prometheus answer: {error}", **base)
    return Outcome("pass", f"{spec.query} = {number:g}", value=number, **base)


async def _security_headers(spec: ProbeSpec, secrets: _Secrets, resolver) -> Outcome:
    resp = await net.request(
        "GET", spec.url, headers=_headers(spec, secrets), timeout=spec.timeout, resolver=resolver
    )
    redirect = _redirect(resp)
    if redirect:
        return redirect
    missing = []
    if "max-age" not in resp.headers.get("strict-transport-security", "").lower():
        missing.append("Strict-Transport-Security")
    if resp.headers.get("x-content-type-options", "").lower() != "nosniff":
        missing.append("X-Content-Type-Options: nosniff")
    frame = resp.headers.get("x-frame-options", "").upper() in ("DENY", "SAMEORIGIN")
    if not frame and "frame-ancestors" not in resp.headers.get("content-security-policy", ""):
        missing.append("X-Frame-Options (or CSP frame-ancestors)")
    base = {"status_code": resp.status_code, "latency_ms": resp.latency_ms, "detail": {"missing": missing}}
    if missing:
        return Outcome("fail", "Missing: " + ", ".join(missing), **base)
    return Outcome("pass", "HSTS, nosniff and frame options present", **base)


async def _webhook_signature(spec: ProbeSpec, secrets: _Secrets, resolver) -> Outcome:
    """Send one correctly and one wrongly signed test event: expect acceptance, then rejection."""
    if not spec.secret_env:
        return Outcome("error", "No signing secret variable is configured.")
    secret = secrets.expand("${" + spec.secret_env + "}")
    now = int(time.time())
    event_id = f"evt_golive_probe_{now}"
    payload = json.dumps({"id": event_id, "type": "golive.probe", "created": now, "data": {}}).encode()
    good = sign_webhook(spec.webhook_scheme, secret, payload, timestamp=now, msg_id=event_id)
    bad = sign_webhook(spec.webhook_scheme, secret + "-wrong", payload, timestamp=now, msg_id=event_id)
    answers = []
    for signature_headers in (good, bad):
        headers = {"Content-Type": "application/json", **_headers(spec, secrets), **signature_headers}
        resp = await net.request(
            "POST", spec.url, headers=headers, content=payload, timeout=spec.timeout, resolver=resolver
        )
        answers.append(resp)
    accepted, rejected = answers
    detail = {"signed_status": accepted.status_code, "wrongly_signed_status": rejected.status_code}
    base = {"status_code": accepted.status_code, "latency_ms": accepted.latency_ms, "detail": detail}
    if not 200 <= accepted.status_code < 300:
        return Outcome(
            "fail", f"A correctly signed event was answered {accepted.status_code}, expected 2xx.", **base
        )
    if not 400 <= rejected.status_code < 500:
        return Outcome(
            "fail",
            f"A wrongly signed event was answered {rejected.status_code}; the endpoint must reject it (4xx).",
            **base,
        )
    return Outcome(
        "pass",
        f"Signed event accepted ({accepted.status_code}), forged one rejected ({rejected.status_code})",
        **base,
    )


def sign_webhook(scheme: str, secret: str, payload: bytes, *, timestamp: int, msg_id: str) -> dict[str, str]:
    if scheme == "standard":
        key = secret.removeprefix("whsec_")
        try:
            raw_key = base64.b64decode(key, validate=True)
        except ValueError:
            raw_key = key.encode()
        signed = f"{msg_id}.{timestamp}.".encode() + payload
        signature = base64.b64encode(hmac.new(raw_key, signed, hashlib.sha256).digest()).decode()
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": f"v1,{signature}",
        }
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={timestamp},v1={digest}"}


async def _tls_certificate(spec: ProbeSpec, secrets: _Secrets, resolver) -> Outcome:
    url = spec.url if "://" in spec.url else f"https://{spec.url}"
    if urlsplit(url).scheme != "https":
        return Outcome("error", "A TLS certificate probe needs an https:// URL.")
    try:
        async with asyncio.timeout(spec.timeout):  # the lookup and the handshake together
            target = await net.resolve_target_async(url, resolver=resolver, schemes=("https",))
            cert, latency = await net.peer_certificate(target)
    except ssl.SSLCertVerificationError as error:
        return Outcome("fail", f"Certificate not trusted: {error.verify_message or error.reason}")
    except TimeoutError:
        return Outcome("error", f"No TLS handshake within {spec.timeout:g} s.")
    except (ssl.SSLError, OSError) as error:
        return Outcome("error", f"TLS connection failed: {str(error)[:200]}")
    expires = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(cert["notAfter"]), tz=dt.UTC)
    days = (expires - dt.datetime.now(dt.UTC)).total_seconds() / 86400
    matches = hostname_matches(cert, target.host)
    detail = {"expires": expires.isoformat(), "hostname_matches": matches, "days_left": round(days, 1)}
    base = {"latency_ms": latency, "value": round(days, 2), "detail": detail}
    if not matches:
        return Outcome("fail", f"The certificate does not cover {target.host}.", **base)
    if days < spec.min_days_valid:
        return Outcome("fail", f"The certificate expires in {days:.0f} days ({expires:%Y-%m-%d}).", **base)
    return Outcome("pass", f"Valid for {days:.0f} more days, covers {target.host}", **base)


def hostname_matches(cert: dict, host: str) -> bool:
    names = [value for kind, value in cert.get("subjectAltName", ()) if kind in ("DNS", "IP Address")]
    if not names:
        names = [value for rdn in cert.get("subject", ()) for key, value in rdn if key == "commonName"]
    host = host.lower()
    for name in names:
        name = name.lower().rstrip("\n")
        if name == host:
            return True
        if name.startswith("*.") and "." in host and host.split(".", 1)[1] == name[2:]:
            return True
    return False


_RUNNERS = {
    "http_health": _http,
    "authenticated_call": _http,
    "json_metric": _json_metric,
    "prometheus": _prometheus,
    "security_headers": _security_headers,
    "webhook_signature": _webhook_signature,
    "tls_certificate": _tls_certificate,
}
