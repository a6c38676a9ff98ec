"""Incident pages, the signed acknowledge link, the evidence pack and notification channels.

Announcements, subscribers and the public status page are in status_views."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from migrations_app import access, htmx_kit
from migrations_app.audit import Actor
from migrations_app.incidents import (
    channels,
    escalation,
    evidence,
    forms,
    selectors,
    services,
    settings_views,
    timeline_groups,
)
from migrations_app.incidents.models import (
    Incident,
    IncidentStatus,
    NotificationChannel,
)

# --- incidents ---------------------------------------------------------------------------------


@require_GET
@login_required
def incident_list(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    context = {
        "migration": migration,
        "incidents": selectors.incidents_for(migration),
        "form": forms.OpenIncidentForm(),
        "can_manage": access.can(request.user, "manage_incidents"),
    }
    return render(request, "incidents/incident_list.html", context)


@require_POST
@login_required
def incident_open(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="manage_incidents")
    form = forms.OpenIncidentForm(request.POST)
    errors = []
    if form.is_valid():
        try:
            incident = services.open_incident(migration, by=Actor.for_user(request.user), **form.cleaned_data)
        except ValidationError as error:
            errors = htmx_kit.refusal_messages(error)
        else:
            return redirect("incidents:detail", migration.slug, incident.pk)
    context = {
        "migration": migration,
        "incidents": selectors.incidents_for(migration),
        "form": form,
        "can_manage": True,
        "errors": errors or htmx_kit.form_messages(form),
    }
    return render(request, "incidents/incident_list.html", context, status=422)


def _incident_for(request, slug, pk, action="view") -> Incident:
    migration = access.get_migration_for_user(request.user, slug, action=action)
    return get_object_or_404(
        Incident.objects.select_related("migration", "commander"), migration=migration, pk=pk
    )


def _incident_context(request, incident: Incident, **extra) -> dict:
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    return {
        "migration": incident.migration,
        "incident": incident,
        "timeline": timeline_groups.grouped(selectors.timeline(incident)),
        "durations": selectors.durations(incident),
        "next_statuses": [IncidentStatus(s) for s in services.NEXT_STATUSES[incident.status]],
        "can_manage": access.can(request.user, "manage_incidents"),
        "details_form": forms.DetailsForm(
            users=users,
            initial={
                "severity": incident.severity,
                "commander": incident.commander,
                "public_title": incident.public_title,
            },
        ),
        "snapshot_counts": {
            "results": len(incident.snapshot.get("probe_results", [])),
            "failures": sum(1 for r in incident.snapshot.get("probe_results", []) if r["outcome"] != "pass"),
            "samples": len(incident.snapshot.get("samples", [])),
            "guardrails": incident.snapshot.get("guardrails", []),
        },
        "rollbacks": incident.rollbacks.order_by("at"),
        "can_send": access.can(request.user, "send_announcements"),
        "nobody_to_page": incident.pages
        and incident.is_open
        and not escalation.on_call_addresses(incident.migration),
        **extra,
    }


@require_GET
@login_required
def incident_detail(request, slug, pk):
    incident = _incident_for(request, slug, pk)
    template = "incidents/incident_detail.html"
    if request.htmx:
        template += "#incident-main"
    return render(request, template, _incident_context(request, incident))


def _after_change(request, incident: Incident, *, errors=None, note=""):
    """htmx: the re-rendered incident (422 with the message on invalid input). Without
    JavaScript: back to the page, or the page with the message."""
    incident = Incident.objects.select_related("migration", "commander").get(pk=incident.pk)
    status = 422 if errors else 200
    if not request.htmx and not errors:
        if note:
            messages.info(request, note)
        return redirect("incidents:detail", incident.migration.slug, incident.pk)
    template = "incidents/incident_detail.html" + ("#incident-main" if request.htmx else "")
    response = render(
        request, template, _incident_context(request, incident, errors=errors, note=note), status=status
    )
    return response if errors else trigger_client_event(response, "incidentChanged")


@require_POST
@login_required
def incident_acknowledge(request, slug, pk):
    incident = _incident_for(request, slug, pk, action="manage_incidents")
    incident = services.acknowledge(incident, by=Actor.for_user(request.user))
    note = (
        f"Already acknowledged by {incident.acknowledged_by}."
        if incident.already
        else "Acknowledged: escalation stopped."
    )
    return _after_change(request, incident, note=note)


@require_POST
@login_required
def incident_status(request, slug, pk):
    incident = _incident_for(request, slug, pk, action="manage_incidents")
    form = forms.StatusForm(request.POST)
    if not form.is_valid():
        return _after_change(request, incident, errors=htmx_kit.form_messages(form))
    try:
        incident = services.change_status(incident, by=Actor.for_user(request.user), **form.cleaned_data)
    except ValidationError as error:
        return _after_change(request, incident, errors=htmx_kit.refusal_messages(error))
    return _after_change(request, incident, note=f"Status: {incident.get_status_display()}.")


@require_POST
@login_required
def incident_note(request, slug, pk):
    incident = _incident_for(request, slug, pk, action="manage_incidents")
    form = forms.NoteForm(request.POST)
    if not form.is_valid():
        return _after_change(request, incident, errors=htmx_kit.form_messages(form))
    services.add_note(incident, by=Actor.for_user(request.user), **form.cleaned_data)
    return _after_change(request, incident, note="Note added.")


@require_POST
@login_required
def incident_details(request, slug, pk):
    incident = _incident_for(request, slug, pk, action="manage_incidents")
    form = forms.DetailsForm(request.POST, users=get_user_model().objects.filter(is_active=True))
    if not form.is_valid():
        return _after_change(request, incident, errors=htmx_kit.form_messages(form))
    try:
        incident = services.update_details(incident, by=Actor.for_user(request.user), **form.cleaned_data)
    except ValidationError as error:
        return _after_change(request, incident, errors=htmx_kit.refusal_messages(error))
    return _after_change(request, incident, note="Details saved.")


@require_POST
@login_required
def incident_postmortem(request, slug, pk):
    incident = _incident_for(request, slug, pk, action="manage_incidents")
    form = forms.PostmortemForm(request.POST)
    if not form.is_valid():
        return _after_change(request, incident, errors=htmx_kit.form_messages(form))
    services.save_postmortem(incident, by=Actor.for_user(request.user), **form.cleaned_data)
    return _after_change(request, incident, note="Post-mortem saved.")


# --- the signed acknowledge link (no login) -----------------------------------------------------


def _incident_from_token(token: str) -> tuple[Incident | None, str, str]:
    try:
        incident_id, address = escalation.read_ack_token(token)
    except signing.SignatureExpired:
        return None, "", "This link has expired. Open golive and acknowledge on the incident page."
    except signing.BadSignature:
        return None, "", "This link is not valid. Open golive and acknowledge on the incident page."
    incident = Incident.objects.select_related("migration").filter(pk=incident_id).first()
    if incident is None:
        return None, "", "This incident no longer exists."
    return incident, address, ""


@require_http_methods(["GET", "POST"])
def acknowledge_link(request, token):
    """GET shows one button (mail scanners follow links; only the POST acknowledges)."""
    incident, address, problem = _incident_from_token(token)
    if problem:
        return render(request, "incidents/acknowledge.html", {"problem": problem}, status=400)
    done = False
    if request.method == "POST":
        incident = services.acknowledge(incident, by=Actor.system(f"{address} via e-mail link"))
        done = True
    return render(
        request, "incidents/acknowledge.html", {"incident": incident, "address": address, "done": done}
    )


# --- the evidence pack --------------------------------------------------------------------------


@require_GET
@login_required
def evidence_pack(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    data = evidence.pack(migration)
    return render(request, "incidents/evidence.html", {"pack": data, "migration": migration})


@require_GET
@login_required
def evidence_csv(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    response = HttpResponse(evidence.as_csv(evidence.pack(migration, charts=False)), content_type="text/csv")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="golive-evidence-{migration.slug}-{stamp}.csv"'
    return response


@require_GET
@login_required
def evidence_json(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    body = json.dumps(
        evidence.as_json(evidence.pack(migration, charts=False)), cls=DjangoJSONEncoder, indent=1
    )
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="golive-evidence-{migration.slug}.json"'
    return response


# --- notification channels (Admins) ------------------------------------------------------------


def _channels_page(request, *, form=None, errors=None, status=200):
    rows = [
        {"channel": c, "deliveries": channels.recent_deliveries(c)} for c in NotificationChannel.objects.all()
    ]
    context = {
        "rows": rows,
        "form": form or forms.ChannelForm(),
        "errors": errors,
        "can_edit": access.can(request.user, "edit_channels"),
    }
    return render(request, "incidents/channels.html", context, status=status)


@require_GET
@login_required
def channel_list(request):
    access.require(request.user, "view")
    return _channels_page(request)


@require_POST
@login_required
def channel_create(request):
    access.require(request.user, "edit_channels")
    form = forms.ChannelForm(request.POST)
    if not form.is_valid():
        return _channels_page(request, form=form, errors=htmx_kit.form_messages(form), status=422)
    channel = channels.create_channel(
        by=Actor.for_user(request.user),
        migrations=form.cleaned_data["migrations"],
        **settings_views.channel_fields(form),
    )
    messages.success(request, f"Added {channel.name}. Send a test notification to check it.")
    return redirect("incidents_channels:list")


@require_POST
@login_required
def channel_test(request, pk):
    access.require(request.user, "edit_channels")
    channel = get_object_or_404(NotificationChannel, pk=pk)
    message = channels.send_test(channel, by=Actor.for_user(request.user))
    if message is None:
        messages.error(request, f"{channel.name} has nowhere to send to: add addresses first.")
    else:
        messages.success(request, f"Test notification queued for {channel.name}; its delivery shows below.")
    return redirect("incidents_channels:list")
