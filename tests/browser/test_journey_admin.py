"""Journey: an admin edits a contact in the admin and sees it on the migration page."""

import pytest

from migrations_app.models import Contact

pytest_plugins = ["tests.browser.journeys"]  # seeded, demo_login, docs_screenshot
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_edits_a_contact_and_sees_it_on_the_migration_page(
    seeded,
    demo_login,
    live_server,
    docs_screenshot,
):
    contact = Contact.objects.get(name="Provider support line")
    page = demo_login("admin")
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Contacts").first.click()
    page.get_by_role("link", name="Provider support line").click()
    page.fill("#id_phone", "+44 20 7946 0999")
    page.fill("#id_role", "24/7 support, ask for the live-platform team")
    page.click("input[name=_save]")
    page.locator(".messagelist, .success").first.wait_for()
    contact.refresh_from_db()
    assert contact.phone == "+44 20 7946 0999"

    page.goto(f"{live_server.url}/migrations/payment-gateway/")
    contacts = page.locator("#contacts")
    contacts.get_by_text("+44 20 7946 0999").wait_for()
    assert "ask for the live-platform team" in contacts.inner_text()
    docs_screenshot("admin-contact", scroll_to="#contacts")
