"""Security headers and cookies on real responses, and a policy that lets every page's scripts run."""

import re

import pytest
from django.test import Client

from tests.security.world import fill, url_patterns

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>(.*?)</script>", re.S)
INLINE_HANDLER = re.compile(r"""\son[a-z]+="([^"]*)\"""")


def html_pages(world):
    """(url name, response) for every page an admin can GET."""
    client = Client()
    client.force_login(world.users["admin"])
    for name, route, _ in url_patterns():
        if name == "logout":
            continue
        response = client.get(fill(route, name, world))
        if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
            yield name, response


def test_every_page_sends_the_security_headers(world):
    for name, response in html_pages(world):
        policy = response.headers.get("Content-Security-Policy", "")
        scripts = policy.split("script-src")[1].split(";")[0] if "script-src" in policy else ""
        assert scripts.startswith(" 'self'"), name
        assert "'unsafe-inline'" not in scripts and "'unsafe-hashes'" not in scripts, name
        assert "'sha256-" not in scripts, name  # no inline code is allowed by its hash: it lives in static/js
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, name
        assert response["X-Content-Type-Options"] == "nosniff", name
        assert response["X-Frame-Options"] == "DENY", name
        assert response["Referrer-Policy"] == "same-origin", name


def test_every_inline_script_on_every_page_is_allowed_by_the_policy(world):
    """An inline script the policy does not allow would silently not run in the browser: only
    JSON data and scripts with the request's nonce may be inline, and no handler (onclick=...)."""
    blocked = []
    for name, response in html_pages(world):
        policy = response.headers["Content-Security-Policy"]
        html = response.content.decode()
        for attrs, body in INLINE_SCRIPT.findall(html):
            if "application/json" in attrs:
                continue  # data, not code
            nonce = re.search(r'nonce="([^"]+)"', attrs)
            if nonce and f"'nonce-{nonce.group(1)}'" in policy:
                continue
            blocked.append(f"{name}: inline <script> {body.strip()[:60]!r}")
        for handler in INLINE_HANDLER.findall(html):
            blocked.append(f"{name}: inline handler {handler!r}")
    assert not blocked, (
        "Move these to static/js, hanging the behaviour on a data- attribute "
        "(or give an inline <script> the request's nonce):\n" + "\n".join(blocked)
    )


def test_production_sends_hsts_and_secure_httponly_samesite_cookies():
    """With DEBUG off (as deployed), over HTTPS: HSTS, and both cookies Secure, HttpOnly and SameSite."""
    import json
    import subprocess
    import sys

    from tests.foundation.test_settings import PRODUCTION_ENV
    from tests.processes import ROOT

    code = """
import django, json; django.setup()
from django.conf import settings as s
from django.test import Client
from django.test.utils import setup_test_environment
from django.test.utils import override_settings
setup_test_environment()
# No collectstatic here: plain static storage, everything else as in production.
override_settings(STORAGES={**s.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
c = Client(HTTP_HOST="golive.example.com")
r = c.get("/login/", secure=True)
cookies = {k: {"secure": bool(m["secure"]), "httponly": bool(m["httponly"]), "samesite": m["samesite"]} for k, m in r.cookies.items()}
print(json.dumps({"hsts": r.headers.get("Strict-Transport-Security"), "csp": r.headers.get("Content-Security-Policy"),
  "session": [s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE],
  "csrf": [s.CSRF_COOKIE_SECURE, s.CSRF_COOKIE_HTTPONLY, s.CSRF_COOKIE_SAMESITE], "cookies": cookies,
  "redirect": c.get("/login/").status_code}))
"""
    env = {
        **PRODUCTION_ENV,
        "DJANGO_SETTINGS_MODULE": "golive_site.settings",
        "DATABASE_URL": "sqlite:///:memory:",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["hsts"] == "max-age=31536000; includeSubDomains"
    assert "script-src 'self'" in seen["csp"]
    assert seen["session"] == [True, True, "Lax"]
    assert seen["csrf"] == [True, True, "Lax"]
    assert seen["cookies"]["csrftoken"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    assert seen["redirect"] == 301  # plain HTTP goes to HTTPS
