"""`make run` keeps golive on SQLite: the people services and reads must work there too."""

import json
import subprocess
import sys

import pytest

from tests.processes import ROOT, process_env

pytestmark = pytest.mark.services

SCRIPT = """
import json

import django
django.setup()
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

call_command("migrate", verbosity=0)

from checklists import services as checklist_services
from checklists.models import ChecklistTemplate
from migrations_app.audit import Actor
from migrations_app.people import accounts, contacts, roles, selectors

system = Actor.system("test")
admin, _ = accounts.create_user(by=system, username="ada", group="Admin", first_name="Ada", last_name="Admin")
pm, _ = accounts.create_user(by=system, username="priya", group="Product Manager", first_name="Priya")
if not ChecklistTemplate.objects.filter(slug="payment-gateway-go-live").exists():
    call_command("load_builtin_templates", verbosity=0)
migration = checklist_services.create_migration_from_template(
    by=system, template=ChecklistTemplate.objects.get(slug="payment-gateway-go-live"),
    name="Checkout", slug="checkout", owner=admin, integration="Cards",
)
empty_before = len(roles.empty_slots(migration))
roles.set_role_holders(migration, role="product_manager", users=roles.users_by_username(["priya"]), by=system)
try:
    accounts.update_user(admin, by=system, group="Ops", first_name="Ada", last_name="Admin", email="", is_active=True)
    last_admin = "demoted"
except ValidationError as error:
    last_admin = list(error.message_dict)
contact = contacts.save_contact(None, by=system, migrations=[migration], name="Acme", kind="external_partner", role="Support")
client = Client(SERVER_NAME="localhost")  # an ALLOWED_HOSTS name in DEBUG
client.force_login(admin)
print(json.dumps({
    "empty_fewer": empty_before - len(roles.empty_slots(migration)),
    "search": [u.username for u in selectors.people_to_pick("pri")],
    "listed": [u.username for u in selectors.users_for_list(query="ad", status="all")],
    "last_admin": last_admin,
    "contact_migrations": list(contact.migrations.values_list("slug", flat=True)),
    "pages": [client.get(path).status_code for path in ("/migrations/checkout/", "/migrations/checkout/people/", "/people/", "/people/contacts/")],
}))
"""


def test_the_people_services_and_pages_work_on_the_sqlite_database_make_run_uses(tmp_path):
    env = process_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'golive.sqlite3'}",
        CELERY_TASK_ALWAYS_EAGER="true",
        CELERY_BROKER_URL=f"golivesql+sqlite:///{tmp_path / 'broker.sqlite3'}",
        LOG_LEVEL="WARNING",
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {
        "empty_fewer": 2,  # the Product Manager signs two phases of this template
        "search": ["priya"],
        "listed": ["ada"],
        "last_admin": ["group"],
        "contact_migrations": ["checkout"],
        "pages": [200, 200, 200, 200],
    }
