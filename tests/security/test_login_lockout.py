import datetime as dt

import pytest
from axes.models import AccessAttempt

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client, username, password, ip="198.51.100.20"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_wrong_passwords_lock_the_login_even_with_the_right_one(client, ops):
    for _ in range(5):
        assert _login(client, ops.username, "wrong").status_code in (200, 429)
    locked = _login(client, ops.username, PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.text
    assert "_auth_user_id" not in client.session


def test_a_lockout_is_stored_in_the_database_not_redis(client, ops):
    for _ in range(5):
        _login(client, ops.username, "wrong")
    attempt = AccessAttempt.objects.get(username=ops.username)
    assert attempt.failures_since_start >= 5


def test_the_same_user_from_another_address_can_still_log_in(client, ops):
    for _ in range(5):
        _login(client, ops.username, "wrong")
    response = _login(client, ops.username, PASSWORD, ip="198.51.100.99")
    assert response.status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, ops, settings):
    for _ in range(5):
        _login(client, ops.username, "wrong")
    AccessAttempt.objects.update(
        attempt_time=AccessAttempt.objects.get().attempt_time - dt.timedelta(minutes=16)
    )
    assert _login(client, ops.username, PASSWORD).status_code == 302


def test_a_wrong_password_shows_a_message_and_does_not_log_in(client, ops):
    response = _login(client, ops.username, "wrong")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.text
    assert "_auth_user_id" not in client.session
