"""A team's go-live through the API alone: the GitHub Actions job in docs/automation.md, step by
step, with real bash, curl and jq against a real gunicorn; the official OpenFeature OFREP
provider watching who takes the new path.

The job creates a migration from the built-in "Webhook service release" template, an Admin
adds the service accounts and names the people with the documented users and roles API block, the
job ticks the required items of the go-live gate, signs the QA Lead slots as its service account,
waits for the other leads (who sign with their own tokens), marks it ready and advances to 25 %
(the plan's KPIs and guardrails added by the job; one in warning shows in its log); OFREP then sees a quarter of the users on the new path.
A second run takes it to 100 %; its "Roll back on failure" step sends everyone back (OFREP sees
0 %), and a later advance notices the rollback and fails."""

import datetime as dt
import os
import re
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from openfeature import api as openfeature
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext

from checklists import gates
from checklists.models import ChecklistItem, ChecklistTemplate, ItemState
from migrations_app.access import Group
from migrations_app.models import AuditEvent, Migration, MigrationStatus
from migrations_app.monitoring.models import Guardrail, GuardrailState
from migrations_app.rollout import bucketing
from migrations_app.rollout.models import RolloutPlan
from tests.api.conftest import make_token
from tests.factories import make_user
from tests.processes import wait_until
from tests.rollout.conftest import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)

DOC = Path(__file__).resolve().parents[2] / "docs" / "automation.md"
SLUG = "webhooks-release-7"
GATE_PHASES = ("Staging validation", "Pre-deployment preparation")
USERS = [f"user-{n}" for n in range(1000)]


def workflow() -> dict:
    """The one YAML block of docs/automation.md: the job a team copies."""
    (block,) = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.S)
    return yaml.safe_load(block)


class Job:
    """Runs the workflow's steps as GitHub Actions would (bash -eo pipefail, the job's env)."""

    def __init__(self, tmp_path: Path, expressions: dict[str, str]):
        flow = workflow()
        self.steps = {step["name"]: step for step in flow["jobs"]["go-live"]["steps"]}
        self.env = {
            **{key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ},
            "GITHUB_RUN_NUMBER": expressions["github.run_number"],
            **{key: self._fill(str(value), expressions) for key, value in flow["env"].items()},
        }
        self.cwd = tmp_path

    @staticmethod
    def _fill(value: str, expressions: dict[str, str]) -> str:
        return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: expressions[m.group(1)], value)

    def run(self, name: str, *, ok: bool = True, **env: str) -> str:
        step = next(step for title, step in self.steps.items() if title.startswith(name))
        return self.shell(step["run"], ok=ok, name=name, **env)

    def shell(self, script: str, *, ok: bool = True, name: str = "shell block", **env: str) -> str:
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            env={**self.env, **env},
            cwd=self.cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
        output = done.stdout + done.stderr
        assert (done.returncode == 0) is ok, f"step {name!r} exited {done.returncode}:\n{output}"
        return output


@pytest.fixture
def people(admin_user):
    """The team of the documented roles block, by the user names it uses."""
    return {
        "admin": admin_user,
        "ops": make_user("ops", groups=(Group.OPS,)),
        "pm": make_user("pm", groups=(Group.PRODUCT_MANAGER,)),
        "techlead": make_user("techlead", groups=(Group.OPS,), email="tech@example.com"),
    }  # the service accounts ci-bot and ci-oncall are added by the documented Admin block


@pytest.fixture
def server(tmp_path, people):
    if not ChecklistTemplate.objects.filter(slug="webhook-service-release").exists():
        call_command("load_builtin_templates", verbosity=0)  # a transactional test flushed them
    with gunicorn(tmp_path) as process:
        yield process


@pytest.fixture
def ofrep(server, people):
    flags = make_token(people["ops"], scopes="flags", name="checkout backend")
    openfeature.set_provider(
        OFREPProvider(base_url=server.url, headers_factory=lambda: {"Authorization": f"Bearer {flags}"})
    )
    yield openfeature.get_client()
    openfeature.clear_providers()


def new_path_users(client) -> set[str]:
    def on_new_path(user: str) -> bool:
        return client.get_boolean_value(SLUG, False, EvaluationContext(targeting_key=user))

    with ThreadPoolExecutor(max_workers=8) as pool:
        return {user for user, on in zip(USERS, pool.map(on_new_path, USERS), strict=True) if on}


def expected_users(percent: int) -> set[str]:
    return {user for user in USERS if bucketing.is_in_rollout(SLUG, user, percent)}


def admin_sets_up_the_team(job: "Job", admin_token: str, people: dict) -> Migration:
    """The documented shell block an Admin runs once the migration exists (users and roles API)."""
    (block,) = re.findall(r"```sh\n(.*?)```", DOC.read_text(), flags=re.S)
    output = job.shell(block, ADMIN_TOKEN=admin_token)
    assert "Added ci-bot (Ops)" in output and "Added ci-oncall (On-call)" in output, output
    assert "QA Lead: ci-bot" in output and "Deployment Lead: ops" in output, output
    assert "Rollout plan: 5 %, 25 %, 50 %, 100 %, soak 60 min" in output, output
    assert "ci-bot exists already" in job.shell(block, ADMIN_TOKEN=admin_token)  # a re-run carries on
    User = get_user_model()
    people.update({name: User.objects.get(username=name) for name in ("ci-bot", "ci-oncall")})
    assert [g.name for g in people["ci-oncall"].groups.all()] == [Group.ON_CALL]
    return Migration.objects.get(slug=SLUG)


@contextmanager
def soak_times_pass_quickly(migration: Migration, *, after: float = 1.5):
    """The job meets the plan's real soak time (its "Soaking" 409 and retry); a moment later this
    thread moves the level's start back by the soak time, as if the hour had passed."""
    stop = threading.Event()

    def age_each_level_once() -> None:
        try:
            while not stop.wait(0.1):
                plan = RolloutPlan.objects.get(migration=migration)
                if plan.level_since is None:
                    continue
                at_level = timezone.now() - plan.level_since
                if dt.timedelta(seconds=after) < at_level < dt.timedelta(minutes=plan.soak_minutes):
                    passed = plan.level_since - dt.timedelta(minutes=plan.soak_minutes)
                    RolloutPlan.objects.filter(pk=plan.pk, level_since=plan.level_since).update(
                        level_since=passed
                    )
        finally:
            connection.close()

    thread = threading.Thread(target=age_each_level_once, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def leads_sign_with_their_own_tokens(server, people) -> None:
    """What the leads do on their phones: list the slots, sign the ones whose role they hold."""
    for username, role in [
        ("ops", "deployment_lead"),
        ("techlead", "technical_lead"),
        ("pm", "product_manager"),
    ]:
        headers = {"Authorization": f"Bearer {make_token(people[username], name=f'{username} phone')}"}
        slots = httpx.get(f"{server.url}/api/v1/migrations/{SLUG}/signoffs", headers=headers).json()["items"]
        for slot in slots:
            if slot["role"] == role and slot["phase"] in GATE_PHASES:
                signed = httpx.post(
                    f"{server.url}/api/v1/signoffs/{slot['id']}/sign", headers=headers, json={}
                )
                assert signed.status_code == 200, signed.text


def github_actions(server, tmp_path, ci_token: str, oncall_token: str) -> Job:
    return Job(
        tmp_path,
        {
            "vars.GOLIVE_URL": server.url,
            "secrets.GOLIVE_TOKEN": ci_token,
            "secrets.GOLIVE_ONCALL_TOKEN": oncall_token,
            "github.run_number": "7",
            "inputs.stop_at": "25",
            "github.server_url": "https://github.example.com",
            "github.repository": "shop/webhooks",
            "github.run_id": "4242",
        },
    )


def the_plans_guardrail_turns_warning(migration: Migration) -> None:
    """What the evaluator does after two failing evaluations (no worker runs in this test)."""
    changed = Guardrail.objects.filter(
        migration=migration, name="Webhook processing failures guardrail"
    ).update(
        state=GuardrailState.WARNING,
        breach_streak=2,
        last_verdict="fail",
        last_message="webhook failures 12 % above 10 %",
    )
    assert changed == 1


def test_the_documented_pipeline_takes_a_template_to_100_percent_and_rolls_it_back(
    server, ofrep, people, tmp_path
):
    creator = github_actions(server, tmp_path, make_token(people["ops"], name="first run"), "")
    assert "Created http" in creator.run("Create the migration")
    assert "exists already" in creator.run("Create the migration")  # a re-run carries on
    migration = admin_sets_up_the_team(creator, make_token(people["admin"], name="admin laptop"), people)
    job = github_actions(
        server,
        tmp_path,
        make_token(people["ci-bot"], name="github actions"),
        make_token(people["ci-oncall"], name="github actions rollback"),
    )
    fast = {"SOAK_RETRY_SECONDS": "0.5", "WATCH_SECONDS": "1", "WATCH_INTERVAL": "0.2"}

    kpis = job.run("Add the plan's own KPIs")
    assert "added: Webhook processing failures, critical 10 %" in kpis, kpis  # the plan's "> 10%"
    assert "needs a probe: API error rate" in kpis
    assert "kept: Webhook processing failures" in job.run("Add the plan's own KPIs")
    assert "ticked:" in job.run("Tick the required items")
    gate = [p for p in migration.phases.all() if p.name in GATE_PHASES]
    assert all(gates.phase_status(p).items_complete for p in gate)
    ticked = ChecklistItem.objects.filter(section__phase__in=gate, required=True)
    assert {i.evidence_link for i in ticked} == {"https://github.example.com/shop/webhooks/actions/runs/4242"}

    assert job.run("Sign off as QA Lead").count("as QA Lead") == 2
    waiting = job.run("Wait for the other leads", ok=False, SIGNOFF_WAIT_SECONDS="-1")
    assert "Technical Lead sign-off missing" in waiting and "sign-offs still missing" in waiting
    leads_sign_with_their_own_tokens(server, people)
    assert "is current" in job.run("Wait for the other leads")

    assert "status: ready" in job.run("Mark the migration ready")
    the_plans_guardrail_turns_warning(migration)
    with soak_times_pass_quickly(migration):
        advanced = job.run("Advance step by step", **fast)
    assert "Soaking at 5 %" in advanced, advanced
    assert "Traffic at 5 %" in advanced and "Traffic is at 25 %" in advanced
    assert (
        "::warning::Webhook processing failures guardrail: warning, 2 of 3 failing: webhook failures 12 % above 10 %"
        in advanced
    )

    quarter = expected_users(25)
    assert 0.22 < len(quarter) / len(USERS) < 0.28
    wait_until(lambda: new_path_users(ofrep) == quarter, timeout=10, interval=0.3, message="OFREP at 25 %")

    with soak_times_pass_quickly(migration):
        to_100 = job.run("Advance step by step", STOP_AT="100", **fast)
    assert "Traffic at 50 %" in to_100 and "Traffic is at 100 %" in to_100
    migration.refresh_from_db()
    assert migration.status == MigrationStatus.MONITORING
    wait_until(
        lambda: new_path_users(ofrep) == set(USERS), timeout=10, interval=0.3, message="OFREP at 100 %"
    )

    assert "Rolled back: traffic is at 0 %." in job.run("Roll back on failure")
    wait_until(lambda: new_path_users(ofrep) == set(), timeout=10, interval=0.3, message="OFREP at 0 %")
    rollback = AuditEvent.objects.get(migration=migration, action="rollback.created")
    assert "ci-oncall" in rollback.actor_label and "Go-live pipeline failed" in rollback.reason

    later = job.run("Advance step by step", ok=False, STOP_AT="100", **fast)
    assert "was rolled back" in later
    assert "Already rolled back" in job.run("Roll back on failure")
    migration.refresh_from_db()
    assert migration.status == MigrationStatus.ROLLED_BACK
    assert not ChecklistItem.objects.filter(
        section__phase__in=gate, required=True, state=ItemState.OPEN
    ).exists()
