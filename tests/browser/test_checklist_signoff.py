"""Ticking, signing off and a stale sign-off, in a real headless Chromium."""

import re

import pytest

from checklists.models import ChecklistItem, SignOff
from migrations_app.models import PhaseKind
from tests.checklists import conftest as checklist_fixtures
from tests.checklists.conftest import phase_of, settle

# The checklist fixtures (a migration from the payment gateway template with four leads).
template = checklist_fixtures.template
techlead = checklist_fixtures.techlead
qa = checklist_fixtures.qa
live = checklist_fixtures.live
leads = checklist_fixtures.leads

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open_checklist(page, live_server, migration):
    page.goto(f"{live_server.url}/checklists/migration/{migration.slug}/")
    page.evaluate("window.__marker = 'same page'")


def test_an_ops_user_ticks_an_item_and_the_progress_bars_move_without_a_reload(
    login, live_server, live, ops, screenshot
):
    phase = phase_of(live, PhaseKind.PREPARATION)
    item = (
        ChecklistItem.objects.filter(section__phase=phase).order_by("section__position", "position").first()
    )
    page = login(ops)
    _open_checklist(page, live_server, live)
    phase_bar = page.locator(f"#phase-head-{phase.pk} [role=progressbar]")
    section_bar = page.locator(f"#section-progress-{item.section_id} [role=progressbar]")
    assert phase_bar.get_attribute("aria-valuenow") == "0"
    page.click(f"#item-{item.pk} button.ck-box")
    page.locator(f"#item-{item.pk}[data-state=done]").wait_for()
    page.wait_for_function(
        f"document.querySelector('#phase-head-{phase.pk} [role=progressbar]').getAttribute('aria-valuenow') !== '0'"
    )
    assert phase_bar.get_attribute("aria-valuenow") == "4"  # 1 of 25
    assert section_bar.get_attribute("aria-valuenow") == "17"  # 1 of 6
    assert "1 of 25 items done" in page.locator(f"#phase-head-{phase.pk}").inner_text()
    assert page.evaluate("window.__marker") == "same page"
    item.refresh_from_db()
    assert item.state == "done" and item.changed_by == ops
    screenshot("checklist-after-tick")


def test_a_product_manager_signs_off_the_phase(login, live_server, live, pm, leads, screenshot):
    phase = phase_of(live, PhaseKind.TESTING)
    settle(phase)
    page = login(pm)
    _open_checklist(page, live_server, live)
    head = page.locator(f"#phase-head-{phase.pk}")
    head.locator("input[name=comment]").fill("UAT passed with the bank")
    head.get_by_role("button", name="Sign off as Product Manager").click()
    head.locator("[data-role=product_manager] .badge", has_text=re.compile(r"^Signed$")).wait_for()
    assert "UAT passed with the bank" in head.inner_text()
    assert page.evaluate("window.__marker") == "same page"
    assert SignOff.objects.get(phase=phase).user == pm
    screenshot("checklist-pm-signed")


def test_changing_an_item_after_signing_makes_the_signoff_stale_on_screen(
    login, live_server, live, ops, leads, screenshot
):
    from checklists import services
    from migrations_app.audit import Actor

    phase = phase_of(live, PhaseKind.PREPARATION)
    settle(phase)
    for role in ("deployment_lead", "technical_lead"):
        services.sign_off_phase(phase, user=leads[role], role=role, by=Actor.for_user(leads[role]))
    page = login(ops)
    _open_checklist(page, live_server, live)
    head = page.locator(f"#phase-head-{phase.pk}")
    assert "Phase complete" in head.inner_text()
    item = ChecklistItem.objects.filter(section__phase=phase, required=True).first()
    page.click(f"#item-{item.pk} button.ck-box")  # reopen it
    head.locator("[data-role=technical_lead] .badge", has_text="Stale").wait_for()
    text = head.inner_text()
    assert "Not complete" in text and "Technical Lead sign-off stale" in text
    assert page.evaluate("window.__marker") == "same page"
    screenshot("checklist-stale-signoff")


def test_with_javascript_off_ticking_is_a_normal_form_post(browser, live_server, live, ops):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", ops.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    item = ChecklistItem.objects.filter(migration=live).order_by("id").first()
    page.goto(f"{live_server.url}/checklists/migration/{live.slug}/")
    page.click(f"#item-{item.pk} button.ck-box")
    page.locator(f"#item-{item.pk}[data-state=done]").wait_for()
    item.refresh_from_db()
    assert item.state == "done"
    context.close()


def test_a_team_ticks_a_phase_collects_four_signoffs_and_prints_the_sheet(
    login, live_server, live, ops, pm, techlead, qa, screenshot
):
    phase = phase_of(live, PhaseKind.TESTING)
    items = list(ChecklistItem.objects.filter(section__phase=phase).order_by("pk"))
    page = login(ops)
    _open_checklist(page, live_server, live)
    for item in items:
        page.click(f"#item-{item.pk} button.ck-box")
        page.locator(f"#item-{item.pk}[data-state=done]").wait_for()
    head = page.locator(f"#phase-head-{phase.pk}")
    assert f"{len(items)} of {len(items)} items done" in head.inner_text()
    for user, role, label in [
        (ops, "deployment_lead", "Deployment Lead"),
        (techlead, "technical_lead", "Technical Lead"),
        (pm, "product_manager", "Product Manager"),
        (qa, "qa_lead", "QA Lead"),
    ]:
        page.context.clear_cookies()
        page = login(user)
        _open_checklist(page, live_server, live)
        head = page.locator(f"#phase-head-{phase.pk}")
        head.get_by_role("button", name=f"Sign off as {label}").click()
        head.locator(f"[data-role={role}] .badge", has_text=re.compile(r"^Signed$")).wait_for()
    head.locator(".ck-gate-state", has_text="Phase complete").wait_for()
    screenshot("checklist-phase-complete")
    page.click(f"#phase-head-{phase.pk} >> text=Printable sign-off sheet")
    page.wait_for_url(f"{live_server.url}/checklists/phases/{phase.pk}/sheet/")
    sheet = page.locator("main").inner_text()
    assert "Phase state\tComplete" in sheet or "Complete" in sheet.split("Phase state", 1)[1][:40]
    assert sheet.count("Olivia Ops") >= len(items)  # who ticked each item
    for name in ("Olivia Ops", "Tomás Tech", "Priya PM", "Quinn QA"):
        assert name in sheet.split("Sign-offs", 1)[1]
    assert sheet.count("Signed, current") == 4
    page.emulate_media(media="print")
    screenshot("checklist-signoff-sheet-print")
