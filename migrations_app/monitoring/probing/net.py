"""Outbound HTTP for probes, safe against server-side request forgery.

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
import functools
import ipaddress
import json
import os
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

import aiohttp
from django.conf import settings
from multidict import CIMultiDictProxy
from yarl import URL

Resolver = Callable[[str, int], list[str]]
MAX_BODY_BYTES = 512 * 1024
_INET_ATON_FORM = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class ProbeTargetRefused(Exception):
    """The target is not one probes may call (a configuration error, not a probe failure)."""


class ProbeTransportError(Exception):
    """The call did not complete: timeout, refused connection, TLS failure, oversized answer."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def normalise_host(host: str) -> str:
    """Decimal (2130706433), octal (0177.0.0.1) and hex IPv4 forms become dotted quads."""
    host = host.strip("[]").rstrip(".").lower()
    if _INET_ATON_FORM.match(host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return host
    return host


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _allowlist_key() -> tuple[str, ...]:
    return tuple(getattr(settings, "GOLIVE_PROBE_ALLOWLIST", []))


def _allowlist() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return _networks(_allowlist_key())


@functools.lru_cache(maxsize=16)
def _networks(cidrs: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]


def why_forbidden(address: str) -> str | None:
    """None when probes may call `address`, else the reason in a few words."""
    ip = ipaddress.ip_address(address)
    if any(ip.version == net.version and ip in net for net in _allowlist()):
        return None
    if ip.version == 6:
        inner = _embedded_ipv4(ip)
        if inner is not None:
            reason = why_forbidden(str(inner))
            return f"IPv6 form of {inner}: {reason}" if reason else None
    if ip.is_loopback:
        return "loopback address"
    if ip.is_link_local:
        return "link-local address (cloud metadata lives here)"
    if ip.is_multicast:
        return "multicast address"
    if ip.is_unspecified:
        return "unspecified address"
    if ip.is_private:
        return "private address"
    if ip.is_reserved or not ip.is_global:
        return "reserved or non-public address"
    return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name as written (normalised), for Host, SNI and certificate checks
    port: int
    address: str  # the checked IP we connect to
    path: str

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return shown if self.port == default else f"{shown}:{self.port}"

    @property
    def connect_url(self) -> str:
        address = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{address}:{self.port}{self.path}"


def resolve_target(url: str, *, resolver: Resolver | None = None, schemes=("http", "https")) -> Target:
    """Check `url` and pick the address to connect to; raises ProbeTargetRefused."""
    target = _literal_target(url, tuple(schemes), _allowlist_key())
    if target is not None:
        return target
    parts, host, port = _parse(url, schemes)
    return _checked(parts, host, port, _lookup(host, port, resolver))


async def resolve_target_async(
    url: str, *, resolver: Resolver | None = None, schemes=("http", "https")
) -> Target:
    """The same check from the probe loop: a DNS lookup blocks, so it runs in a thread."""
    target = _literal_target(url, tuple(schemes), _allowlist_key())
    if target is not None:
        return target
    parts, host, port = _parse(url, schemes)
    addresses = await asyncio.get_running_loop().run_in_executor(None, _lookup, host, port, resolver)
    return _checked(parts, host, port, addresses)


@functools.lru_cache(maxsize=4096)
def _literal_target(url: str, schemes: tuple[str, ...], allowlist: tuple[str, ...]) -> Target | None:
    """The checked target of a URL naming an IP address or localhost, else None. Nothing is
    looked up, so the answer depends only on these arguments and is kept (a refusal raises and
    is not kept)."""
    parts, host, port = _parse(url, schemes)
    addresses = _fixed_addresses(host)
    return None if addresses is None else _checked(parts, host, port, addresses)


def _parse(url: str, schemes) -> tuple[SplitResult, str, int]:
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise ProbeTargetRefused(f"Only {' and '.join(schemes)} URLs can be probed.")
    if parts.username or parts.password:
        raise ProbeTargetRefused("Put credentials in headers as ${VARIABLE} references, not in the URL.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise ProbeTargetRefused(f"Invalid port: {error}") from None
    host = normalise_host(parts.hostname or "")
    if not host:
        raise ProbeTargetRefused("The URL has no host.")
    return parts, host, port


def _fixed_addresses(host: str) -> list[str] | None:
    """The addresses of a host that needs no lookup (an IP, localhost), else None."""
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return ["127.0.0.1"]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return None
    return [host]


def _lookup(host: str, port: int, resolver: Resolver | None) -> list[str]:
    try:
        return (resolver or system_resolver)(host, port)
    except (OSError, UnicodeError) as error:
        raise ProbeTransportError(f"Cannot resolve {host}: {error}") from None


def _checked(parts: SplitResult, host: str, port: int, addresses: list[str]) -> Target:
    if not addresses:
        raise ProbeTransportError(f"{host} has no address.")
    for address in addresses:
        reason = why_forbidden(address)
        if reason:
            raise ProbeTargetRefused(
                f"{host} resolves to {address}, a {reason}; probes may not call it unless an Admin "
                "allowlists its network (GOLIVE_PROBE_ALLOWLIST)."
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, addresses[0], path)


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
