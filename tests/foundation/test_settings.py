import subprocess
import sys
import uuid

from tests.processes import ROOT

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x7!Kq2@v9#Lm4$Tz8^Wp1&Rb6*Yd3(Hn5)Gs0_Jf-Ue+Ci=Ao-kV7pN2qR8sT4uW6yZ",
    "ALLOWED_HOSTS": "golive.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/golive",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "PATH": "/usr/bin:/bin",
}


def _manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_production_settings_pass_the_deploy_check():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_with_no_environment_at_all_golive_uses_sqlite_and_the_embedded_broker():
    code = (
        "from django.conf import settings as s; print(s.DATABASES['default']['ENGINE']); "
        "print(s.CELERY_BROKER_URL.split(':')[0])"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "golive_site.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "golivesql+sqlite"]


def test_with_cache_url_set_every_process_sees_what_another_cached(settings):
    """docs/scaling.md: several web processes share one cache when CACHE_URL names Redis."""
    key = f"golive-scaling-check-{uuid.uuid4().hex}"
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "golive_site.settings",
        "CACHE_URL": settings.REDIS_URL,
    }
    writer = f"cache.set('{key}', 'seen by the other process', 30)"
    reader = f"print(cache.get('{key}')); cache.delete('{key}')"
    for code in (writer, reader):
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import django; django.setup(); from django.core.cache import cache; {code}",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "seen by the other process"
