"""Outbound HTTP for probes, safe against server-side request forgery.

1. Resolve the host ourselves and refuse when ANY address is not a public one (loopback,
   private, link-local such as 169.254.169.254, CGNAT, multicast, reserved, unspecified, or an
   IPv6 form embedding one of those), unless an Admin allowlisted its network.
2. Connect to the address we checked, never to a fresh DNS answer: the URL carries the IP, the
   Host header and the TLS server name carry the name, and the certificate is checked against it.
3. Never follow redirects; every call has connect, read and total time limits and a size cap.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
from django.conf import settings

# Every probe call becomes a stored result; httpx's INFO line per request would flood worker logs.
logging.getLogger("httpx").setLevel(logging.WARNING)

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


def _allowlist() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [
        ipaddress.ip_network(cidr, strict=False) for cidr in getattr(settings, "GOLIVE_PROBE_ALLOWLIST", [])
    ]


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
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        addresses = ["127.0.0.1"]
    else:
        try:
            ipaddress.ip_address(host)
            addresses = [host]
        except ValueError:
            try:
                addresses = (resolver or system_resolver)(host, port)
            except (OSError, UnicodeError) as error:
                raise ProbeTransportError(f"Cannot resolve {host}: {error}") from None
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


def tls_context() -> ssl.SSLContext:
    """Certificates are checked against the system store plus an optional extra CA file."""
    context = ssl.create_default_context()
    extra = getattr(settings, "GOLIVE_PROBE_CA_FILE", "")
    if extra:
        context.load_verify_locations(cafile=extra)
    return context


# One pooled client per worker process (and per TLS server name: a pooled TLS connection keeps
# the name it was opened with).
_clients: dict[str, httpx.Client] = {}
_clients_lock = threading.Lock()


def _client(target: Target) -> httpx.Client:
    key = target.host if target.scheme == "https" else ""
    client = _clients.get(key)
    if client is None:
        with _clients_lock:
            client = _clients.get(key)
            if client is None:
                if len(_clients) > 256:
                    _clients.clear()
                limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
                client = httpx.Client(
                    verify=tls_context(), follow_redirects=False, limits=limits, trust_env=False
                )
                _clients[key] = client
    return client


@dataclass
class Response:
    status_code: int
    headers: httpx.Headers
    body: bytes
    latency_ms: float
    address: str
    extra: dict = field(default_factory=dict)

    def json(self):
        import json

        return json.loads(self.body)


def request(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    timeout: float = 5.0,
    resolver: Resolver | None = None,
) -> Response:
    """One HTTP call to a checked address. Redirects come back as they are (3xx), never followed."""
    target = resolve_target(url, resolver=resolver)
    send_headers = {"Host": target.host_header, "User-Agent": "golive-probe/1", **(headers or {})}
    extensions: dict = {"timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}}
    if target.scheme == "https":
        extensions["sni_hostname"] = target.host
    started = time.perf_counter()
    deadline = started + timeout
    client = _client(target)
    try:
        with client.stream(
            method, target.connect_url, headers=send_headers, content=content, extensions=extensions
        ) as resp:
            chunks, size = [], 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise ProbeTransportError(f"The answer is larger than {MAX_BODY_BYTES // 1024} KiB.")
                if time.perf_counter() > deadline:
                    raise ProbeTransportError(f"No complete answer within {timeout:g} s.")
                chunks.append(chunk)
            body = b"".join(chunks)
    except httpx.TimeoutException:
        raise ProbeTransportError(f"No answer within {timeout:g} s.") from None
    except httpx.ConnectError as error:
        raise ProbeTransportError(f"Cannot connect to {target.host_header}: {_short(error)}") from None
    except httpx.HTTPError as error:
        raise ProbeTransportError(f"{type(error).__name__}: {_short(error)}") from None
    latency = (time.perf_counter() - started) * 1000
    return Response(resp.status_code, resp.headers, body, latency, target.address)


def _short(error: Exception) -> str:
    text = str(error) or type(error).__name__
    return text[:200]
