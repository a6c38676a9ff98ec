"""Your settings: theme and time zone, for every logged-in person (their own only)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from migrations_app import htmx_kit
from migrations_app.audit import Actor
from migrations_app.people import preferences
from migrations_app.people.forms import PreferencesForm


@require_http_methods(["GET", "POST"])
@login_required
def my_settings(request):
    # The middleware read them already (None only while the database is unreachable).
    current = request.golive_preference or preferences.preferences_of(request.user)
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        initial={"theme": current.theme, "time_zone": current.time_zone},
    )
    if request.method == "POST" and form.is_valid():
        try:
            preferences.update_preferences(request.user, by=Actor.for_user(request.user), **form.cleaned_data)
        except ValidationError as error:
            htmx_kit.put_refusal_on_form(form, error)
        else:
            messages.success(request, "Your settings are saved.")
            return redirect("people:preferences")
    status = 422 if form.errors else 200
    context = {"form": form, "zone": preferences.zone_of(current)}
    return render(request, "people/preferences.html", context, status=status)
