"""A reference plan's standard KPIs through /api/v1 (`operate` scope): what the monitoring
settings page's "Add standard KPIs" does, with the same rights (manage_migration) and the same
service (standard.add_plan_kpis), so a pipeline sets up the plan's own thresholds in one call.

Repeating the call adds nothing: the plan's KPIs whose name the migration has already are kept
as they are (and listed under `kept`)."""

from __future__ import annotations

from typing import Literal

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from migrations_app import access
from migrations_app.api_kit import Refused, TokenAuth, answers
from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.monitoring import standard
from migrations_app.monitoring.models import Kpi, Probe

# The KPI shape is rules_api's, so both routes answer a KPI the same way.
from migrations_app.monitoring.rules_api import ActionName, KpiOut, _kpi_out

router = Router(auth=TokenAuth(scope="operate"), tags=["kpis and guardrails"])

PlanName = Literal[tuple(standard.PLANS)]  # type: ignore[valid-type]


class PlanKpisIn(Schema):
    plan: PlanName | None = Field(
        None, description="A reference plan (its template's slug); default: the migration's own template."
    )
    probe: int | None = Field(
        None,
        description="Id of the migration's probe that measures the plan's probe KPIs; without one they are left out.",
    )
    action: ActionName = Field("rollback", description="What each new guardrail does when it fires.")


class PlanKpisOut(Schema):
    plan: str
    created: list[KpiOut] = Field(
        description="The KPIs added now, each with a guardrail on the plan's threshold."
    )
    kept: list[str] = Field(
        description="The plan's KPIs the migration has already (by name): left as they are."
    )
    left_out: list[str] = Field(description="The plan's probe KPIs, left out because no probe was given.")


def _plan(migration: Migration, requested: str | None) -> str:
    plan = requested or standard.template_of(migration)
    if plan is None:
        choices = ", ".join(standard.PLANS)
        message = f"This migration was not created from a reference plan's template: name one of {choices}."
        raise Refused(409, ValidationError({"plan": message}))
    return plan


def _probe(migration: Migration, probe_id: int | None) -> Probe | None:
    if probe_id is None:
        return None
    probe = Probe.objects.filter(migration=migration, pk=probe_id).first()
    if probe is None:
        raise Refused(404, ValidationError({"probe": f"This migration has no probe {probe_id}."}))
    return probe


@router.post(
    "/migrations/{slug}/kpis/standard",
    response=answers({200: PlanKpisOut}, 400, 401, 403, 404, 409),
    summary="Add a reference plan's KPIs, each with a guardrail on the plan's own threshold",
)
def add_plan_kpis(request, slug: str, payload: PlanKpisIn):
    access.require(request.auth.user, "manage_migration")
    migration = get_object_or_404(Migration, slug=slug)
    plan = _plan(migration, payload.plan)
    probe = _probe(migration, payload.probe)
    existing = set(Kpi.objects.filter(migration=migration).values_list("name", flat=True))
    created = standard.add_plan_kpis(
        migration, plan=plan, probe=probe, action=payload.action, by=Actor.for_token(request.auth)
    )
    specs = standard.PLANS[plan][1]
    return {
        "plan": plan,
        "created": [_kpi_out(kpi) for kpi in created],
        "kept": [spec.name for spec in specs if spec.name in existing],
        "left_out": [
            spec.name for spec in specs if spec.probe_field and probe is None and spec.name not in existing
        ],
    }
