"""Contacts from golive's pages: add, edit, delete after confirmation, each audited."""

import pytest

from migrations_app.models import AuditEvent, Contact

pytestmark = pytest.mark.django_db


def body(migration, **changes):
    values = {
        "name": "Acme support",
        "kind": "external_partner",
        "organisation": "Acme",
        "role": "Provider support line",
        "phone": "+44 20 7946 0000",
        "email": "support@acme.example",
        "escalation_order": "1",
        "migrations": [str(migration.pk)],
    }
    values.update(changes)
    return values


def test_an_admin_adds_a_contact_that_the_migration_page_then_lists(client_for, admin_user, migration):
    client = client_for(admin_user)
    assert client.post("/people/contacts/new/", body(migration)).status_code == 302
    contact = Contact.objects.get()
    assert list(contact.migrations.all()) == [migration]
    assert "Acme support" in client.get(migration.get_absolute_url()).content.decode()
    event = AuditEvent.objects.get(action="contact.created")
    assert event.after["migrations"] == ["card-payments"] and event.after["kind"] == "external_partner"


def test_an_edit_records_only_what_changed(client_for, admin_user, migration):
    client = client_for(admin_user)
    client.post("/people/contacts/new/", body(migration))
    contact = Contact.objects.get()
    client.post(f"/people/contacts/{contact.pk}/", body(migration, phone="+44 20 7946 0999"))
    event = AuditEvent.objects.get(action="contact.updated")
    assert (event.before, event.after) == ({"phone": "+44 20 7946 0000"}, {"phone": "+44 20 7946 0999"})


@pytest.mark.parametrize(
    ("field", "value", "label"), [("name", "", "Name"), ("email", "nope", "Email"), ("kind", "x", "Kind")]
)
def test_invalid_input_answers_422_naming_the_field(client_for, admin_user, migration, field, value, label):
    response = client_for(admin_user).post("/people/contacts/new/", body(migration, **{field: value}))
    assert response.status_code == 422 and f"{label}:" in response.content.decode()
    assert not Contact.objects.exists()


def test_delete_asks_first_and_then_deletes_with_an_audit_row(client_for, admin_user, migration):
    client = client_for(admin_user)
    client.post("/people/contacts/new/", body(migration))
    contact = Contact.objects.get()
    page = client.get(f"/people/contacts/{contact.pk}/delete/").content.decode()
    assert "Delete Acme support?" in page and Contact.objects.exists()
    assert client.post(f"/people/contacts/{contact.pk}/delete/").status_code == 302
    assert not Contact.objects.exists()
    assert AuditEvent.objects.get(action="contact.deleted").before["name"] == "Acme support"


def test_only_an_admin_edits_contacts_but_everyone_sees_them(client_for, ops, migration):
    client = client_for(ops)
    assert client.get("/people/contacts/").status_code == 200
    assert client.post("/people/contacts/new/", body(migration)).status_code == 403
    assert not Contact.objects.exists()


def test_an_outsider_sees_no_contacts(client_for, outsider):
    assert client_for(outsider).get("/people/contacts/").status_code == 403
