"""Checklist templates, the checklists copied from them onto migrations, and phase sign-offs.

A template is a recipe (phases -> sections -> items, plus recurring work). Creating a migration
from a template copies everything, so editing a template never changes a running migration."""

from django.conf import settings
from django.db import models
from django.urls import reverse

from migrations_app.models import SLUG_VALIDATOR, Migration, MigrationRoleName, Phase, PhaseKind

# The go-live gate's sign-offs when a template phase does not list its own.
GO_LIVE_SIGNOFF_ROLES = [
    MigrationRoleName.DEPLOYMENT_LEAD,
    MigrationRoleName.TECHNICAL_LEAD,
    MigrationRoleName.PRODUCT_MANAGER,
    MigrationRoleName.QA_LEAD,
]


class Every(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    YEARLY = "yearly", "Yearly"


# --- Templates ---------------------------------------------------------------------------------


class ChecklistTemplate(models.Model):
    slug = models.SlugField(max_length=64, unique=True, validators=[SLUG_VALIDATOR])
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    builtin = models.BooleanField(
        default=False, help_text="Shipped with golive (loaded from its YAML files)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("checklists:template_detail", args=[self.slug])


class TemplatePhase(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="phases")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=20, choices=PhaseKind.choices)
    position = models.PositiveSmallIntegerField()
    signoff_roles = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["template", "position"]

    def __str__(self) -> str:
        return self.name


class TemplateSection(models.Model):
    phase = models.ForeignKey(TemplatePhase, on_delete=models.CASCADE, related_name="sections")
    name = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["phase", "position"]

    def __str__(self) -> str:
        return self.name


class TemplateItem(models.Model):
    section = models.ForeignKey(TemplateSection, on_delete=models.CASCADE, related_name="items")
    title = models.CharField(max_length=300)
    help = models.TextField(blank=True)
    required = models.BooleanField(default=True)
    owner_role = models.CharField(max_length=20, choices=MigrationRoleName.choices, blank=True)
    due_offset_days = models.IntegerField(
        null=True, blank=True, help_text="Days relative to the go-live date."
    )
    probe_kind = models.CharField(max_length=40, blank=True)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["section", "position"]

    def __str__(self) -> str:
        return self.title


class TemplateRecurring(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="recurring")
    title = models.CharField(max_length=300)
    every = models.CharField(max_length=10, choices=Every.choices)
    owner_role = models.CharField(max_length=20, choices=MigrationRoleName.choices, blank=True)
    help = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["template", "position"]

    def __str__(self) -> str:
        return self.title


# --- A migration's checklist -------------------------------------------------------------------


class PhaseGate(models.Model):
    """Which roles must sign a phase off (a phase without a gate row needs no sign-off)."""

    phase = models.OneToOneField(Phase, on_delete=models.CASCADE, related_name="gate")
    signoff_roles = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"Gate of {self.phase}"


class ChecklistSection(models.Model):
    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="sections")
    name = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["phase__position", "position"]

    def __str__(self) -> str:
        return self.name


class ItemState(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    NOT_APPLICABLE = "na", "Not applicable"
    BLOCKED = "blocked", "Blocked"


class RecurringRule(models.Model):
    """Recurring post-launch work of one migration, copied from its template."""

    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="recurring_rules")
    title = models.CharField(max_length=300)
    every = models.CharField(max_length=10, choices=Every.choices)
    owner_role = models.CharField(max_length=20, choices=MigrationRoleName.choices, blank=True)
    help = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["migration", "position"]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_every_display().lower()})"


class ChecklistItem(models.Model):
    migration = models.ForeignKey(Migration, on_delete=models.CASCADE, related_name="checklist_items")
    section = models.ForeignKey(ChecklistSection, on_delete=models.CASCADE, related_name="items")
    title = models.CharField(max_length=300)
    help = models.TextField(blank=True)
    required = models.BooleanField(default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="checklist_items",
    )
    owner_role = models.CharField(max_length=20, choices=MigrationRoleName.choices, blank=True)
    due_date = models.DateField(null=True, blank=True)
    probe_kind = models.CharField(max_length=40, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=10, choices=ItemState.choices, default=ItemState.OPEN)
    reason = models.TextField(blank=True, help_text="Why the item is not applicable or blocked.")
    evidence_note = models.TextField(blank=True)
    evidence_link = models.URLField(max_length=500, blank=True)
    # Bumped on every change that matters to a sign-off (state, reason, evidence), so the
    # fingerprint sees a reopen-and-redo as a change even though the state ends where it began.
    version = models.PositiveIntegerField(default=0)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_by_label = models.CharField(max_length=150, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    recurring_rule = models.ForeignKey(
        RecurringRule, null=True, blank=True, on_delete=models.CASCADE, related_name="items"
    )
    recurring_period = models.CharField(max_length=12, blank=True)

    class Meta:
        ordering = ["section__phase__position", "section__position", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recurring_rule", "recurring_period"],
                condition=models.Q(recurring_rule__isnull=False),
                name="checklist_item_recurring_once_per_period",
            ),
        ]
        indexes = [models.Index(fields=["migration", "state"], name="checklist_item_state")]

    def __str__(self) -> str:
        return self.title[:200]

    @property
    def phase(self) -> Phase:
        return self.section.phase

    @property
    def is_settled(self) -> bool:
        """Counts towards a complete phase: done, or consciously marked not applicable."""
        return self.state in (ItemState.DONE, ItemState.NOT_APPLICABLE)


class ItemComment(models.Model):
    item = models.ForeignKey(ChecklistItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.author} on {self.item}"


class SignOff(models.Model):
    """One person's sign-off of one role slot of a phase. Revoked or renewed rows are kept."""

    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="signoffs")
    role = models.CharField(max_length=20, choices=MigrationRoleName.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signoffs")
    comment = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=64)
    signed_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by_label = models.CharField(max_length=150, blank=True)
    revoke_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["phase", "role", "-signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["phase", "role"],
                condition=models.Q(revoked_at__isnull=True),
                name="signoff_one_per_role",
            ),
            models.UniqueConstraint(
                fields=["phase", "user"],
                condition=models.Q(revoked_at__isnull=True),
                name="signoff_one_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} sign-off of {self.phase.name} by {self.user}"
