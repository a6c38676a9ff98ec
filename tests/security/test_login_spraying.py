"""Password spraying: one address failing across many user names is paused (429, a readable
page, one audit event), while other addresses and, after the window, the same one log in."""

import datetime as dt

import pytest
from axes.models import AccessFailureLog

from migrations_app.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
SPRAYER = "203.0.113.50"


@pytest.fixture(autouse=True)
def small_limits(settings):
    settings.GOLIVE_LOGIN_THROTTLE_FAILURES = 6
    settings.GOLIVE_LOGIN_THROTTLE_MINUTES = 15
    # Hashing is not what these tests are about; a fast hasher keeps dozens of logins cheap.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _login(client, username, password, *, ip=SPRAYER, path="/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


def _spray(client, count=6):
    for n in range(count):  # each name once: the per-name lockout (5) never trips
        assert _login(client, f"user-{n}", "Winter2026!").status_code == 200


def test_an_address_failing_across_many_names_is_paused_even_with_a_right_password(client, ops):
    _spray(client)
    response = _login(client, ops.username, PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "Logins from your address are paused" in response.text
    assert "_auth_user_id" not in client.session


def test_fewer_failures_than_the_limit_pause_nothing(client, ops):
    _spray(client, count=5)
    assert _login(client, ops.username, PASSWORD).status_code == 302


def test_the_pause_is_audited_once_per_window(client, ops):
    _spray(client)
    for _ in range(3):
        _login(client, ops.username, PASSWORD)
    event = AuditEvent.objects.get(action="login.throttled")
    assert event.client_ip == SPRAYER
    assert event.after == {"address": SPRAYER, "failures": 6, "window_minutes": 15}
    assert event.actor_label == "login throttle"


def test_another_address_still_logs_in(client, ops):
    _spray(client)
    assert _login(client, ops.username, PASSWORD, ip="198.51.100.77").status_code == 302


def test_the_admin_login_is_paused_too(client, admin_user):
    _spray(client)
    assert _login(client, admin_user.username, PASSWORD, path="/admin/login/").status_code == 429


def test_the_pause_lifts_when_the_failures_leave_the_window(client, ops):
    _spray(client)
    assert _login(client, ops.username, PASSWORD).status_code == 429
    AccessFailureLog.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    assert _login(client, ops.username, PASSWORD).status_code == 302


def test_the_limit_and_window_come_from_the_settings(client, ops, settings):
    settings.GOLIVE_LOGIN_THROTTLE_FAILURES = 2
    _spray(client, count=2)
    assert _login(client, ops.username, PASSWORD).status_code == 429
