from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from migrations_app.audit import Actor
from migrations_app.rollout import tokens


class Command(BaseCommand):
    help = "Create an API token for a user and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--scopes", required=True, help="Comma-separated: flags,operate,ingest,metrics")
        parser.add_argument("--name", default="", help="Where the token is used (default: cli-<scopes>)")

    def handle(self, *args, username, scopes, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user “{username}”.")
        try:
            token, raw = tokens.create_token(
                user=user,
                name=name or f"cli-{scopes.replace(',', '-')}",
                scopes=scopes,
                by=Actor.system("create_api_token"),
            )
        except ValidationError as error:
            raise CommandError("; ".join(m for ms in error.message_dict.values() for m in ms)) from error
        self.stdout.write(raw)
        self.stderr.write(
            f"Token “{token.name}” for {username} with scopes {', '.join(token.scopes)}. It is shown only once."
        )
