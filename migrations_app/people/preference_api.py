"""The token's own user's settings through /api/v1 (`operate` scope): the same service as the
"Your settings" page."""

from __future__ import annotations

from typing import Literal

from ninja import Field, Router, Schema

from migrations_app.api_kit import TokenAuth, answers, conflicts
from migrations_app.audit import Actor
from migrations_app.people import preferences

router = Router(auth=TokenAuth(scope="operate"), tags=["people"])

ZONE_PATTERN = r"^$|^[A-Za-z][A-Za-z0-9_+\-/]*$"


class PreferencesOut(Schema):
    theme: Literal["system", "light", "dark"]
    time_zone: str = Field(description="An IANA zone such as Europe/Paris; empty: golive's own.")
    shown_in: str = Field(description="The zone pages show this person's times in.")


class PreferencesIn(Schema):
    theme: Literal["system", "light", "dark"] = "system"
    time_zone: str = Field("", max_length=64, pattern=ZONE_PATTERN, description="Empty: golive's own zone.")


def _out(preference) -> dict:
    return {
        "theme": preference.theme,
        "time_zone": preference.time_zone,
        "shown_in": preferences.zone_of(preference),
    }


@router.get(
    "/me/preferences",
    response=answers({200: PreferencesOut}, 400, 401, 403),
    summary="The token's user's own settings (theme, time zone)",
)
def get_preferences(request):
    return _out(preferences.preferences_of(request.auth.user))


@router.put(
    "/me/preferences",
    response=answers({200: PreferencesOut}, 400, 401, 403, 409),
    summary="Change the token's user's own settings, as on the “Your settings” page",
)
def put_preferences(request, payload: PreferencesIn):
    """A zone name of the right shape that this machine's time zone database does not know is 409."""
    with conflicts():
        preference = preferences.update_preferences(
            request.auth.user, by=Actor.for_token(request.auth), **payload.model_dump()
        )
    return _out(preference)
