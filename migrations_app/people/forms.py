"""Input validation for the people pages; the services check again what depends on the data."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings

from migrations_app.access import Group
from migrations_app.models import Contact, ContactKind, Migration, Theme
from migrations_app.people.preferences import zone_names

GROUP_CHOICES = [(name, name) for name in Group.ALL]
# "Ada Admin (ada)" as the picker shows a person, or a bare user name.
LABELLED = re.compile(r"\(([^()]+)\)\s*$")


def username_from(text: str) -> str:
    match = LABELLED.search(text)
    return (match.group(1) if match else text).strip()


class RoleHoldersForm(forms.Form):
    """Who holds one role afterwards: the holders kept (ticked) plus the people added."""

    keep = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    add = forms.CharField(
        required=False,
        max_length=300,
        label="Add a person",
        help_text="Type a name or user name and pick from the list; several separated by commas.",
    )

    def __init__(self, *args, current: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [(name, name) for name in current]

    def usernames(self) -> list[str]:
        added = [username_from(part) for part in self.cleaned_data["add"].split(",") if part.strip()]
        return [*self.cleaned_data["keep"], *added]


class UserForm(forms.Form):
    username = forms.CharField(
        max_length=150, help_text="Letters, digits and @ . + - _ only; used to log in."
    )
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False, help_text="Where golive sends this person's notifications.")
    group = forms.ChoiceField(
        choices=GROUP_CHOICES,
        help_text="Decides what the person may do (README: Who may do what). One group per person.",
    )


class UserCreateForm(UserForm):
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty and golive generates one, shown to you once. Or set one: 8+ characters, not a common or all-digit one.",
    )


class UserEditForm(UserForm):
    is_active = forms.BooleanField(
        required=False, label="Active", help_text="A deactivated person cannot log in; their history stays."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].disabled = True
        self.fields["username"].help_text = "Cannot change: the audit trail names people by it."


class PasswordResetForm(forms.Form):
    password = forms.CharField(
        required=False,
        label="New password",
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty and golive generates one, shown to you once; tell the person privately.",
    )


class ContactForm(forms.ModelForm):
    migrations = forms.ModelMultipleChoiceField(
        queryset=Migration.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The migration pages that list this contact.",
    )

    class Meta:
        model = Contact
        fields = [
            "name",
            "kind",
            "organisation",
            "role",
            "phone",
            "email",
            "escalation_order",
            "on_call",
            "notes",
            "migrations",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            "kind": forms.Select(choices=ContactKind.choices),
        }


class PreferencesForm(forms.Form):
    """A person's own settings (migrations_app/people/preferences.py checks them again)."""

    theme = forms.ChoiceField(
        label="Theme",
        choices=Theme.choices,
        widget=forms.RadioSelect,
        help_text="Dark is easier on the eyes at night; “system” follows your computer or phone.",
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Times on every page are shown in this zone, and the zone is named beside them.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = [("", f"golive's default ({settings.TIME_ZONE})")]
        self.fields["time_zone"].choices = default + [(name, name) for name in zone_names()]
