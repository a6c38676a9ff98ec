"""Incidents, notification channels, announcements and the public status page."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from migrations_app.outbound import validate_outbound_url
from migrations_app.rollout.models import new_webhook_secret


class Severity(models.TextChoices):
    SEV1 = "sev1", "SEV1 - critical"
    SEV2 = "sev2", "SEV2 - major"
    SEV3 = "sev3", "SEV3 - minor"
    SEV4 = "sev4", "SEV4 - low"


SEVERITY_ORDER: list[str] = [Severity.SEV1, Severity.SEV2, Severity.SEV3, Severity.SEV4]
PAGING_SEVERITIES = (Severity.SEV1, Severity.SEV2)


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", "Investigating"
    IDENTIFIED = "identified", "Identified"
    MONITORING = "monitoring", "Monitoring"
    RESOLVED = "resolved", "Resolved"


OPEN_STATUSES = (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING)


class Incident(models.Model):
    already: bool = False  # not a field: set by a service when the call repeated one already made
    migration = models.ForeignKey(
        "migrations_app.Migration", on_delete=models.CASCADE, related_name="incidents"
    )
    title = models.CharField(max_length=200)
    severity = models.CharField(max_length=4, choices=Severity.choices, default=Severity.SEV2)
    status = models.CharField(
        max_length=13, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    opened_by = models.CharField(max_length=150)
    # One entry per event that opened or joined the incident: {"at", "by", "title", "evidence"}.
    evidence = models.JSONField(default=list, blank=True)
    # The last hour of probe results and KPI samples when the incident opened ("preserve logs and
    # metrics"): kept here so the data survives retention and roll-ups.
    snapshot = models.JSONField(default=dict, blank=True)
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the problem started (first failing probe in the snapshot), for time to detect.
    started_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=150, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    # Escalation: on-call paged at once (SEV1/SEV2), leads after a delay unless acknowledged.
    on_call_notified_at = models.DateTimeField(null=True, blank=True)
    escalate_at = models.DateTimeField(null=True, blank=True, db_index=True)
    leads_notified_at = models.DateTimeField(null=True, blank=True)
    # What the public status page shows: never the internal title, notes or names.
    public_title = models.CharField(
        max_length=200, default="Service disruption", help_text="Shown on the public status page."
    )
    postmortem_summary = models.TextField("summary", blank=True)
    postmortem_root_cause = models.TextField("root cause", blank=True)
    postmortem_actions = models.TextField("follow-up actions", blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            # At most one unresolved incident per migration: a second rollback attaches to it.
            models.UniqueConstraint(
                fields=["migration"],
                condition=~Q(status="resolved"),
                name="incident_one_unresolved_per_migration",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.severity_label}: {self.title}"

    @property
    def severity_label(self) -> str:
        return self.get_severity_display().split(" ")[0]

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.RESOLVED

    @property
    def pages(self) -> bool:
        return self.severity in PAGING_SEVERITIES


class IncidentUpdate(models.Model):
    """A manual note or a status change. `public` ones are written for users and appear on the
    status page; the rest stay internal."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    at = models.DateTimeField()
    by = models.CharField(max_length=150)
    body = models.TextField()
    status = models.CharField(max_length=13, choices=IncidentStatus.choices, blank=True)
    public = models.BooleanField(default=False)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M} {self.by}: {self.body[:40]}"


# --- notification channels ---------------------------------------------------------------------


class ChannelKind(models.TextChoices):
    EMAIL = "email", "E-mail"
    SLACK = "slack", "Slack-compatible incoming webhook"
    TELEGRAM = "telegram", "Telegram bot"
    WEBHOOK = "webhook", "Signed webhook (Standard Webhooks)"


def _new_secret() -> str:

    return new_webhook_secret()


class NotificationChannel(models.Model):
    """Where incident notices and announcements go, configured by Admins."""

    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=10, choices=ChannelKind.choices)
    active = models.BooleanField(default=True)
    addresses = models.TextField(
        blank=True, help_text="E-mail: recipient addresses, one per line or comma-separated."
    )
    url = models.URLField(
        "URL",
        max_length=500,
        blank=True,
        validators=[validate_outbound_url],
        help_text="Slack-compatible or signed webhook: where to POST.",
    )
    secret = models.CharField(
        max_length=100, default=_new_secret, blank=True, help_text="Signed webhook: whsec_… signing secret."
    )
    telegram_chat_id = models.CharField("Telegram chat id", max_length=64, blank=True)
    telegram_token_env = models.CharField(
        "Telegram token variable",
        max_length=64,
        blank=True,
        help_text="Name of the environment variable holding the bot token (the token is never stored).",
    )
    incidents = models.BooleanField(default=True, help_text="Receives incident notices.")
    announcements = models.BooleanField(default=True, help_text="Receives announcements.")
    migrations = models.ManyToManyField(
        "migrations_app.Migration",
        blank=True,
        related_name="notification_channels",
        help_text="Leave empty for every migration.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def address_list(self) -> list[str]:
        return [a.strip() for a in self.addresses.replace("\n", ",").split(",") if a.strip()]


# --- announcements and the status page ---------------------------------------------------------


class AnnouncementKind(models.TextChoices):
    MAINTENANCE = "maintenance", "Scheduled maintenance"
    COMPLETE = "complete", "Migration complete"
    INCIDENT = "incident", "Incident notice"


class AnnouncementTemplate(models.Model):
    """Wording for one kind of announcement. Placeholders: {migration} {date} {window}
    {duration} {contact}."""

    kind = models.CharField(max_length=12, choices=AnnouncementKind.choices, unique=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.get_kind_display()


class AnnouncementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    SENT = "sent", "Sent"
    CANCELLED = "cancelled", "Cancelled"


class Announcement(models.Model):
    migration = models.ForeignKey(
        "migrations_app.Migration", on_delete=models.CASCADE, related_name="announcements"
    )
    kind = models.CharField(max_length=12, choices=AnnouncementKind.choices)
    status = models.CharField(
        max_length=10, choices=AnnouncementStatus.choices, default=AnnouncementStatus.DRAFT
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    # The placeholder values, kept so the evidence pack shows what was promised.
    date = models.CharField(max_length=60, blank=True)
    window = models.CharField(max_length=60, blank=True)
    duration = models.CharField(max_length=60, blank=True)
    contact = models.CharField(max_length=120, blank=True)
    # When the maintenance happens (upcoming on the status page until it has passed).
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    send_at = models.DateTimeField(null=True, blank=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    proposed = models.BooleanField(default=False, help_text="Drafted by golive, not by a person.")
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_by = models.CharField(max_length=150, blank=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # golive proposes each kind once per migration; people may write any number more.
            models.UniqueConstraint(
                fields=["migration", "kind"], condition=Q(proposed=True), name="announcement_proposed_once"
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class StatusSubscriber(models.Model):
    migration = models.ForeignKey(
        "migrations_app.Migration", on_delete=models.CASCADE, related_name="status_subscribers"
    )
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(fields=["migration", "email"], name="subscriber_unique")]

    def __str__(self) -> str:
        return self.email


class StatusPage(models.Model):
    """The public status page of one migration: off until someone switches it on."""

    migration = models.OneToOneField(
        "migrations_app.Migration", on_delete=models.CASCADE, related_name="status_page"
    )
    enabled = models.BooleanField(default=False)
    public_name = models.CharField(
        max_length=120, blank=True, help_text="The service name users know, e.g. Card payments."
    )
    show_history = models.BooleanField(
        default=True, help_text="Also list the last 90 days' resolved incidents and sent announcements."
    )

    def __str__(self) -> str:
        return f"Status page of {self.migration}"
