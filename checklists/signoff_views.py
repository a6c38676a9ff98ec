"""Phase sign-offs: sign, revoke, and the printable sign-off sheet."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from checklists import selectors, services
from checklists.forms import (
    RevokeForm,
    SignOffForm,
)
from checklists.models import SignOff
from checklists.selectors import Viewer
from migrations_app import access, htmx_kit
from migrations_app.audit import Actor
from migrations_app.models import Phase


def _phase(request, pk) -> tuple[Phase, Viewer]:
    access.require(request.user, "view")
    phase = get_object_or_404(Phase.objects.select_related("migration"), pk=pk)
    return phase, Viewer.of(request.user, phase.migration)


def _phase_response(request, phase, viewer, errors, *, fallback):
    def phase_head():
        context = {
            "p": selectors.phase_context(phase, viewer),
            "migration": phase.migration,
            "viewer": viewer,
            "phase_errors": errors,
        }
        response = render(
            request, "checklists/_parts.html#phase-head", context, status=422 if errors else 200
        )
        return response if errors else trigger_client_event(response, "checklistChanged")

    return htmx_kit.partial_or_redirect(
        request, phase_head, redirect_to=htmx_kit.next_url(request, fallback), errors=errors
    )


@require_POST
@login_required
def phase_signoff(request, pk):
    phase, viewer = _phase(request, pk)
    form = SignOffForm(request.POST)
    errors: list[str] = []
    if not form.is_valid():
        errors = htmx_kit.form_messages(form)
    else:
        role = form.cleaned_data["role"]
        if role not in viewer.roles:
            label = dict(form.fields["role"].choices)[role]
            raise PermissionDenied(
                f"Only the {label} of {phase.migration.name} may sign off as {label}; your account does not hold that role here."
            )
        try:
            services.sign_off_phase(
                phase,
                user=request.user,
                role=role,
                by=Actor.for_user(request.user),
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            errors = htmx_kit.refusal_messages(error)
    fallback = reverse("checklists:checklist", args=[phase.migration.slug]) + f"#phase-{phase.pk}"
    return _phase_response(request, phase, viewer, errors, fallback=fallback)


@require_POST
@login_required
def signoff_revoke(request, pk):
    access.require(request.user, "view")
    signoff = get_object_or_404(SignOff.objects.select_related("phase__migration"), pk=pk)
    phase = signoff.phase
    viewer = Viewer.of(request.user, phase.migration)
    if not viewer.can_revoke(signoff):
        raise PermissionDenied("Only the person who signed, or a golive Admin, may revoke this sign-off.")
    form = RevokeForm(request.POST)
    errors: list[str] = []
    if not form.is_valid():
        errors = htmx_kit.form_messages(form)
    else:
        services.revoke_sign_off(signoff, by=Actor.for_user(request.user), reason=form.cleaned_data["reason"])
    fallback = reverse("checklists:checklist", args=[phase.migration.slug]) + f"#phase-{phase.pk}"
    return _phase_response(request, phase, viewer, errors, fallback=fallback)


@require_GET
@login_required
def phase_sheet(request, pk):
    phase, _ = _phase(request, pk)
    context = {"migration": phase.migration, **selectors.sheet(phase)}
    return render(request, "checklists/phase_sheet.html", context)
