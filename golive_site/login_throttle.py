"""Password spraying: one address trying many user names is paused, not only each pair.

django-axes locks a user name from one address after AXES_FAILURE_LIMIT wrong passwords. A
sprayer tries one or two common passwords on every user name instead and never trips that. So
golive counts the failed logins from one address across all user names, from axes' own failure
log (AccessFailureLog, one row per failed attempt), and after GOLIVE_LOGIN_THROTTLE_FAILURES of
them within GOLIVE_LOGIN_THROTTLE_MINUTES answers every login from that address with a 429 page
until the window has moved past them. The first refusal in a window is written to the audit
trail (action "login.throttled")."""

from __future__ import annotations

import datetime as dt

from axes.helpers import get_client_ip_address
from axes.models import AccessFailureLog
from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.models import AuditEvent

ACTION = "login.throttled"


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.GOLIVE_LOGIN_THROTTLE_MINUTES)


def failures_from(address: str, *, now: dt.datetime) -> int:
    return AccessFailureLog.objects.filter(ip_address=address, attempt_time__gte=now - _window()).count()


def _record_once(address: str, failures: int, *, now: dt.datetime) -> None:
    already = AuditEvent.objects.filter(action=ACTION, client_ip=address, at__gte=now - _window())
    if not already.exists():
        after = {
            "address": address,
            "failures": failures,
            "window_minutes": settings.GOLIVE_LOGIN_THROTTLE_MINUTES,
        }
        audit.record(Actor.system("login throttle"), ACTION, None, object_type="auth.login", after=after)


class LoginThrottleMiddleware:
    """After golive's request context (the audit row gets the client address), before axes."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._login_paths: tuple[str, ...] | None = None

    def _is_login(self, request) -> bool:
        if self._login_paths is None:
            self._login_paths = (reverse("login"), reverse("admin:login"))
        return request.method == "POST" and request.path in self._login_paths

    def __call__(self, request):
        if self._is_login(request):
            address = get_client_ip_address(request)
            now = timezone.now()
            failures = failures_from(address, now=now) if address else 0
            if failures >= settings.GOLIVE_LOGIN_THROTTLE_FAILURES:
                _record_once(address, failures, now=now)
                return _throttled(request)
        return self.get_response(request)


def _throttled(request):
    minutes = settings.GOLIVE_LOGIN_THROTTLE_MINUTES
    response = render(request, "registration/throttled.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response
