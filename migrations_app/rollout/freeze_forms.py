"""Input validation for the change-freeze form: one-off or weekly, in a named time zone."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from migrations_app.models import Migration
from migrations_app.rollout import zones
from migrations_app.rollout.schedule_models import WEEKDAYS

KINDS = [("one_off", "No: one window"), ("weekly", "Every week")]
DAY_CHOICES = [("", "—")] + [(str(n), day) for n, day in enumerate(WEEKDAYS)]


class FreezeForm(forms.Form):
    migration = forms.ModelChoiceField(
        queryset=Migration.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="Every migration (Admin only)",
        label="Holds",
    )
    name = forms.CharField(max_length=120, help_text="e.g. Black Friday, Weekend freeze")
    reason = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    zone = forms.ChoiceField(
        label="Time zone", help_text="The times below are wall-clock times in this zone.", choices=()
    )
    kind = forms.ChoiceField(choices=KINDS, initial="one_off", label="Repeats")
    starts_at = forms.DateTimeField(
        required=False, label="One-off: starts", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        required=False, label="One-off: ends", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    start_weekday = forms.TypedChoiceField(
        choices=DAY_CHOICES, coerce=int, empty_value=None, required=False, label="Weekly: starts on"
    )
    start_time = forms.TimeField(
        required=False, label="Weekly: start time", widget=forms.TimeInput(attrs={"type": "time"})
    )
    end_weekday = forms.TypedChoiceField(
        choices=DAY_CHOICES, coerce=int, empty_value=None, required=False, label="Weekly: ends on"
    )
    end_time = forms.TimeField(
        required=False, label="Weekly: end time", widget=forms.TimeInput(attrs={"type": "time"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = list(dict.fromkeys([*zones.COMMON_ZONES, *zones.all_zones()]))
        self.fields["zone"].choices = [(name, name) for name in names]
        self.fields["zone"].initial = settings.TIME_ZONE

    def clean(self):
        data = super().clean()
        zone = data.get("zone")
        if not zone:
            return data
        if data.get("kind") == "weekly":
            missing = [
                f for f in ("start_weekday", "start_time", "end_weekday", "end_time") if data.get(f) is None
            ]
            for name in missing:
                self.add_error(name, "A weekly freeze needs both weekdays and both times.")
            data["starts_at"] = data["ends_at"] = None
            return data
        for name in ("starts_at", "ends_at"):
            value = data.get(name)
            if value is None:
                self.add_error(name, "A one-off freeze needs its start and end.")
                continue
            try:  # the field read it in the server's zone; the person meant the chosen one
                data[name] = zones.aware(timezone.make_naive(value), zone, field=name)
            except ValidationError as error:
                self.add_error(None, error)
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        weekly = None
        if data["kind"] == "weekly":
            weekly = (data["start_weekday"], data["start_time"], data["end_weekday"], data["end_time"])
        return {
            "migration": data["migration"],
            "name": data["name"],
            "reason": data["reason"],
            "zone": data["zone"],
            "starts_at": data.get("starts_at"),
            "ends_at": data.get("ends_at"),
            "weekly": weekly,
        }
