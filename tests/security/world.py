"""One of everything, so that every URL pattern can be filled in and requested.

Used by the permission matrix and the secret scan. Everything is made through the services,
as in production."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

from checklists import gates
from checklists import services as checklist_services
from checklists.models import ChecklistItem, ChecklistTemplate, SignOff
from migrations_app import services as migration_services
from migrations_app.audit import Actor
from migrations_app.inbound import services as inbound_services
from migrations_app.incidents import announcements
from migrations_app.incidents import services as incident_services
from migrations_app.incidents.escalation import ack_token
from migrations_app.incidents.models import NotificationChannel, StatusSubscriber
from migrations_app.models import Contact, Migration, MigrationRoleName
from migrations_app.monitoring import services as monitoring_services
from migrations_app.monitoring.models import Guardrail, Kpi
from migrations_app.monitoring.services.intake import receive_alerts
from migrations_app.rollout import hooks, schedule, tokens
from migrations_app.rollout import services as rollout_services
from migrations_app.rollout.models import RollbackStep
from tests.factories import make_migration, put_live

SYSTEM = Actor.system("tests")
TEMPLATE = "payment-gateway-go-live"
PROBE_SECRET = "s3cr3t-probe-value-7f1d2c9a4b"  # the value of the environment variable a probe references
PROBE_SECRET_ENV = "GOLIVE_TEST_PROBE_SECRET"


@dataclass
class World:
    migration: Migration
    rolled: Migration
    users: dict
    kwargs: dict = field(default_factory=dict)  # URL parameter name -> value, per URL name
    raw_token: str = ""


def build_world(*, ops, pm, oncall, admin_user) -> World:
    if not ChecklistTemplate.objects.filter(slug=TEMPLATE).exists():  # flushed by a transactional test
        call_command("load_builtin_templates", verbosity=0)
    template = ChecklistTemplate.objects.get(slug=TEMPLATE)
    migration = checklist_services.create_migration_from_template(
        by=SYSTEM,
        template=template,
        name="Checkout go-live",
        slug="checkout",
        owner=ops,
        integration="Card gateway",
        target_date=dt.date(2030, 6, 1),
    )
    for user, role in [
        (ops, MigrationRoleName.DEPLOYMENT_LEAD),
        (pm, MigrationRoleName.PRODUCT_MANAGER),
        (oncall, MigrationRoleName.ON_CALL),
    ]:
        migration_services.assign_role(migration, user=user, role=role, by=SYSTEM)
    phase = next(
        p for p in migration.phases.order_by("position") if "product_manager" in gates.signoff_roles(p)
    )
    for each in ChecklistItem.objects.filter(section__phase=phase):
        checklist_services.set_item_state(each, by=SYSTEM, state="done")
    item = ChecklistItem.objects.filter(section__phase=phase).first()
    signoff = checklist_services.sign_off_phase(
        phase, user=pm, role=MigrationRoleName.PRODUCT_MANAGER, by=Actor.for_user(pm)
    )
    probe = monitoring_services.create_probe(
        migration,
        by=SYSTEM,
        name="Provider health",
        url="http://127.0.0.1:9/health",
        secret_env=PROBE_SECRET_ENV,
    )
    kpi = Kpi.objects.create(
        migration=migration, name="Payment success", metric="payment_success", critical=99
    )
    guardrail = Guardrail.objects.create(migration=migration, name="Payment success", kpi=kpi)
    # What the delete rows delete (the rows after them keep theirs)
    doomed_kpi = Kpi.objects.create(migration=migration, name="Old KPI", metric="old_metric", critical=1)
    doomed_guardrail = Guardrail.objects.create(migration=migration, name="Old guardrail", kpi=kpi)
    # An alert rule (off, so the received alert below changes nothing) and an alert to list.
    Guardrail.objects.create(migration=migration, name="Alertmanager", kind="alert", kpi=None, enabled=False)
    receive_alerts(
        alerts=[
            {
                "status": "firing",
                "labels": {"alertname": "HighErrorRate", "golive_migration": migration.slug},
                "annotations": {"summary": "5xx above 2 %"},
                "fingerprint": "",
                "starts_at": None,
                "ends_at": None,
                "url": "https://prometheus.example/graph",
            }
        ],
        source="alertmanager",
        by=SYSTEM,
    )
    incident = incident_services.open_incident(migration, by=SYSTEM, title="Card declines", severity="sev3")
    announcement = announcements.draft(migration, by=SYSTEM, kind="maintenance")
    subscriber = announcements.add_subscriber(migration, by=SYSTEM, email="reader@example.com")
    announcements.configure_status_page(migration, by=SYSTEM, enabled=True, public_name="Checkout")
    contact = Contact.objects.create(name="Acme support", kind="external_partner", role="Support line")
    channel = NotificationChannel.objects.create(name="Ops e-mail", kind="email", addresses="ops@example.com")
    hook, _ = hooks.create_hook(
        migration, by=SYSTEM, name="Deploy pipeline", url="https://deploy.example.com/hook"
    )
    inbound_services.configure_inbound(migration, by=SYSTEM, scheme="standard")

    rolled = make_migration(owner=ops, name="Wallet go-live", slug="wallet", integration="Wallet")
    put_live(rolled, 25)
    rollback = rollout_services.roll_back(rolled, by=SYSTEM, reason="matrix setup")
    step = RollbackStep.objects.filter(rollback=rollback).first()
    token, raw = tokens.create_token(user=ops, name="shop backend", scopes="flags", by=SYSTEM)

    # Change freezes, a scheduled step and calendar links (all in the future: nothing is held now)
    freeze = schedule.create_freeze(
        migration=migration,
        name="Launch week",
        zone="Europe/Paris",
        by=SYSTEM,
        starts_at=dt.datetime(2030, 6, 1, tzinfo=dt.UTC),
        ends_at=dt.datetime(2030, 6, 8, tzinfo=dt.UTC),
    )
    scheduled = schedule.schedule_step(
        migration, to=5, at=dt.datetime.now(dt.UTC) + dt.timedelta(days=30), zone="Europe/Paris", by=SYSTEM
    )
    feed = schedule.create_feed(migration=migration, by=SYSTEM)
    everything_feed = schedule.create_feed(migration=None, by=SYSTEM)
    assert step is not None and isinstance(signoff, SignOff) and isinstance(subscriber, StatusSubscriber)
    slug = {"slug": migration.slug}
    kwargs = {
        "monitoring:probe_edit": {**slug, "probe_id": probe.pk},
        "monitoring:probe_toggle": {**slug, "probe_id": probe.pk},
        "rollout:rollback_step": {"slug": rolled.slug, "step_id": step.pk},
        "rollout:token_revoke": {"token_id": token.pk},
        "incidents_channels:test": {"pk": channel.pk},
        "incidents_channels:edit": {"pk": channel.pk},
        "incidents_channels:delete": {"pk": channel.pk},
        "monitoring:probe_delete": {**slug, "probe_id": probe.pk},
        "api:remove_subscriber": {**slug, "subscriber_id": subscriber.pk},
        "incidents_public:acknowledge": {"token": ack_token(incident, "omar.oncall@example.com")},
        "checklists:template_detail": {"slug": template.slug},
        "checklists:template_edit": {"slug": template.slug},
        "checklists:template_export": {"slug": template.slug},
        "checklists:item": {"pk": item.pk},
        "checklists:item_tick": {"pk": item.pk},
        "checklists:item_details": {"pk": item.pk},
        "checklists:item_comment": {"pk": item.pk},
        "checklists:phase_signoff": {"pk": phase.pk},
        "checklists:phase_sheet": {"pk": phase.pk},
        "checklists:signoff_revoke": {"pk": signoff.pk},
        "rollout:ofrep_flag": {"key": migration.slug},
        "migrations_app:panel": {**slug, "panel": "status-panel"},
        "api:put_role": {**slug, "role": "qa_lead"},
        "migrations_app:role_set": {**slug, "role": "qa_lead"},
        "people:edit": {"username": pm.username},
        "api:update_user": {"username": pm.username},
        "people:password": {"username": pm.username},
        "people:contact_edit": {"pk": contact.pk},
        "people:contact_delete": {"pk": contact.pk},
        "monitoring:kpi_edit": {**slug, "kpi_id": kpi.pk},
        "monitoring:kpi_move": {**slug, "kpi_id": kpi.pk},
        "monitoring:kpi_delete": {**slug, "kpi_id": doomed_kpi.pk},
        "monitoring:guardrail_edit": {**slug, "guardrail_id": guardrail.pk},
        "monitoring:guardrail_delete": {**slug, "guardrail_id": doomed_guardrail.pk},
        "rollout:schedule_cancel": {**slug, "step_id": scheduled.pk},
        "rollout:freeze_delete": {"freeze_id": freeze.pk},
        "rollout:calendar_revoke": {"feed_id": feed.pk},
        "rollout:calendar_feed": {"token": everything_feed.token},
        "api:delete_freeze": {"freeze_id": freeze.pk},
        "api:cancel_scheduled_step": {**slug, "step_id": scheduled.pk},
        "api:revoke_calendar_feed": {"feed_id": feed.pk},
    }
    for name in ("get_kpi", "update_kpi", "delete_kpi"):
        kwargs[f"api:{name}"] = {"kpi_id": kpi.pk}
    for name in ("get_guardrail", "update_guardrail", "delete_guardrail"):
        kwargs[f"api:{name}"] = {"guardrail_id": guardrail.pk}
    for name in ("detail", "postmortem", "acknowledge", "status", "note", "details"):
        kwargs[f"incidents:{name}"] = {**slug, "pk": incident.pk}
    for name in ("announcement", "announcement_edit", "announcement_send", "announcement_schedule"):
        kwargs[f"incidents:{name}"] = {**slug, "pk": announcement.pk}
    kwargs["incidents:announcement_cancel"] = {**slug, "pk": announcement.pk}
    kwargs["incidents:subscriber_remove"] = {**slug, "pk": subscriber.pk}
    for name in ("edit", "rotate", "delete"):
        kwargs[f"rollback_hooks:{name}"] = {**slug, "hook_id": hook.pk}
    for name in ("get_probe", "update_probe", "delete_probe"):
        kwargs[f"api:{name}"] = {"probe_id": probe.pk}
    for name in ("get_hook", "update_hook", "delete_hook", "rotate_hook"):
        kwargs[f"api:{name}"] = {"hook_id": hook.pk}
    for name in ("get_channel", "update_channel", "delete_channel", "test_channel"):
        kwargs[f"api:{name}"] = {"channel_id": channel.pk}
    for name in ("get_item", "update_item", "tick_item"):
        kwargs[f"api:{name}"] = {"item_id": item.pk}
    for name in ("get_signoff", "sign_signoff", "renew_signoff", "revoke_signoff"):
        kwargs[f"api:{name}"] = {"slot_id": f"{phase.pk}-product_manager"}
    for name in ("get_incident", "update_incident", "acknowledge_incident", "resolve_incident"):
        kwargs[f"api:{name}"] = {"incident_id": incident.pk}
    for name in ("list_incident_notes", "add_incident_note", "save_incident_postmortem"):
        kwargs[f"api:{name}"] = {"incident_id": incident.pk}
    for name in ("get_announcement", "edit_announcement", "delete_announcement", "schedule_announcement"):
        kwargs[f"api:{name}"] = {"announcement_id": announcement.pk}
    for name in ("send_announcement", "cancel_announcement"):
        kwargs[f"api:{name}"] = {"announcement_id": announcement.pk}
    users = {"anonymous": None, "ops": ops, "pm": pm, "oncall": oncall, "admin": admin_user}
    return World(migration=migration, rolled=rolled, users=users, kwargs=kwargs, raw_token=raw)


def url_patterns(patterns=None, prefix: str = "", namespace: str = ""):
    """(name, route, pattern) for every URL golive serves, admin site excluded."""
    patterns = get_resolver().url_patterns if patterns is None else patterns
    for p in patterns:
        if isinstance(p, URLResolver):
            if p.app_name == "admin":
                continue
            ns = namespace + (f"{p.namespace}:" if p.namespace else "")
            yield from url_patterns(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = namespace + p.name if p.name else "/" + prefix + str(p.pattern)
            yield name, prefix + str(p.pattern), p


def fill(route: str, name: str, world: World) -> str:
    """The route with its parameters taken from the world."""
    import re

    values = {"slug": world.migration.slug, **world.kwargs.get(name, {})}

    def sub(match):
        key = match.group(2)
        return str(values[key])

    return "/" + re.sub(r"<(\w+:)?(\w+)>", sub, route)
