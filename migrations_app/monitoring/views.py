"""The control room: one page, a live region polled every 5 s, and probe configuration."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from migrations_app import access
from migrations_app.audit import Actor
from migrations_app.monitoring import cohort_room, probe_settings, received, selectors, services, standard
from migrations_app.monitoring.forms import ProbeForm
from migrations_app.monitoring.models import Probe

POLL_SECONDS = 5
LEVELS_POLL_SECONDS = 60  # the 24-hour per-level table: slow to add up, slow to change


def _span(request) -> str:
    span = request.GET.get("span", "1h")
    return span if span in selectors.SPANS else "1h"


def _live_context(request, migration) -> dict:
    now = timezone.now()
    span = _span(request)
    cohorts = cohort_room.cohort_room(migration, now=now, span=selectors.SPANS[span])
    charts = selectors.chart_figures(migration, now=now, span=selectors.SPANS[span])
    tiles = selectors.tiles(migration, now=now)
    return {
        "migration": migration,
        "now": now,
        "span": span,
        "spans": list(selectors.SPANS),
        "poll_seconds": POLL_SECONDS,
        "tiles": tiles,
        # No KPIs yet: offer the standard set of the plan the migration's template came from.
        "plan": None if tiles else _template_plan(migration),
        "probes": selectors.probes_for(migration),
        "guardrails": selectors.guardrails_for(migration),
        "alerts": selectors.recent_alerts(migration),
        "received_alerts": received.recent_for(migration),
        "cohorts": cohorts,
        # a new dict: the fleet charts may come from the cache and must not carry this poll's cohorts
        "charts": {**charts, "cohorts": cohorts["figures"]},
        "can_configure": access.can(request.user, "manage_migration"),
    }


def _template_plan(migration) -> dict | None:
    slug = standard.template_of(migration)
    if slug is None:
        return None
    name, kpis = standard.PLANS[slug]
    return {"slug": slug, "name": name, "kpis": kpis}


@require_GET
@login_required
def control_room(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    # The per-level table loads after the page (its day of data is the slowest thing to add up).
    context = _live_context(request, migration) | {"levels": None, "levels_poll_seconds": LEVELS_POLL_SECONDS}
    return render(request, "monitoring/control_room.html", context)


@require_GET
@login_required
def live(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    return render(request, "monitoring/control_room.html#live", _live_context(request, migration))


@require_GET
@login_required
def levels(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    context = {
        "migration": migration,
        "levels": selectors.per_traffic_level(migration, now=timezone.now()),
        "levels_poll_seconds": LEVELS_POLL_SECONDS,
    }
    return render(request, "monitoring/control_room.html#levels", context)


@require_http_methods(["GET", "POST"])
@login_required
def probe_form(request, slug, probe_id=None):
    migration = access.get_migration_for_user(request.user, slug, action="manage_migration")
    probe = get_object_or_404(Probe, pk=probe_id, migration=migration) if probe_id else None
    form = ProbeForm(request.POST if request.method == "POST" else None, instance=probe, migration=migration)
    if request.method == "POST" and form.is_valid():
        by = Actor.for_user(request.user)
        if probe is None:
            probe = services.create_probe(migration, by=by, **form.service_fields())
            messages.success(request, f"Probe “{probe.name}” created; its first run is due now.")
        else:
            probe = services.update_probe(probe, by=by, **form.service_fields())
            messages.success(request, f"Probe “{probe.name}” saved.")
        return redirect(reverse("monitoring:control_room", args=[migration.slug]) + "#probes")
    status = 422 if form.is_bound else 200
    return _probe_page(request, migration, form, probe, status=status)


def _probe_page(request, migration, form, probe, *, delete_error="", status=200):
    context = {
        "migration": migration,
        "form": form,
        "probe": probe,
        "dependants": probe_settings.dependants(probe) if probe else None,
        "delete_error": delete_error,
    }
    return render(request, "monitoring/probe_form.html", context, status=status)


@require_POST
@login_required
def probe_delete(request, slug, probe_id):
    migration = access.get_migration_for_user(request.user, slug, action="manage_migration")
    probe = get_object_or_404(Probe, pk=probe_id, migration=migration)
    if request.POST.get("confirm") != "yes":
        # Deleting takes its KPIs and guardrails with it: a deliberate second step, never one click.
        form = ProbeForm(instance=probe, migration=migration)
        message = "Confirm the deletion: nothing was deleted."
        return _probe_page(request, migration, form, probe, delete_error=message, status=422)
    probe_settings.delete_probe(probe, by=Actor.for_user(request.user))
    messages.success(request, f"Probe “{probe.name}” deleted, with its results, KPIs and guardrails.")
    return redirect(reverse("monitoring:control_room", args=[migration.slug]) + "#probes")


@require_POST
@login_required
def probe_toggle(request, slug, probe_id):
    migration = access.get_migration_for_user(request.user, slug, action="manage_migration")
    probe = get_object_or_404(Probe, pk=probe_id, migration=migration)
    services.update_probe(probe, by=Actor.for_user(request.user), enabled=not probe.enabled)
    if not request.htmx:
        return redirect(reverse("monitoring:control_room", args=[migration.slug]) + "#probes")
    response = render(request, "monitoring/control_room.html#live", _live_context(request, migration))
    return trigger_client_event(response, "probesChanged")


@require_POST
@login_required
def standard_kpis(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="manage_migration")
    probe = Probe.objects.filter(migration=migration, pk=request.POST.get("probe") or None).first()
    created = services.add_standard_kpis(migration, probe=probe, by=Actor.for_user(request.user))
    if created:
        messages.success(
            request, f"Added {len(created)} KPIs with a guardrail each: {', '.join(k.name for k in created)}."
        )
    else:
        messages.info(request, "The standard KPIs exist already.")
    return redirect(reverse("monitoring:control_room", args=[migration.slug]))
