"""In Chromium: an Admin adds a person and gives them a role with the picker; keyboard focus after
htmx swaps and on form errors; every page this work touched fits a 375 px phone screen."""

import pytest
from django.core.management import call_command

from checklists import services as checklist_services
from checklists.models import ChecklistItem, ChecklistTemplate
from migrations_app.audit import Actor
from migrations_app.models import Contact, Migration
from migrations_app.people import roles
from migrations_app.rollout.models import RolloutPlan
from tests.browser_fixtures import SCREENSHOTS
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system("tests")
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def checkout(admin_user):
    if not ChecklistTemplate.objects.filter(slug="payment-gateway-go-live").exists():  # flushed
        call_command("load_builtin_templates", verbosity=0)
    template = ChecklistTemplate.objects.get(slug="payment-gateway-go-live")
    return checklist_services.create_migration_from_template(
        by=SYSTEM,
        template=template,
        name="Checkout go-live",
        slug="checkout",
        owner=admin_user,
        integration="Cards",
    )


def slot(page, role):
    return page.locator(f'#slot-grid li[data-slot="{role}"]').first


def test_an_admin_adds_a_person_and_assigns_them_with_the_picker(
    login, live_server, admin_user, checkout, screenshot
):
    page = login(admin_user)
    page.get_by_role("link", name="People", exact=True).click()
    page.get_by_role("link", name="Add a person").click()
    page.fill("#id_username", "quinn")
    page.fill("#id_first_name", "Quinn")
    page.fill("#id_last_name", "Tech")
    page.select_option("#id_group", "Ops")
    page.get_by_role("button", name="Add the person").click()
    assert len(page.locator('[data-testid="new-password"]').inner_text()) >= 12
    screenshot("people-password-once")

    page.goto(f"{live_server.url}/migrations/checkout/people/")
    assert "nobody" in slot(page, "technical_lead").inner_text()
    picker = page.locator("#add-technical_lead")
    picker.press_sequentially("quin")  # htmx asks the server who matches
    page.wait_for_function(
        "() => [...document.querySelectorAll('#people-options option')].map(o => o.value).join() == 'Quinn Tech (quinn)'"
    )
    picker.fill("Quinn Tech (quinn)")
    page.get_by_role("button", name="Save Technical Lead").click()
    page.locator("#role-technical_lead .banner-success").wait_for()
    page.wait_for_function(
        "() => document.querySelector('#slot-grid li[data-slot=technical_lead]').innerText.includes('Quinn Tech (quinn)')"
    )
    assert "nobody" not in slot(page, "technical_lead").inner_text()
    screenshot("people-roles-assigned")


def test_a_form_puts_focus_on_its_first_error(login, live_server, admin_user):
    page = login(admin_user)
    page.goto(f"{live_server.url}/people/new/")
    page.select_option("#id_group", "Ops")
    page.get_by_role("button", name="Add the person").click()
    page.locator(".has-error").first.wait_for()
    assert page.evaluate("document.activeElement.id") == "id_username"


def test_ticking_an_item_with_the_keyboard_moves_focus_to_the_next_item(
    login, live_server, admin_user, checkout
):
    page = login(admin_user)
    page.goto(f"{live_server.url}/checklists/migration/checkout/")
    first, second = ChecklistItem.objects.filter(section__phase__migration=checkout).order_by(
        "section__phase__position", "section__position", "position"
    )[:2]
    page.locator(f"#item-{first.pk} button.ck-box").focus()
    page.keyboard.press("Enter")
    page.locator(f"#item-{first.pk}.ck-state-done").wait_for()
    page.wait_for_function(f"() => document.activeElement.closest('#item-{second.pk}') !== null")
    page.keyboard.press("Shift+Tab")  # focus is inside the list, not lost to the top of the page
    assert page.evaluate("document.activeElement.tagName") != "BODY"


def test_at_phone_width_no_page_scrolls_sideways_and_roll_back_is_on_the_first_screen(
    browser, live_server, admin_user, checkout
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    Contact.objects.create(
        name="Acme payments support line", kind="external_partner", role="Provider support"
    )
    roles.set_role_holders(checkout, role="qa_lead", users=[admin_user], by=SYSTEM)
    RolloutPlan.objects.update_or_create(migration=checkout, defaults={"percent": 25})
    Migration.objects.filter(pk=checkout.pk).update(status="rolling_out")
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")  # Django's default login address leads there too
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/migrations/**")
    contact = Contact.objects.get()
    pages = {
        "login": "/login/",
        "migration-list": "/migrations/",
        "migration": "/migrations/checkout/",
        "migration-people": "/migrations/checkout/people/",
        "people": "/people/",
        "person": f"/people/u/{admin_user.username}/",
        "person-new": "/people/new/",
        "contacts": "/people/contacts/",
        "contact": f"/people/contacts/{contact.pk}/",
        "contact-delete": f"/people/contacts/{contact.pk}/delete/",
        "checklist": "/checklists/migration/checkout/",
    }
    too_wide = {}
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        if width[0] > width[1]:
            too_wide[name] = width
        page.screenshot(path=str(SCREENSHOTS / f"phone-{name}.png"))  # the first screen
    assert not too_wide, too_wide
    page.goto(f"{live_server.url}/migrations/checkout/")
    box = page.get_by_text("Roll back…").bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"]
    context.close()
