"""The traffic panel's actions and the API-token page. Parse, authorise, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from migrations_app import access, htmx_kit
from migrations_app.audit import Actor
from migrations_app.rollout import selectors, services, tokens
from migrations_app.rollout.models import ApiToken, RollbackStep, TokenScope


def panel_response(request, migration, *, errors=(), notice="", status=200, changed=False):
    """The updated panel for htmx, or back to the page (with the message) for a plain form post."""
    migration.refresh_from_db()

    def panel():
        context = {"migration": migration, "errors": errors, "notice": notice}
        context.update(selectors.traffic_panel(migration, request.user))
        response = render(request, "rollout/panel.html", context, status=status)
        return trigger_client_event(response, "trafficChanged") if changed else response

    return htmx_kit.partial_or_redirect(request, panel, redirect_to=migration, errors=errors, notice=notice)


@require_GET
@login_required
def traffic_panel(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    if not request.htmx:
        return redirect(migration)
    return panel_response(request, migration)


@require_GET
@login_required
def traffic_version(request, slug):
    """204 while the panel the browser shows is current; otherwise an event that makes it reload.
    (A poll without client-side expressions: the page's CSP allows no eval.)"""
    migration = access.get_migration_for_user(request.user, slug)
    if request.GET.get("v") == selectors.panel_version(migration):
        return HttpResponse(status=204)
    return trigger_client_event(HttpResponse(status=200), "trafficStale")


@require_POST
@login_required
def traffic_set(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="change_traffic")
    override = request.POST.get("override") == "1"
    if override:
        access.require(request.user, "override_gate")
    try:
        percent = int(request.POST.get("percent", ""))
    except ValueError:
        return panel_response(request, migration, errors=["Percent: choose a traffic level."], status=422)
    try:
        services.set_traffic(
            migration,
            to=percent,
            by=Actor.for_user(request.user),
            reason=request.POST.get("reason", ""),
            override=override,
        )
    except ValidationError as error:
        return panel_response(request, migration, errors=htmx_kit.refusal_messages(error), status=422)
    return panel_response(request, migration, notice=f"Traffic is now at {percent} %.", changed=True)


@require_POST
@login_required
def plan_update(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="change_traffic")
    try:
        steps = [
            int(part) for part in request.POST.get("steps", "").replace("%", "").split(",") if part.strip()
        ]
        soak = int(request.POST.get("soak_minutes", ""))
    except ValueError:
        return panel_response(
            request,
            migration,
            errors=["Steps / soak minutes: use whole numbers, e.g. 5, 25, 50, 100 and 1440."],
            status=422,
        )
    try:
        services.update_plan(migration, steps=steps, soak_minutes=soak, by=Actor.for_user(request.user))
    except ValidationError as error:
        return panel_response(request, migration, errors=htmx_kit.refusal_messages(error), status=422)
    return panel_response(request, migration, notice="Rollout plan saved.", changed=True)


@require_POST
@login_required
def traffic_pause(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="change_traffic")
    reason = request.POST.get("reason", "").strip()
    if not reason:
        return panel_response(request, migration, errors=["Reason: say why the rollout pauses."], status=422)
    try:
        services.pause_rollout(migration, by=Actor.for_user(request.user), reason=reason)
    except ValidationError as error:
        return panel_response(request, migration, errors=htmx_kit.refusal_messages(error), status=422)
    return panel_response(request, migration, notice="Rollout paused.", changed=True)


@require_POST
@login_required
def traffic_resume(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="change_traffic")
    try:
        services.resume_rollout(
            migration, by=Actor.for_user(request.user), reason=request.POST.get("reason", "")
        )
    except ValidationError as error:
        return panel_response(request, migration, errors=htmx_kit.refusal_messages(error), status=422)
    return panel_response(request, migration, notice="Rollout resumed.", changed=True)


@require_POST
@login_required
def rollback(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="rollback")
    reason = request.POST.get("reason", "").strip()
    if not reason:
        return panel_response(
            request,
            migration,
            errors=["Reason: say why you roll back (it goes to the incident and the audit trail)."],
            status=422,
        )
    try:
        result = services.roll_back(migration, by=Actor.for_user(request.user), reason=reason)
    except ValidationError as error:
        return panel_response(request, migration, errors=htmx_kit.refusal_messages(error), status=422)
    if result.already:
        return panel_response(request, migration, notice=services.already_message(result), changed=True)
    return panel_response(
        request,
        migration,
        notice=f"Rolled back: traffic is at 0 % (was {result.from_percent} %).",
        changed=True,
    )


@require_POST
@login_required
def rollback_step(request, slug, step_id):
    migration = access.get_migration_for_user(request.user, slug, action="rollback")
    step = get_object_or_404(RollbackStep, pk=step_id, rollback__migration=migration)
    services.tick_rollback_step(step, done=request.POST.get("done") == "1", by=Actor.for_user(request.user))
    return panel_response(request, migration)


# --- API tokens on the profile page ----------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def token_list(request):
    access.require(request.user, "view")
    created, errors, status = None, [], 200
    if request.method == "POST":
        try:
            token, raw = tokens.create_token(
                user=request.user,
                name=request.POST.get("name", ""),
                scopes=request.POST.getlist("scopes"),
                by=Actor.for_user(request.user),
            )
            created = {"token": token, "raw": raw}
        except ValidationError as error:
            errors, status = htmx_kit.refusal_messages(error), 422
    context = {
        "tokens": ApiToken.objects.filter(user=request.user),
        "scopes": TokenScope.choices,
        "created": created,
        "errors": errors,
        "form": request.POST if errors else {},
    }
    return render(request, "rollout/tokens.html", context, status=status)


@require_POST
@login_required
def token_revoke(request, token_id):
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    tokens.revoke_token(token, by=Actor.for_user(request.user))
    messages.info(
        request, f"Token “{token.name}” revoked: applications using it are refused within a second."
    )
    return redirect("rollout:tokens")
