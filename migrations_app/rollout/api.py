"""Automation API for CI/CD pipelines: templates, migrations, traffic and rollback (`operate` scope)."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema
from ninja.responses import Status

from checklists.models import ChecklistTemplate
from checklists.services import create_migration_from_template
from migrations_app import access
from migrations_app.api_kit import TEXT_PATTERN, Refused, TokenAuth, answers, conflicts
from migrations_app.audit import Actor
from migrations_app.models import SLUG_VALIDATOR, Migration
from migrations_app.monitoring.pausing import pause_details
from migrations_app.rollout import selectors, services
from migrations_app.rollout.schedule_models import CalendarFeed

router = Router(auth=TokenAuth(scope="operate"), tags=["automation"])


class TemplateOut(Schema):
    slug: str
    name: str
    description: str


class PauseOut(Schema):
    at: dt.datetime | None
    by: str = Field(description='Who paused: a person, a token, or "guardrail: <name>".')
    guardrail: str | None = Field(description="The guardrail that paused the rollout, if one did.")
    reason: str = Field(description="Why, with the guardrail's numbers when a guardrail paused it.")


class MigrationOut(Schema):
    slug: str
    name: str
    integration: str
    status: str
    traffic_percent: int = Field(description="Share of users on the new path now (0-100).")
    rollout_steps: list[int]
    target_date: dt.date | None
    url: str
    paused: PauseOut | None = Field(None, description="Set while the rollout is paused: when, by what, why.")
    calendar_url: str | None = Field(
        None,
        description="The migration's secret iCalendar link (steps, freezes, dates); null when it has none.",
    )


class MigrationIn(Schema):
    name: str = Field(min_length=1, max_length=120, pattern=TEXT_PATTERN)
    slug: str = Field(min_length=1, max_length=64, pattern=SLUG_VALIDATOR.regex.pattern)
    template: str = Field(
        min_length=1,
        max_length=64,
        pattern=SLUG_VALIDATOR.regex.pattern,
        description="Slug of a checklist template (see GET /templates); an unknown one answers 404.",
    )
    target_date: dt.date | None = None
    integration: str = Field(
        "", max_length=120, pattern=TEXT_PATTERN, description="Defaults to the template's name."
    )


class TrafficIn(Schema):
    percent: int = Field(ge=0, le=100)
    reason: str = Field("", max_length=2000, pattern=TEXT_PATTERN)
    override: bool = Field(False, description="Admin tokens only: advance although a gate blocks (audited).")


class RollbackIn(Schema):
    reason: str = Field(min_length=1, max_length=2000, pattern=TEXT_PATTERN)


class RollbackOut(Schema):
    already_rolled_back: bool
    message: str
    at: dt.datetime
    by: str
    from_percent: int
    traffic_percent: int


def _actor(request) -> Actor:
    return Actor.for_token(request.auth)


def _migration(request, slug: str, action: str) -> Migration:
    migration = get_object_or_404(Migration, slug=slug)
    access.require(request.auth.user, action)
    return migration


def _calendar_urls(request, migrations) -> dict[int, str]:
    """The newest active calendar link of each migration, in one query."""
    feeds = CalendarFeed.objects.filter(migration__in=migrations, revoked_at__isnull=True).order_by(
        "created_at"
    )
    return {feed.migration_id: request.build_absolute_uri(feed.path) for feed in feeds}


def _out(request, migration: Migration, *, fresh: bool = True, calendar_urls: dict | None = None) -> dict:
    if fresh:  # after a write: read the committed state, plan included
        migration = Migration.objects.select_related("rollout_plan").get(pk=migration.pk)
    plan = getattr(migration, "rollout_plan", None) or selectors.plan_for(migration)
    return {
        "slug": migration.slug,
        "name": migration.name,
        "integration": migration.integration,
        "status": migration.status,
        "traffic_percent": selectors.effective_percent(migration.status, plan.percent),
        "rollout_steps": plan.steps,
        "target_date": migration.target_date,
        "url": request.build_absolute_uri(migration.get_absolute_url()),
        "paused": pause_details(migration),
        "calendar_url": (
            calendar_urls if calendar_urls is not None else _calendar_urls(request, [migration])
        ).get(migration.pk),
    }


@router.get(
    "/templates", response=answers({200: list[TemplateOut]}, 401, 403), summary="List checklist templates"
)
def list_templates(request):
    return list(ChecklistTemplate.objects.order_by("name"))


@router.get("/migrations", response=answers({200: list[MigrationOut]}, 401, 403), summary="List migrations")
def list_migrations(request):
    access.require(request.auth.user, "view")
    migrations = list(Migration.objects.select_related("rollout_plan").order_by("-created_at")[:500])
    urls = _calendar_urls(request, migrations)
    return [_out(request, m, fresh=False, calendar_urls=urls) for m in migrations]


@router.get(
    "/migrations/{slug}",
    response=answers({200: MigrationOut}, 401, 403, 404),
    summary="One migration with its traffic percent and state",
)
def get_migration(request, slug: str):
    return _out(request, _migration(request, slug, "view"))


@router.post(
    "/migrations",
    response=answers({201: MigrationOut}, 400, 401, 403, 404, 409),
    summary="Create a migration from a template",
)
def create_migration(request, payload: MigrationIn):
    access.require(request.auth.user, "manage_migration")
    template = ChecklistTemplate.objects.filter(slug=payload.template).first()
    if template is None:
        message = f"No template “{payload.template}”. GET /api/v1/templates lists them."
        raise Refused(404, ValidationError({"template": message}))
    with conflicts():  # the schema checked the fields as the model does: what is left is a taken slug
        migration = create_migration_from_template(
            by=_actor(request),
            template=template,
            name=payload.name,
            slug=payload.slug,
            owner=request.auth.user,
            integration=payload.integration or template.name,
            target_date=payload.target_date,
        )
    return Status(201, _out(request, migration))


@router.post(
    "/migrations/{slug}/traffic",
    response=answers({200: MigrationOut}, 400, 401, 403, 404, 409),
    summary="Move traffic (same gates as the button)",
)
def set_traffic(request, slug: str, payload: TrafficIn):
    migration = _migration(request, slug, "change_traffic")
    if payload.override and not access.can(request.auth.user, "override_gate"):
        raise PermissionDenied("Only an Admin's token may override a gate.")
    with conflicts():  # status, step order, gates
        services.set_traffic(
            migration,
            to=payload.percent,
            by=_actor(request),
            reason=payload.reason,
            override=payload.override,
        )
    return _out(request, migration)


@router.post(
    "/migrations/{slug}/rollback",
    response=answers({200: RollbackOut}, 400, 401, 403, 404, 409),
    summary="Roll back to 0 % (idempotent)",
)
def roll_back(request, slug: str, payload: RollbackIn):
    migration = _migration(request, slug, "rollback")
    with conflicts():  # nothing to roll back in this status
        rollback = services.roll_back(migration, by=_actor(request), reason=payload.reason)
    message = services.already_message(rollback) if rollback.already else "Rolled back: traffic is at 0 %."
    return {
        "already_rolled_back": rollback.already,
        "message": message,
        "at": rollback.at,
        "by": rollback.by,
        "from_percent": rollback.from_percent,
        "traffic_percent": 0,
    }
