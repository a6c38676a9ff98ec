"""Outbound HTTP for probes, through golive's one guard against server-side request forgery
(migrations_app.outbound, which documents the rules):

1. Resolve the host ourselves and refuse when ANY address is not a public one (loopback,
   private, link-local such as 169.254.169.254, CGNAT, multicast, reserved, unspecified, or an
   IPv6 form embedding one of those), unless an Admin allowlisted its network.
2. Connect to the address we checked, never to a fresh DNS answer: the URL carries the IP, the
   Host header and the TLS server name carry the name, and the certificate is checked against it.
3. Never follow redirects; every call has one overall deadline (resolving, connecting, sending,
   headers and body together: a target dripping bytes cannot stretch it) and a size cap.

Calls are coroutines on the process's probe loop (probing.loop), sharing one aiohttp session.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import ssl
import time
from dataclasses import dataclass, field

import aiohttp
from django.conf import settings
from multidict import CIMultiDictProxy
from yarl import URL

from migrations_app.outbound import (
    OutboundRefused,
    OutboundTransportError,
    Resolver,
    Target,
    normalise_host,
    resolve_target,
    resolve_target_async,
    system_resolver,
    why_forbidden,
)

MAX_BODY_BYTES = 512 * 1024

# The guard is golive's one outbound check (migrations_app.outbound); probes use its names.
ProbeTargetRefused = OutboundRefused
ProbeTransportError = OutboundTransportError
__all__ = [
    "MAX_BODY_BYTES",
    "ProbeTargetRefused",
    "ProbeTransportError",
    "Resolver",
    "Target",
    "normalise_host",
    "peer_certificate",
    "request",
    "resolve_target",
    "resolve_target_async",
    "system_resolver",
    "tls_context",
    "why_forbidden",
]


# Pooled TLS connections are keyed by their SSL context, so a context is built once per CA file
# (and per hostname policy), not per call; a replaced CA file (new mtime) gets a new one.
_tls_contexts: dict[tuple, ssl.SSLContext] = {}


def tls_context(*, check_hostname: bool = True) -> ssl.SSLContext:
    """Certificates are checked against the system store plus an optional extra CA file."""
    extra = getattr(settings, "GOLIVE_PROBE_CA_FILE", "")
    mtime = 0
    if extra:
        with contextlib.suppress(OSError):
            mtime = os.stat(extra).st_mtime_ns
    key = (extra, mtime, check_hostname)
    context = _tls_contexts.get(key)
    if context is None:
        context = ssl.create_default_context()
        context.check_hostname = check_hostname
        if extra:
            context.load_verify_locations(cafile=extra)
        if len(_tls_contexts) > 64:
            _tls_contexts.clear()
        _tls_contexts[key] = context
    return context


# One session (one connection pool) per probe loop. Cookies are never kept: one probe's
# answer must not change what the next probe sends.
_session: aiohttp.ClientSession | None = None
_session_loop: asyncio.AbstractEventLoop | None = None


def _client() -> aiohttp.ClientSession:
    global _session, _session_loop
    loop = asyncio.get_running_loop()
    if _session is None or _session_loop is not loop:
        connector = aiohttp.TCPConnector(limit=0, use_dns_cache=False, keepalive_timeout=30)
        _session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None),  # the one deadline is request()'s
            trust_env=False,
            raise_for_status=False,
        )
        _session_loop = loop
        atexit.register(_close_session, _session, loop, os.getpid())
    return _session


def _close_session(session: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop, pid: int) -> None:
    """Close the pool politely at exit (the loop's thread is a daemon, still running here)."""
    if pid == os.getpid() and loop.is_running() and not session.closed:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(session.close(), loop).result(timeout=2)


@dataclass
class Response:
    status_code: int
    headers: CIMultiDictProxy
    body: bytes
    latency_ms: float
    address: str
    extra: dict = field(default_factory=dict)

    def json(self):
        return json.loads(self.body)


async def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    timeout: float = 5.0,
    resolver: Resolver | None = None,
) -> Response:
    """One HTTP call to a checked address, all of it within `timeout`. Redirects come back as
    they are (3xx), never followed."""
    try:
        async with asyncio.timeout(timeout):
            target = await resolve_target_async(url, resolver=resolver)
            return await _send(target, method, headers, content)
    except TimeoutError:
        raise ProbeTransportError(f"No complete answer within {timeout:g} s.") from None


async def _send(target: Target, method: str, headers: dict | None, content: bytes | None) -> Response:
    send_headers = {"Host": target.host_header, "User-Agent": "golive-probe/1", **(headers or {})}
    tls = {"ssl": tls_context(), "server_hostname": target.host} if target.scheme == "https" else {}
    started = time.perf_counter()
    try:
        async with _client().request(
            method,
            URL(target.connect_url, encoded=True),  # the checked IP: nothing is resolved again
            headers=send_headers,
            data=content,
            allow_redirects=False,
            **tls,
        ) as resp:
            body = await _read_capped(resp)
    except aiohttp.ClientConnectorError as error:
        raise ProbeTransportError(f"Cannot connect to {target.host_header}: {_short(error)}") from None
    except aiohttp.ClientError as error:
        raise ProbeTransportError(f"{type(error).__name__}: {_short(error)}") from None
    latency = (time.perf_counter() - started) * 1000
    return Response(resp.status, resp.headers, body, latency, target.address)


async def _read_capped(resp: aiohttp.ClientResponse) -> bytes:
    chunks, size = [], 0
    async for chunk in resp.content.iter_any():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ProbeTransportError(f"The answer is larger than {MAX_BODY_BYTES // 1024} KiB.")
        chunks.append(chunk)
    return b"".join(chunks)


async def peer_certificate(target: Target) -> tuple[dict, float]:
    """The certificate the checked address presents for the target's name, and the handshake
    time in ms (the caller sets the deadline). The name is matched by the caller, so a mismatch
    is a finding, not an error."""
    started = time.perf_counter()
    _, writer = await asyncio.open_connection(
        target.address, target.port, ssl=tls_context(check_hostname=False), server_hostname=target.host
    )
    try:
        return writer.get_extra_info("peercert") or {}, (time.perf_counter() - started) * 1000
    finally:
        writer.close()


def _short(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text[:200]
