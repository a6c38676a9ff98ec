"""Alert intake: store what Alertmanager, Grafana or a JSON sender delivered, once per
fingerprint, then evaluate the alert guardrails of the migrations it touched.

1. Group the alerts by the migration their `golive_migration` label names; an unknown or missing
   one is counted as ignored, not an error for the batch.
2. Per migration, in one transaction with the migration locked (racing deliveries of the same
   alert serialise): a new fingerprint is stored, a known one updated. A status change (new
   firing, resolved, firing again) is audited; a repeat delivery only moves last_received_at.
3. After commit, each enabled alert guardrail of those migrations is evaluated through the same
   evaluate_guardrail the KPI guardrails use: a matching firing alert is a breach (the guardrail
   fires once, with its action), none firing clears it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.monitoring import received
from migrations_app.monitoring.models import AlertStatus, Guardrail, GuardrailKind, ReceivedAlert
from migrations_app.monitoring.services.evaluation import evaluate_guardrail


@dataclass(frozen=True)
class Intake:
    accepted: int
    ignored: int


def receive_alerts(*, alerts: list[dict], source: str, by: Actor) -> Intake:
    """Store validated alerts (see alert_api) and evaluate the alert guardrails they concern.

    Each alert: {"status", "labels", "annotations", "fingerprint" (may be ""), "starts_at",
    "ends_at", "url"}. Returns how many were accepted and how many named no known migration."""
    by_slug: dict[str, list[dict]] = {}
    ignored = 0
    for alert in alerts:
        slug = alert["labels"].get(received.MIGRATION_LABEL, "")
        if slug:
            by_slug.setdefault(slug, []).append(alert)
        else:
            ignored += 1
    migrations = {m.slug: m for m in Migration.objects.filter(slug__in=list(by_slug))}
    accepted, touched = 0, []
    for slug, items in by_slug.items():
        migration = migrations.get(slug)
        if migration is None:
            ignored += len(items)
            continue
        _store(migration, items, source=source, by=by)
        accepted += len(items)
        touched.append(migration.pk)
    for guardrail in Guardrail.objects.filter(
        migration_id__in=touched, kind=GuardrailKind.ALERT, enabled=True
    ).order_by("pk"):
        evaluate_guardrail(guardrail)
    return Intake(accepted=accepted, ignored=ignored)


@transaction.atomic
def _store(migration: Migration, items: list[dict], *, source: str, by: Actor) -> None:
    Migration.objects.select_for_update().filter(pk=migration.pk).first()
    now = timezone.now()
    for item in items:
        key = item["fingerprint"] or received.fingerprint(item["labels"])
        alert = ReceivedAlert.objects.filter(migration=migration, fingerprint=key).first()
        before = alert.status if alert else None
        if alert is None:
            alert = ReceivedAlert(migration=migration, fingerprint=key, first_received_at=now)
        _fill(alert, item, source=source, now=now, changed=before != item["status"])
        alert.save()
        if before != alert.status:
            audit.record(
                by,
                f"alert.{alert.status}",
                alert,
                migration=migration,
                before={"status": before} if before else None,
                after={"status": alert.status, "alert": alert.name},
                reason=received.describe(alert)[:500],
            )


def _fill(alert: ReceivedAlert, item: dict, *, source: str, now: dt.datetime, changed: bool) -> None:
    labels = item["labels"]
    alert.status = item["status"]
    alert.labels, alert.annotations = labels, item["annotations"]
    alert.name = str(labels.get("alertname", ""))[:200]
    path = labels.get(received.PATH_LABEL, "")
    alert.path = path if path in ("new", "old") else ""
    alert.starts_at = item["starts_at"] or alert.starts_at
    alert.ends_at = item["ends_at"] if alert.status == AlertStatus.RESOLVED else None
    alert.url = item["url"][:1000]
    alert.source = source
    alert.last_received_at = now
    if changed:
        alert.changed_at = now
