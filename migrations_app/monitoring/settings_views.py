"""Monitoring settings pages: KPIs (create, edit, delete, reorder), guardrails of every kind with a
replay preview, and the reference plans' standard KPIs. Everyone who may view a migration sees
the settings; changing them takes the same right as configuring probes (manage_migration)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from migrations_app import access
from migrations_app.audit import Actor
from migrations_app.monitoring import configuration, preview, selectors, standard
from migrations_app.monitoring.models import Guardrail, GuardrailAction, Kpi, Probe
from migrations_app.monitoring.rule_forms import GuardrailForm, KpiForm

CONFIGURE = "manage_migration"


def _settings_url(migration, anchor: str = "") -> str:
    return reverse("monitoring:settings", args=[migration.slug]) + anchor


@require_GET
@login_required
def settings_page(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    context = {
        "migration": migration,
        "kpis": list(Kpi.objects.filter(migration=migration).select_related("probe")),
        "guardrails": selectors.guardrails_for(migration),
        "probes": list(Probe.objects.filter(migration=migration)),
        "plans": standard.PLANS,
        "plan": standard.template_of(migration),
        "actions": GuardrailAction.choices,
        "can_configure": access.can(request.user, CONFIGURE),
    }
    return render(request, "monitoring/settings.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def kpi_form(request, slug, kpi_id=None):
    migration = access.get_migration_for_user(request.user, slug, action=CONFIGURE)
    kpi = get_object_or_404(Kpi, pk=kpi_id, migration=migration) if kpi_id else None
    form = KpiForm(request.POST if request.method == "POST" else None, instance=kpi, migration=migration)
    if request.method == "POST" and form.is_valid():
        by = Actor.for_user(request.user)
        if kpi is None:
            kpi = configuration.create_kpi(migration, by=by, **form.service_fields())
        else:
            kpi = configuration.update_kpi(kpi, by=by, **form.service_fields())
        messages.success(request, f"KPI “{kpi.name}” saved.")
        return redirect(_settings_url(migration, "#kpis"))
    context = {"migration": migration, "form": form, "object": kpi, "what": "KPI"}
    return render(request, "monitoring/rule_form.html", context, status=422 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@login_required
def kpi_delete(request, slug, kpi_id):
    migration = access.get_migration_for_user(request.user, slug, action=CONFIGURE)
    kpi = get_object_or_404(Kpi, pk=kpi_id, migration=migration)
    if request.method == "POST":
        configuration.delete_kpi(kpi, by=Actor.for_user(request.user))
        messages.success(request, f"KPI “{kpi.name}” and its guardrails deleted.")
        return redirect(_settings_url(migration, "#kpis"))
    also = list(kpi.guardrails.values_list("name", flat=True))
    context = {"migration": migration, "object": kpi, "what": "KPI", "also": also}
    return render(request, "monitoring/confirm_delete.html", context)


@require_POST
@login_required
def kpi_move(request, slug, kpi_id):
    migration = access.get_migration_for_user(request.user, slug, action=CONFIGURE)
    kpi = get_object_or_404(Kpi, pk=kpi_id, migration=migration)
    step = -1 if request.POST.get("direction") == "up" else 1
    configuration.move_kpi(kpi, by=Actor.for_user(request.user), step=step)
    return redirect(_settings_url(migration, "#kpis"))


@require_http_methods(["GET", "POST"])
@login_required
def guardrail_form(request, slug, guardrail_id=None):
    """Save, or with the Preview button replay the rule over the last 24 h without saving."""
    migration = access.get_migration_for_user(request.user, slug, action=CONFIGURE)
    guardrail = get_object_or_404(Guardrail, pk=guardrail_id, migration=migration) if guardrail_id else None
    data = request.POST if request.method == "POST" else None
    form = GuardrailForm(data, instance=guardrail or Guardrail(migration=migration), migration=migration)
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            replay = preview.would_have_fired(form.instance, now=timezone.now())
            context = {"migration": migration, "form": form, "object": guardrail, "what": "guardrail"}
            return render(request, "monitoring/rule_form.html", context | {"preview": replay})
        by = Actor.for_user(request.user)
        if guardrail is None:
            guardrail = configuration.create_guardrail(migration, by=by, **form.service_fields())
        else:
            guardrail = configuration.update_guardrail(guardrail, by=by, **form.service_fields())
        messages.success(request, f"Guardrail “{guardrail.name}” saved.")
        return redirect(_settings_url(migration, "#guardrails"))
    context = {"migration": migration, "form": form, "object": guardrail, "what": "guardrail"}
    return render(request, "monitoring/rule_form.html", context, status=422 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@login_required
def guardrail_delete(request, slug, guardrail_id):
    migration = access.get_migration_for_user(request.user, slug, action=CONFIGURE)
    guardrail = get_object_or_404(Guardrail, pk=guardrail_id, migration=migration)
    if request.method == "POST":
        configuration.delete_guardrail(guardrail, by=Actor.for_user(request.user))
        messages.success(request, f"Guardrail “{guardrail.name}” deleted.")
        return redirect(_settings_url(migration, "#guardrails"))
    context = {"migration": migration, "object": guardrail, "what": "guardrail", "also": []}
    return render(request, "monitoring/confirm_delete.html", context)


@require_POST
@login_required
def plan_kpis(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action=CONFIGURE)
    plan = request.POST.get("plan", "")
    action = request.POST.get("action", GuardrailAction.ROLLBACK)
    if plan not in standard.PLANS or action not in GuardrailAction.values:
        messages.error(request, "Plan: choose one of the reference plans and what its guardrails do.")
        return redirect(_settings_url(migration, "#standard"))
    probe = Probe.objects.filter(migration=migration, pk=request.POST.get("probe") or None).first()
    created = standard.add_plan_kpis(
        migration, plan=plan, probe=probe, action=action, by=Actor.for_user(request.user)
    )
    if created:
        names = ", ".join(kpi.name for kpi in created)
        messages.success(request, f"Added {len(created)} KPIs with a guardrail each: {names}.")
    else:
        messages.info(request, "Nothing added: these KPIs exist already (or need a probe to measure).")
    return redirect(_settings_url(migration, "#kpis"))
