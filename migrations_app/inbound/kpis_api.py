"""The webhook KPIs through /api/v1 (`operate` scope): what the webhook receipt page's "Add the
webhook KPIs" does, with the same rights (manage_migration), input rules and service."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from migrations_app import access
from migrations_app.api_kit import TokenAuth, answers
from migrations_app.audit import Actor
from migrations_app.inbound import kpis
from migrations_app.models import Migration
from migrations_app.monitoring.rules_api import ActionName

router = Router(auth=TokenAuth(scope="operate"), tags=["webhook receipt"])


class WebhookKpisIn(Schema):
    action: ActionName = Field("alert", description="What the webhook guardrails do when they fire.")
    no_data_minutes: int = Field(
        10,
        ge=1,
        le=1440,
        description="The no-data guardrail fires after this long without a verified delivery.",
    )


class WebhookKpisOut(Schema):
    created: list[str] = Field(description="Names of the KPIs added now (none when they exist already).")
    kpis: list[str] = Field(description="Every webhook KPI the migration has now.")


@router.post(
    "/migrations/{slug}/webhook-receipt/kpis",
    response=answers({200: WebhookKpisOut}, 400, 401, 403, 404),
    summary="Add the webhook KPIs: received in the last minutes, deliveries verified, signature failures",
)
def add_webhook_kpis(request, slug: str, payload: WebhookKpisIn):
    access.require(request.auth.user, "manage_migration")
    migration = get_object_or_404(Migration, slug=slug)
    created = kpis.add_webhook_kpis(
        migration,
        by=Actor.for_token(request.auth),
        action=payload.action,
        no_data_seconds=payload.no_data_minutes * 60,
    )
    names = [fields["name"] for fields, _ in kpis.WEBHOOK_KPIS]
    have = set(migration.kpis.filter(name__in=names).values_list("name", flat=True))
    return {"created": [kpi.name for kpi in created], "kpis": [name for name in names if name in have]}
