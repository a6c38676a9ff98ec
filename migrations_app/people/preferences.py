"""A person's own settings: light or dark, and the time zone golive shows times in.

Times are stored in UTC; pages show them in the viewer's zone (or golive's TIME_ZONE), and name it."""

from __future__ import annotations

import zoneinfo
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.models import Theme, UserPreference

FIELDS = ["theme", "time_zone"]


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows (the tzdata package), sorted; without the legacy aliases."""
    return tuple(sorted(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC"))


def preferences_of(user) -> UserPreference:
    """The person's settings; the defaults (unsaved) for someone who never changed them."""
    found = UserPreference.objects.filter(user_id=user.pk).first()
    return found or UserPreference(user=user)


def zone_of(preference: UserPreference) -> str:
    return preference.time_zone or settings.TIME_ZONE


@transaction.atomic
def update_preferences(user, *, by: Actor, theme: str, time_zone: str) -> UserPreference:
    """Save the person's settings; nothing changes (and nothing is recorded) when they are the same."""
    errors = {}
    if theme not in Theme.values:
        errors["theme"] = f"Choose one of: {', '.join(Theme.values)}."
    if time_zone and time_zone not in zone_names():
        errors["time_zone"] = f"“{time_zone[:64]}” is not a time zone; use a name such as Europe/Paris."
    if errors:
        raise ValidationError(errors)
    preference, _ = UserPreference.objects.select_for_update().get_or_create(user=user)
    before = audit.snapshot(preference, FIELDS)
    preference.theme, preference.time_zone = theme, time_zone
    before, after = audit.changed(before, audit.snapshot(preference, FIELDS))
    if not after:
        return preference
    preference.save()
    audit.record(by, "user.preferences_changed", preference, before=before, after=after)
    return preference
