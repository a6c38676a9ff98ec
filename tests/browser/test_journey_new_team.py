"""Journey: a new team takes a migration built from each of the five reference templates from
creation to 25 % in golive's own pages, with its own people, the plan's own thresholds, a probe,
webhook receipt and a guardrail, and never opens a page under /admin/.

An Admin creates the migration and assigns the roles with the picker; from then on the team's
own people work: the Deployment Lead sets up monitoring, ticks the gate and moves traffic, each
role holder signs the gate phases. The one thing no page can do is let a day pass: the 24 h soak
at 5 % is moved into the past in the database, as the clock would."""

import datetime as dt
import json
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import pytest
from django.core.management import call_command
from standardwebhooks.webhooks import Webhook

from checklists.gates import gate_phases, signoff_roles
from checklists.models import ChecklistItem, ChecklistTemplate
from migrations_app.access import Group
from migrations_app.models import Migration, MigrationRoleName, MigrationStatus
from migrations_app.monitoring.models import Guardrail
from migrations_app.rollout.models import RolloutPlan
from tests.factories import make_user

pytest_plugins = ["tests.browser.journeys"]  # docs_screenshot, log_in_as
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

R = MigrationRoleName


@dataclass(frozen=True)
class Plan:
    """What differs between the five templates: the probe the team adds and one threshold of
    the reference plan the test looks for after “Add standard KPIs”."""

    template: str
    probe: dict
    kpi: str
    threshold: str  # as the KPI table shows it, from the plan's own numbers


HEALTH = {"kind": "http_health", "path": "/health"}
PLANS = [
    Plan(
        "appointment-api-staging-to-live",
        {"kind": "json_metric", "path": "/organizations/me", "json_path": "$.availableCredits"},
        "Available credits",
        "critical below 50 credits · warning below 100 credits",  # “credits < 50: ALERT”, “< 100: WARNING”
    ),
    Plan(
        "identity-payment-dev-to-prod",
        HEALTH,
        "Response time p95",
        "critical at or above 3000 ms · warning at or above 2000 ms",
    ),
    Plan("webhook-service-release", HEALTH, "API error rate", "critical at or above 5 %"),
    Plan("mobile-money-deployment", HEALTH, "Payment success", "critical below 95 %"),
    Plan("payment-gateway-go-live", HEALTH, "Payment success", "critical below 90 % · warning below 95 %"),
]
SCREENSHOT_TEMPLATE = "payment-gateway-go-live"


@dataclass
class Team:
    lead: object  # Deployment Lead (Ops)
    tech: object
    product: object
    qa: object
    oncall: object

    def holders(self) -> dict[str, object]:
        return {
            R.DEPLOYMENT_LEAD: self.lead,
            R.TECHNICAL_LEAD: self.tech,
            R.PRODUCT_MANAGER: self.product,
            R.QA_LEAD: self.qa,
            R.ON_CALL: self.oncall,
        }


@pytest.fixture
def team(db) -> Team:
    return Team(
        lead=make_user("dana", groups=(Group.OPS,), first_name="Dana", last_name="Deploy"),
        tech=make_user("theo", groups=(Group.OPS,), first_name="Theo", last_name="Tech"),
        product=make_user("paula", groups=(Group.PRODUCT_MANAGER,), first_name="Paula", last_name="Product"),
        qa=make_user("quinn", groups=(Group.OPS,), first_name="Quinn", last_name="Quality"),
        oncall=make_user("omar", groups=(Group.ON_CALL,), first_name="Omar", last_name="Oncall"),
    )


@pytest.fixture
def builtin_templates(db):
    if not ChecklistTemplate.objects.filter(builtin=True).exists():  # flushed by an earlier test
        call_command("load_builtin_templates", verbosity=0)


@pytest.fixture
def requested_paths(page):
    """Every URL path the browser asks for, pages and htmx requests alike."""
    paths: list[str] = []
    page.context.on("request", lambda request: paths.append(urlsplit(request.url).path))
    return paths


@pytest.mark.parametrize("plan", PLANS, ids=[p.template for p in PLANS])
def test_a_new_team_takes_a_migration_from_its_template_to_25_percent_without_the_admin_site(
    plan, builtin_templates, team, admin_user, page, live_server, log_in_as, requested_paths, docs_screenshot
):
    started = time.monotonic()
    slug = "team-" + plan.template.split("-")[0]
    log_in_as(admin_user, through_the_form=True)
    create_migration(page, live_server.url, plan.template, slug=slug, owner=team.lead)
    assign_roles_with_the_picker(page, team)

    log_in_as(team.lead)
    page.goto(f"{live_server.url}/migrations/{slug}/")
    click_status_button(page, "Start preparing")
    add_probe(page, plan)
    add_standard_kpis(page, plan)
    set_up_webhook_receipt(page, live_server.url, slug)
    add_guardrail_with_preview(page)
    tick_the_gate(page, live_server.url, slug)

    migration = Migration.objects.get(slug=slug)
    for role, person in team.holders().items():
        if any(role in signoff_roles(phase) for phase in gate_phases(migration)):
            log_in_as(person)
            sign_the_gate_as(page, live_server.url, migration, role)

    log_in_as(team.lead)
    page.goto(f"{live_server.url}/migrations/{slug}/")
    click_status_button(page, "Mark ready")
    click_status_button(page, "Start rollout")
    advance(page, to=5)
    assert "Soaking at 5 %" in page.locator("#advance-why").inner_text()
    let_the_soak_pass(migration)
    page.reload()
    advance(page, to=25)
    hint = page.locator("#status-panel #next-step-hint")
    hint.filter(has_text="at 100 % the migration moves to Monitoring by itself").wait_for()

    migration.refresh_from_db()
    assert migration.status == MigrationStatus.ROLLING_OUT
    assert RolloutPlan.objects.get(migration=migration).percent == 25
    assert not [path for path in requested_paths if path.startswith("/admin/")]
    if plan.template == SCREENSHOT_TEMPLATE:
        page.wait_for_function("() => !document.querySelector('.htmx-request')")  # no "Working…"
        docs_screenshot("new-team-25")
    print(f"\n{plan.template}: {time.monotonic() - started:.1f} s from creation to 25 %")


# --- the steps, as a person does them -----------------------------------------------------------


def create_migration(page, base: str, template_slug: str, *, slug: str, owner) -> None:
    template = ChecklistTemplate.objects.get(slug=template_slug)
    page.goto(f"{base}/migrations/")
    page.get_by_role("link", name="New migration").first.click()
    page.select_option("#id_template", label=template.name)
    page.fill("#id_name", f"{template.name} (new team)")
    page.fill("#id_slug", slug)
    page.fill("#id_integration", "Acme provider")
    page.select_option("#id_owner", label=owner.username)
    page.get_by_role("button", name="Create migration").click()
    page.wait_for_url(f"{base}/migrations/{slug}/")
    assert "sign-off slot" in page.locator("#people-card").inner_text()  # nobody may sign yet
    assert not page.locator("#traffic-panel details.override").count()  # no override passes a draft


def assign_roles_with_the_picker(page, team: Team) -> None:
    page.locator("#people-card").get_by_role("link", name="Assign roles").click()
    for role, person in team.holders().items():
        option = f"{person.get_full_name()} ({person.username})"
        picker = page.locator(f"#add-{role}")
        picker.press_sequentially(person.first_name[:3].lower())  # the server narrows the list
        page.wait_for_function(
            "o => [...document.querySelectorAll('#people-options option')].some(e => e.value === o)",
            arg=option,
        )
        picker.fill(option)
        page.get_by_role("button", name=f"Save {R(role).label}").click()
        page.locator(f"#role-{role} .banner-success").wait_for()
    page.wait_for_function("() => !document.querySelector('#slot-grid .slot-nobody')")
    assert "Every slot has someone who may sign it." in page.locator("#slot-grid").inner_text()


def click_status_button(page, label: str) -> None:
    panel = page.locator("#status-panel")
    panel.get_by_role("button", name=label, exact=True).click()
    panel.locator(".status-line", has_text=STATUS_AFTER[label]).wait_for()
    # The traffic panel reloads on the change: act on it once it has (the status it shows).
    page.locator("#traffic-panel .facts", has_text=STATUS_AFTER[label]).wait_for()


STATUS_AFTER = {"Start preparing": "Preparing", "Mark ready": "Ready", "Start rollout": "Rolling out"}


def add_probe(page, plan: Plan) -> None:
    page.locator("#settings").get_by_role("link", name="Probes").click()
    page.get_by_role("link", name="Add a probe").first.click()
    page.fill("#id_name", "Provider API")
    page.select_option("#id_kind", plan.probe["kind"])
    page.fill("#id_url", "https://api.acme-provider.example" + plan.probe["path"])
    if "json_path" in plan.probe:
        page.fill("#id_json_path", plan.probe["json_path"])
    page.get_by_role("button", name="Create probe").click()
    page.wait_for_url("**/control-room/**")
    assert "Provider API" in page.locator("#probes").inner_text()


def add_standard_kpis(page, plan: Plan) -> None:
    """From the control room the probe form led to: the offer is the template's own plan."""
    offer = page.locator("#live form", has=page.get_by_role("button", name="Add standard KPIs"))
    assert ChecklistTemplate.objects.get(slug=plan.template).name.split(":")[0] in offer.inner_text()
    offer.locator("#std-probe").select_option(label="Provider API")
    offer.get_by_role("button", name="Add standard KPIs").click()
    page.get_by_text("with a guardrail each").wait_for()
    row = page.locator("#kpis tbody tr", has_text=plan.kpi).first
    assert plan.threshold in " · ".join(row.locator("td").nth(4).inner_text().splitlines())


def set_up_webhook_receipt(page, base: str, slug: str) -> None:
    """Set up receipt, let the provider deliver (two signed events and one forged), add its KPIs."""
    page.goto(f"{base}/migrations/{slug}/")
    page.locator("#settings").get_by_role("link", name="Webhook receipt").click()
    page.get_by_role("button", name="Set up webhook receipt").click()
    secret = page.get_by_test_id("inbound-secret").inner_text()
    url = page.get_by_test_id("receive-url").inner_text()
    for number, signer in enumerate([Webhook(secret), Webhook(secret), Webhook("whsec_" + "Zm9yZ2Vk" * 4)]):
        deliver(url, signer, f"msg_{number}")
    page.reload()
    assert "2 verified, 1 refused" in page.locator(".facts").inner_text()
    page.get_by_role("button", name="Add the webhook KPIs").click()
    page.wait_for_url("**/webhook-receipt/#kpis")
    assert secret not in page.content()


def deliver(url: str, signer: Webhook, message_id: str) -> int:
    body = json.dumps({"type": "payment.succeeded", "data": {"id": message_id}})
    now = dt.datetime.now(tz=dt.UTC)
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer.sign(message_id, now, body),
        "content-type": "application/json",
    }
    return httpx.post(url, content=body, headers=headers).status_code


def add_guardrail_with_preview(page) -> None:
    page.goto(page.url.split("/webhook-receipt/")[0] + "/control-room/settings/")
    page.get_by_role("link", name="Add a guardrail").click()
    page.fill("#id_name", "Forged webhooks")
    page.select_option("#id_kpi", label="Webhook signature failures")
    page.select_option("#id_kind", "threshold")
    page.select_option("#id_action", "alert")
    page.fill("#id_consecutive", "1")
    page.fill("#id_min_samples", "1")
    page.get_by_role("button", name="Preview: would it have fired in the last 24 h?").click()
    assert "This rule would have fired once in the last 24 h" in page.locator("#preview").inner_text()
    page.get_by_role("button", name="Save guardrail").click()
    page.get_by_text("Guardrail “Forged webhooks” saved.").wait_for()
    assert Guardrail.objects.filter(name="Forged webhooks", kpi__name="Webhook signature failures").exists()


def tick_the_gate(page, base: str, slug: str) -> None:
    """Tick every required item of the phases before deployment (the rows without “optional”)."""
    page.goto(f"{base}/migrations/{slug}/")
    page.locator("#checklist-summary").get_by_role("link", name="Open the checklist").click()
    # rows.all() below does not wait: be on the checklist before listing its rows.
    page.wait_for_url(f"**/checklists/migration/{slug}/")
    migration = Migration.objects.get(slug=slug)
    for phase in gate_phases(migration):
        section = page.locator(f"#phase-{phase.pk}")
        section.wait_for()
        rows = section.locator(".ck-row").filter(has_not=page.locator(".badge", has_text="optional"))
        for item_id in [row.get_attribute("id") for row in rows.all()]:
            page.locator(f"#{item_id} button.ck-box").click()
            page.locator(f"#{item_id}.ck-state-done").wait_for()
    assert not ChecklistItem.objects.filter(
        section__phase__in=gate_phases(migration), required=True, state="open"
    ).exists()


def sign_the_gate_as(page, base: str, migration: Migration, role: str) -> None:
    page.goto(f"{base}/checklists/migration/{migration.slug}/")
    for phase in gate_phases(migration):
        if role not in signoff_roles(phase):
            continue
        slot = page.locator(f"#phase-head-{phase.pk} li.ck-slot[data-role='{role}']")
        slot.get_by_role("button", name=f"Sign off as {R(role).label}").click()
        page.locator(
            f"#phase-head-{phase.pk} li.ck-slot[data-role='{role}'] .badge", has_text="Signed"
        ).wait_for()


def advance(page, *, to: int) -> None:
    panel = page.locator("#traffic-panel")
    panel.get_by_role("button", name=f"Advance to {to} %").click()
    # Not the "Traffic is now at" notice: the panel's own 10 s refresh may replace it first.
    page.wait_for_function(
        "to => document.querySelector('[data-testid=traffic-percent]').innerText.startsWith(to + ' %')",
        arg=to,
    )


def let_the_soak_pass(migration: Migration) -> None:
    plan = RolloutPlan.objects.get(migration=migration)
    RolloutPlan.objects.filter(pk=plan.pk).update(
        level_since=plan.level_since - dt.timedelta(minutes=plan.soak_minutes)
    )
