"""Numbers past PostgreSQL's bigint (and 1e999, NaN) in the choice, multi-select and integer
fields of the page forms merged today (channels, contacts, KPIs, guardrails, probes, webhook
receipt, incident details), DEBUG on and off: refused naming the field, never a 500, nothing
written. Every golive form with such a field has a row here or in test_json_and_form_ranges.py:
a new one fails test_every_form_with_a_number_or_choice_field_has_a_row."""

from __future__ import annotations

import pytest
from django import forms
from django.test import override_settings
from django.urls import get_resolver

from migrations_app.htmx_kit import field_label
from migrations_app.models import AuditEvent
from tests.security.test_hostile_urls_everywhere import GOLIVE_PACKAGES, _subclasses
from tests.security.world import build_world

pytestmark = pytest.mark.django_db

HUGE = ["9223372036854775808", "-9223372036854775809", "9" * 30, "1e999", "NaN"]
NUMBER_FIELDS = (forms.ModelChoiceField, forms.IntegerField)

# (form class, page, fields with numbers, the rest of a valid post)
ROWS = [
    (
        "ChannelForm",
        "/notifications/new/",
        ["migrations"],
        {"name": "C", "kind": "email", "addresses": "a@b.co"},
    ),
    ("ChannelEditForm", "/notifications/{channel}/", ["migrations"], {"name": "C", "addresses": "a@b.co"}),
    (
        "ContactForm",
        "/people/contacts/new/",
        ["migrations", "escalation_order"],
        {"name": "N", "kind": "vendor"},
    ),
    ("KpiForm", "/migrations/checkout/control-room/kpis/new/", ["probe", "window_seconds"], {"name": "K"}),
    (
        "GuardrailForm",
        "/migrations/checkout/control-room/guardrails/new/",
        ["kpi", "consecutive", "min_samples", "no_data_seconds"],
        {"name": "G", "kind": "threshold", "action": "alert"},
    ),
    (
        "ProbeForm",
        "/migrations/checkout/control-room/probes/new/",
        ["min_days_valid", "interval_seconds", "passes_to_tick", "errors_to_page"],
        {"name": "P", "kind": "http_health", "url": "https://93.184.215.14/"},
    ),
    (
        "InboundWebhookForm",
        "/migrations/checkout/webhook-receipt/",
        ["tolerance_seconds"],
        {"scheme": "standard"},
    ),
    (
        "WebhookKpisForm",
        "/migrations/checkout/webhook-receipt/kpis/",
        ["no_data_minutes"],
        {"action": "alert"},
    ),
    ("DetailsForm", "/migrations/checkout/incidents/{incident}/details/", ["commander"], {}),
    (
        "FreezeForm",
        "/freezes/",
        ["migration", "start_weekday", "end_weekday"],
        {"name": "F", "zone": "UTC", "kind": "weekly", "start_time": "16:00", "end_time": "08:00"},
    ),
]
ELSEWHERE = {
    "BulkAssignForm": "test_json_and_form_ranges.py (bulk assignment: items and owner)",
    "ItemDetailsForm": "test_json_and_form_ranges.py (item owner)",
    "MigrationForm": "test_json_and_form_ranges.py (new migration's owner)",
    "AdminProbeForm": "the Django admin, staff only; its numbers are the model's, as in ProbeForm",
}


def test_every_form_with_a_number_or_choice_field_has_a_row():
    assert get_resolver().url_patterns  # imports every view, and so every form
    found = {
        form.__name__
        for form in _subclasses(forms.BaseForm)
        if form.__module__.startswith(GOLIVE_PACKAGES)
        and any(isinstance(field, NUMBER_FIELDS) for field in getattr(form, "base_fields", {}).values())
    }
    assert found - {row[0] for row in ROWS} - set(ELSEWHERE) == set()


def _form_errors(response) -> set[str]:
    contexts = response.context if isinstance(response.context, list) else [response.context]
    errors = set()
    for context in filter(None, contexts):
        for value in context.flatten().values():
            if isinstance(value, forms.BaseForm):
                errors |= set(value.errors)
    return errors


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_number_past_bigint_in_a_page_form_is_refused_naming_the_field(
    client, ops, pm, oncall, admin_user, debug
):
    world = build_world(ops=ops, pm=pm, oncall=oncall, admin_user=admin_user)
    ids = {
        "channel": world.kwargs["incidents_channels:edit"]["pk"],
        "incident": world.kwargs["incidents:details"]["pk"],
    }
    client.force_login(admin_user)
    events = AuditEvent.objects.count()
    with override_settings(DEBUG=debug):
        for form, path, fields, valid in ROWS:
            for field in fields:
                for value in HUGE:
                    response = client.post(path.format(**ids), {**valid, field: value})
                    assert response.status_code in (400, 422), (form, field, value, response.status_code)
                    # The incident page lists its refusals as sentences ("Commander: Select a valid choice").
                    named = (
                        field in _form_errors(response)
                        or f"{field_label(field)}: " in response.content.decode()
                    )
                    assert named, (form, field, value)
    assert AuditEvent.objects.count() == events
