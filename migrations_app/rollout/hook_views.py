"""Rollback hook pages: list and create, edit, rotate the secret, delete (Admins change; all see)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from migrations_app import access
from migrations_app.audit import Actor
from migrations_app.rollout import hooks
from migrations_app.rollout.hook_forms import RollbackHookForm
from migrations_app.rollout.models import RollbackHook

# What a hook receives, shown beside the form so the receiving team knows what to parse.
EXAMPLE_EVENT = """{
  "type": "migration.rolled_back",
  "timestamp": "2026-05-01T12:00:00+00:00",
  "data": {"migration": "card-payments", "rollback_id": 7, "from_percent": 25,
           "percent": 0, "reason": "error rate 4 %", "by": "oncall"}
}"""


def _list_page(request, migration, *, form=None, created=None, status=200):
    context = {
        "migration": migration,
        "hooks": RollbackHook.objects.filter(migration=migration),
        "form": form or RollbackHookForm(migration=migration),
        "created": created,
        "can_edit": access.can(request.user, "edit_rollback_hooks"),
        "example_event": EXAMPLE_EVENT,
    }
    return render(request, "rollout/hooks.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def hook_list(request, slug):
    action = "edit_rollback_hooks" if request.method == "POST" else "view"
    migration = access.get_migration_for_user(request.user, slug, action=action)
    if request.method == "GET":
        return _list_page(request, migration)
    form = RollbackHookForm(request.POST, migration=migration)
    if not form.is_valid():
        return _list_page(request, migration, form=form, status=422)
    hook, secret = hooks.create_hook(migration, by=Actor.for_user(request.user), **form.cleaned_data)
    # The one answer that shows the secret: a reload of the list does not.
    return _list_page(request, migration, created={"hook": hook, "secret": secret})


def _hook_for(request, slug, hook_id):
    migration = access.get_migration_for_user(request.user, slug, action="edit_rollback_hooks")
    return get_object_or_404(RollbackHook, pk=hook_id, migration=migration)


def _edit_page(request, hook, *, form=None, secret=None, delete_error="", status=200):
    context = {
        "delete_error": delete_error,
        "migration": hook.migration,
        "hook": hook,
        "form": form or RollbackHookForm(instance=hook, migration=hook.migration),
        "secret": secret,
    }
    return render(request, "rollout/hook_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def hook_edit(request, slug, hook_id):
    hook = _hook_for(request, slug, hook_id)
    if request.method == "GET":
        return _edit_page(request, hook)
    form = RollbackHookForm(
        request.POST, instance=RollbackHook.objects.get(pk=hook.pk), migration=hook.migration
    )
    if not form.is_valid():
        return _edit_page(request, hook, form=form, status=422)
    hook = hooks.update_hook(hook, by=Actor.for_user(request.user), **form.cleaned_data)
    messages.success(request, f"Rollback hook “{hook.name}” saved.")
    return redirect("rollback_hooks:list", slug=slug)


@require_POST
@login_required
def hook_rotate(request, slug, hook_id):
    hook = _hook_for(request, slug, hook_id)
    secret = hooks.rotate_hook_secret(hook, by=Actor.for_user(request.user))
    return _edit_page(request, hook, secret=secret)


@require_POST
@login_required
def hook_delete(request, slug, hook_id):
    hook = _hook_for(request, slug, hook_id)
    if request.POST.get("confirm") != "yes":
        # Deleting stops golive calling this URL on the next rollback: it takes a deliberate second step.
        return _edit_page(
            request, hook, delete_error="Confirm the deletion: nothing was deleted.", status=422
        )
    hooks.delete_hook(hook, by=Actor.for_user(request.user))
    messages.success(request, f"Rollback hook “{hook.name}” deleted: the next rollback will not call it.")
    return redirect("rollback_hooks:list", slug=slug)
