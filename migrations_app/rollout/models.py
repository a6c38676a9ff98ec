"""Traffic plans, rollbacks, the outbox, API tokens and connected SDK instances."""

import base64
import datetime as dt
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from migrations_app.outbound import validate_outbound_url

DEFAULT_STEPS = [5, 25, 50, 100]
DEFAULT_SOAK_MINUTES = 24 * 60


def default_steps() -> list[int]:
    return list(DEFAULT_STEPS)


class RolloutPlan(models.Model):
    """The traffic state of one migration: its ordered steps and the level it is at now.

    Applications read `percent` through the flag APIs; only the services in rollout.services write it."""

    migration = models.OneToOneField(
        "migrations_app.Migration", on_delete=models.CASCADE, related_name="rollout_plan"
    )
    steps = models.JSONField(
        default=default_steps, help_text="Ascending traffic levels in percent, ending at 100."
    )
    soak_minutes = models.PositiveIntegerField(
        default=DEFAULT_SOAK_MINUTES, help_text="Minimum time at a level before the next step may start."
    )
    percent = models.PositiveSmallIntegerField(default=0)
    level_since = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(percent__lte=100), name="rollout_percent_max_100")]

    def __str__(self) -> str:
        return f"{self.migration} at {self.percent}%"

    def next_step(self) -> int | None:
        return next((step for step in self.steps if step > self.percent), None)

    def next_step_at(self) -> dt.datetime | None:
        """When the soak at this level is over (None at 0 %, or before traffic first moved)."""
        if self.percent == 0 or self.level_since is None:
            return None
        return self.level_since + dt.timedelta(minutes=self.soak_minutes)


class TrafficChangeKind(models.TextChoices):
    ADVANCE = "advance", "Advance"
    OVERRIDE = "override", "Advance (gate overridden)"
    DECREASE = "decrease", "Decrease"
    PAUSE = "pause", "Pause"
    RESUME = "resume", "Resume"
    ROLLBACK = "rollback", "Rollback"


class TrafficChange(models.Model):
    """History for the traffic panel: who moved traffic, when, from where to where, and why."""

    migration = models.ForeignKey(
        "migrations_app.Migration", on_delete=models.CASCADE, related_name="traffic_changes"
    )
    at = models.DateTimeField(auto_now_add=True)
    by = models.CharField(max_length=150)
    kind = models.CharField(max_length=10, choices=TrafficChangeKind.choices)
    from_percent = models.PositiveSmallIntegerField()
    to_percent = models.PositiveSmallIntegerField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_percent}% -> {self.to_percent}% by {self.by}"


class Rollback(models.Model):
    already: bool = False  # not a field: set by roll_back when a rollback was already active
    migration = models.ForeignKey(
        "migrations_app.Migration", on_delete=models.CASCADE, related_name="rollbacks"
    )
    at = models.DateTimeField(auto_now_add=True)
    by = models.CharField(max_length=150)
    by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    from_percent = models.PositiveSmallIntegerField()
    evidence = models.JSONField(default=dict, blank=True)
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="rollbacks"
    )
    # Set when a person resumes the rollout; until then traffic stays at 0 %.
    resumed_at = models.DateTimeField(null=True, blank=True)
    resumed_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            # A second rollback can only start after a person resumed the first one.
            models.UniqueConstraint(
                fields=["migration"],
                condition=Q(resumed_at__isnull=True),
                name="rollback_one_active_per_migration",
            ),
        ]

    def __str__(self) -> str:
        return f"Rollback of {self.migration} from {self.from_percent}% by {self.by}"


PLAYBOOK = [
    "Stop new traffic to the new integration (golive did this: the flag is at 0 %).",
    "Let in-flight transactions on the new path complete; do not cut connections.",
    "Switch back: confirm deploy pipeline / load balancer hooks ran and the old path serves all users.",
    "Preserve logs and metrics from the incident window (export, snapshot dashboards).",
    "Notify the teams: internal on-call, product, and the provider's support line.",
]


class RollbackStep(models.Model):
    """One line of the manual rollback playbook, ticked by the on-call."""

    rollback = models.ForeignKey(Rollback, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=300)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["rollback", "position"]
        constraints = [models.UniqueConstraint(fields=["rollback", "position"], name="rollback_step_unique")]

    def __str__(self) -> str:
        return self.text


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


class RollbackHook(models.Model):
    """A URL golive calls (signed, Standard Webhooks) when the migration is rolled back."""

    migration = models.ForeignKey(
        "migrations_app.Migration", on_delete=models.CASCADE, related_name="rollback_hooks"
    )
    name = models.CharField(max_length=80, help_text="e.g. Deploy pipeline, Load balancer API")
    url = models.URLField(max_length=500, validators=[validate_outbound_url])
    secret = models.CharField(
        max_length=100, default=new_webhook_secret, help_text="whsec_... signing secret"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["migration", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"


class OutboxKind(models.TextChoices):
    WEBHOOK = "webhook", "Webhook"
    EMAIL = "email", "E-mail"
    # Slack-compatible and Telegram notices: delivered by migrations_app.incidents.channels.
    CHANNEL = "channel", "Notification channel"


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class OutboxMessage(models.Model):
    """A side effect written in the transaction that caused it and delivered later by Celery.

    The uuid is also the `webhook-id` header, so a receiver can drop redeliveries."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=OutboxKind.choices)
    migration = models.ForeignKey(
        "migrations_app.Migration",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbox_messages",
    )
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    event_type = models.CharField(max_length=80, blank=True)
    target = models.TextField(help_text="URL for webhooks, comma-separated addresses for e-mail")
    payload = models.JSONField(default=dict)
    secret = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.event_type} to {self.target_display}"

    @property
    def target_display(self) -> str:
        return self.target if len(self.target) < 80 else self.target[:77] + "..."


class TokenScope(models.TextChoices):
    FLAGS = "flags", "flags: read flag state (OFREP, Unleash client API)"
    OPERATE = "operate", "operate: automation API (create migrations, move traffic, roll back)"
    INGEST = "ingest", "ingest: push metrics and probe results"
    METRICS = "metrics", "metrics: scrape /metrics (Prometheus)"


class ApiToken(models.Model):
    """A bearer token. Only its sha256 is stored; the prefix finds the row without the secret."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ClientInstance(models.Model):
    """An application instance using the Unleash client API (seen by register, metrics or polls)."""

    app_name = models.CharField(max_length=200)
    instance_id = models.CharField(max_length=200)
    sdk_version = models.CharField(max_length=100, blank=True)
    token_name = models.CharField(max_length=80, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    last_fetch_at = models.DateTimeField(null=True, blank=True)
    last_metrics_at = models.DateTimeField(null=True, blank=True)
    last_metrics = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["app_name", "instance_id"]
        constraints = [
            models.UniqueConstraint(fields=["app_name", "instance_id"], name="client_instance_unique")
        ]

    def __str__(self) -> str:
        return f"{self.app_name} / {self.instance_id}"


class ExposureVariant(models.TextChoices):
    NEW = "new", "New path"
    OLD = "old", "Old path"


class ExposureSource(models.TextChoices):
    OFREP = "ofrep", "OFREP answers golive gave"
    UNLEASH = "unleash", "Unleash SDK metrics (yes/no)"


class Exposure(models.Model):
    """How many users were served each answer of a flag in one minute (see rollout/exposure.py).

    `users` counts distinct targeting keys per web process and minute (OFREP only: the Unleash SDKs
    report evaluation counts, not users); `evaluations` counts answers."""

    migration = models.ForeignKey(
        "migrations_app.Migration", on_delete=models.CASCADE, related_name="exposures"
    )
    minute = models.DateTimeField()
    variant = models.CharField(max_length=3, choices=ExposureVariant.choices)
    source = models.CharField(max_length=8, choices=ExposureSource.choices)
    users = models.PositiveIntegerField(default=0)
    evaluations = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["migration", "-minute"]
        constraints = [
            models.UniqueConstraint(
                fields=["migration", "minute", "variant", "source"], name="exposure_once_per_minute"
            )
        ]

    def __str__(self) -> str:
        return f"{self.migration_id} {self.minute:%H:%M} {self.variant}: {self.users} users"


# Change freezes, scheduled steps and calendar feeds live in their own module; imported here so
# that Django registers them with the rest of the rollout models.
from migrations_app.rollout.schedule_models import (  # noqa: E402
    CalendarFeed,
    ChangeFreeze,
    ScheduledStep,
    ScheduledStepState,
)

__all__ = ["CalendarFeed", "ChangeFreeze", "ScheduledStep", "ScheduledStepState"]
