"""Input validation for rollback hooks (the model's URL field carries the address checks)."""

from django import forms

from migrations_app.rollout.models import RollbackHook


class RollbackHookForm(forms.ModelForm):
    class Meta:
        model = RollbackHook
        fields = ["name", "url", "active"]
        labels = {"url": "URL", "active": "Call it on rollback"}
        help_texts = {"url": "golive POSTs a signed migration.rolled_back event here (Standard Webhooks)."}

    def __init__(self, *args, migration=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.migration = migration

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        others = RollbackHook.objects.filter(migration=self.migration, name=name).exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("Another rollback hook of this migration has this name.")
        return name
