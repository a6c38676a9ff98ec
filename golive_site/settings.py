"""golive settings, configured from the environment (12-factor) through django-environ.

With no environment at all golive runs locally: DEBUG on, a SQLite file under var/, and
Celery on an SQLAlchemy broker stored in another SQLite file, so nothing has to be started
first. Production sets DEBUG=false, SECRET_KEY, DATABASE_URL and REDIS_URL.
"""

import datetime
import ipaddress
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _DEV_SECRET_KEY

# Set when a TLS-terminating proxy that sets X-Forwarded-Proto/-For stands in front of golive.
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "golive_site.admin_site.GoliveAdminConfig",  # django.contrib.admin, for staff only
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "ninja",
    "pgtrigger",
    "axes",
    "csp",
    "migrations_app",
    "migrations_app.rollout",
    "migrations_app.monitoring",
    "migrations_app.incidents",
    "migrations_app.inbound",
    "checklists",
]

MIDDLEWARE = [
    # First: with DEBUG on, anonymous visitors get golive's 404/500, never Django's technical pages.
    "golive_site.error_pages.StrangerErrorPagesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "migrations_app.request_context.RequestContextMiddleware",
    "golive_site.middleware.HostileInputMiddleware",  # 413 before a body is read; 503 in an outage
    "golive_site.login_throttle.LoginThrottleMiddleware",  # password spraying, per address
    "golive_site.middleware.SessionMiddleware",  # Django's, leaving error answers alone
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "migrations_app.people.time_zone.ViewerPreferencesMiddleware",  # their zone and theme
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "golive_site.middleware.ContentSecurityPolicyMiddleware",  # django-csp's, skipping exempt JSON
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "golive_site.urls"
WSGI_APPLICATION = "golive_site.wsgi.application"
ASGI_APPLICATION = "golive_site.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "golive_site.context_processors.golive",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'golive.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat write to the same file: WAL lets readers run beside a writer,
    # IMMEDIATE takes the write lock up front instead of failing half-way through.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True  # Django 6's default, adopted now

# --- Redis and Celery -----------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
# The embedded broker: kombu's SQLAlchemy transport on a SQLite file works across processes
# with no server to start (kombu's filesystem transport lost messages under concurrent producers).
# golivesql is that transport with a faster poll (golive_site/broker.py).
_EMBEDDED_BROKER = f"golivesql+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or _EMBEDDED_BROKER)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat's schedule state lives with the other local files, not in the working directory.
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(VAR_DIR / "celerybeat-schedule")
)
# A publish must not hang a request when the broker is down: the outbox row is already
# committed and the dispatcher will pick it up later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Redis keeps a delivered, unacknowledged message for `visibility_timeout` seconds, then hands it
# to another worker: that is how a run held by a worker killed outright (SIGKILL of its main
# process, the machine lost) is not lost. kombu's default is an hour; golive's longest task is a
# probe batch, bounded by the longest probe deadline (60 s), so 120 s covers it, and a redelivered
# run still arrives well before its message expires (300 s, monitoring/tasks.py). A task that
# runs longer is delivered a second time, which every task tolerates (idempotent, keyed by slot).
GOLIVE_BROKER_VISIBILITY_SECONDS = env.float("GOLIVE_BROKER_VISIBILITY_SECONDS", default=120.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
if CELERY_BROKER_URL.startswith(("redis://", "rediss://", "redis+socket://")):
    # (Only Redis knows these; the embedded broker passes its options on to SQLAlchemy.)
    CELERY_BROKER_TRANSPORT_OPTIONS |= {
        "visibility_timeout": GOLIVE_BROKER_VISIBILITY_SECONDS,
        # How often a worker looks for such messages (kombu: every 10 s).
        "unacked_restore_interval": min(10.0, max(1.0, GOLIVE_BROKER_VISIBILITY_SECONDS / 3)),
    }

CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    "worker-heartbeat": {"task": "migrations_app.tasks.heartbeat", "schedule": 30.0},
    # Recurring post-launch work (weekly reviews, monthly audits...): idempotent per period.
    "checklists-recurring-items": {
        "task": "checklists.tasks.create_recurring_items",
        "schedule": env.float("GOLIVE_RECURRING_ITEMS_SECONDS", default=3600.0),
    },
}
CELERY_TIMEZONE = "UTC"

# Each process keeps its own cache by default: it only holds the control room's slow aggregates.
# With several web processes, CACHE_URL=redis://host:6379/1 (a database of its own: a cache clear
# empties it) shares them; docs/scaling.md.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

# --- Auth and sessions ----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Brute-force lockout: after 5 failed logins for one username from one address, that pair waits
# 15 minutes. Attempts are stored in the database (not Redis), so a Redis outage locks no one out.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = 1 if BEHIND_TLS_PROXY else 0
# Every failed login is also logged (axes' AccessFailureLog): the spraying throttle counts them.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# Password spraying (golive_site/login_throttle.py): after this many failed logins from one address
# across all user names within the window, every login from that address is paused (429).
GOLIVE_LOGIN_THROTTLE_FAILURES = env.int("GOLIVE_LOGIN_THROTTLE_FAILURES", default=20)
GOLIVE_LOGIN_THROTTLE_MINUTES = env.int("GOLIVE_LOGIN_THROTTLE_MINUTES", default=15)
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "migrations_app:list"
LOGOUT_REDIRECT_URL = "login"
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SESSION_SAVE_EVERY_REQUEST = True  # the age counts from the last request: an idle timeout
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Pages put the token in <body hx-headers> and in forms; no script reads the cookie.
CSRF_COOKIE_HTTPONLY = True

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static files: everything from static/, served by whitenoise, no CDN ---------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="golive@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security (on whenever DEBUG is off) ----------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe /health over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^health$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if BEHIND_TLS_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp). Everything is served from our own static files, so
# scripts come from 'self' only: no CDN, no eval, no inline handler (onclick=...), and no inline
# script unless it carries the per-request nonce ({{ request.csp_nonce }}). Page behaviour lives in
# static/js and hangs on data- attributes. Styles allow 'unsafe-inline' because plotly and htmx set
# style attributes at runtime. tests/security/test_headers.py fails, naming the template, if a page
# has an inline script or handler the policy would block.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# security.W021 asks for HSTS preload. Preloading commits every subdomain of the domain to
# HTTPS for months and cannot be undone quickly, so it is the operator's choice
# (SECURE_HSTS_PRELOAD=true), not a default.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # At DEBUG httpcore logs every response header a probe target sends back, secrets it
        # echoes included (tests/security/test_tokens_and_secrets.py): never below WARNING.
        "httpcore": {"level": "WARNING"},
    },
}

# --- golive ---------------------------------------------------------------------------------
GOLIVE_VERSION = env.str("GOLIVE_VERSION", default="")
# Every JSON body (flag APIs, /api/v1, samples) is read by migrations_app.jsonbody: larger is 413,
# deeper is 400. A 1,000-sample batch is about 100 kB.
GOLIVE_JSON_MAX_BYTES = env.int("GOLIVE_JSON_MAX_BYTES", default=1024 * 1024)
GOLIVE_JSON_MAX_DEPTH = env.int("GOLIVE_JSON_MAX_DEPTH", default=32)

# --- Monitoring: probes, KPIs, guardrails (migrations_app.monitoring) ------------------------
# Networks golive may call although they are not public (CIDRs): probes, channels, Telegram,
# rollback hooks and Prometheus alike (migrations_app.outbound). The local demo probes itself.
# GOLIVE_PROBE_ALLOWLIST is the old name of the variable, read when the new one is not set.
GOLIVE_OUTBOUND_ALLOWLIST = env.list(
    "GOLIVE_OUTBOUND_ALLOWLIST",
    default=env.list("GOLIVE_PROBE_ALLOWLIST", default=["127.0.0.1/32"] if DEBUG else []),
)
GOLIVE_PROBE_CA_FILE = env.str("GOLIVE_PROBE_CA_FILE", default="")  # extra CA for TLS probes
GOLIVE_PROBE_DISPATCH_SECONDS = env.float("GOLIVE_PROBE_DISPATCH_SECONDS", default=1.0)
GOLIVE_RAW_RETENTION_HOURS = env.int("GOLIVE_RAW_RETENTION_HOURS", default=48)
GOLIVE_ALERT_DEDUPE_SECONDS = env.int("GOLIVE_ALERT_DEDUPE_SECONDS", default=900)
CELERY_BEAT_SCHEDULE.update(
    {
        "monitoring-dispatch-probes": {
            "task": "migrations_app.monitoring.tasks.dispatch_due_probes",
            "schedule": GOLIVE_PROBE_DISPATCH_SECONDS,
        },
        "monitoring-evaluate-guardrails": {
            "task": "migrations_app.monitoring.tasks.evaluate_all_guardrails",
            "schedule": 30.0,
        },
        "monitoring-roll-up": {"task": "migrations_app.monitoring.tasks.roll_up_old_data", "schedule": 600.0},
    }
)

# --- Metrics out: GET /metrics for Prometheus (migrations_app/monitoring/metrics_views.py) ---
# Networks that may scrape without a token (comma-separated CIDRs, e.g. 10.0.0.0/8); empty: only a
# token with the `metrics` scope. Behind BEHIND_TLS_PROXY the address is the one the proxy added.
GOLIVE_METRICS_ALLOW = [c.strip() for c in env.list("GOLIVE_METRICS_ALLOW", default=[]) if c.strip()]
try:
    _ = [ipaddress.ip_network(cidr, strict=False) for cidr in GOLIVE_METRICS_ALLOW]
except ValueError as error:
    raise ImproperlyConfigured(f"GOLIVE_METRICS_ALLOW: {error}; use CIDRs such as 10.0.0.0/8.") from None

# --- Rollout: outbox delivery (migrations_app.rollout) ---------------------------------------
# The dispatcher delivers outbox rows whose task was never published (broker down) or failed.
GOLIVE_OUTBOX_DISPATCH_SECONDS = env.float("GOLIVE_OUTBOX_DISPATCH_SECONDS", default=10.0)
CELERY_BEAT_SCHEDULE["rollout-dispatch-outbox"] = {
    "task": "migrations_app.rollout.tasks.dispatch_outbox",
    "schedule": GOLIVE_OUTBOX_DISPATCH_SECONDS,
}
# Scheduled traffic steps ("advance to 25 % on Tuesday at 09:00"): applied or skipped when due.
GOLIVE_SCHEDULED_STEPS_SECONDS = env.float("GOLIVE_SCHEDULED_STEPS_SECONDS", default=30.0)
CELERY_BEAT_SCHEDULE["rollout-run-scheduled-steps"] = {
    "task": "migrations_app.rollout.tasks.run_scheduled_steps",
    "schedule": GOLIVE_SCHEDULED_STEPS_SECONDS,
}
# The same safety net for pushed sample batches whose guardrail evaluation was never published.
CELERY_BEAT_SCHEDULE["monitoring-evaluate-missed-batches"] = {
    "task": "migrations_app.monitoring.tasks.evaluate_missed_batches",
    "schedule": GOLIVE_OUTBOX_DISPATCH_SECONDS,
}

# --- Incidents, escalation, announcements (migrations_app.incidents) ---------------------------
# Links in e-mails and chat notices (acknowledge, incident page) start with this address.
GOLIVE_BASE_URL = env.str("GOLIVE_BASE_URL", default="http://localhost:8000").rstrip("/")
# SEV1/SEV2: the on-call is paged at once, the leads after this many minutes without an acknowledgement.
GOLIVE_ESCALATION_MINUTES = env.float("GOLIVE_ESCALATION_MINUTES", default=15.0)
GOLIVE_ACK_LINK_HOURS = env.int("GOLIVE_ACK_LINK_HOURS", default=24)
# Only tests point this elsewhere (a local server standing in for Telegram).
GOLIVE_TELEGRAM_API_BASE = env.str("GOLIVE_TELEGRAM_API_BASE", default="https://api.telegram.org").rstrip("/")
CELERY_BEAT_SCHEDULE.update(
    {
        "incidents-escalate": {"task": "migrations_app.incidents.tasks.escalate_due", "schedule": 30.0},
        "incidents-fired-guardrails": {
            "task": "migrations_app.incidents.tasks.open_for_fired_guardrails",
            "schedule": 30.0,
        },
        "incidents-send-announcements": {
            "task": "migrations_app.incidents.tasks.send_due_announcements",
            "schedule": 60.0,
        },
    }
)
