from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _load_builtin_templates(sender, using="default", **kwargs):
    """After every migrate (and every test-database flush) the shipped templates are present.

    Only missing templates are loaded, so an Admin's edits to a built-in are kept."""
    from checklists.yaml_io import load_builtin_templates  # noqa: PLC0415 - apps.py loads before the models do

    load_builtin_templates()


class ChecklistsConfig(AppConfig):
    name = "checklists"
    verbose_name = "Checklists"

    def ready(self):
        post_migrate.connect(
            _load_builtin_templates, sender=self, dispatch_uid="checklists-builtin-templates"
        )
