"""manage.py seed_demo: the demo's data (migrations_app.demo.seed), then the demo logins."""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from migrations_app.demo import seed


class Command(BaseCommand):
    help = "Create one user per role and a demo migration (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where this golive answers (kept for compatibility; the probes call the demo provider).",
        )
        parser.add_argument(
            "--provider-url",
            default="http://127.0.0.1:8001",
            help="Where the demo provider answers (python -m migrations_app.demo.provider).",
        )
        parser.add_argument(
            "--webhook-secret",
            default=os.environ.get("DEMO_PROVIDER_WEBHOOK_SECRET", ""),
            help="The secret the demo provider signs its webhooks with: the rolling-out migration's "
            "webhook receipt verifies with it (none: no webhook receipt is set up).",
        )
        parser.add_argument(
            "--token-file",
            default=str(Path(settings.BASE_DIR) / "var" / "demo-ingest-token"),
            help="Where to write the demo provider's ingest token (only when a new one is made).",
        )

    def handle(self, *args, **options):
        seed.seed(
            provider_url=options["provider_url"],
            webhook_secret=options["webhook_secret"],
            token_file=Path(options["token_file"]),
        )
        for line in seed.login_lines():
            self.stdout.write(line)
