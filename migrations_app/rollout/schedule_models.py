"""Change freezes, scheduled traffic steps and calendar feeds (re-exported by rollout.models).

Times are stored in UTC; a recurring freeze keeps its weekdays and clock times in its own named
zone, so "every Friday 16:00" stays 16:00 in Europe/Paris on both sides of a daylight-saving change."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class ChangeFreeze(models.Model):
    """A window in which traffic does not advance: one-off (starts_at/ends_at) or weekly
    (start weekday and time to end weekday and time, in `zone`). No migration = every migration."""

    migration = models.ForeignKey(
        "migrations_app.Migration",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="change_freezes",
        help_text="Empty: the freeze holds every migration.",
    )
    name = models.CharField(max_length=120)
    reason = models.TextField(blank=True)
    zone = models.CharField(max_length=64, default="UTC", help_text="IANA time zone, e.g. Europe/Paris.")
    # One-off
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    # Weekly: weekday 0 = Monday, times in `zone`
    start_weekday = models.PositiveSmallIntegerField(null=True, blank=True)
    start_time = models.TimeField(null=True, blank=True)
    end_weekday = models.PositiveSmallIntegerField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["migration_id", "name", "id"]
        constraints = [
            models.CheckConstraint(
                name="freeze_one_off_or_weekly",
                condition=(
                    Q(starts_at__isnull=False, ends_at__isnull=False, start_weekday__isnull=True)
                    | Q(
                        starts_at__isnull=True,
                        start_weekday__lte=6,
                        end_weekday__lte=6,
                        start_time__isnull=False,
                        end_time__isnull=False,
                    )
                ),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_weekly(self) -> bool:
        return self.start_weekday is not None

    @property
    def scope(self) -> str:
        return self.migration.name if self.migration_id else "every migration"

    def recurrence(self) -> str:
        """ "every Friday 16:00 to Monday 08:00 (Europe/Paris)" or the one-off window in its zone."""
        if self.is_weekly:
            assert self.start_weekday is not None and self.end_weekday is not None
            assert self.start_time is not None and self.end_time is not None
            return (
                f"every {WEEKDAYS[self.start_weekday]} {self.start_time:%H:%M} to "
                f"{WEEKDAYS[self.end_weekday]} {self.end_time:%H:%M} ({self.zone})"
            )
        return ""


class ScheduledStepState(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    APPLIED = "applied", "Applied"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"


class ScheduledStep(models.Model):
    """ "Advance to 25 % on Tuesday at 09:00 Europe/Paris": applied at `at` if the gates allow it
    then, skipped with a notice saying why otherwise."""

    migration = models.ForeignKey(
        "migrations_app.Migration", on_delete=models.CASCADE, related_name="scheduled_steps"
    )
    percent = models.PositiveSmallIntegerField()
    at = models.DateTimeField(db_index=True, help_text="When, in UTC.")
    zone = models.CharField(max_length=64, default="UTC", help_text="The zone the time was given in.")
    reason = models.TextField(blank=True)
    state = models.CharField(
        max_length=10, choices=ScheduledStepState.choices, default=ScheduledStepState.SCHEDULED
    )
    outcome = models.TextField(blank=True)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["state", "at"], name="scheduled_step_due")]
        constraints = [
            models.CheckConstraint(condition=Q(percent__lte=100), name="scheduled_step_percent_max_100")
        ]

    def __str__(self) -> str:
        return f"{self.percent} % at {self.at:%Y-%m-%d %H:%M} UTC"


class CalendarFeed(models.Model):
    """A secret iCalendar URL: one migration's dates, or everything's (no migration)."""

    migration = models.ForeignKey(
        "migrations_app.Migration",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
    )
    token = models.CharField(max_length=64, unique=True, default=new_calendar_token)
    created_by = models.CharField(max_length=150)
    created_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        scope = self.migration.name if self.migration_id else "every migration"
        return f"Calendar feed for {scope}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def path(self) -> str:
        return f"/calendar/{self.token}.ics"
