from django import forms
from django.contrib.auth import get_user_model

from checklists.models import ChecklistTemplate
from migrations_app.models import SLUG_VALIDATOR, Migration, MigrationStatus


class MigrationForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=ChecklistTemplate.objects.order_by("name"),
        required=False,
        label="Checklist template",
        empty_label="No template: four empty phases",
        help_text="The migration gets a copy of the template's phases, items and sign-offs; "
        "editing the template later does not change it.",
    )
    name = forms.CharField(max_length=120)
    slug = forms.CharField(
        max_length=64,
        validators=[SLUG_VALIDATOR],
        help_text="Also the feature-flag key applications ask for. It cannot change later.",
    )
    integration = forms.CharField(max_length=120, label="Integration / provider")
    source_environment = forms.CharField(max_length=60, initial="staging")
    target_environment = forms.CharField(max_length=60, initial="production")
    target_date = forms.DateField(
        required=False, label="Target go-live date", widget=forms.DateInput(attrs={"type": "date"})
    )
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username")
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if Migration.objects.filter(slug=slug).exists():
            raise forms.ValidationError("A migration with this slug already exists.")
        return slug


class TransitionForm(forms.Form):
    to = forms.ChoiceField(choices=MigrationStatus.choices)
    reason = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    override = forms.BooleanField(required=False, help_text="Admins: pass an incomplete phase gate.")
