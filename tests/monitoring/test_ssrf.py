"""Probes refuse non-public targets in every spelling, and connect only to what they checked."""

import pytest

from migrations_app.monitoring.probing import ProbeSpec, ProbeTargetRefused, resolve_target, run
from tests.monitoring.servers import Route

FORBIDDEN = [
    "http://127.0.0.1/",
    "http://127.0.0.2:8080/",
    "http://localhost/",
    "http://api.localhost/",
    "http://2130706433/",  # decimal 127.0.0.1
    "http://0177.0.0.1/",  # octal
    "http://0x7f.0.0.1/",  # hex
    "http://0x7f000001/",
    "http://127.1/",
    "http://0.0.0.0/",
    "http://0/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",  # the cloud metadata host
    "http://2852039166/",  # 169.254.169.254 in decimal
    "http://100.64.0.1/",  # CGNAT
    "http://224.0.0.1/",  # multicast
    "http://255.255.255.255/",
    "http://198.18.0.1/",  # benchmarking, reserved
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of the metadata host
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[::127.0.0.1]/",  # IPv4-compatible IPv6
]


@pytest.fixture(autouse=True)
def no_allowlist(settings):
    settings.GOLIVE_PROBE_ALLOWLIST = []


@pytest.mark.parametrize("url", FORBIDDEN)
def test_it_refuses_a_non_public_target(url):
    with pytest.raises(ProbeTargetRefused):
        resolve_target(url, resolver=lambda host, port: ["93.184.215.14"])
    outcome = run(ProbeSpec("http_health", url, timeout=0.5))
    assert outcome.outcome == "error"
    assert outcome.summary.startswith("Refused:")


@pytest.mark.parametrize(
    "answer", [["10.1.2.3"], ["93.184.215.14", "192.168.0.10"], ["169.254.169.254"], ["::1"]]
)
def test_it_refuses_a_name_that_resolves_to_a_private_address(answer):
    with pytest.raises(ProbeTargetRefused, match="resolves to"):
        resolve_target("https://partner.example/health", resolver=lambda host, port: answer)


def test_it_allows_a_public_address_and_keeps_the_name_for_host_and_tls():
    target = resolve_target(
        "https://api.partner.example:8443/v1?x=1", resolver=lambda host, port: ["93.184.215.14"]
    )
    assert target.address == "93.184.215.14"
    assert target.connect_url == "https://93.184.215.14:8443/v1?x=1"
    assert target.host_header == "api.partner.example:8443"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "file:///etc/passwd", "gopher://x/", "http://user:pw@example.com/"]
)
def test_it_refuses_other_schemes_and_credentials_in_urls(url):
    with pytest.raises(ProbeTargetRefused):
        resolve_target(url, resolver=lambda host, port: ["93.184.215.14"])


def test_an_admin_allowlist_lets_a_network_through(settings):
    settings.GOLIVE_PROBE_ALLOWLIST = ["127.0.0.1/32"]
    assert resolve_target("http://2130706433:8000/").address == "127.0.0.1"
    with pytest.raises(ProbeTargetRefused):
        resolve_target("http://127.0.0.2/")


@pytest.mark.parametrize(
    "location", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]/"]
)
def test_it_never_follows_a_redirect(server, settings, location):
    settings.GOLIVE_PROBE_ALLOWLIST = ["127.0.0.1/32"]
    server.routes["/health"] = Route(302, b"", {"Location": location})
    outcome = run(ProbeSpec("http_health", server.url("/health")))
    assert outcome.outcome == "fail"
    assert location in outcome.summary
    assert len(server.requests) == 1


def test_it_connects_to_the_address_it_checked_even_if_dns_changes(server, settings):
    """DNS rebinding: the second answer would be private, but there is no second lookup."""
    settings.GOLIVE_PROBE_ALLOWLIST = ["127.0.0.1/32"]
    answers = [["127.0.0.1"], ["10.0.0.1"]]
    calls = []

    def rebinding_resolver(host, port):
        calls.append(host)
        return answers[len(calls) - 1]

    server.routes["/health"] = Route.json({"status": "ok"})
    url = f"http://partner.example:{server.port}/health"
    outcome = run(ProbeSpec("http_health", url), resolver=rebinding_resolver)
    assert outcome.outcome == "pass", outcome.summary
    assert calls == ["partner.example"]
    assert server.requests[0]["headers"]["Host"] == f"partner.example:{server.port}"


def test_a_tls_probe_refuses_the_metadata_host():
    outcome = run(ProbeSpec("tls_certificate", "https://169.254.169.254/"))
    assert outcome.outcome == "error"
    assert "link-local" in outcome.summary
