"""Alerts Alertmanager, Grafana or a JSON sender delivered (re-exported by monitoring.models,
which registers them with the app)."""

from __future__ import annotations

from django.db import models

from migrations_app.models import Migration


class AlertPath(models.TextChoices):
    """The golive_path label: the same values as monitoring.models.Cohort."""

    FLEET = "", "Fleet-wide"
    OLD = "old", "Old path"
    NEW = "new", "New path"


class AlertSource(models.TextChoices):
    ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
    GRAFANA = "grafana", "Grafana"
    GENERIC = "generic", "JSON"


class AlertStatus(models.TextChoices):
    FIRING = "firing", "Firing"
    RESOLVED = "resolved", "Resolved"


class ReceivedAlert(models.Model):
    """An alert Alertmanager, Grafana or any JSON sender delivered, one row per fingerprint: a
    repeated delivery updates the row (status, times, last_received_at) instead of adding one."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=AlertStatus.choices)
    name = models.CharField(max_length=200, blank=True)  # the alertname label, for lists
    path = models.CharField(max_length=3, choices=AlertPath.choices, default="", blank=True)
    labels = models.JSONField(default=dict)
    annotations = models.JSONField(default=dict, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    url = models.CharField(max_length=1000, blank=True)
    source = models.CharField(max_length=12, choices=AlertSource.choices)
    first_received_at = models.DateTimeField()
    last_received_at = models.DateTimeField()
    # When the status last changed (firing -> resolved or back): the timeline's moment.
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["migration", "fingerprint"], name="received_alert_once")
        ]
        indexes = [
            models.Index(fields=["migration", "-last_received_at"], name="received_alert_recent"),
            models.Index(fields=["migration", "status"], name="received_alert_status"),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.fingerprint} {self.status}"

    @property
    def summary(self) -> str:
        """What the alert says, in one line: its summary, else its description or message."""
        for key in ("summary", "description", "message"):
            value = self.annotations.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return ""
