import pytest

from migrations_app import services
from migrations_app.audit import Actor
from migrations_app.models import Contact, ContactKind, MigrationRoleName

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_each_role_logs_in_and_sees_the_migration_page(
    login, live_server, migration, ops, pm, oncall, admin_user, screenshot
):
    services.assign_role(migration, user=pm, role=MigrationRoleName.PRODUCT_MANAGER, by=Actor.system("tests"))
    contact = Contact.objects.create(
        name="Provider hotline", kind=ContactKind.EXTERNAL_PARTNER, role="Support", phone="+1 555 0100"
    )
    contact.migrations.add(migration)
    for user in (ops, pm, oncall, admin_user):
        page = login(user)
        page.click(f"text={migration.name}")
        page.wait_for_url(f"{live_server.url}/migrations/{migration.slug}/")
        assert page.locator("h1").inner_text() == migration.name
        assert "Provider hotline" in page.locator("#contacts").inner_text()
        assert "Priya" in page.content()
        screenshot(f"migration-detail-as-{user.username}")
        page.context.clear_cookies()


def test_an_outsider_is_refused_with_a_readable_message(login, live_server, migration, outsider, page):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", outsider.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    response = page.goto(f"{live_server.url}/migrations/{migration.slug}/")
    assert response.status == 403
    assert "may not view go-live migrations" in page.locator("main").inner_text()


def test_ops_moves_the_migration_to_ready_without_a_reload(login, live_server, migration, ops):
    page = login(ops)
    page.goto(f"{live_server.url}/migrations/{migration.slug}/")
    page.evaluate("window.__marker = 'same page'")
    page.click("text=Start preparing")
    page.locator("#status-panel .badge", has_text="Preparing").wait_for()
    page.click("text=Mark ready")
    page.locator("#status-panel .badge", has_text="Ready").wait_for()
    assert page.evaluate("window.__marker") == "same page"
    migration.refresh_from_db()
    assert migration.status == "ready"
