"""User accounts, for Admins: the list with search, add, edit (group, active) and password reset."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from migrations_app import access, htmx_kit
from migrations_app.audit import Actor
from migrations_app.people import accounts, selectors
from migrations_app.people.display import person_label
from migrations_app.people.forms import PasswordResetForm, UserCreateForm, UserEditForm


def _status(form) -> int:
    return 422 if form.is_bound and form.errors else 200


@require_GET
@login_required
def user_list(request):
    access.require(request.user, "manage_users")
    query, status = request.GET.get("q", "")[:100], request.GET.get("status", "active")
    users = selectors.users_for_list(query=query, status=status)
    context = {"users": users, "q": query, "status": status, "changes": selectors.recent_account_changes()}
    return render(request, "people/user_list.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def user_create(request):
    access.require(request.user, "manage_users")
    form = UserCreateForm(
        request.POST if request.method == "POST" else None, initial={"group": access.Group.OPS}
    )
    if request.method == "POST" and form.is_valid():
        try:
            user, generated = accounts.create_user(by=Actor.for_user(request.user), **form.cleaned_data)
        except ValidationError as error:
            htmx_kit.put_refusal_on_form(form, error)
        else:
            return _after_password(request, user, generated, f"Added {person_label(user)}.")
    return render(request, "people/user_form.html", {"form": form, "creating": True}, status=_status(form))


def _after_password(request, user, generated: str, message: str):
    """Show a generated password once, on this answer only; otherwise back to the user's page."""
    if generated:
        context = {"person": user, "password": generated, "message": message}
        response = render(request, "people/password_once.html", context)
        response["Cache-Control"] = "no-store"
        return response
    messages.success(request, message)
    return redirect("people:edit", username=user.get_username())


def _initial(user) -> dict:
    fields = ("username", "first_name", "last_name", "email", "is_active")
    return {**{name: getattr(user, name) for name in fields}, "group": accounts.group_of(user)}


@require_http_methods(["GET", "POST"])
@login_required
def user_edit(request, username):
    access.require(request.user, "manage_users")
    person = get_object_or_404(get_user_model(), username=username)
    form = UserEditForm(request.POST if request.method == "POST" else None, initial=_initial(person))
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "username"}
        try:
            accounts.update_user(person, by=Actor.for_user(request.user), **fields)
        except ValidationError as error:
            htmx_kit.put_refusal_on_form(form, error)
        else:
            messages.success(request, f"Saved {person_label(person)}.")
            return redirect("people:edit", username=person.get_username())
    context = {"form": form, "person": person, "password_form": PasswordResetForm()}
    return render(request, "people/user_form.html", context, status=_status(form))


@require_POST
@login_required
def user_password(request, username):
    access.require(request.user, "manage_users")
    person = get_object_or_404(get_user_model(), username=username)
    form = PasswordResetForm(request.POST)
    if form.is_valid():
        try:
            generated = accounts.reset_password(person, by=Actor.for_user(request.user), **form.cleaned_data)
        except ValidationError as error:
            htmx_kit.put_refusal_on_form(form, error)
        else:
            if person.pk == request.user.pk:
                update_session_auth_hash(request, person)  # resetting your own password keeps you logged in
            return _after_password(
                request, person, generated, f"New password set for {person_label(person)}."
            )
    context = {"form": UserEditForm(initial=_initial(person)), "person": person, "password_form": form}
    return render(request, "people/user_form.html", context, status=422)
