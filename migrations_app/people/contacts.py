"""Contacts (colleagues and the provider's own people) edited from golive's pages, audited."""

from __future__ import annotations

from django.db import transaction

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.models import Contact

CONTACT_FIELDS = [
    "name",
    "kind",
    "organisation",
    "role",
    "phone",
    "email",
    "escalation_order",
    "on_call",
    "notes",
]


def _state(contact: Contact) -> dict:
    slugs = sorted(contact.migrations.values_list("slug", flat=True)) if contact.pk else []
    return {**audit.snapshot(contact, CONTACT_FIELDS), "migrations": slugs}


@transaction.atomic
def save_contact(contact: Contact | None, *, by: Actor, migrations, **fields) -> Contact:
    """Create a contact (`contact=None`) or change one; the audit row holds only what changed."""
    if contact is None:
        contact, before, action = Contact(), {}, "contact.created"
    else:
        contact = Contact.objects.select_for_update().get(pk=contact.pk)
        before, action = _state(contact), "contact.updated"
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.full_clean()
    contact.save()
    contact.migrations.set(migrations)
    old, new = audit.changed(before, _state(contact))
    if new:
        audit.record(by, action, contact, before=old or None, after=new)
    return contact


@transaction.atomic
def delete_contact(contact: Contact, *, by: Actor) -> None:
    contact = Contact.objects.select_for_update().filter(pk=contact.pk).first()
    if contact is None:
        return  # deleted meanwhile: a double click on "Delete"
    audit.record(by, "contact.deleted", contact, before=_state(contact))
    contact.delete()
