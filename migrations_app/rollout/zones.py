"""Named time zones (IANA, through zoneinfo and tzdata): validation and the list forms offer."""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

from django.core.exceptions import ValidationError

COMMON_ZONES = [
    "UTC",
    "Europe/Paris",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
]


@functools.cache
def all_zones() -> list[str]:
    return sorted(zoneinfo.available_timezones() | {"UTC"})


def zone(name: str, *, field: str = "zone") -> zoneinfo.ZoneInfo:
    """The zone called `name`, or a ValidationError naming `field`."""
    name = (name or "").strip()
    if name not in set(all_zones()):
        raise ValidationError(
            {field: f"“{name[:64]}” is not a time zone golive knows: use an IANA name such as Europe/Paris."}
        )
    return zoneinfo.ZoneInfo(name)


def local(value: dt.datetime, name: str) -> dt.datetime:
    return value.astimezone(zoneinfo.ZoneInfo(name))


def aware(naive: dt.datetime, name: str, *, field: str) -> dt.datetime:
    """A wall-clock time in zone `name` as an aware time. A time that does not exist there (the hour
    skipped when clocks go forward) is refused, so nobody is surprised by a shifted step."""
    tz = zone(name)
    value = naive.replace(tzinfo=tz)
    back = value.astimezone(dt.UTC).astimezone(tz)
    if back.replace(tzinfo=None) != naive:
        raise ValidationError(
            {field: f"{naive:%Y-%m-%d %H:%M} does not exist in {name} (the clocks skip that hour)."}
        )
    return value


def describe(value: dt.datetime, name: str) -> str:
    """ "Tue 31 Mar 2026, 09:00 Europe/Paris (CEST)" """
    at = local(value, name)
    return f"{at:%a} {at.day} {at:%b %Y}, {at:%H:%M} {name} ({at.tzname()})"
