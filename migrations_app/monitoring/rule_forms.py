"""KPI and guardrail settings, validated field by field. The pages and /api/v1 use these same
forms, so both accept and refuse exactly the same input with the same words."""

from __future__ import annotations

import json
import re

from django import forms

from migrations_app.monitoring.models import (
    Aggregation,
    Guardrail,
    GuardrailKind,
    Kpi,
    Probe,
    ProbeField,
)

KPI_FIELDS = [
    "name",
    "probe",
    "probe_field",
    "metric",
    "aggregation",
    "window_seconds",
    "direction",
    "warning",
    "critical",
    "unit",
]
GUARDRAIL_FIELDS = [
    "name",
    "kpi",
    "kind",
    "action",
    "consecutive",
    "min_samples",
    "tolerance_percent",
    "tolerance_points",
    "confidence",
    "no_data_seconds",
    "degradation_percent",
    "baseline_value",
    "matchers",
    "enabled",
]
COMPARABLE = {
    Aggregation.RATE,
    Aggregation.ERROR_RATE,
    Aggregation.MEAN,
    Aggregation.P50,
    Aggregation.P95,
    Aggregation.P99,
}
MAX_WINDOW_SECONDS = 7 * 24 * 3600
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,99}$")  # Prometheus' label names
MAX_MATCHERS = 20
MAX_LABEL_VALUE = 500


class LabelMatchersField(forms.Field):
    """Labels an alert must carry, from the page as `name=value` lines (or commas), from the API
    as an object {"name": "value"}; shown back as lines."""

    widget = forms.Textarea(attrs={"rows": 3, "placeholder": "alertname=HighErrorRate\nseverity=critical"})

    def __init__(self, *, encoder=None, decoder=None, **kwargs):  # what JSONField hands its form field
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, dict):
            return "\n".join(f"{name}={text}" for name, text in value.items())
        return value

    def to_python(self, value) -> dict:
        if value in (None, "", {}):
            return {}
        if isinstance(value, str):
            value = self._parse(value)
        if not isinstance(value, dict):
            raise forms.ValidationError("Give labels as name=value lines, or a JSON object.")
        for name, text in value.items():
            if not LABEL_NAME.match(str(name)):
                raise forms.ValidationError(
                    f"“{name}” is not a label name: letters, digits and underscores, not starting with a digit."
                )
            if not isinstance(text, str) or not text or len(text) > MAX_LABEL_VALUE or "\x00" in text:
                raise forms.ValidationError(
                    f"Label {name}: give a value of 1 to {MAX_LABEL_VALUE} characters."
                )
        if len(value) > MAX_MATCHERS:
            raise forms.ValidationError(f"At most {MAX_MATCHERS} labels.")
        return dict(value)

    @staticmethod
    def _parse(text: str):
        text = text.strip()
        if text.startswith("{"):
            try:
                return json.loads(text)
            except ValueError:
                raise forms.ValidationError("That JSON object could not be read.") from None
        pairs = {}
        for part in re.split(r"[\n,]+", text):
            if not part.strip():
                continue
            name, sep, value = part.partition("=")
            if not sep:
                raise forms.ValidationError(f"“{part.strip()}”: write name=value.")
            pairs[name.strip()] = value.strip().strip('"')
        return pairs


class KpiForm(forms.ModelForm):
    class Meta:
        model = Kpi
        fields = KPI_FIELDS
        labels = {"probe_field": "Probe number", "window_seconds": "Window (seconds)"}
        help_texts = {
            "metric": "A pushed metric's name (e.g. payment_success), when the KPI is not a probe's.",
            "window_seconds": "The KPI is computed over this many seconds up to now.",
            "critical": "Past this a threshold guardrail breaches. Optional for a KPI only compared new vs old.",
            "warning": "Optional: past this the tile turns amber.",
        }

    def __init__(self, *args, migration, **kwargs):
        super().__init__(*args, **kwargs)
        self.migration = migration
        self.fields["probe"].queryset = Probe.objects.filter(migration=migration)
        self.fields["probe"].required = False
        self.fields["metric"].required = False
        self.fields["window_seconds"].max_value = MAX_WINDOW_SECONDS
        self.fields["window_seconds"].widget.attrs["max"] = MAX_WINDOW_SECONDS

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the KPI a name.")
        if Kpi.objects.filter(migration=self.migration, name=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another KPI of this migration has this name.")
        return name

    def clean_window_seconds(self):
        seconds = self.cleaned_data["window_seconds"]
        if seconds is not None and not 1 <= seconds <= MAX_WINDOW_SECONDS:
            raise forms.ValidationError(f"Use 1 to {MAX_WINDOW_SECONDS} seconds (7 days).")
        return seconds

    def clean(self):
        data = super().clean()
        probe, metric = data.get("probe"), (data.get("metric") or "").strip()
        if probe and metric:
            self.add_error("metric", "Choose a probe or a pushed metric, not both.")
        elif not probe and not metric and "metric" not in self.errors:
            self.add_error("metric", "Choose a probe or name a pushed metric.")
        if not probe:
            data["probe_field"] = ProbeField.SUCCESS
        warning, critical = data.get("warning"), data.get("critical")
        if warning is not None and critical is None:
            self.add_error("critical", "A warning level needs a critical threshold too.")
        elif warning is not None and critical is not None:
            higher = data.get("direction") == "higher"
            if (higher and warning < critical) or (not higher and warning > critical):
                better = "above" if higher else "below"
                self.add_error("warning", f"The warning level comes before critical: {better} {critical:g}.")
        if self.instance.pk and critical is None:
            needs = self.instance.guardrails.filter(kind__in=[GuardrailKind.THRESHOLD]).values_list(
                "name", flat=True
            )
            if needs:
                self.add_error("critical", f"Threshold guardrail “{needs[0]}” needs a critical threshold.")
        return data

    def service_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in KPI_FIELDS}
        fields["metric"] = (fields["metric"] or "").strip()
        return fields


class GuardrailForm(forms.ModelForm):
    class Meta:
        model = Guardrail
        fields = GUARDRAIL_FIELDS
        labels = {
            "kpi": "KPI",
            "min_samples": "Minimum samples",
            "consecutive": "Windows in a row",
            "tolerance_percent": "Tolerance (%)",
            "tolerance_points": "Tolerance (points or the KPI's unit)",
            "confidence": "Confidence (%)",
            "no_data_seconds": "Silence limit (seconds)",
            "degradation_percent": "Degradation (%)",
            "matchers": "Alert labels to match",
        }
        help_texts = {
            "action": "What it does when it fires: alert the on-call, pause the rollout at its level, or roll back to 0 %.",
            "min_samples": "Fewer samples in the window (per path, for compare): no verdict. 30 is a sound minimum for compare.",
            "consecutive": "Failing evaluations in a row before it fires (an alert rule fires at once).",
            "tolerance_percent": "Compare: how much worse the new path may be, relative to the old (e.g. 20).",
            "tolerance_points": "Compare: how much worse, absolutely (e.g. 2 points of a success rate).",
            "kpi": "The KPI the rule watches. Leave empty for an alert rule, which watches alerts instead.",
        }
        field_classes = {"matchers": LabelMatchersField}

    def __init__(self, *args, migration, **kwargs):
        super().__init__(*args, **kwargs)
        self.migration = migration
        self.fields["kpi"].queryset = Kpi.objects.filter(migration=migration)
        self.fields["kpi"].required = False
        self.fields["matchers"].required = False
        self.fields["matchers"].help_text = (
            "Alert rule only: labels a received alert must all carry, one name=value a line "
            "(e.g. alertname=HighErrorRate). Empty: any alert labelled with this migration."
        )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the guardrail a name.")
        if (
            Guardrail.objects.filter(migration=self.migration, name=name)
            .exclude(pk=self.instance.pk)
            .exists()
        ):
            raise forms.ValidationError("Another guardrail of this migration has this name.")
        return name

    def clean_min_samples(self):
        value = self.cleaned_data["min_samples"]
        if value is not None and value > 1_000_000:
            raise forms.ValidationError("Use at most 1,000,000.")
        return value

    def clean(self):
        data = super().clean()
        kind, kpi = data.get("kind"), data.get("kpi")
        if kind == GuardrailKind.ALERT:
            if kpi is not None:
                self.add_error("kpi", "An alert guardrail watches alerts, not a KPI: leave the KPI empty.")
        elif kpi is None and "kpi" not in self.errors:
            self.add_error(
                "kpi", "Choose the KPI this guardrail watches (only an alert guardrail needs none)."
            )
        if kind != GuardrailKind.ALERT and data.get("matchers"):
            self.add_error("matchers", "Only an alert guardrail matches alert labels.")
        if kind == GuardrailKind.COMPARE:
            self._clean_compare(data, kpi)
        else:
            for name in ("tolerance_percent", "tolerance_points"):
                if data.get(name) is not None:
                    self.add_error(name, "Only a compare guardrail has a tolerance.")
        if kind == GuardrailKind.THRESHOLD and kpi is not None and kpi.critical is None:
            self.add_error(
                "kpi", f"KPI “{kpi.name}” has no critical threshold: set one, or use a compare rule."
            )
        degradation, silence = data.get("degradation_percent"), data.get("no_data_seconds")
        if degradation is not None and not 0 < degradation <= 1000:
            self.add_error("degradation_percent", "Use more than 0 and at most 1000 %.")
        if silence is not None and not 10 <= silence <= 7 * 24 * 3600:
            self.add_error("no_data_seconds", "Use 10 seconds to 7 days.")
        return data

    def _clean_compare(self, data, kpi) -> None:
        percent, points = data.get("tolerance_percent"), data.get("tolerance_points")
        if percent is None and points is None:
            self.add_error(
                "tolerance_percent", "A compare guardrail needs a tolerance: in percent or in points."
            )
        elif percent is not None and points is not None:
            self.add_error("tolerance_points", "Give the tolerance in percent or in points, not both.")
        for name, value in (("tolerance_percent", percent), ("tolerance_points", points)):
            if value is not None and not 0 <= value <= 1000:
                self.add_error(name, "Use 0 to 1000.")
        if kpi is not None and kpi.aggregation not in COMPARABLE:
            self.add_error(
                "kpi",
                f"KPI “{kpi.name}” is a {kpi.get_aggregation_display().lower()}: compare needs a rate, "
                "a mean or a percentile.",
            )

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in GUARDRAIL_FIELDS}
