"""Input validation for the webhook receipt settings."""

from django import forms

from migrations_app.inbound.models import InboundWebhook
from migrations_app.monitoring.models import GuardrailAction


class InboundWebhookForm(forms.ModelForm):
    tolerance_seconds = forms.IntegerField(
        label="Replay tolerance (seconds)",
        min_value=30,
        max_value=3600,
        initial=300,
        help_text="Events signed longer ago (or ahead) than this are refused as replays. 300 s is the "
        "Standard Webhooks and Stripe default.",
    )

    class Meta:
        model = InboundWebhook
        fields = ["scheme", "enabled", "tolerance_seconds"]
        labels = {"scheme": "Signature scheme", "enabled": "Accept deliveries"}


class WebhookKpisForm(forms.Form):
    action = forms.ChoiceField(
        label="When a webhook guardrail fires",
        choices=GuardrailAction.choices,
        initial=GuardrailAction.ALERT,
    )
    no_data_minutes = forms.IntegerField(
        label="No webhooks for (minutes)",
        min_value=1,
        max_value=1440,
        initial=10,
        help_text="The no-data guardrail fires after this long without a verified delivery.",
    )
