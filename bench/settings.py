"""Production settings (DEBUG off) plus the baseline view, served over plain HTTP on loopback."""

from golive_site.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# The benchmarks talk plain HTTP to 127.0.0.1; production keeps these on (golive_site.settings).
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
