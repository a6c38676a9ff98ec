"""Each page in the viewer's own time zone and theme (their settings), for logged-in people only.

Requests without a session (the flag APIs, /api/v1 with a token) cost nothing here: the user is
anonymous without a database query."""

from __future__ import annotations

import zoneinfo

from django.db import InterfaceError, OperationalError
from django.utils import timezone

from migrations_app.people.preferences import preferences_of, zone_of


class ViewerPreferencesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.golive_preference = self._preference(request)
        if request.golive_preference is None:
            return self.get_response(request)
        timezone.activate(zoneinfo.ZoneInfo(zone_of(request.golive_preference)))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    @staticmethod
    def _preference(request):
        """The viewer's settings, or None for strangers. A setting is never worth failing a page
        for: while the database is unreachable the view's own query answers 503, as everywhere."""
        user = getattr(request, "user", None)
        try:
            return preferences_of(user) if user is not None and user.is_authenticated else None
        except (OperationalError, InterfaceError):
            return None
