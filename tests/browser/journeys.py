"""Shared pieces of the four user journeys: the seeded demo, a demo login, README screenshots."""

import importlib
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client

from migrations_app.demo import provider as demo_provider
from migrations_app.demo.seed import DEMO_PASSWORD
from migrations_app.people.display import person_label
from tests.conftest import restore_reference_data
from tests.factories import PASSWORD
from tests.processes import free_port

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def provider():
    """The demo provider on a free port (the probes of the seeded demo call it)."""
    server = demo_provider.serve(host="127.0.0.1", port=free_port())
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def restore_groups() -> None:
    """Transactional tests flush the groups and grants the data migrations made; put them back."""
    restore_reference_data(always=True)  # post_migrate is idempotent: every permission exists after
    groups = importlib.import_module("migrations_app.migrations.0002_groups_and_permissions")
    checklist = importlib.import_module("checklists.migrations.0002_admin_group_permissions")
    for name in groups.GROUPS:
        Group.objects.get_or_create(name=name)
    admin = Group.objects.get(name="Admin")
    for app_label, model, verbs in groups.ADMIN_PERMISSIONS:
        for verb in verbs:
            admin.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=f"{verb}_{model}")
            )
    for model, verbs in checklist.ADMIN_PERMISSIONS:
        for verb in verbs:
            admin.permissions.add(
                Permission.objects.get(content_type__app_label="checklists", codename=f"{verb}_{model}")
            )


@pytest.fixture
def seeded(provider, tmp_path, settings):
    """What `make run` seeds: the demo users, payment-gateway (preparing) and webhook-service (25 %)."""
    settings.GOLIVE_DEMO_PROVIDER_URL = provider.url
    restore_groups()
    call_command("seed_demo", provider_url=provider.url, token_file=str(tmp_path / "token"))
    return provider


@pytest.fixture
def reporting(seeded, live_server, tmp_path):
    """The provider's payment outcomes flowing into the live server's ingestion API every second."""
    sender = demo_provider.Sender(
        seeded.state,
        golive_url=live_server.url,
        slug="webhook-service",
        token_file=tmp_path / "token",
        webhook_url="",
        webhook_secret=demo_provider.DEFAULT_WEBHOOK_SECRET,
        every=1.0,
    )
    sender.start()
    yield seeded
    sender.stopped.set()
    sender.join(timeout=5)


@pytest.fixture
def demo_login(page, live_server):
    def do_login(username: str):
        page.context.clear_cookies()
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/migrations/**")
        return page

    return do_login


@pytest.fixture
def docs_screenshot(page, screenshot):
    """The README's screenshot of a journey: the 1280x800 viewport, also kept with the test artifacts."""

    def take(name: str, *, scroll_to: str = ""):
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        if scroll_to:
            page.locator(scroll_to).first.evaluate("el => el.scrollIntoView({block: 'start'})")
        else:
            page.evaluate("window.scrollTo(0, 0)")
        path = DOCS_SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)
        screenshot(f"journey-{name}")
        return path

    return take


@pytest.fixture
def log_in_as(page, live_server):
    """Log a test user in: through the real login form, or (to keep a journey with five people
    cheap: each form login checks a PBKDF2 hash) with a session made the way Django's test
    client's force_login makes it, handed to the browser as its session cookie."""

    def do_login(user, *, through_the_form: bool = False):
        # Leave the last person's page first: every answer renews its session cookie
        # (SESSION_SAVE_EVERY_REQUEST), so a late one would log that person back in.
        page.goto("about:blank")
        page.context.clear_cookies()
        if through_the_form:
            page.goto(f"{live_server.url}/login/")
            page.fill("#id_username", user.username)
            page.fill("#id_password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_server.url}/migrations/**")
            return page
        for _ in range(3):
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME]
            page.context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
            )
            # A slow answer to the last person's page can still land after the cookie is set (seen
            # in CI: the next person's page showed the last person's slots): check who is in.
            page.goto(f"{live_server.url}/migrations/")
            if page.locator(".userbox .who").inner_text().split(" · ")[0] == person_label(user):
                return page
            page.context.clear_cookies()
        raise AssertionError(f"{user.username} could not be logged in: another session kept coming back")

    return do_login
