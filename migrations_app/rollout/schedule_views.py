"""Pages and panel actions for scheduled steps, change freezes and calendar feeds.
Parse, authorise, call one service, render one thing."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from migrations_app import access, htmx_kit
from migrations_app.audit import Actor
from migrations_app.rollout import calendar, freezes, schedule, zones
from migrations_app.rollout.freeze_forms import FreezeForm
from migrations_app.rollout.schedule_models import CalendarFeed, ChangeFreeze, ScheduledStep
from migrations_app.rollout.views import panel_response

# --- scheduled steps on the traffic panel -----------------------------------------------------


def _parse_at(value: str, zone: str) -> dt.datetime:
    try:
        naive = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError({"at": "Give the date and time, e.g. 2026-03-31T09:00."}) from None
    if naive.tzinfo is not None:
        return naive
    return zones.aware(naive, zone, field="at")


@require_POST
@login_required
def schedule_create(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="change_traffic")
    zone = request.POST.get("zone", "").strip() or "UTC"
    try:
        percent = int(request.POST.get("percent", ""))
    except ValueError:
        return panel_response(
            request, migration, errors=["Percent: choose the traffic level to schedule."], status=422
        )
    try:
        step = schedule.schedule_step(
            migration,
            to=percent,
            at=_parse_at(request.POST.get("at", ""), zone),
            zone=zone,
            reason=request.POST.get("reason", ""),
            by=Actor.for_user(request.user),
        )
    except ValidationError as error:
        return panel_response(request, migration, errors=htmx_kit.refusal_messages(error), status=422)
    notice = f"Scheduled: traffic to {step.percent} % on {zones.describe(step.at, step.zone)}, if the gates allow it then."
    return panel_response(request, migration, notice=notice, changed=True)


@require_POST
@login_required
def schedule_cancel(request, slug, step_id):
    migration = access.get_migration_for_user(request.user, slug, action="change_traffic")
    step = get_object_or_404(ScheduledStep, pk=step_id, migration=migration)
    step = schedule.cancel_step(step, by=Actor.for_user(request.user))
    return panel_response(
        request,
        migration,
        notice=f"Step to {step.percent} %: {step.get_state_display().lower()}.",
        changed=True,
    )


# --- the change-freezes page --------------------------------------------------------------------


def _require_freeze_right(user, migration) -> None:
    access.require(user, "change_traffic")
    if migration is None:
        access.require(user, "manage_global_freezes")


def _freezes_page(request, form, *, status=200):
    now = timezone.now()
    rows = []
    for freeze in freezes.freezes_for(None):
        windows = freezes.windows_between(freeze, now, now + dt.timedelta(days=366))
        active = next((w for w in windows if w.contains(now)), None)
        rows.append(
            {
                "freeze": freeze,
                "active": active,
                "next": next((w for w in windows if not w.contains(now)), None),
                "window": active or (windows[0] if windows else None),
                "can_delete": access.can(request.user, "change_traffic")
                and (freeze.migration_id is not None or access.can(request.user, "manage_global_freezes")),
            }
        )
    context = {
        "form": form,
        "rows": rows,
        "can_create": access.can(request.user, "change_traffic"),
        "can_global": access.can(request.user, "manage_global_freezes"),
        "feed": calendar.feed_for(None),
    }
    return render(request, "rollout/freezes.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def freeze_list(request):
    access.require(request.user, "view")
    if request.method == "GET":
        return _freezes_page(request, FreezeForm())
    access.require(request.user, "change_traffic")
    form = FreezeForm(request.POST)
    if not form.is_valid():
        return _freezes_page(request, form, status=422)
    arguments = form.service_arguments()
    _require_freeze_right(request.user, arguments["migration"])
    try:
        freeze = schedule.create_freeze(by=Actor.for_user(request.user), **arguments)
    except ValidationError as error:
        htmx_kit.put_refusal_on_form(form, error)
        return _freezes_page(request, form, status=422)
    messages.info(request, f"Change freeze “{freeze.name}” saved for {freeze.scope}.")
    return redirect("rollout:freezes")


@require_POST
@login_required
def freeze_delete(request, freeze_id):
    access.require(request.user, "view")
    freeze = get_object_or_404(ChangeFreeze.objects.select_related("migration"), pk=freeze_id)
    _require_freeze_right(request.user, freeze.migration)
    schedule.delete_freeze(freeze, by=Actor.for_user(request.user))
    messages.info(request, f"Change freeze “{freeze.name}” deleted: it no longer holds {freeze.scope}.")
    return redirect("rollout:freezes")


# --- calendar feeds -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def migration_calendar(request, slug):
    """The migration's calendar link: shown, created, revoked."""
    migration = access.get_migration_for_user(request.user, slug)
    if request.method == "POST":
        access.require(request.user, "manage_migration")
        schedule.create_feed(migration=migration, by=Actor.for_user(request.user))
        messages.info(request, "Calendar link created: add it to your calendar as a subscription (by URL).")
        return redirect("rollout:migration_calendar", slug=migration.slug)
    context = {
        "migration": migration,
        "feeds": CalendarFeed.objects.filter(migration=migration),
        "can_manage": access.can(request.user, "manage_migration"),
        **_steps_and_windows(migration),
    }
    return render(request, "rollout/calendar.html", context)


def _steps_and_windows(migration) -> dict:
    now = timezone.now()
    return {
        "windows": freezes.upcoming_windows(migration, start=now, days=30),
        "steps": ScheduledStep.objects.filter(migration=migration, at__gte=now - dt.timedelta(days=7)),
    }


@require_POST
@login_required
def global_calendar(request):
    access.require(request.user, "manage_global_freezes")
    schedule.create_feed(migration=None, by=Actor.for_user(request.user))
    messages.info(request, "Calendar link for every migration created.")
    return redirect("rollout:freezes")


@require_POST
@login_required
def calendar_revoke(request, feed_id):
    access.require(request.user, "view")
    feed = get_object_or_404(CalendarFeed.objects.select_related("migration"), pk=feed_id)
    access.require(request.user, "manage_migration" if feed.migration_id else "manage_global_freezes")
    schedule.revoke_feed(feed, by=Actor.for_user(request.user))
    messages.info(request, "Calendar link revoked: calendars using it get nothing new from now on.")
    if feed.migration is not None:
        return redirect("rollout:migration_calendar", slug=feed.migration.slug)
    return redirect("rollout:freezes")
