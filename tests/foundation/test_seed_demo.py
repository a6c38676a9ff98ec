import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from migrations_app import access
from migrations_app.models import AuditEvent, Contact, Migration, MigrationRole

pytestmark = pytest.mark.django_db


def _counts():
    return {
        "users": get_user_model().objects.count(),
        "migrations": Migration.objects.count(),
        "roles": MigrationRole.objects.count(),
        "contacts": Contact.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def test_seed_demo_creates_one_user_per_role_and_prints_the_logins(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    User = get_user_model()
    for username, group in [
        ("ops", "Ops"),
        ("pm", "Product Manager"),
        ("oncall", "On-call"),
        ("admin", "Admin"),
    ]:
        assert username in out
        assert User.objects.get(username=username).groups.filter(name=group).exists()
        assert User.objects.get(username=username).check_password("golive-demo")
    assert "golive-demo" in out
    assert access.can(User.objects.get(username="admin"), "edit_contacts")
    migration = Migration.objects.get(slug="payment-gateway")
    assert migration.contacts.count() >= 3


def test_running_seed_demo_twice_changes_nothing():
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first
