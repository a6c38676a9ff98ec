"""Incidents: a minimal record that a rollback (or a person) opened. A later issue grows it."""

from django.db import models
from django.db.models import Q


class Severity(models.TextChoices):
    SEV1 = "sev1", "SEV1 - critical"
    SEV2 = "sev2", "SEV2 - major"
    SEV3 = "sev3", "SEV3 - minor"
    SEV4 = "sev4", "SEV4 - low"


class IncidentStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class Incident(models.Model):
    migration = models.ForeignKey(
        "migrations_app.Migration", on_delete=models.CASCADE, related_name="incidents"
    )
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=4, choices=Severity.choices, default=Severity.SEV2)
    status = models.CharField(max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.CharField(max_length=150)
    # One entry per event that opened or joined the incident: {"at", "by", "title", ...evidence}.
    evidence = models.JSONField(default=list, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            # At most one open incident per migration: a second rollback attaches to it.
            models.UniqueConstraint(
                fields=["migration"], condition=Q(status="open"), name="incident_one_open_per_migration"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_severity_display().split(' ')[0]}: {self.title}"
