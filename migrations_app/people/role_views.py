"""A migration's people: who holds each role, which sign-off slots have nobody, and the picker."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from migrations_app import access
from migrations_app.audit import Actor
from migrations_app.models import MigrationRoleName
from migrations_app.people import roles, selectors
from migrations_app.people.display import person_label
from migrations_app.people.forms import RoleHoldersForm, username_from

PAGE = "people/migration_roles.html"


def _forms(role_list, bound: dict | None = None) -> list[tuple]:
    bound = bound or {}
    return [
        (role, bound.get(role.code) or RoleHoldersForm(current=[u.get_username() for u in role.users]))
        for role in role_list
    ]


def _context(request, migration, bound: dict | None = None) -> dict:
    role_list = roles.roles_for(migration)
    return {
        "migration": migration,
        "role_forms": _forms(role_list, bound),
        "grid": roles.signoff_grid(migration),
        "can_assign": access.can_assign_roles(request.user, migration),
        "candidates": [person_label(u) for u in selectors.people_to_pick(limit=selectors.LIST_LIMIT)],
    }


@require_GET
@login_required
def migration_people(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    return render(request, PAGE, _context(request, migration))


@require_GET
@login_required
def migration_slots(request, slug):
    """The sign-off slot grid alone: it refreshes itself when roles change."""
    migration = access.get_migration_for_user(request.user, slug)
    return render(
        request, f"{PAGE}#slot-grid", {"migration": migration, "grid": roles.signoff_grid(migration)}
    )


@require_POST
@login_required
def role_set(request, slug, role):
    migration = access.get_migration_for_user(request.user, slug)
    access.require_assign_roles(request.user, migration)
    if role not in MigrationRoleName.values:
        raise Http404("No such role.")
    current = [u.get_username() for u in next(r for r in roles.roles_for(migration) if r.code == role).users]
    form = RoleHoldersForm(request.POST, current=current)
    if form.is_valid():
        try:
            users = roles.users_by_username(form.usernames())
            roles.set_role_holders(migration, role=role, users=users, by=Actor.for_user(request.user))
        except ValidationError as error:
            form.add_error("add", error.message_dict.get("users", error.messages))
    if form.errors:
        return _refused(request, migration, role, form)
    label = MigrationRoleName(role).label
    if not request.htmx:
        messages.success(request, f"Saved who holds {label}.")
        return redirect("migrations_app:people", slug=migration.slug)
    holders = next(r for r in roles.roles_for(migration) if r.code == role)
    context = {
        **_context(request, migration),
        "role": holders,
        "form": RoleHoldersForm(current=[u.get_username() for u in holders.users]),
        "saved": True,
    }
    return trigger_client_event(render(request, f"{PAGE}#role-card", context), "rolesChanged")


def _refused(request, migration, role, form):
    context = _context(request, migration, bound={role: form})
    if not request.htmx:
        return render(request, PAGE, context, status=422)
    holders = next(r for r in roles.roles_for(migration) if r.code == role)
    return render(request, f"{PAGE}#role-card", {**context, "role": holders, "form": form}, status=422)


@require_GET
@login_required
def person_search(request):
    """Options for the picker's datalist: active people matching what was typed so far."""
    access.require(request.user, "view")
    typed = request.GET.get("add", "")[:300].split(",")[-1]  # the person being typed now
    query = username_from(typed) if "(" in typed else typed
    options = [person_label(u) for u in selectors.people_to_pick(query)]
    return render(
        request,
        "people/_person_options.html",
        {"options": options, "list_id": request.GET.get("list", "people-options")},
    )
