"""Announcements, status-page subscribers and settings, and the public status page (no login)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from migrations_app import access, htmx_kit
from migrations_app.audit import Actor
from migrations_app.incidents import (
    announcements,
    channels,
    forms,
    selectors,
)
from migrations_app.incidents.models import (
    Announcement,
    StatusPage,
    StatusSubscriber,
)
from migrations_app.models import Migration

# --- announcements, subscribers, the status page switch -----------------------------------------


def _announcements_context(request, migration: Migration, **extra) -> dict:
    page = StatusPage.objects.filter(migration=migration).first()
    return {
        "migration": migration,
        "announcements": Announcement.objects.filter(migration=migration),
        "proposals": announcements.proposals(migration),
        "subscribers": StatusSubscriber.objects.filter(migration=migration),
        "draft_form": forms.DraftForm(),
        "status_page": page,
        "can_send": access.can(request.user, "send_announcements"),
        **extra,
    }


@require_GET
@login_required
def announcement_list(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    return render(request, "incidents/announcements.html", _announcements_context(request, migration))


@require_POST
@login_required
def announcement_draft(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="send_announcements")
    form = forms.DraftForm(request.POST)
    if not form.is_valid():
        context = _announcements_context(
            request, migration, draft_form=form, errors=htmx_kit.form_messages(form)
        )
        return render(request, "incidents/announcements.html", context, status=422)
    proposed = request.POST.get("proposed") == "1"
    announcement = announcements.draft(
        migration, by=Actor.for_user(request.user), proposed=proposed, **form.cleaned_data
    )
    return redirect("incidents:announcement", migration.slug, announcement.pk)


def _announcement_for(request, slug, pk, action="view") -> Announcement:
    migration = access.get_migration_for_user(request.user, slug, action=action)
    return get_object_or_404(Announcement.objects.select_related("migration"), migration=migration, pk=pk)


def _announcement_page(request, announcement, *, form=None, errors=None, status=200):
    context = {
        "migration": announcement.migration,
        "announcement": announcement,
        "form": form
        or forms.EditAnnouncementForm(
            initial={
                "subject": announcement.subject,
                "body": announcement.body,
                "date": announcement.date,
                "window": announcement.window,
                "duration": announcement.duration,
                "contact": announcement.contact,
                "starts_at": announcement.starts_at,
                "ends_at": announcement.ends_at,
            }
        ),
        "schedule_form": forms.ScheduleForm(),
        "subscribers": StatusSubscriber.objects.filter(migration=announcement.migration).count(),
        "channels": channels.channels_for(announcement.migration, purpose="announcements"),
        "can_send": access.can(request.user, "send_announcements"),
        "errors": errors,
    }
    return render(request, "incidents/announcement_detail.html", context, status=status)


@require_GET
@login_required
def announcement_detail(request, slug, pk):
    return _announcement_page(request, _announcement_for(request, slug, pk))


@require_POST
@login_required
def announcement_edit(request, slug, pk):
    announcement = _announcement_for(request, slug, pk, action="send_announcements")
    form = forms.EditAnnouncementForm(request.POST)
    if not form.is_valid():
        return _announcement_page(
            request, announcement, form=form, errors=htmx_kit.form_messages(form), status=422
        )
    try:
        announcements.edit(announcement, by=Actor.for_user(request.user), **form.cleaned_data)
    except ValidationError as error:
        return _announcement_page(
            request, announcement, form=form, errors=htmx_kit.refusal_messages(error), status=422
        )
    messages.success(request, "Saved. Check the preview before sending.")
    return redirect("incidents:announcement", announcement.migration.slug, announcement.pk)


@require_POST
@login_required
def announcement_send(request, slug, pk):
    announcement = _announcement_for(request, slug, pk, action="send_announcements")
    try:
        announcement = announcements.send(
            announcement,
            by=Actor.for_user(request.user),
            confirm_no_recipients=request.POST.get("confirm_no_recipients") == "1",
        )
    except ValidationError as error:
        return _announcement_page(request, announcement, errors=htmx_kit.refusal_messages(error), status=422)
    messages.success(
        request,
        "It was already sent."
        if announcement.already
        else f"Sent to {announcement.recipients} subscriber(s) and the channels.",
    )
    return redirect("incidents:announcement", announcement.migration.slug, announcement.pk)


@require_POST
@login_required
def announcement_schedule(request, slug, pk):
    announcement = _announcement_for(request, slug, pk, action="send_announcements")
    form = forms.ScheduleForm(request.POST)
    if not form.is_valid():
        return _announcement_page(request, announcement, errors=htmx_kit.form_messages(form), status=422)
    try:
        announcements.schedule(announcement, by=Actor.for_user(request.user), **form.cleaned_data)
    except ValidationError as error:
        return _announcement_page(request, announcement, errors=htmx_kit.refusal_messages(error), status=422)
    messages.success(request, "Scheduled. golive sends it at that time.")
    return redirect("incidents:announcement", announcement.migration.slug, announcement.pk)


@require_POST
@login_required
def announcement_cancel(request, slug, pk):
    announcement = _announcement_for(request, slug, pk, action="send_announcements")
    announcements.cancel(announcement, by=Actor.for_user(request.user))
    return redirect("incidents:announcements", announcement.migration.slug)


@require_POST
@login_required
def subscriber_add(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="send_announcements")
    try:
        announcements.add_subscriber(
            migration, by=Actor.for_user(request.user), email=request.POST.get("email", "")
        )
    except ValidationError as error:
        context = _announcements_context(request, migration, errors=htmx_kit.refusal_messages(error))
        return render(request, "incidents/announcements.html", context, status=422)
    return redirect(reverse("incidents:announcements", args=[migration.slug]) + "#subscribers")


@require_POST
@login_required
def subscriber_remove(request, slug, pk):
    migration = access.get_migration_for_user(request.user, slug, action="send_announcements")
    subscriber = get_object_or_404(StatusSubscriber, migration=migration, pk=pk)
    announcements.remove_subscriber(subscriber, by=Actor.for_user(request.user))
    return redirect(reverse("incidents:announcements", args=[migration.slug]) + "#subscribers")


@require_POST
@login_required
def status_page_settings(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="send_announcements")
    form = forms.StatusPageForm(request.POST)
    if not form.is_valid():
        context = _announcements_context(request, migration, errors=htmx_kit.form_messages(form))
        return render(request, "incidents/announcements.html", context, status=422)
    page = announcements.configure_status_page(
        migration, by=Actor.for_user(request.user), **form.cleaned_data
    )
    messages.success(
        request, "The public status page is on." if page.enabled else "The public status page is off."
    )
    return redirect(reverse("incidents:announcements", args=[migration.slug]) + "#status-page")


# --- the public status page (no login) ----------------------------------------------------------


def _public_migration(slug: str) -> Migration:
    page = StatusPage.objects.select_related("migration").filter(migration__slug=slug, enabled=True).first()
    if page is None:
        raise Http404("No status page here.")  # switched off looks exactly like missing
    return page.migration


@require_GET
def status_page(request, slug):
    try:
        migration = _public_migration(slug)
    except Http404:
        return render(request, "incidents/status_page_off.html", {"slug": slug}, status=404)
    data = selectors.status_page(migration)
    response = render(request, "incidents/status_page.html", {"status": data, "slug": slug})
    response["Cache-Control"] = "public, max-age=30"
    return response


@require_GET
def status_page_json(request, slug):
    response = JsonResponse(selectors.status_page(_public_migration(slug)))
    response["Cache-Control"] = "public, max-age=30"
    response["Access-Control-Allow-Origin"] = "*"
    return response
