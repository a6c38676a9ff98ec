"""Webhook receipt: the URL a provider (or the application relaying it) posts its signed events to.

Each verified delivery and each refused one also becomes a pushed sample (see services.receive),
so KPIs and guardrails watch webhooks with the machinery they use for every other metric."""

from __future__ import annotations

from django.db import models

from migrations_app.monitoring.models import WebhookScheme
from migrations_app.rollout.models import new_webhook_secret


class InboundWebhook(models.Model):
    """One migration's receiving end: the scheme its provider signs with and the shared secret."""

    migration = models.OneToOneField(
        "migrations_app.Migration", on_delete=models.CASCADE, related_name="inbound_webhook"
    )
    scheme = models.CharField(
        max_length=10,
        choices=WebhookScheme.choices,
        default=WebhookScheme.STANDARD,
        help_text="How the provider signs: Standard Webhooks headers, or Stripe-style Stripe-Signature.",
    )
    # Signatures are HMACs, so golive needs the secret itself to check them; pages show it only
    # when it is made (creation, rotation), never again.
    secret = models.CharField(max_length=100, default=new_webhook_secret)
    enabled = models.BooleanField(default=True)
    tolerance_seconds = models.PositiveIntegerField(
        default=300, help_text="Events signed longer ago (or ahead) than this are refused as replays."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Inbound webhooks of {self.migration}"


class InboundDelivery(models.Model):
    """One POST to the receiving URL, verified or refused (kept for the page, pruned with raw data)."""

    endpoint = models.ForeignKey(InboundWebhook, on_delete=models.CASCADE, related_name="deliveries")
    received_at = models.DateTimeField()
    verified = models.BooleanField()
    event_id = models.CharField(max_length=200, blank=True)
    event_type = models.CharField(max_length=120, blank=True)
    reason = models.CharField(max_length=200, blank=True, help_text="Why it was refused.")
    size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["endpoint", "-received_at"], name="inbound_delivery_recent")]

    def __str__(self) -> str:
        return f"{'verified' if self.verified else 'refused'} at {self.received_at:%H:%M:%S}"
