from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$",
    "Use 1-64 lowercase letters, digits and hyphens, starting and ending with a letter or digit.",
)


class MigrationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PREPARING = "preparing", "Preparing"
    READY = "ready", "Ready"
    ROLLING_OUT = "rolling_out", "Rolling out"
    MONITORING = "monitoring", "Monitoring"
    COMPLETED = "completed", "Completed"
    PAUSED = "paused", "Paused"
    ROLLED_BACK = "rolled_back", "Rolled back"
    ABORTED = "aborted", "Aborted"


class Migration(models.Model):
    """One go-live plan: an integration moving from a source to a target environment."""

    name = models.CharField(max_length=120)
    # The slug is also the feature-flag key applications ask about, so it never changes.
    slug = models.SlugField(max_length=64, unique=True, validators=[SLUG_VALIDATOR])
    integration = models.CharField("integration / provider", max_length=120)
    source_environment = models.CharField(max_length=60, default="staging")
    target_environment = models.CharField(max_length=60, default="production")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_migrations"
    )
    target_date = models.DateField("target go-live date", null=True, blank=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=MigrationStatus.choices, default=MigrationStatus.DRAFT)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("migrations_app:detail", args=[self.slug])

    @property
    def is_terminal(self) -> bool:
        return self.status in (MigrationStatus.COMPLETED, MigrationStatus.ABORTED)


class PhaseKind(models.TextChoices):
    PREPARATION = "preparation", "Preparation"
    TESTING = "testing", "Testing"
    DEPLOYMENT = "deployment", "Deployment"
    POST_LAUNCH = "post_launch", "Post-launch"


class Phase(models.Model):
    """An ordered stage of a migration. The phases before the first deployment phase form the
    go-live gate: traffic may not move until they are complete."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=20, choices=PhaseKind.choices, default=PhaseKind.PREPARATION)
    position = models.PositiveSmallIntegerField()
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["migration", "position"]
        constraints = [
            models.UniqueConstraint(fields=["migration", "position"], name="phase_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.migration.name}: {self.name}"


class MigrationRoleName(models.TextChoices):
    DEPLOYMENT_LEAD = "deployment_lead", "Deployment Lead"
    TECHNICAL_LEAD = "technical_lead", "Technical Lead"
    PRODUCT_MANAGER = "product_manager", "Product Manager"
    QA_LEAD = "qa_lead", "QA Lead"
    ON_CALL = "on_call", "On-call"


class MigrationRole(models.Model):
    """Who holds which role on one migration (sign-offs and escalation use these)."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="role_assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="migration_roles"
    )
    role = models.CharField(max_length=20, choices=MigrationRoleName.choices)

    class Meta:
        ordering = ["migration", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["migration", "role", "user"], name="migration_role_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.user}"


class ContactKind(models.TextChoices):
    INTERNAL_TECHNICAL = "internal_technical", "Internal - technical"
    INTERNAL_BUSINESS = "internal_business", "Internal - business"
    EXTERNAL_PARTNER = "external_partner", "External partner"


class Contact(models.Model):
    """Someone to call during a go-live: a colleague, the provider's support line, the host."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=ContactKind.choices)
    organisation = models.CharField(max_length=120, blank=True)
    role = models.CharField(max_length=120, help_text="e.g. Provider support line, Security team, DBA")
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    escalation_order = models.PositiveSmallIntegerField(
        default=10, help_text="Lower is called first (1 = first call)."
    )
    on_call = models.BooleanField(default=False, help_text="Paged at once for SEV1/SEV2 incidents.")
    notes = models.TextField(blank=True)
    migrations = models.ManyToManyField(Migration, related_name="contacts", blank=True)

    class Meta:
        ordering = ["escalation_order", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"


class WorkerHeartbeat(models.Model):
    """When each Celery worker last ran a task, so pages can warn when background work stopped."""

    hostname = models.CharField(max_length=200, unique=True)
    last_seen = models.DateTimeField()
    beats = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.hostname} at {self.last_seen:%H:%M:%S}"
