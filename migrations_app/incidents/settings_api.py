"""Notification channels (Admins), status-page settings and subscribers through /api/v1
(`operate` scope). Permissions and validation are the pages' own: access.py and the same forms."""

from __future__ import annotations

from typing import Annotated

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from ninja.responses import Status

from migrations_app import access
from migrations_app.api_kit import PAGE_QUERY, TEXT_PATTERN, Refused, TokenAuth, answers, only_query
from migrations_app.audit import Actor
from migrations_app.incidents import announcements, channels, forms
from migrations_app.incidents.models import ChannelKind, NotificationChannel, StatusPage, StatusSubscriber
from migrations_app.models import SLUG_VALIDATOR, Migration

router = Router(auth=TokenAuth(scope="operate"), tags=["notifications"])
_LINE = r"^[^\x00\r\n]*$"
# A slug as migrations have them (so a NUL or an oversized name never reaches the database).
MigrationSlug = Annotated[str, Field(min_length=1, max_length=64, pattern=SLUG_VALIDATOR.regex.pattern)]


class ChannelIn(Schema):
    name: str = Field(min_length=1, max_length=80, pattern=TEXT_PATTERN)
    kind: ChannelKind
    active: bool = True
    addresses: str = Field(
        "", max_length=5000, pattern=TEXT_PATTERN, description="E-mail: addresses, comma-separated."
    )
    url: str = Field(
        "", max_length=500, pattern=_LINE, description="Slack-compatible or signed webhook: where to POST."
    )
    secret: str = Field(
        "",
        max_length=100,
        pattern=_LINE,
        description="Signed webhook: a whsec_… secret; left empty, golive makes one.",
    )
    telegram_chat_id: str = Field("", max_length=64, pattern=_LINE)
    telegram_token_env: str = Field(
        "", max_length=64, pattern=_LINE, description="A variable NAME, never the token."
    )
    incidents: bool = True
    announcements: bool = True
    migrations: list[MigrationSlug] = Field(
        default_factory=list,
        max_length=100,
        description="Slugs of the migrations covered; empty: every migration.",
    )


class ChannelUpdate(Schema):
    """Every field optional: the ones left out keep their value. The secret cannot be read or changed."""

    name: str | None = Field(None, min_length=1, max_length=80, pattern=TEXT_PATTERN)
    kind: ChannelKind | None = None
    active: bool | None = None
    addresses: str | None = Field(None, max_length=5000, pattern=TEXT_PATTERN)
    url: str | None = Field(None, max_length=500, pattern=_LINE)
    telegram_chat_id: str | None = Field(None, max_length=64, pattern=_LINE)
    telegram_token_env: str | None = Field(None, max_length=64, pattern=_LINE)
    incidents: bool | None = None
    announcements: bool | None = None
    migrations: list[MigrationSlug] | None = Field(None, max_length=100)


class ChannelOut(Schema):
    id: int
    name: str
    kind: str
    active: bool
    addresses: str
    url: str
    telegram_chat_id: str
    telegram_token_env: str
    incidents: bool
    announcements: bool
    migrations: list[str]


class ChannelWithSecret(ChannelOut):
    secret: str = Field(description="Signed webhooks: the signing secret, in this answer only.")


class Queued(Schema):
    queued: bool = Field(description="False when the channel has nowhere to send to (no addresses).")


class StatusPageIn(Schema):
    enabled: bool
    public_name: str = Field("", max_length=120, pattern=_LINE, description="The service name users know.")
    show_history: bool = Field(
        True, description="Also list the last 90 days' resolved incidents and notices."
    )


class StatusPageOut(Schema):
    enabled: bool
    public_name: str
    show_history: bool
    public_url: str = Field(description="Where the public page answers while it is enabled.")


class SubscriberIn(Schema):
    email: str = Field(
        min_length=3, max_length=254, pattern=r"^[^\x00]*@[^\x00]*$", examples=["reader@example.com"]
    )


class SubscriberOut(Schema):
    id: int
    email: str
    created_at: str


_BOOLEANS = ("active", "incidents", "announcements")


def _channel_out(channel: NotificationChannel, *, secret: bool = False) -> dict:
    out = {
        name: getattr(channel, name) for name in ChannelOut.model_fields if name not in ("id", "migrations")
    }
    out |= {"id": channel.pk, "migrations": sorted(channel.migrations.values_list("slug", flat=True))}
    return out | ({"secret": channel.secret} if secret else {})


def _migration_ids(slugs: list[str]) -> list[int]:
    found = dict(Migration.objects.filter(slug__in=slugs).values_list("slug", "pk"))
    missing = [slug for slug in slugs if slug not in found]
    if missing:
        raise Refused(404, ValidationError({"migrations": f"No migration “{missing[0]}”."}))
    return [found[slug] for slug in slugs]


def _valid_channel(values: dict, *, channel: NotificationChannel | None):
    data = {k: v for k, v in values.items() if k not in _BOOLEANS and k != "migrations"}
    data |= {name: "on" for name in _BOOLEANS if values.get(name)}
    data["migrations"] = _migration_ids(values.get("migrations", []))
    form_class = forms.ChannelForm if channel is None else forms.ChannelEditForm
    if channel is None and values.get("kind") == ChannelKind.WEBHOOK and not values.get("secret"):
        data["secret"] = NotificationChannel._meta.get_field("secret").get_default()
    form = form_class(data, instance=channel)
    if not form.is_valid():
        raise Refused(409, ValidationError(dict(form.errors)))
    return form


def _channel(request, channel_id: int) -> NotificationChannel:
    access.require(request.auth.user, "edit_channels")
    return get_object_or_404(NotificationChannel, pk=channel_id)


@router.get(
    "/channels",
    response=answers({200: list[ChannelOut]}, 400, 401, 403),
    summary="List notification channels (Admin)",
)
@paginate(LimitOffsetPagination)
def list_channels(request):
    only_query(request, *PAGE_QUERY)
    access.require(request.auth.user, "edit_channels")
    return [_channel_out(c) for c in NotificationChannel.objects.prefetch_related("migrations")]


@router.post(
    "/channels",
    response=answers({201: ChannelWithSecret}, 400, 401, 403, 404, 409),
    summary="Add a notification channel; a signed webhook's secret is in this answer only (Admin)",
)
def create_channel(request, payload: ChannelIn):
    access.require(request.auth.user, "edit_channels")
    form = _valid_channel(payload.model_dump(mode="json"), channel=None)
    fields = {name: form.cleaned_data[name] for name in channels.CHANNEL_FIELDS}
    if form.cleaned_data.get("secret"):
        fields["secret"] = form.cleaned_data["secret"]
    channel = channels.create_channel(
        by=Actor.for_token(request.auth), migrations=form.cleaned_data["migrations"], **fields
    )
    return Status(201, _channel_out(channel, secret=channel.kind == ChannelKind.WEBHOOK))


@router.get(
    "/channels/{channel_id}",
    response=answers({200: ChannelOut}, 400, 401, 403, 404),
    summary="One channel (Admin)",
)
def get_channel(request, channel_id: int):
    return _channel_out(_channel(request, channel_id))


@router.patch(
    "/channels/{channel_id}",
    response=answers({200: ChannelOut}, 400, 401, 403, 404, 409),
    summary="Change a channel (fields left out keep their value; Admin)",
)
def update_channel(request, channel_id: int, payload: ChannelUpdate):
    channel = _channel(request, channel_id)
    values = _channel_out(channel) | payload.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    form = _valid_channel(values, channel=NotificationChannel.objects.get(pk=channel.pk))
    fields = {name: form.cleaned_data[name] for name in channels.CHANNEL_FIELDS}
    channel = channels.update_channel(
        channel, by=Actor.for_token(request.auth), migrations=form.cleaned_data["migrations"], **fields
    )
    return _channel_out(channel)


@router.post(
    "/channels/{channel_id}/test",
    response=answers({202: Queued}, 400, 401, 403, 404),
    summary="Send a test notification through the channel (Admin)",
)
def test_channel(request, channel_id: int):
    message = channels.send_test(_channel(request, channel_id), by=Actor.for_token(request.auth))
    return Status(202, {"queued": message is not None})


@router.delete(
    "/channels/{channel_id}",
    response=answers({204: None}, 400, 401, 403, 404),
    summary="Delete a channel (Admin)",
)
def delete_channel(request, channel_id: int):
    channels.delete_channel(_channel(request, channel_id), by=Actor.for_token(request.auth))
    return Status(204, None)


# --- status page and subscribers ------------------------------------------------------------


def _migration(request, slug: str, action: str) -> Migration:
    migration = get_object_or_404(Migration, slug=slug)
    access.require(request.auth.user, action)
    return migration


def _status_out(request, migration: Migration, page: StatusPage | None) -> dict:
    url = request.build_absolute_uri(reverse("incidents_public:status", args=[migration.slug]))
    return {
        "enabled": bool(page and page.enabled),
        "public_name": page.public_name if page else "",
        "show_history": page.show_history if page else True,
        "public_url": url,
    }


@router.get(
    "/migrations/{slug}/status-page",
    response=answers({200: StatusPageOut}, 401, 403, 404),
    summary="The public status page's settings",
)
def get_status_page(request, slug: str):
    migration = _migration(request, slug, "view")
    return _status_out(request, migration, StatusPage.objects.filter(migration=migration).first())


@router.put(
    "/migrations/{slug}/status-page",
    response=answers({200: StatusPageOut}, 400, 401, 403, 404),
    summary="Switch the public status page on or off and name the service",
)
def put_status_page(request, slug: str, payload: StatusPageIn):
    migration = _migration(request, slug, "send_announcements")
    page = announcements.configure_status_page(
        migration, by=Actor.for_token(request.auth), **payload.model_dump()
    )
    return _status_out(request, migration, page)


def _subscriber_out(subscriber: StatusSubscriber) -> dict:
    return {"id": subscriber.pk, "email": subscriber.email, "created_at": subscriber.created_at.isoformat()}


@router.get(
    "/migrations/{slug}/subscribers",
    response=answers({200: list[SubscriberOut]}, 400, 401, 403, 404),
    summary="List the migration's status subscribers",
)
@paginate(LimitOffsetPagination)
def list_subscribers(request, slug: str):
    only_query(request, *PAGE_QUERY)
    migration = _migration(request, slug, "view")
    return [_subscriber_out(s) for s in StatusSubscriber.objects.filter(migration=migration)]


@router.post(
    "/migrations/{slug}/subscribers",
    response=answers({201: SubscriberOut}, 400, 401, 403, 404, 409),
    summary="Add a subscriber (adding one already there is a no-op)",
)
def add_subscriber(request, slug: str, payload: SubscriberIn):
    migration = _migration(request, slug, "send_announcements")
    try:
        subscriber = announcements.add_subscriber(
            migration, by=Actor.for_token(request.auth), email=payload.email
        )
    except ValidationError as error:  # the schema's pattern is looser than an e-mail address
        raise Refused(409, error) from error
    return Status(201, _subscriber_out(subscriber))


@router.delete(
    "/migrations/{slug}/subscribers/{subscriber_id}",
    response=answers({204: None}, 400, 401, 403, 404),
    summary="Remove a subscriber",
)
def remove_subscriber(request, slug: str, subscriber_id: int):
    migration = _migration(request, slug, "send_announcements")
    subscriber = get_object_or_404(StatusSubscriber, migration=migration, pk=subscriber_id)
    announcements.remove_subscriber(subscriber, by=Actor.for_token(request.auth))
    return Status(204, None)
