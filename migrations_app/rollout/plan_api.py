"""The rollout plan through /api/v1 (`operate` scope): the traffic steps and the soak time
between them, as the traffic panel's plan form sets them, with the same rights (view to read,
change_traffic to change) and the same service (rollout.services.update_plan)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from migrations_app import access
from migrations_app.api_kit import TokenAuth, answers, conflicts
from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.rollout import selectors, services
from migrations_app.rollout.models import RolloutPlan

router = Router(auth=TokenAuth(scope="operate"), tags=["automation"])

Percent = Annotated[int, Field(ge=1, le=100)]


class PlanIn(Schema):
    steps: list[Percent] = Field(
        min_length=1,
        max_length=20,
        description="Traffic levels in percent, ascending, ending at 100.",
        examples=[[5, 25, 50, 100]],
    )
    soak_minutes: int = Field(
        ge=1, le=60 * 24 * 90, description="Minimum time at a level before the next step may start."
    )


class PlanOut(Schema):
    steps: list[int]
    soak_minutes: int
    percent: int = Field(
        description="The plan's traffic level now (0 while paused or rolled back is shown by the migration)."
    )
    level_since: dt.datetime | None = Field(description="When traffic reached the current level.")
    next_step: int | None = Field(description="The next level, or null at 100 %.")
    next_step_at: dt.datetime | None = Field(description="When the soak time at this level is over.")


def _out(plan: RolloutPlan) -> dict:
    return {
        "steps": plan.steps,
        "soak_minutes": plan.soak_minutes,
        "percent": plan.percent,
        "level_since": plan.level_since,
        "next_step": plan.next_step(),
        "next_step_at": plan.next_step_at(),
    }


def _migration(request, slug: str, action: str) -> Migration:
    access.require(request.auth.user, action)
    return get_object_or_404(Migration, slug=slug)


@router.get(
    "/migrations/{slug}/rollout-plan",
    response=answers({200: PlanOut}, 401, 403, 404),
    summary="The traffic steps and soak time",
)
def get_plan(request, slug: str):
    return _out(selectors.plan_for(_migration(request, slug, "view")))


@router.put(
    "/migrations/{slug}/rollout-plan",
    response=answers({200: PlanOut}, 400, 401, 403, 404, 409),
    summary="Set the traffic steps and soak time (a repeat changes nothing)",
)
def put_plan(request, slug: str, payload: PlanIn):
    migration = _migration(request, slug, "change_traffic")
    with conflicts():  # steps that do not end at 100, as the traffic panel refuses them (409 naming steps)
        plan = services.update_plan(
            migration,
            steps=payload.steps,
            soak_minutes=payload.soak_minutes,
            by=Actor.for_token(request.auth),
        )
    return _out(plan)
