"""The demo's data: one user per role, a migration being prepared and one already rolling out, both
watched by probes on the demo provider (migrations_app.demo.provider). Running it again changes nothing."""

import datetime as dt
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from checklists import gates
from checklists.models import ChecklistItem, ChecklistTemplate, ItemState
from checklists.services import create_migration_from_template, sign_off_phase, tick_item
from checklists.yaml_io import load_builtin_templates
from migrations_app import audit, services
from migrations_app.access import Group as G
from migrations_app.audit import Actor
from migrations_app.demo.monitoring import add_demo_monitoring
from migrations_app.inbound.kpis import add_webhook_kpis
from migrations_app.inbound.services import configure_inbound, rotate_inbound_secret
from migrations_app.models import Contact, ContactKind, Migration, MigrationRoleName, MigrationStatus
from migrations_app.monitoring.models import (
    Aggregation,
    Direction,
    Guardrail,
    GuardrailAction,
    GuardrailKind,
    Kpi,
    Probe,
    ProbeKind,
    WebhookScheme,
)
from migrations_app.monitoring.services import (
    add_standard_kpis,
    create_probe,
    update_probe,
)
from migrations_app.rollout import services as rollout
from migrations_app.rollout import tokens
from migrations_app.rollout.models import ApiToken

DEMO_PASSWORD = "golive-demo"
DEMO_SLUG = "payment-gateway"
DEMO_TEMPLATE = "payment-gateway-go-live"  # a built-in checklist template
ROLLING_SLUG = "webhook-service"
ROLLING_TEMPLATE = "webhook-service-release"
INGEST_TOKEN_NAME = "Demo provider"
# The rolling-out demo rolls back fast: a one-minute window, three bad evaluations in a row.
ROLLING_WINDOW_SECONDS = 60
ROLLING_CONSECUTIVE = 3
# The demo provider's simulated checkout (migrations_app/demo/provider.py) pushes these per user with a
# targeting key; compare guardrails pause the rollout when the new path is worse than the old one.
# name, metric, aggregation, direction, unit, guardrail name, tolerance field, tolerance
CANARY_KPIS = [
    (
        "Checkout latency (p95)",
        "checkout_latency_ms",
        Aggregation.P95,
        Direction.LOWER_IS_BETTER,
        "ms",
        "New path checkout latency",
        "tolerance_percent",
        20.0,
    ),
    (
        "Checkout success",
        "checkout_success",
        Aggregation.RATE,
        Direction.HIGHER_IS_BETTER,
        "%",
        "New path checkout success",
        "tolerance_points",
        2.0,
    ),
]
CANARY_MIN_SAMPLES = 30
TOKEN_SCOPES = ["ingest", "flags"]  # push samples; ask OFREP which path each simulated user takes

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


def add_provider_probes(migration: Migration, *, provider_url: str) -> None:
    """An authenticated call and the credits balance, beside add_demo_monitoring's health probe.

    The key is read from the worker's DEMO_PROVIDER_API_KEY (`make run` sets the demo default)."""
    base = provider_url.rstrip("/")
    auth = {"Authorization": "Bearer ${DEMO_PROVIDER_API_KEY}"}
    specs = [
        ("Provider API (authenticated)", ProbeKind.AUTHENTICATED_CALL, f"{base}/v1/account", ""),
        ("Provider credits", ProbeKind.JSON_METRIC, f"{base}/organizations/me", "$.availableCredits"),
    ]
    for name, kind, url, json_path in specs:
        if Probe.objects.filter(migration=migration, name=name).exists():
            continue
        create_probe(
            migration,
            by=Actor.system("seed_demo"),
            name=name,
            kind=kind,
            url=url,
            headers=auth,
            json_path=json_path,
            interval_seconds=10,
            timeout_seconds=5,
        )


def add_canary_guardrails(migration: Migration, *, by: Actor) -> None:
    """The simulated checkout's KPIs, each watched by a compare guardrail that pauses the rollout
    (new path worse than the old one, three one-minute windows in a row). Existing ones are kept."""
    position = Kpi.objects.filter(migration=migration).count()
    for name, metric, aggregation, direction, unit, rule, tolerance_field, tolerance in CANARY_KPIS:
        if Kpi.objects.filter(migration=migration, name=name).exists():
            continue
        position += 1
        kpi = Kpi.objects.create(
            migration=migration,
            name=name,
            metric=metric,
            aggregation=aggregation,
            direction=direction,
            unit=unit,
            critical=None,
            window_seconds=ROLLING_WINDOW_SECONDS,
            position=position,
        )
        guardrail = Guardrail.objects.create(
            migration=migration,
            name=rule,
            kpi=kpi,
            kind=GuardrailKind.COMPARE,
            action=GuardrailAction.PAUSE,
            consecutive=ROLLING_CONSECUTIVE,
            min_samples=CANARY_MIN_SAMPLES,
            confidence=95,
            **{tolerance_field: tolerance},
        )
        audit.record(
            by, "kpi.created", kpi, migration=migration, after={"name": name, "source": kpi.source_label}
        )
        audit.record(
            by,
            "guardrail.created",
            guardrail,
            migration=migration,
            after={"name": rule, "kind": "compare", "action": "pause", tolerance_field: tolerance},
            reason="Demo: pause when the new checkout path is worse than the old one.",
        )


@transaction.atomic
def seed(*, provider_url: str, webhook_secret: str, token_file: Path) -> None:
    """Create (or keep) the demo users, contacts and both demo migrations."""
    users = {username: demo_user(username, full_name, group) for username, full_name, group, _ in DEMO_USERS}
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
        services.transition_migration(migration, to=MigrationStatus.PREPARING, by=Actor.system("seed_demo"))
        # Something live in the control room from the first minute: probes on the demo
        # provider with the standard KPIs and alert-only guardrails.
        add_demo_monitoring(migration, base_url=provider_url, by=Actor.system("seed_demo"))
        add_provider_probes(migration, provider_url=provider_url)
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
    rolling = rolling_out_migration(users, provider_url=provider_url)
    if webhook_secret:
        webhook_receipt(rolling, secret=webhook_secret)
    add_canary_guardrails(rolling, by=Actor.system("seed_demo"))
    for contact in Contact.objects.filter(name__in=[c[0] for c in DEMO_CONTACTS]):
        contact.migrations.add(rolling)
    ingest_token(users["ops"], token_file)


def rolling_out_migration(users, *, provider_url: str) -> Migration:
    """A migration past its go-live gate at 25 %, with guardrails that roll back on their own.

    Every step goes through the real services: ticks and sign-offs by the demo users, the
    status to ready, the first traffic step."""
    migration = Migration.objects.filter(slug=ROLLING_SLUG).first()
    if migration is not None:
        return migration
    system = Actor.system("seed_demo")
    load_builtin_templates(by=system)
    migration = create_migration_from_template(
        template=ChecklistTemplate.objects.get(slug=ROLLING_TEMPLATE),
        by=system,
        name="Webhook service release",
        slug=ROLLING_SLUG,
        integration="Payment webhooks receiver",
        owner=users["ops"],
        target_date=timezone.localdate(),
        description="Release the new webhook receiver to production in stages; guardrails roll it back.",
    )
    for username, _, _, role in DEMO_USERS:
        if role:
            services.assign_role(migration, user=users[username], role=role, by=system)
    services.transition_migration(migration, to=MigrationStatus.PREPARING, by=system)
    holders = {role: users[username] for username, _, _, role in DEMO_USERS if role}
    for phase in gates.gate_phases(migration):
        items = ChecklistItem.objects.filter(section__phase=phase).exclude(state=ItemState.DONE)
        for item in items.order_by("id"):
            tick_item(item, by=Actor.for_user(users["ops"]))
        for role in gates.signoff_roles(phase):
            user = holders[role]
            sign_off_phase(phase, user=user, role=role, by=Actor.for_user(user), comment="Demo sign-off")
    services.transition_migration(migration, to=MigrationStatus.READY, by=Actor.for_user(users["ops"]))
    probe = add_demo_monitoring(migration, base_url=provider_url, by=system)
    add_provider_probes(migration, provider_url=provider_url)
    add_standard_kpis(migration, probe=probe, by=system, action=GuardrailAction.ROLLBACK)
    for probe in Probe.objects.filter(migration=migration):
        update_probe(probe, by=system, interval_seconds=5)
    Kpi.objects.filter(migration=migration).update(window_seconds=ROLLING_WINDOW_SECONDS)
    Guardrail.objects.filter(migration=migration).update(
        action=GuardrailAction.ROLLBACK, consecutive=ROLLING_CONSECUTIVE
    )
    audit.record(
        system,
        "guardrails.tuned_for_demo",
        migration,
        after={
            "window_seconds": ROLLING_WINDOW_SECONDS,
            "consecutive": ROLLING_CONSECUTIVE,
            "action": GuardrailAction.ROLLBACK,
        },
        reason="Demo: a short window so a failure rolls back within a minute.",
    )
    rollout.update_plan(migration, steps=[25, 50, 100], soak_minutes=2, by=system)
    rollout.set_traffic(
        migration,
        to=25,
        by=Actor.for_user(users["ops"]),
        reason="Demo: first step after the go-live gate",
    )
    return migration


def webhook_receipt(migration: Migration, *, secret: str) -> None:
    """The demo provider's signed webhooks land on the migration's own receiving URL, so its
    webhook KPIs fill from the first minute. Repeating changes nothing."""
    system = Actor.system("seed_demo")
    endpoint, _ = configure_inbound(migration, by=system, scheme=WebhookScheme.STANDARD)
    if endpoint.secret != secret:
        rotate_inbound_secret(endpoint, by=system, secret=secret)
    add_webhook_kpis(migration, by=system, action=GuardrailAction.ALERT)


def ingest_token(user, path: Path) -> None:
    """The demo provider pushes payment outcomes with this token; its plaintext exists only in `path`.
    A token from before the simulated checkout (no flags scope) is replaced."""
    active = ApiToken.objects.filter(name=INGEST_TOKEN_NAME, revoked_at__isnull=True)
    if path.exists() and any(set(TOKEN_SCOPES) <= set(token.scopes) for token in active):
        return
    _, raw = tokens.create_token(
        user=user, name=INGEST_TOKEN_NAME, scopes=TOKEN_SCOPES, by=Actor.system("seed_demo")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(raw + "\n")
    path.chmod(0o600)


def demo_user(username: str, full_name: str, group_name: str):
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


def login_lines() -> list[str]:
    """What `make run` prints: each demo login with its group and role."""
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD}):"]
    for username, full_name, group, role in DEMO_USERS:
        what = f"{group}" + (f", {MigrationRoleName(role).label} on the demo migration" if role else "")
        lines.append(f"  {username:<9} {full_name:<14} {what}")
    return lines
