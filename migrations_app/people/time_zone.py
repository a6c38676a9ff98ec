"""Each page in the viewer's own time zone and theme (their settings), for logged-in people only.

Requests without a session (the flag APIs, /api/v1 with a token) cost nothing here: the user is
anonymous without a database query."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone

from migrations_app.people.preferences import preferences_of, zone_of


class ViewerPreferencesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            request.golive_preference = None
            return self.get_response(request)
        request.golive_preference = preferences_of(user)
        timezone.activate(zoneinfo.ZoneInfo(zone_of(request.golive_preference)))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
