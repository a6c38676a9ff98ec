"""Probe configuration, validated field by field so a 422 can say which field is wrong."""

from __future__ import annotations

import re

from django import forms

from migrations_app.monitoring.models import Probe, ProbeKind
from migrations_app.monitoring.probing import ProbeTargetRefused, ProbeTransportError, resolve_target
from migrations_app.monitoring.probing.jsonpath import JsonPathError, parse
from migrations_app.monitoring.probing.kinds import references

_SENSITIVE = re.compile(r"authorization|token|secret|key|cookie|password|signature", re.IGNORECASE)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]{1,60}$")
_STATUSES = re.compile(r"^\s*([1-5]xx|[1-5]\d\d)(\s*,\s*([1-5]xx|[1-5]\d\d))*\s*$", re.IGNORECASE)
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,79}$")


class ProbeForm(forms.ModelForm):
    url = forms.URLField(
        label="URL",
        max_length=500,
        assume_scheme="https",
        help_text="Prometheus: the server's base URL. TLS certificate: https://host[:port]/.",
    )
    headers_text = forms.CharField(
        label="Headers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Authorization: Bearer ${PROVIDER_API_KEY}"}),
        help_text="One “Name: value” per line. Secret values must be ${VARIABLE} references to the "
        "worker's environment; golive never stores the secret itself.",
    )
    expected_json_text = forms.CharField(
        label="Expected JSON fields",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "status == ok"}),
        help_text="One “path == value” per line, e.g. status == ok.",
    )

    class Meta:
        model = Probe
        fields = [
            "name",
            "kind",
            "url",
            "method",
            "expected_statuses",
            "json_path",
            "query",
            "secret_env",
            "webhook_scheme",
            "min_days_valid",
            "interval_seconds",
            "timeout_seconds",
            "passes_to_tick",
            "errors_to_page",
            "path",
            "enabled",
        ]
        help_texts = {
            "interval_seconds": "How often a worker runs the probe (at least 1 s).",
        }

    def __init__(self, *args, migration=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.migration = migration
        order = ["name", "kind", "url", "method", "headers_text", "expected_statuses", "expected_json_text"]
        self.order_fields(order)
        if self.instance.pk and not self.is_bound:
            self.initial["headers_text"] = "\n".join(
                f"{k}: {v}" for k, v in (self.instance.headers or {}).items()
            )
            self.initial["expected_json_text"] = "\n".join(
                f"{c.get('path')} == {c.get('equals')}" for c in (self.instance.expected_json or [])
            )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        others = Probe.objects.filter(migration=self.migration, name=name).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("Another probe of this migration has this name.")
        return name

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            resolve_target(url)
        except ProbeTargetRefused as error:
            raise forms.ValidationError(str(error)) from None
        except ProbeTransportError:
            pass  # the name does not resolve from here now; the probe will report it as an error
        return url

    def clean_expected_statuses(self):
        value = self.cleaned_data["expected_statuses"].strip() or "200"
        if not _STATUSES.match(value):
            raise forms.ValidationError(
                "Use status codes or classes separated by commas, e.g. 200,204 or 2xx."
            )
        return value.replace(" ", "")

    def clean_json_path(self):
        path = self.cleaned_data["json_path"].strip()
        if path:
            try:
                parse(path)
            except JsonPathError as error:
                raise forms.ValidationError(f"Not a JSONPath golive can read: {error}.") from None
        return path

    def clean_secret_env(self):
        name = self.cleaned_data["secret_env"].strip()
        if name.startswith("${") and name.endswith("}"):
            name = name[2:-1]
        if name and not _ENV_NAME.match(name):
            raise forms.ValidationError(
                "Give the variable's NAME (capitals, digits, _), not the secret itself."
            )
        return name

    def clean_headers_text(self):
        headers = {}
        for number, line in enumerate(self.cleaned_data["headers_text"].splitlines(), start=1):
            if not line.strip():
                continue
            name, sep, value = line.partition(":")
            name, value = name.strip(), value.strip()
            if not sep or not _HEADER_NAME.match(name):
                raise forms.ValidationError(f"Line {number}: write “Name: value”.")
            if _SENSITIVE.search(name) and not references(value):
                raise forms.ValidationError(
                    f"Line {number}: {name} looks secret. Write a ${{VARIABLE}} reference to the worker's "
                    "environment instead of the value, e.g. Bearer ${PROVIDER_API_KEY}."
                )
            headers[name] = value
        return headers

    def clean_expected_json_text(self):
        checks = []
        for number, line in enumerate(self.cleaned_data["expected_json_text"].splitlines(), start=1):
            if not line.strip():
                continue
            path, sep, value = line.partition("==")
            if not sep or not path.strip():
                raise forms.ValidationError(f"Line {number}: write “path == value”, e.g. status == ok.")
            try:
                parse(path.strip())
            except JsonPathError as error:
                raise forms.ValidationError(f"Line {number}: {error}.") from None
            checks.append({"path": path.strip(), "equals": value.strip().strip('"')})
        return checks

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == ProbeKind.JSON_METRIC and not data.get("json_path"):
            self.add_error("json_path", "A JSON metric probe needs the JSONPath of its number.")
        if kind == ProbeKind.PROMETHEUS and not data.get("query", "").strip():
            self.add_error("query", "A Prometheus probe needs a query.")
        if kind == ProbeKind.WEBHOOK_SIGNATURE and not data.get("secret_env"):
            self.add_error("secret_env", "Name the environment variable holding the webhook signing secret.")
        if kind == ProbeKind.AUTHENTICATED_CALL and not any(
            references(v) for v in data.get("headers_text", {}).values()
        ):
            self.add_error(
                "headers_text", "An authenticated call needs a header with a ${VARIABLE} reference."
            )
        if kind == ProbeKind.TLS_CERTIFICATE and data.get("url") and not data["url"].startswith("https://"):
            self.add_error("url", "A TLS certificate probe needs an https:// URL.")
        return data

    def service_fields(self) -> dict:
        fields = {name: self.cleaned_data[name] for name in self.Meta.fields}
        fields["headers"] = self.cleaned_data["headers_text"]
        fields["expected_json"] = self.cleaned_data["expected_json_text"]
        return fields
