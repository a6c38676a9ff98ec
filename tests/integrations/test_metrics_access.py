"""Who may scrape GET /metrics: a token with the `metrics` scope, or an address on the allowlist."""

import io
import subprocess
import sys

import pytest
from django.core.management import call_command

from migrations_app.audit import Actor
from migrations_app.models import AuditEvent
from migrations_app.rollout import tokens
from migrations_app.rollout.models import ApiToken
from tests.factories import put_live
from tests.integrations.helpers import value
from tests.processes import ROOT, process_env

pytestmark = pytest.mark.django_db


def get(client, token=None, **extra):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get("/metrics", **headers, **extra)


def test_it_answers_401_with_what_to_send_when_no_token_comes(client, migration):
    response = get(client)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="golive metrics"'
    assert response["Content-Type"].startswith("text/plain")
    assert "Authorization: Bearer" in response.content.decode()
    assert "'metrics' scope" in response.content.decode()
    assert b"golive_traffic_percent" not in response.content


def test_it_answers_401_to_an_unknown_or_revoked_token(client, migration, metrics_token):
    assert get(client, "glv_nothere_xyz").status_code == 401
    tokens.revoke_token(ApiToken.objects.get(), by=Actor.system("tests"))
    tokens.cache.clear()
    response = get(client, metrics_token)
    assert response.status_code == 401
    assert "unknown or revoked" in response.content.decode()


def test_it_answers_403_to_a_token_without_the_metrics_scope(client, migration, ops, make_token):
    response = get(client, make_token(ops, "flags,operate,ingest"))
    assert response.status_code == 403
    assert "no 'metrics' scope" in response.content.decode()
    assert b"golive_" not in response.content


def test_a_metrics_token_reads_the_exposition(client, migration, metrics_token):
    put_live(migration, 25)
    response = get(client, metrics_token)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "no-cache" in response["Cache-Control"]
    assert value(response.content.decode(), "golive_traffic_percent", migration=migration.slug) == 25


def test_a_metrics_token_made_on_the_tokens_page_scrapes(client_for, ops, migration):
    """The API tokens page offers the scope, creates the token (audited), and the token works."""
    client = client_for(ops)
    page = client.get("/account/tokens/").content.decode()
    assert 'value="metrics"' in page and "scrape /metrics (Prometheus)" in page
    created = client.post("/account/tokens/", {"name": "prometheus prod", "scopes": ["metrics"]})
    assert created.status_code == 200
    raw = created.context["created"]["raw"]
    assert AuditEvent.objects.filter(action="api_token.created").latest("at").after["scopes"] == ["metrics"]
    client.logout()
    tokens.cache.clear()
    assert get(client, raw).status_code == 200


def test_the_command_line_creates_a_metrics_token(ops):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "ops-user", "--scopes", "metrics", stdout=out, stderr=err)
    assert ApiToken.objects.get().scopes == ["metrics"]
    assert out.getvalue().startswith("glv_") and "with scopes metrics" in err.getvalue()


def test_an_allowlisted_address_scrapes_without_a_token(client, settings, migration):
    settings.GOLIVE_METRICS_ALLOW = ["10.0.0.0/8", "2001:db8::/32"]
    for address in ("10.20.30.40", "2001:db8::7"):
        response = get(client, REMOTE_ADDR=address)
        assert response.status_code == 200, address
        assert b"golive_traffic_percent" in response.content


def test_an_address_outside_the_allowlist_gets_403_naming_it(client, settings, migration):
    settings.GOLIVE_METRICS_ALLOW = ["10.0.0.0/8"]
    response = get(client, REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 403
    body = response.content.decode()
    assert "192.0.2.7 is not in GOLIVE_METRICS_ALLOW" in body and "Bearer" in body
    assert b"golive_" not in response.content


def test_a_token_decides_even_from_an_allowlisted_address(client, settings, migration, ops, make_token):
    """A wrong token from an allowed address is refused, so the mistake shows before it matters."""
    settings.GOLIVE_METRICS_ALLOW = ["127.0.0.0/8"]
    assert get(client, "glv_nothere_xyz").status_code == 401
    assert get(client, make_token(ops, "flags")).status_code == 403


def test_behind_the_proxy_only_the_address_it_appended_counts(client, settings, migration):
    settings.GOLIVE_METRICS_ALLOW = ["10.0.0.0/8"]
    settings.BEHIND_TLS_PROXY = True
    # The client claims an allowed address first; the proxy appended the real one last.
    spoofed = get(client, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.4")
    assert spoofed.status_code == 403 and "198.51.100.4" in spoofed.content.decode()
    assert (
        get(client, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.4, 10.1.1.1").status_code == 200
    )
    settings.BEHIND_TLS_PROXY = False  # without the proxy the header is only what the client says
    assert get(client, REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="10.1.1.1").status_code == 403


def test_it_refuses_other_methods(client, metrics_token):
    for method in ("post", "put", "delete"):
        response = getattr(client, method)("/metrics", HTTP_AUTHORIZATION=f"Bearer {metrics_token}")
        assert response.status_code == 405, method


def test_a_malformed_allowlist_stops_golive_at_start_naming_the_entry():
    check = [sys.executable, "manage.py", "check"]
    env = process_env(GOLIVE_METRICS_ALLOW="10.0.0.0/8, 192.0.2.0/24")  # spaces after commas are fine
    assert subprocess.run(check, cwd=ROOT, env=env, capture_output=True, timeout=60).returncode == 0
    env = process_env(GOLIVE_METRICS_ALLOW="10.0.0.0/8, 10.0.0.300/32")
    started = subprocess.run(check, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode != 0
    assert (
        "GOLIVE_METRICS_ALLOW: '10.0.0.300/32' does not appear to be an IPv4 or IPv6 network"
        in started.stderr
    )
