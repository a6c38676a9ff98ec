"""Contacts, for Admins: list, add, edit and delete (after a confirmation page)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from migrations_app import access, htmx_kit
from migrations_app.audit import Actor
from migrations_app.models import Contact
from migrations_app.people import contacts, selectors
from migrations_app.people.forms import ContactForm


@require_GET
@login_required
def contact_list(request):
    access.require(request.user, "view")
    context = {
        "contacts": Contact.objects.prefetch_related("migrations"),
        "can_edit": access.can(request.user, "edit_contacts"),
        "changes": selectors.recent_contact_changes(),
    }
    return render(request, "people/contact_list.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def contact_edit(request, pk=None):
    access.require(request.user, "edit_contacts")
    contact = get_object_or_404(Contact, pk=pk) if pk else None
    initial = (
        {"migrations": [request.GET["migration"]]} if "migration" in request.GET and not contact else None
    )
    data = request.POST if request.method == "POST" else None
    form = ContactForm(data, instance=contact, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        try:
            saved = contacts.save_contact(contact, by=Actor.for_user(request.user), **fields)
        except ValidationError as error:
            htmx_kit.put_refusal_on_form(form, error)
        else:
            messages.success(request, f"Saved {saved.name}.")
            return redirect("people:contacts")
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "people/contact_form.html", {"form": form, "contact": contact}, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def contact_delete(request, pk):
    """GET asks for confirmation (the page works without JavaScript); POST deletes."""
    access.require(request.user, "edit_contacts")
    contact = get_object_or_404(Contact, pk=pk)
    if request.method == "POST":
        name = contact.name
        contacts.delete_contact(contact, by=Actor.for_user(request.user))
        messages.success(request, f"Deleted {name}.")
        return redirect("people:contacts")
    return render(request, "people/contact_delete.html", {"contact": contact})
