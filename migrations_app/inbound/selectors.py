"""Reads for the webhook receipt page."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Max, Q
from django.utils import timezone

from migrations_app.inbound.models import InboundDelivery, InboundWebhook
from migrations_app.models import Migration


def endpoint_for(migration: Migration) -> InboundWebhook | None:
    return InboundWebhook.objects.filter(migration=migration).first()


def delivery_counts(endpoint: InboundWebhook, *, now: dt.datetime | None = None, hours: int = 1) -> dict:
    """Verified and refused deliveries in the last `hours`, and when the last verified one came."""
    since = (now or timezone.now()) - dt.timedelta(hours=hours)
    counts = endpoint.deliveries.filter(received_at__gte=since).aggregate(
        verified_count=Count("id", filter=Q(verified=True)),
        refused_count=Count("id", filter=Q(verified=False)),
    )
    last = endpoint.deliveries.filter(verified=True).aggregate(at=Max("received_at"))["at"]
    return {
        "verified": counts["verified_count"],
        "refused": counts["refused_count"],
        "hours": hours,
        "last_verified_at": last,
    }


def recent_deliveries(endpoint: InboundWebhook, *, limit: int = 20) -> list[InboundDelivery]:
    return list(endpoint.deliveries.all()[:limit])
