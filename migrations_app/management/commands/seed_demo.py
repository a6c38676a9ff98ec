"""Demo data: one user per role and a demo migration. Running it again changes nothing."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from checklists.models import ChecklistTemplate
from checklists.services import create_migration_from_template
from checklists.yaml_io import load_builtin_templates
from migrations_app import services
from migrations_app.access import Group as G
from migrations_app.audit import Actor
from migrations_app.models import Contact, ContactKind, Migration, MigrationRoleName, MigrationStatus
from migrations_app.monitoring.services import add_demo_monitoring

DEMO_PASSWORD = "golive-demo"
DEMO_SLUG = "payment-gateway"
DEMO_TEMPLATE = "payment-gateway-go-live"  # a built-in checklist template

# username, full name, group, role on the demo migration
DEMO_USERS = [
    ("ops", "Olivia Ops", G.OPS, MigrationRoleName.DEPLOYMENT_LEAD),
    ("techlead", "Tomás Tech", G.OPS, MigrationRoleName.TECHNICAL_LEAD),
    ("qa", "Quinn QA", G.OPS, MigrationRoleName.QA_LEAD),
    ("pm", "Priya PM", G.PRODUCT_MANAGER, MigrationRoleName.PRODUCT_MANAGER),
    ("oncall", "Omar On-call", G.ON_CALL, MigrationRoleName.ON_CALL),
    ("admin", "Ada Admin", G.ADMIN, None),
]

DEMO_CONTACTS = [
    (
        "Provider support line",
        ContactKind.EXTERNAL_PARTNER,
        "Payment provider",
        "24/7 support",
        "+44 20 7946 0001",
        "support@provider.example",
        1,
        True,
    ),
    (
        "Omar On-call",
        ContactKind.INTERNAL_TECHNICAL,
        "Us",
        "Primary on-call engineer",
        "+44 20 7946 0002",
        "oncall@golive.example",
        2,
        True,
    ),
    (
        "Tomás Tech",
        ContactKind.INTERNAL_TECHNICAL,
        "Us",
        "Technical lead",
        "+44 20 7946 0003",
        "techlead@golive.example",
        3,
        False,
    ),
    (
        "Hosting operations",
        ContactKind.EXTERNAL_PARTNER,
        "Hosting provider",
        "Infrastructure incidents",
        "+44 20 7946 0004",
        "noc@hosting.example",
        4,
        False,
    ),
    (
        "Security team",
        ContactKind.INTERNAL_TECHNICAL,
        "Us",
        "Security incidents",
        "+44 20 7946 0005",
        "security@golive.example",
        5,
        False,
    ),
    (
        "Priya PM",
        ContactKind.INTERNAL_BUSINESS,
        "Us",
        "Business owner",
        "+44 20 7946 0006",
        "pm@golive.example",
        6,
        False,
    ),
]


class Command(BaseCommand):
    help = "Create one user per role and a demo migration (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default="http://127.0.0.1:8000",
            help="Where this golive answers, for the demo probe on its own /health.",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        users = {
            username: self._user(username, full_name, group) for username, full_name, group, _ in DEMO_USERS
        }
        migration = Migration.objects.filter(slug=DEMO_SLUG).first()
        if migration is None:
            load_builtin_templates(by=Actor.system("seed_demo"))
            migration = create_migration_from_template(
                template=ChecklistTemplate.objects.get(slug=DEMO_TEMPLATE),
                by=Actor.system("seed_demo"),
                name="Payment gateway go-live",
                slug=DEMO_SLUG,
                integration="Card payments provider",
                source_environment="sandbox",
                target_environment="production",
                owner=users["ops"],
                target_date=timezone.localdate() + dt.timedelta(days=14),
                description="Move card payments from the provider's sandbox to its live platform in stages.",
            )
            services.transition_migration(
                migration, to=MigrationStatus.PREPARING, by=Actor.system("seed_demo")
            )
            # Something live in the control room from the first minute: a probe on golive's own
            # /health with the standard KPIs and alert-only guardrails.
            add_demo_monitoring(migration, base_url=options["base_url"], by=Actor.system("seed_demo"))
        for username, _, _, role in DEMO_USERS:
            if role:
                services.assign_role(migration, user=users[username], role=role, by=Actor.system("seed_demo"))
        for name, kind, organisation, role, phone, email, order, on_call in DEMO_CONTACTS:
            contact, _ = Contact.objects.get_or_create(
                name=name,
                defaults={
                    "kind": kind,
                    "organisation": organisation,
                    "role": role,
                    "phone": phone,
                    "email": email,
                    "escalation_order": order,
                    "on_call": on_call,
                },
            )
            contact.migrations.add(migration)
        self._print_logins()

    def _user(self, username: str, full_name: str, group_name: str):
        User = get_user_model()
        first, last = full_name.split(" ", 1)
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@golive.example",
                "is_staff": group_name == G.ADMIN,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=group_name))
        return user

    def _print_logins(self):
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for username, full_name, group, role in DEMO_USERS:
            what = f"{group}" + (f", {MigrationRoleName(role).label} on the demo migration" if role else "")
            self.stdout.write(f"  {username:<9} {full_name:<14} {what}")
