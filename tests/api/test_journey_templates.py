"""A new team's go-live through /api/v1 alone, for each of the five built-in templates, against a
real gunicorn: an Admin token adds the team (users API) and names the roles (roles API), creates
the migration from the template; the pipeline's service account adds a probe, the plan's own KPIs
with their thresholds and guardrails (the standard KPIs route), and webhook receipt with its KPIs
(a delivery signed with the official `standardwebhooks` package arrives and is counted); it ticks the go-live gate's required items,
each lead signs with their own token (the service account signs its QA Lead slots as itself), the
migration moves to rolling out and advances to 25 %, and the official OpenFeature OFREP provider
sees about a quarter of the users on the new path."""

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.core.management import call_command
from openfeature import api as openfeature
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from standardwebhooks.webhooks import Webhook

from checklists import gates
from checklists.models import ChecklistTemplate
from migrations_app.models import AuditEvent, Migration, MigrationStatus
from migrations_app.rollout import bucketing
from migrations_app.rollout.models import RolloutPlan
from tests.api.conftest import make_token
from tests.processes import wait_until
from tests.rollout.conftest import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

USERS = [f"shopper-{n}" for n in range(600)]

# The team an Admin adds: user name -> (group, the migration role it holds).
TEAM = {
    "dana-deploy": ("Ops", "deployment_lead"),
    "theo-tech": ("Ops", "technical_lead"),
    "paula-product": ("Product Manager", "product_manager"),
    "ci-bot": ("Ops", "qa_lead"),  # the pipeline's service account: its tests are the QA evidence
    "otis-oncall": ("On-call", "on_call"),
}

# One threshold per template, in the reference plan's own words (see migrations_app/monitoring/standard.py).
PLAN_THRESHOLD = {
    "identity-payment-dev-to-prod": ("Success rate", {"critical": 99.0, "direction": "higher"}),
    "appointment-api-staging-to-live": (
        "Error rate",  # "Error rate > 10% for 5 minutes" triggers rollback
        {"critical": 10.0, "window_seconds": 300, "direction": "lower"},
    ),
    "webhook-service-release": ("API error rate", {"critical": 5.0, "direction": "lower"}),
    "mobile-money-deployment": ("Payment success", {"critical": 95.0, "direction": "higher"}),
    "payment-gateway-go-live": ("Payment success", {"critical": 90.0, "direction": "higher"}),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory, django_db_setup):
    """One gunicorn for the five journeys: each uses its own slug, users and tokens."""
    with gunicorn(tmp_path_factory.mktemp("journey")) as process:
        yield process


@pytest.fixture
def templates(transactional_db):
    if ChecklistTemplate.objects.count() < len(PLAN_THRESHOLD):
        call_command("load_builtin_templates", verbosity=0)  # a transactional test flushed them


class Api:
    """/api/v1 as one token's user sees it; every answer's status is checked by the caller."""

    def __init__(self, base_url: str, token: str):
        self.http = httpx.Client(
            base_url=f"{base_url}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def call(self, method: str, path: str, expect: int = 200, **kwargs) -> dict:
        response = self.http.request(method, path, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else {}


def admin_adds_the_team(admin: Api) -> None:
    for username, (group, _) in TEAM.items():
        created = admin.call("POST", "/users", 201, json={"username": username, "group": group})
        assert created["group"] == group and created["password"]  # generated, shown this once


def admin_names_the_roles(admin: Api, slug: str) -> None:
    for username, (_, role) in TEAM.items():
        held = admin.call("PUT", f"/migrations/{slug}/roles/{role}", json={"users": [username]})
        assert [user["username"] for user in held["users"]] == [username]
    roles = admin.call("GET", f"/migrations/{slug}/roles")
    assert not [role["code"] for role in roles["items"] if role["unfilled"]]


def pipeline_configures_monitoring(ci: Api, slug: str, template: str) -> dict:
    """A probe, then the plan's own KPIs, each with a rollback guardrail on the plan's threshold."""
    probe = ci.call(
        "POST",
        f"/migrations/{slug}/probes",
        201,
        json={"name": "Provider health", "url": "https://api.example.com/health"},
    )
    added = ci.call(
        "POST", f"/migrations/{slug}/kpis/standard", json={"probe": probe["id"], "action": "rollback"}
    )
    assert added["plan"] == template and added["created"] and not added["left_out"]
    name, _ = PLAN_THRESHOLD[template]
    return next(kpi for kpi in added["created"] if kpi["name"] == name)


def provider_sends_a_signed_webhook(ci: Api, slug: str) -> None:
    receipt = ci.call("PUT", f"/migrations/{slug}/webhook-receipt", json={"scheme": "standard"})
    body = b'{"type": "payment.succeeded", "data": {"id": "pay_1"}}'
    msg_id = f"msg_{uuid.uuid4().hex}"
    now = dt.datetime.now(dt.UTC)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(receipt["secret"]).sign(msg_id, now, body.decode()),
        "Content-Type": "application/json",
    }
    assert httpx.post(receipt["url"], content=body, headers=headers).status_code == 200
    forged = {
        **headers,
        "webhook-signature": Webhook(receipt["secret"][:-4] + "AAA=").sign(msg_id, now, body.decode()),
    }
    assert httpx.post(receipt["url"], content=body, headers=forged).status_code == 401
    counted = ci.call("GET", f"/migrations/{slug}/webhook-receipt")
    assert (counted["verified_last_hour"], counted["refused_last_hour"], counted["secret"]) == (1, 1, None)
    watched = ci.call("POST", f"/migrations/{slug}/webhook-receipt/kpis", json={"no_data_minutes": 10})
    assert "Webhooks received (10 min)" in watched["kpis"]


def pipeline_ticks_the_gate(ci: Api, slug: str, gate_phases: list[str]) -> None:
    for phase in gate_phases:
        query = {"phase": phase, "required": "true", "done": "false", "limit": 1000}
        ids = [item["id"] for item in ci.call("GET", f"/migrations/{slug}/items", params=query)["items"]]
        first, rest = ids[0], ids[1:]
        ci.call("POST", f"/items/{first}/tick", json={"done": True, "evidence": "Smoke tests passed"})
        if rest:
            assert ci.call("POST", f"/migrations/{slug}/items/bulk", json={"items": rest, "done": True})[
                "changed"
            ] == len(rest)


def leads_sign_the_gate(tokens: dict[str, Api], slug: str, gate_phases: list[str]) -> int:
    signed = 0
    for username, (_, role) in TEAM.items():
        lead = tokens[username]
        for slot in lead.call("GET", f"/migrations/{slug}/signoffs", params={"limit": 100})["items"]:
            if slot["role"] == role and slot["phase"] in gate_phases:
                answer = lead.call("POST", f"/signoffs/{slot['id']}/sign", json={"comment": "Checked."})
                assert answer["state"] == "current" and username in answer["by"]
                signed += 1
    return signed


def new_path_users(slug: str) -> set[str]:
    client = openfeature.get_client()

    def on_new_path(user: str) -> bool:
        return client.get_boolean_value(slug, False, EvaluationContext(targeting_key=user))

    with ThreadPoolExecutor(max_workers=8) as pool:
        return {user for user, on in zip(USERS, pool.map(on_new_path, USERS), strict=True) if on}


@pytest.mark.parametrize("template", list(PLAN_THRESHOLD))
def test_a_new_team_takes_each_template_to_25_percent_through_the_api_alone(
    server, templates, admin_user, template
):
    slug = f"{template[:40]}-api"
    admin = Api(server.url, make_token(admin_user, name="admin laptop"))
    admin_adds_the_team(admin)
    created = admin.call(
        "POST", "/migrations", 201, json={"name": f"{template} by API", "slug": slug, "template": template}
    )
    assert created["status"] == MigrationStatus.DRAFT
    admin_names_the_roles(admin, slug)

    people = {user.username: user for user in admin_user.__class__.objects.filter(username__in=TEAM)}
    tokens = {name: Api(server.url, make_token(people[name], name=f"{name} token")) for name in TEAM}
    ci = tokens["ci-bot"]

    kpi = pipeline_configures_monitoring(ci, slug, template)
    name, threshold = PLAN_THRESHOLD[template]
    assert {key: kpi[key] for key in threshold} == threshold, f"{template}: {name} {kpi}"
    guardrails = ci.call("GET", f"/migrations/{slug}/guardrails")["items"]
    (guardrail,) = [g for g in guardrails if g["kpi"] == kpi["id"]]
    assert (guardrail["action"], guardrail["state"]) == ("rollback", "insufficient_data")
    provider_sends_a_signed_webhook(ci, slug)

    migration = Migration.objects.get(slug=slug)
    gate_phases = [phase.name for phase in gates.gate_phases(migration)]
    pipeline_ticks_the_gate(ci, slug, gate_phases)
    assert leads_sign_the_gate(tokens, slug, gate_phases) == sum(
        len(gates.signoff_roles(phase)) for phase in gates.gate_phases(migration)
    )
    assert gates.go_live_gate_blocker(migration) is None
    qa = AuditEvent.objects.filter(
        migration=migration, action="signoff.signed", actor_label__contains="ci-bot"
    )
    assert qa.exists()

    for status in ("preparing", "ready", "rolling_out"):
        moved = ci.call(
            "POST", f"/migrations/{slug}/transition", json={"to": status, "reason": "Go-live pipeline"}
        )
        assert moved["status"] == status
    assert ci.call("GET", f"/migrations/{slug}/rollout-plan")["steps"] == [5, 25, 50, 100]
    # The soak time between steps is at least a minute (the API refuses less); the soak gate has
    # its own tests (tests/rollout), so these journeys do not wait it out.
    RolloutPlan.objects.update_or_create(migration=migration, defaults={"soak_minutes": 0})
    for percent in (5, 25):
        assert (
            ci.call("POST", f"/migrations/{slug}/traffic", json={"percent": percent})["traffic_percent"]
            == percent
        )

    flags = make_token(people["dana-deploy"], scopes="flags", name="checkout backend")
    openfeature.set_provider(
        OFREPProvider(base_url=server.url, headers_factory=lambda: {"Authorization": f"Bearer {flags}"})
    )
    try:
        expected = {user for user in USERS if bucketing.is_in_rollout(slug, user, 25)}
        assert 0.2 < len(expected) / len(USERS) < 0.3
        wait_until(
            lambda: new_path_users(slug) == expected, timeout=10, interval=0.3, message="OFREP at 25 %"
        )
    finally:
        openfeature.clear_providers()
