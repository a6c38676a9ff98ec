from django.core.management.base import BaseCommand

from checklists.yaml_io import load_builtin_templates
from migrations_app.audit import Actor


class Command(BaseCommand):
    help = "Load the built-in checklist templates that are missing (idempotent; Admins' edits are kept)."

    def handle(self, *args, **options):
        loaded = load_builtin_templates(by=Actor.system("load_builtin_templates"))
        for template in loaded:
            self.stdout.write(f"Loaded {template.slug}")
        if not loaded:
            self.stdout.write("All built-in templates are present.")
