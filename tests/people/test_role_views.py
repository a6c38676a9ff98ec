"""The migration's People and roles page: the picker, the slot grid, who may change what."""

import pytest

from checklists import services as checklist_services
from checklists.models import ChecklistTemplate
from migrations_app.audit import Actor
from migrations_app.models import AuditEvent, MigrationRole
from migrations_app.people import roles

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def templated(ops):
    template = ChecklistTemplate.objects.get(slug="payment-gateway-go-live")
    return checklist_services.create_migration_from_template(
        by=SYSTEM, template=template, name="Checkout", slug="checkout", owner=ops, integration="Cards"
    )


def holders(migration, role):
    rows = MigrationRole.objects.filter(migration=migration, role=role)
    return sorted(rows.values_list("user__username", flat=True))


def test_the_page_shows_every_slot_with_nobody_until_someone_holds_its_role(
    client_for, templated, admin_user
):
    page = client_for(admin_user).get("/migrations/checkout/people/").content.decode()
    assert 'data-slot="product_manager"' in page and "<strong>nobody</strong>" in page
    assert "Save Product Manager" in page  # an Admin gets the picker


def test_an_admin_adds_a_person_by_their_label_and_the_slot_names_them(client_for, templated, admin_user, pm):
    client = client_for(admin_user)
    response = client.post(
        "/migrations/checkout/people/product_manager/", {"add": "Priya PM (pm-user)"}, **HTMX
    )
    assert response.status_code == 200
    assert "rolesChanged" in response["HX-Trigger"]
    assert 'id="role-product_manager"' in response.content.decode()
    assert "<html" not in response.content.decode()  # the card alone
    assert holders(templated, "product_manager") == ["pm-user"]
    event = AuditEvent.objects.filter(migration=templated, action="roles.changed").get()
    assert (event.before, event.after) == (
        {"role": "product_manager", "users": []},
        {"role": "product_manager", "users": ["pm-user"]},
    )
    grid = client.get("/migrations/checkout/people/slots/").content.decode()
    slot = grid[grid.index('data-slot="product_manager"') :]
    assert slot.index("Priya PM (pm-user)") < slot.index("</li>")


def test_without_javascript_a_save_redirects_back_to_the_page(client_for, templated, admin_user, pm):
    response = client_for(admin_user).post("/migrations/checkout/people/qa_lead/", {"add": "pm-user"})
    assert response.status_code == 302 and response["Location"] == "/migrations/checkout/people/"
    assert holders(templated, "qa_lead") == ["pm-user"]


def test_unticking_a_holder_removes_them_and_keeping_the_others(client_for, templated, admin_user, pm, ops):
    roles.set_role_holders(templated, role="on_call", users=[pm, ops], by=SYSTEM)
    client_for(admin_user).post("/migrations/checkout/people/on_call/", {"keep": ["ops-user"]})
    assert holders(templated, "on_call") == ["ops-user"]


def test_an_unknown_person_answers_422_naming_the_field_and_changes_nothing(
    client_for, templated, admin_user, pm
):
    roles.set_role_holders(templated, role="qa_lead", users=[pm], by=SYSTEM)
    response = client_for(admin_user).post(
        "/migrations/checkout/people/qa_lead/", {"keep": ["pm-user"], "add": "nobody-here"}, **HTMX
    )
    assert response.status_code == 422
    assert "Add a person: No user named nobody-here." in response.content.decode()
    assert holders(templated, "qa_lead") == ["pm-user"]
    assert not AuditEvent.objects.filter(action="roles.changed", actor_kind="user").exists()


def test_the_deployment_lead_may_assign_but_another_ops_engineer_may_not(client_for, templated, ops, pm):
    from tests.factories import make_user

    other = make_user("ops-two", groups=("Ops",))
    response = client_for(other).post("/migrations/checkout/people/qa_lead/", {"add": "pm-user"})
    assert response.status_code == 403 and "Deployment Lead" in response.content.decode()
    roles.set_role_holders(templated, role="deployment_lead", users=[ops], by=SYSTEM)
    assert client_for(ops).post("/migrations/checkout/people/qa_lead/", {"add": "pm-user"}).status_code == 302
    assert holders(templated, "qa_lead") == ["pm-user"]


def test_a_person_who_may_not_assign_sees_the_roles_without_the_picker(client_for, templated, pm):
    page = client_for(pm).get("/migrations/checkout/people/").content.decode()
    assert "Save Product Manager" not in page and "An Admin or this migration" in page


def test_an_outsider_gets_403(client_for, templated, outsider):
    assert client_for(outsider).get("/migrations/checkout/people/").status_code == 403
    assert client_for(outsider).post("/migrations/checkout/people/qa_lead/", {"add": "x"}).status_code == 403


def test_assigning_is_post_only(client_for, templated, admin_user):
    assert client_for(admin_user).get("/migrations/checkout/people/qa_lead/").status_code == 405


def test_an_unknown_role_is_404(client_for, templated, admin_user):
    assert client_for(admin_user).post("/migrations/checkout/people/captain/", {"add": ""}).status_code == 404


def test_the_search_offers_active_people_matching_every_word(client_for, templated, admin_user, pm, ops):
    from tests.factories import make_user

    make_user("priya-gone", first_name="Priya", is_active=False)
    response = client_for(admin_user).get("/people/search/", {"add": "ops-user, priya p"})
    assert response.content.decode().strip() == '<option value="Priya PM (pm-user)"></option>'


def test_the_migration_page_lists_holders_and_the_slots_with_nobody(client_for, templated, admin_user, pm):
    roles.set_role_holders(templated, role="product_manager", users=[pm], by=SYSTEM)
    page = client_for(admin_user).get("/migrations/checkout/").content.decode()
    assert "Priya PM (pm-user)" in page
    assert "have nobody to sign" in page and "Technical Lead" in page
    assert "Assign roles" in page
