from django import forms

from checklists.models import ItemState
from migrations_app.models import MigrationRoleName


class TickForm(forms.Form):
    # The caller states the target ("done" or "open"), so a double click never undoes a tick.
    state = forms.ChoiceField(choices=[(ItemState.DONE, "Done"), (ItemState.OPEN, "Open")])


class ItemStateForm(forms.Form):
    state = forms.ChoiceField(choices=ItemState.choices)
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required for Not applicable and Blocked.",
    )
    evidence_note = forms.CharField(required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))
    evidence_link = forms.URLField(required=False, max_length=500, assume_scheme="https")

    def clean(self):
        data = super().clean()
        state = data.get("state")
        if state in (ItemState.NOT_APPLICABLE, ItemState.BLOCKED) and not (data.get("reason") or "").strip():
            self.add_error("reason", f"Say why the item is {ItemState(state).label.lower()}.")
        return data


class ItemDetailsForm(forms.Form):
    owner = forms.ModelChoiceField(queryset=None, required=False, empty_label="Nobody (the role owns it)")
    due_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners


class CommentForm(forms.Form):
    body = forms.CharField(label="Comment", max_length=5000, widget=forms.Textarea(attrs={"rows": 2}))


class BulkAssignForm(forms.Form):
    items = forms.TypedMultipleChoiceField(
        coerce=int, choices=[], error_messages={"required": "Tick at least one item to assign."}
    )
    owner = forms.ModelChoiceField(queryset=None, required=False, empty_label="Nobody (the role owns it)")

    def __init__(self, *args, item_ids, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [(pk, pk) for pk in item_ids]
        self.fields["owner"].queryset = owners


class SignOffForm(forms.Form):
    role = forms.ChoiceField(choices=MigrationRoleName.choices)
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class RevokeForm(forms.Form):
    reason = forms.CharField(max_length=2000, error_messages={"required": "Say why the sign-off is revoked."})


class TemplateFileForm(forms.Form):
    yaml_text = forms.CharField(
        label="Template YAML",
        required=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}),
    )
    yaml_file = forms.FileField(label="…or upload a .yaml file", required=False)

    def clean(self):
        data = super().clean()
        upload = data.get("yaml_file")
        if upload:
            try:
                data["yaml_text"] = upload.read(600 * 1024).decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("yaml_file", "The file is not UTF-8 text.")
        elif not (data.get("yaml_text") or "").strip():
            self.add_error("yaml_text", "Paste the template YAML or choose a file.")
        return data
