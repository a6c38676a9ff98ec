"""Webhook receipt through /api/v1 (`operate` scope): the same settings and rotation as the page."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Router, Schema

from migrations_app import access
from migrations_app.api_kit import TokenAuth, answers
from migrations_app.audit import Actor
from migrations_app.inbound import selectors, services
from migrations_app.models import Migration
from migrations_app.monitoring.models import WebhookScheme

router = Router(auth=TokenAuth(scope="operate"), tags=["webhook receipt"])


class ReceiptIn(Schema):
    scheme: WebhookScheme = WebhookScheme.STANDARD
    enabled: bool = True
    tolerance_seconds: int = Field(300, ge=30, le=3600, description="Replay window either side of now.")


class ReceiptOut(Schema):
    configured: bool
    url: str = Field(description="Where the provider posts its signed events.")
    scheme: str
    enabled: bool
    tolerance_seconds: int
    verified_last_hour: int
    refused_last_hour: int
    secret: str | None = Field(
        None, description="Only in the answer that created the receipt or rotated its secret."
    )


def _out(request, migration: Migration, *, secret: str | None = None) -> dict:
    endpoint = selectors.endpoint_for(migration)
    counts = selectors.delivery_counts(endpoint) if endpoint else {"verified": 0, "refused": 0}
    url = request.build_absolute_uri(reverse("inbound_receiver:receive", args=[migration.slug]))
    return {
        "configured": endpoint is not None,
        "url": url,
        "scheme": endpoint.scheme if endpoint else "",
        "enabled": bool(endpoint and endpoint.enabled),
        "tolerance_seconds": endpoint.tolerance_seconds if endpoint else 0,
        "verified_last_hour": counts["verified"],
        "refused_last_hour": counts["refused"],
        "secret": secret,
    }


def _migration(request, slug: str, action: str) -> Migration:
    migration = get_object_or_404(Migration, slug=slug)
    access.require(request.auth.user, action)
    return migration


@router.get(
    "/migrations/{slug}/webhook-receipt",
    response=answers({200: ReceiptOut}, 401, 403, 404),
    summary="The migration's inbound webhook URL, settings and last hour's deliveries",
)
def get_receipt(request, slug: str):
    return _out(request, _migration(request, slug, "view"))


@router.put(
    "/migrations/{slug}/webhook-receipt",
    response=answers({200: ReceiptOut}, 400, 401, 403, 404),
    summary="Set up or change webhook receipt; the first answer carries the signing secret, once",
)
def put_receipt(request, slug: str, payload: ReceiptIn):
    migration = _migration(request, slug, "manage_migration")
    _, secret = services.configure_inbound(
        migration, by=Actor.for_token(request.auth), **payload.model_dump()
    )
    return _out(request, migration, secret=secret)


@router.post(
    "/migrations/{slug}/webhook-receipt/rotate",
    response=answers({200: ReceiptOut}, 401, 403, 404),
    summary="A new signing secret at once, in this answer only",
)
def rotate_receipt(request, slug: str):
    migration = _migration(request, slug, "manage_migration")
    endpoint = selectors.endpoint_for(migration)
    if endpoint is None:
        raise Http404("This migration does not receive webhooks yet: PUT its settings first.")
    secret = services.rotate_inbound_secret(endpoint, by=Actor.for_token(request.auth))
    return _out(request, migration, secret=secret)
