"""golive's one door to the network: every URL a person or an API client gives golive (probes,
notification channels, Telegram, rollback hooks, Prometheus) is checked here, at save and again
at every call, against server-side request forgery.

1. Parse with the standard library (urllib.parse), decode the host the way clients do (percent
   escapes, IDNA/UTS #46 mapping of unicode dots and full-width digits, inet_aton's decimal,
   octal, hex and short IPv4 forms, a trailing dot) and refuse what clients read differently
   (backslashes, credentials before an `@`, spaces and control characters).
2. Resolve the name ourselves and refuse when ANY address is not public (loopback, private,
   link-local with the cloud metadata hosts, CGNAT, multicast, reserved, unspecified, or an IPv6
   form embedding one of those), unless its network is on GOLIVE_OUTBOUND_ALLOWLIST.
3. Connect to the address we checked, never to a fresh DNS answer (the Host header and the TLS
   server name carry the name), and never follow a redirect: a 3xx comes back as an answer.

Probes call out asynchronously (monitoring.probing.net, aiohttp); the outbox calls out from
here synchronously (`post`, httpx). Both take their target from `resolve_target`.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
import ssl
import string
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

import httpx
import idna
from django.conf import settings
from django.core.exceptions import ValidationError

Resolver = Callable[[str, int], list[str]]
MAX_ANSWER_BYTES = 64 * 1024
_INET_ATON_FORM = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)
_HOST_CHARACTERS = frozenset(string.ascii_lowercase + string.digits + ".-_:%")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "localhost6", "ip6-localhost", "ip6-loopback")


class OutboundRefused(Exception):
    """golive may not call this URL: a configuration error to show the person, not to retry."""


class OutboundTransportError(Exception):
    """The call did not complete: timeout, refused connection, TLS failure, unresolvable name."""


# --- the check -------------------------------------------------------------------------------


def allowlist() -> tuple[str, ...]:
    """The CIDRs golive may call although they are not public. GOLIVE_PROBE_ALLOWLIST is the
    setting's old name, still honoured when a settings module sets it."""
    legacy = getattr(settings, "GOLIVE_PROBE_ALLOWLIST", None)
    value = legacy if legacy is not None else getattr(settings, "GOLIVE_OUTBOUND_ALLOWLIST", [])
    return tuple(value)


@functools.lru_cache(maxsize=16)
def _networks(cidrs: tuple[str, ...]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(cidr, strict=False) for cidr in cidrs]


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


def why_forbidden(address: str) -> str | None:
    """None when golive may call `address`, else the reason in a few words."""
    ip = ipaddress.ip_address(address)
    if any(ip.version == net.version and ip in net for net in _networks(allowlist())):
        return None
    if ip.version == 6:
        inner = _embedded_ipv4(ip)
        if inner is not None:
            reason = why_forbidden(str(inner))
            return f"IPv6 form of {inner}: {reason}" if reason else None
    checks = [
        (ip.is_loopback, "loopback address"),
        (ip.is_link_local, "link-local address (cloud metadata lives here)"),
        (ip in _METADATA, "cloud metadata address"),
        (ip.is_multicast, "multicast address"),
        (ip.is_unspecified, "unspecified address"),
        (ip.is_private, "private address"),
        (ip.is_reserved or not ip.is_global, "reserved or non-public address"),
    ]
    return next((reason for matched, reason in checks if matched), None)


def normalise_host(host: str) -> str:
    """The host as a client would connect to it: percent escapes decoded, IDNA (UTS #46) mapped,
    which turns unicode dots and full-width digits into ASCII, no trailing dot, and decimal
    (2130706433), octal (0177.0.0.1), hex (0x7f.1) and short (127.1) IPv4 as dotted quads."""
    host = unquote(host).strip("[]").lower()
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise OutboundRefused(f"{host!r} is not a valid host name.") from None
    host = host.rstrip(".")
    if not set(host) <= _HOST_CHARACTERS:
        raise OutboundRefused(f"{host!r} is not a valid host name.")
    if _INET_ATON_FORM.match(host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            raise OutboundRefused(f"{host!r} is neither an IP address nor a host name.") from None
    return host


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


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def resolve_target(url: str, *, resolver: Resolver | None = None, schemes=("http", "https")) -> Target:
    """Check `url` and pick the address to connect to; raises OutboundRefused (never call it)
    or OutboundTransportError (the name does not resolve now)."""
    target = _literal_target(url, tuple(schemes), allowlist())
    if target is not None:
        return target
    parts, host, port = _parse(url, schemes)
    return _checked(parts, host, port, _lookup(host, port, resolver))


async def resolve_target_async(
    url: str, *, resolver: Resolver | None = None, schemes=("http", "https")
) -> Target:
    """The same check from an event loop: a DNS lookup blocks, so it runs in a thread."""
    target = _literal_target(url, tuple(schemes), allowlist())
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
    if not isinstance(url, str) or not url.strip():
        raise OutboundRefused("Enter a URL.")
    if "\\" in url:
        raise OutboundRefused("A URL may not contain a backslash: clients disagree on what it means.")
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise OutboundRefused("A URL may not contain spaces or control characters.")
    parts = urlsplit(url)
    if parts.scheme not in schemes:
        raise OutboundRefused(f"Only {' and '.join(schemes)} URLs can be called.")
    if "@" in parts.netloc:
        raise OutboundRefused("Put credentials in headers as ${VARIABLE} references, not in the URL.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise OutboundRefused(f"Invalid port: {error}") from None
    host = normalise_host(parts.hostname or "")
    if not host:
        raise OutboundRefused("The URL has no host.")
    return parts, host, port


def _fixed_addresses(host: str) -> list[str] | None:
    """The addresses of a host that needs no lookup (an IP, localhost), else None."""
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
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
        raise OutboundTransportError(f"Cannot resolve {host}: {error}") from None


def _checked(parts: SplitResult, host: str, port: int, addresses: list[str]) -> Target:
    if not addresses:
        raise OutboundTransportError(f"{host} has no address.")
    for address in addresses:
        reason = why_forbidden(address)
        if reason:
            shown = f"{host} is" if host == address else f"{host} resolves to {address},"
            raise OutboundRefused(
                f"{shown} a {reason}; golive does not call it unless an Admin allowlists its "
                "network (GOLIVE_OUTBOUND_ALLOWLIST)."
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, addresses[0], path)


def validate_outbound_url(value: str) -> None:
    """The save-time check on every URL field golive calls (models, so every ModelForm, the
    admin and API validation get it). A name that does not resolve now is accepted: the call
    checks again and reports it."""
    if not value:
        return
    try:
        resolve_target(value)
    except OutboundRefused as error:
        raise ValidationError(str(error), code="outbound_refused") from None
    except OutboundTransportError:
        pass


# --- the synchronous call (outbox: webhooks, rollback hooks, chat channels) --------------------


@dataclass(frozen=True)
class Answer:
    status_code: int
    text: str  # the first MAX_ANSWER_BYTES, decoded leniently: for error messages only
    location: str


@functools.lru_cache(maxsize=1)
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def post(url: str, *, content: bytes, headers: dict[str, str], timeout: float = 10.0) -> Answer:
    """POST `content` to the checked address of `url`. Redirects are answers, not followed."""
    target = resolve_target(url)
    send_headers = {"Host": target.host_header, **headers}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    try:
        # trust_env=False: an HTTP(S)_PROXY from the environment would connect by name instead.
        with httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            verify=_tls(),
            trust_env=False,
            follow_redirects=False,
        ) as client:
            request = client.build_request(
                "POST", target.connect_url, content=content, headers=send_headers, extensions=extensions
            )
            response = client.send(request, stream=True)
            try:
                body = _read_capped(response)
            finally:
                response.close()
    except httpx.HTTPError as error:
        raise OutboundTransportError(f"{type(error).__name__}: {str(error)[:200]}") from None
    return Answer(response.status_code, body.decode("utf-8", "replace"), response.headers.get("location", ""))


def _read_capped(response: httpx.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_ANSWER_BYTES:
            break
    return b"".join(chunks)[:MAX_ANSWER_BYTES]
