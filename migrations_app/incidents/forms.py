"""Input validation for incidents, announcements and notification channels."""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from migrations_app.incidents.models import (
    AnnouncementKind,
    ChannelKind,
    IncidentStatus,
    NotificationChannel,
    Severity,
)


class OpenIncidentForm(forms.Form):
    title = forms.CharField(max_length=200)
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.SEV2)
    public_title = forms.CharField(
        max_length=200, required=False, help_text="Shown on the public status page."
    )


class StatusForm(forms.Form):
    to = forms.ChoiceField(choices=IncidentStatus.choices)
    note = forms.CharField(max_length=5000, required=False)
    public_update = forms.CharField(max_length=5000, required=False)


class NoteForm(forms.Form):
    body = forms.CharField(max_length=5000)
    public = forms.BooleanField(required=False)


class DetailsForm(forms.Form):
    severity = forms.ChoiceField(choices=Severity.choices)
    commander = forms.ModelChoiceField(queryset=None, required=False)
    public_title = forms.CharField(max_length=200)

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commander"].queryset = users


class PostmortemForm(forms.Form):
    summary = forms.CharField(max_length=20000, required=False)
    root_cause = forms.CharField(max_length=20000, required=False)
    actions = forms.CharField(max_length=20000, required=False)


class DraftForm(forms.Form):
    kind = forms.ChoiceField(choices=AnnouncementKind.choices)
    date = forms.CharField(max_length=60, required=False, help_text="e.g. Saturday 5 December")
    window = forms.CharField(max_length=60, required=False, help_text="e.g. 02:00-04:00 UTC")
    duration = forms.CharField(max_length=60, required=False, help_text="e.g. about 2 hours")
    contact = forms.CharField(max_length=120, required=False, help_text="e.g. support@example.com")
    starts_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Maintenance only, in UTC: the status page lists it as upcoming until it ends.",
    )
    ends_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            raise ValidationError({"ends_at": "The maintenance must end after it starts."})
        return data


class EditAnnouncementForm(DraftForm):
    subject = forms.CharField(max_length=200)
    body = forms.CharField(max_length=20000, widget=forms.Textarea(attrs={"rows": 8}))

    field_order = ["subject", "body", "date", "window", "duration", "contact", "starts_at", "ends_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["kind"]


class ScheduleForm(forms.Form):
    send_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))


class SubscriberForm(forms.Form):
    email = forms.EmailField()


class StatusPageForm(forms.Form):
    enabled = forms.BooleanField(required=False)
    public_name = forms.CharField(max_length=120, required=False)
    show_history = forms.BooleanField(required=False)


class ChannelForm(forms.ModelForm):
    class Meta:
        model = NotificationChannel
        fields = [
            "name",
            "kind",
            "addresses",
            "url",
            "secret",
            "telegram_chat_id",
            "telegram_token_env",
            "incidents",
            "announcements",
            "migrations",
            "active",
        ]
        widgets = {"addresses": forms.Textarea(attrs={"rows": 2})}

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == ChannelKind.EMAIL and not data.get("addresses"):
            self.add_error("addresses", "An e-mail channel needs at least one address.")
        if kind == ChannelKind.EMAIL and data.get("addresses"):
            for address in data["addresses"].replace("\n", ",").split(","):
                if address.strip():
                    try:
                        validate_email(address.strip())
                    except ValidationError:
                        self.add_error("addresses", f"{address.strip()} is not an e-mail address.")
        if kind in (ChannelKind.SLACK, ChannelKind.WEBHOOK) and not data.get("url"):
            self.add_error("url", "This channel needs the URL to POST to.")
        if kind == ChannelKind.WEBHOOK and not (data.get("secret") or "").startswith("whsec_"):
            self.add_error("secret", "A signed webhook needs a whsec_… secret.")
        if kind == ChannelKind.TELEGRAM:
            if not data.get("telegram_chat_id"):
                self.add_error("telegram_chat_id", "A Telegram channel needs the chat id.")
            name = data.get("telegram_token_env") or ""
            if not name or not name.replace("_", "").isalnum() or not name[0].isalpha():
                self.add_error(
                    "telegram_token_env",
                    "Name the environment variable holding the token, e.g. GOLIVE_TELEGRAM_TOKEN.",
                )
        return data


class ChannelEditForm(ChannelForm):
    """Editing keeps the signing secret out of the page: it was shown when the channel was made."""

    class Meta(ChannelForm.Meta):
        fields = [name for name in ChannelForm.Meta.fields if name != "secret"]

    def clean(self):
        if self.cleaned_data.get("kind") == ChannelKind.WEBHOOK:
            self.cleaned_data["secret"] = self.instance.secret or "whsec_"
        return super().clean()
