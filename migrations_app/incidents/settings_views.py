"""Notification channel settings pages (Admins): edit and delete. The list, create and test
views live with the other incident pages (views.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from migrations_app import access
from migrations_app.audit import Actor
from migrations_app.incidents import channels, forms
from migrations_app.incidents.models import NotificationChannel


def channel_fields(form) -> dict:
    """The service's keyword arguments from a valid channel form."""
    fields = {name: form.cleaned_data[name] for name in channels.CHANNEL_FIELDS}
    if "secret" in form.cleaned_data and form.cleaned_data.get("secret"):
        fields["secret"] = form.cleaned_data["secret"]
    return fields


def _edit_page(request, channel, *, form=None, delete_error="", status=200):
    context = {
        "channel": channel,
        "form": form or forms.ChannelEditForm(instance=channel),
        "delete_error": delete_error,
        "deliveries": channels.recent_deliveries(channel),
    }
    return render(request, "incidents/channel_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def channel_edit(request, pk):
    access.require(request.user, "edit_channels")
    channel = get_object_or_404(NotificationChannel, pk=pk)
    if request.method == "GET":
        return _edit_page(request, channel)
    form = forms.ChannelEditForm(request.POST, instance=NotificationChannel.objects.get(pk=pk))
    if not form.is_valid():
        return _edit_page(request, channel, form=form, status=422)
    fields = {name: form.cleaned_data[name] for name in channels.CHANNEL_FIELDS}
    channels.update_channel(
        channel, by=Actor.for_user(request.user), migrations=form.cleaned_data["migrations"], **fields
    )
    messages.success(request, f"Saved {channel.name}. Send a test notification to check it.")
    return redirect("incidents_channels:list")


@require_POST
@login_required
def channel_delete(request, pk):
    access.require(request.user, "edit_channels")
    channel = get_object_or_404(NotificationChannel, pk=pk)
    if request.POST.get("confirm") != "yes":
        # Incident pages stop going here: a deliberate second step, never one click.
        return _edit_page(
            request, channel, delete_error="Confirm the deletion: nothing was deleted.", status=422
        )
    channels.delete_channel(channel, by=Actor.for_user(request.user))
    messages.success(request, f"Deleted {channel.name}: incidents and announcements no longer go there.")
    return redirect("incidents_channels:list")
