"""Every probe kind against real local servers the test starts."""

import pytest

from migrations_app.monitoring.probing import ProbeSpec, run
from tests.monitoring.servers import (
    Route,
    local_server,
    prometheus_handler,
    self_signed_certificate,
    standard_receiver,
    stripe_receiver,
)


def test_it_passes_a_health_check_with_the_expected_json_field(server):
    server.routes["/health"] = Route.json({"status": "ok", "version": "1.2"})
    outcome = run(
        ProbeSpec("http_health", server.url("/health"), expected_json=[{"path": "status", "equals": "ok"}])
    )
    assert outcome.outcome == "pass", outcome.summary
    assert outcome.status_code == 200
    assert outcome.latency_ms > 0


def test_it_fails_a_health_check_with_the_wrong_status_or_field(server):
    server.routes["/health"] = Route.json({"status": "degraded"})
    outcome = run(
        ProbeSpec("http_health", server.url("/health"), expected_json=[{"path": "$.status", "equals": "ok"}])
    )
    assert outcome.outcome == "fail"
    assert "degraded" in outcome.summary
    server.routes["/health"] = Route.json({"status": "ok"}, status=503)
    outcome = run(ProbeSpec("http_health", server.url("/health"), expected_statuses="200,204"))
    assert outcome.outcome == "fail"
    assert "503" in outcome.summary


def test_it_accepts_status_classes(server):
    server.routes["/x"] = Route(204)
    assert run(ProbeSpec("http_health", server.url("/x"), expected_statuses="2xx")).outcome == "pass"


def test_it_counts_a_timeout_as_an_error_not_a_failure(server):
    server.routes["/slow"] = Route(200, b"late", delay=1.5)
    outcome = run(ProbeSpec("http_health", server.url("/slow"), timeout=0.3))
    assert outcome.outcome == "error"
    assert "0.3" in outcome.summary


def test_it_counts_a_closed_port_as_an_error(server):
    port = server.port
    with local_server() as other:
        closed = other.port
    assert closed != port
    outcome = run(ProbeSpec("http_health", f"http://127.0.0.1:{closed}/health", timeout=1))
    assert outcome.outcome == "error"


def test_it_sends_secret_headers_from_the_environment_and_never_shows_them(server):
    seen = {}

    def handler(method, path, headers, body):
        seen["auth"] = headers.get("Authorization")
        return Route.json({"error": f"token {headers.get('Authorization')} rejected"}, status=401)

    server.handler = handler
    spec = ProbeSpec(
        "authenticated_call",
        server.url("/me"),
        headers={"Authorization": "Bearer ${PROVIDER_API_KEY}"},
        expected_json=[{"path": "error", "equals": "none"}],
        expected_statuses="401",
    )
    outcome = run(spec, environ={"PROVIDER_API_KEY": "sk_live_very_secret"})
    assert seen["auth"] == "Bearer sk_live_very_secret"
    assert outcome.outcome == "fail"
    assert "sk_live_very_secret" not in outcome.summary
    assert "[secret]" in outcome.summary


def test_it_reports_a_missing_secret_variable_as_an_error(server):
    spec = ProbeSpec(
        "authenticated_call", server.url("/me"), headers={"Authorization": "Bearer ${NOT_SET_ANYWHERE}"}
    )
    outcome = run(spec, environ={})
    assert outcome.outcome == "error"
    assert "NOT_SET_ANYWHERE is not set" in outcome.summary
    assert server.requests == []


def test_it_takes_a_number_by_jsonpath(server):
    server.routes["/organizations/me"] = Route.json(
        {"organization": {"availableCredits": 1234.5}, "plans": [{"n": 7}]}
    )
    outcome = run(
        ProbeSpec("json_metric", server.url("/organizations/me"), json_path="$.organization.availableCredits")
    )
    assert outcome.outcome == "pass"
    assert outcome.value == 1234.5
    assert run(ProbeSpec("json_metric", server.url("/organizations/me"), json_path="$.plans[0].n")).value == 7


def test_it_counts_a_missing_number_as_an_error(server):
    server.routes["/organizations/me"] = Route.json({"availableCredits": "lots"})
    outcome = run(ProbeSpec("json_metric", server.url("/organizations/me"), json_path="availableCredits"))
    assert outcome.outcome == "error"
    server.routes["/organizations/me"] = Route(200, b"<html>garbage</html>")
    assert run(ProbeSpec("json_metric", server.url("/organizations/me"), json_path="x")).outcome == "error"


def test_it_checks_security_headers(server):
    server.routes["/good"] = Route(
        200,
        b"",
        {
            "Strict-Transport-Security": "max-age=31536000",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
        },
    )
    server.routes["/bad"] = Route(200, b"", {"X-Content-Type-Options": "nosniff"})
    assert run(ProbeSpec("security_headers", server.url("/good"))).outcome == "pass"
    outcome = run(ProbeSpec("security_headers", server.url("/bad")))
    assert outcome.outcome == "fail"
    assert outcome.detail["missing"] == [
        "Strict-Transport-Security",
        "X-Frame-Options (or CSP frame-ancestors)",
    ]


def test_it_reads_a_prometheus_instant_query(server):
    server.handler = prometheus_handler({"sum(rate(http_errors[5m]))": 0.25, "up{job='none'}": None})
    outcome = run(ProbeSpec("prometheus", server.url("/"), query="sum(rate(http_errors[5m]))"))
    assert outcome.outcome == "pass"
    assert outcome.value == 0.25
    assert run(ProbeSpec("prometheus", server.url(""), query="up{job='none'}")).outcome == "error"
    assert run(ProbeSpec("prometheus", server.url(""), query="bad(")).outcome == "error"


@pytest.mark.parametrize("scheme", ["stripe", "standard"])
def test_it_checks_that_a_webhook_endpoint_verifies_signatures(server, scheme):
    secret = "whsec_" + "c2VjcmV0LWtleS1mb3ItdGVzdHMtMTIzNDU2Nzg5MA=="
    server.handler = stripe_receiver(secret) if scheme == "stripe" else standard_receiver(secret)
    spec = ProbeSpec(
        "webhook_signature", server.url("/webhooks"), secret_env="WEBHOOK_SECRET", webhook_scheme=scheme
    )
    outcome = run(spec, environ={"WEBHOOK_SECRET": secret})
    assert outcome.outcome == "pass", outcome.summary
    assert len(server.requests) == 2
    assert outcome.detail["wrongly_signed_status"] in (400, 401)


def test_it_fails_a_webhook_endpoint_that_accepts_forged_events(server):
    server.routes["/webhooks"] = Route.json({"received": True})
    spec = ProbeSpec("webhook_signature", server.url("/webhooks"), secret_env="WEBHOOK_SECRET")
    outcome = run(spec, environ={"WEBHOOK_SECRET": "whsec_abc"})
    assert outcome.outcome == "fail"
    assert "must reject" in outcome.summary


def test_it_reads_a_tls_certificate(tmp_path, settings):
    cert, key = self_signed_certificate(tmp_path, days=90)
    settings.GOLIVE_PROBE_CA_FILE = str(cert)
    with local_server(tls_files=(cert, key)) as tls_server:
        tls_server.routes["/health"] = Route.json({"status": "ok"})
        outcome = run(ProbeSpec("tls_certificate", tls_server.url("/", host="localhost")))
        assert outcome.outcome == "pass", outcome.summary
        assert 88 < outcome.value <= 90
        assert outcome.detail["hostname_matches"] is True
        short = run(ProbeSpec("tls_certificate", tls_server.url("/", host="localhost"), min_days_valid=120))
        assert short.outcome == "fail"
        assert "expires in" in short.summary
        # The HTTP probe over TLS checks the certificate against the name, through the checked IP.
        assert run(ProbeSpec("http_health", tls_server.url("/health", host="localhost"))).outcome == "pass"


def test_it_fails_a_certificate_for_another_name(tmp_path, settings):
    cert, key = self_signed_certificate(tmp_path, days=30, names=("other.example",))
    settings.GOLIVE_PROBE_CA_FILE = str(cert)
    with local_server(tls_files=(cert, key)) as tls_server:
        outcome = run(ProbeSpec("tls_certificate", tls_server.url("/", host="localhost")))
        assert outcome.outcome == "fail"
        assert "does not cover localhost" in outcome.summary


def test_it_fails_an_untrusted_certificate(tmp_path, settings):
    cert, key = self_signed_certificate(tmp_path, days=30)
    settings.GOLIVE_PROBE_CA_FILE = ""
    with local_server(tls_files=(cert, key)) as tls_server:
        outcome = run(ProbeSpec("tls_certificate", tls_server.url("/", host="localhost")))
        assert outcome.outcome == "fail"
        assert "not trusted" in outcome.summary


def test_it_scrubs_a_secret_the_target_echoes_back(server):
    def handler(method, path, headers, body):
        return Route.json(
            {"status": "error", "error": f"bad token {headers.get('Authorization')}"}, status=400
        )

    server.handler = handler
    spec = ProbeSpec(
        "prometheus", server.url(""), query="up", headers={"Authorization": "Bearer ${PROM_TOKEN}"}
    )
    outcome = run(spec, environ={"PROM_TOKEN": "prom-secret-value"})
    assert outcome.outcome == "error"
    assert "prom-secret-value" not in outcome.summary
    assert "[secret]" in outcome.summary
