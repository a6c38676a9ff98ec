"""A migration created from the built-in payment gateway template, with the four leads assigned."""

import datetime as dt

import pytest

from checklists import gates, services
from checklists.models import ChecklistItem, ChecklistTemplate
from migrations_app import services as migration_services
from migrations_app.access import Group
from migrations_app.audit import Actor
from migrations_app.models import MigrationRoleName
from tests.conftest import restore_reference_data
from tests.factories import make_user

TEMPLATE = "payment-gateway-go-live"


@pytest.fixture
def template(db):
    restore_reference_data()
    return ChecklistTemplate.objects.get(slug=TEMPLATE)


@pytest.fixture
def techlead(db):
    return make_user("tech-lead", groups=(Group.OPS,), first_name="Tomás", last_name="Tech")


@pytest.fixture
def qa(db):
    return make_user("qa-lead", groups=(Group.OPS,), first_name="Quinn", last_name="QA")


@pytest.fixture
def live(db, template, ops, pm, techlead, qa):
    """A migration from the template; ops is Deployment Lead, pm Product Manager, and so on."""
    migration = services.create_migration_from_template(
        by=Actor.system("tests"),
        template=template,
        name="Checkout go-live",
        slug="checkout",
        owner=ops,
        integration="Card gateway",
        target_date=dt.date(2030, 6, 1),
    )
    for user, role in [
        (ops, MigrationRoleName.DEPLOYMENT_LEAD),
        (techlead, MigrationRoleName.TECHNICAL_LEAD),
        (pm, MigrationRoleName.PRODUCT_MANAGER),
        (qa, MigrationRoleName.QA_LEAD),
    ]:
        migration_services.assign_role(migration, user=user, role=role, by=Actor.system("tests"))
    return migration


def phase_of(migration, kind):
    return migration.phases.filter(kind=kind).order_by("position").first()


def settle(phase, *, by=None):
    """Tick every item of a phase done."""
    by = by or Actor.system("tests")
    for item in ChecklistItem.objects.filter(section__phase=phase):
        services.set_item_state(item, by=by, state="done")


def sign_all(phase, users_by_role):
    for role in gates.signoff_roles(phase):
        user = users_by_role[role]
        services.sign_off_phase(phase, user=user, role=role, by=Actor.for_user(user))


@pytest.fixture
def leads(ops, techlead, pm, qa):
    return {
        MigrationRoleName.DEPLOYMENT_LEAD: ops,
        MigrationRoleName.TECHNICAL_LEAD: techlead,
        MigrationRoleName.PRODUCT_MANAGER: pm,
        MigrationRoleName.QA_LEAD: qa,
    }
