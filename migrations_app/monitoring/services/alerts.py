"""Alerts: notify the on-call by e-mail and webhooks, at most once per key and period."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from migrations_app.models import Migration
from migrations_app.monitoring.models import Alert
from migrations_app.rollout import outbox
from migrations_app.rollout.services import on_call_addresses


def send_alert(migration: Migration, *, key: str, level: str, message: str) -> Alert | None:
    """Notify the on-call by e-mail and the migration's webhooks, at most once per key and period."""
    period = dt.timedelta(seconds=settings.GOLIVE_ALERT_DEDUPE_SECONDS)
    now = timezone.now()
    with transaction.atomic():
        Migration.objects.select_for_update().filter(pk=migration.pk).first()  # serialise racing alerts
        if Alert.objects.filter(migration=migration, key=key, created_at__gte=now - period).exists():
            return None
        alert = Alert.objects.create(migration=migration, key=key, level=level, message=message[:500])
        dedupe = f"alert:{alert.pk}"
        if addresses := on_call_addresses(migration):
            outbox.enqueue_email(
                to=addresses,
                subject=f"[golive] {level.upper()}: {migration.name}",
                body=f"{message}\n\nControl room: /migrations/{migration.slug}/control-room/",
                migration=migration,
                dedupe_key=f"{dedupe}:email",
            )
        for hook in migration.rollback_hooks.filter(active=True):
            outbox.enqueue_webhook(
                url=hook.url,
                secret=hook.secret,
                event_type=f"golive.alert.{level}",
                payload={
                    "type": f"golive.alert.{level}",
                    "data": {"migration": migration.slug, "message": message},
                },
                migration=migration,
                dedupe_key=f"{dedupe}:hook:{hook.pk}",
            )
    return alert
