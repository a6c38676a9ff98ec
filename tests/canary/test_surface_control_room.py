"""The control room's canary section: new path against old path with the guardrail's own numbers."""

import json
import re

import pytest

from migrations_app.models import MigrationStatus
from migrations_app.monitoring.models import GuardrailVerdict
from tests.canary.surface_data import compared_latency, evaluate_windows, served
from tests.factories import put_live

pytestmark = pytest.mark.django_db


def control_room(client, migration, *, live=False):
    path = f"/migrations/{migration.slug}/control-room/" + ("live/" if live else "")
    return client.get(path, HTTP_HX_REQUEST="true") if live else client.get(path)


def chart_data(response) -> dict:
    found = re.search(
        r'<script id="chart-data" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    return json.loads(found.group(1))


def test_it_shows_a_failing_new_path_with_the_guardrails_numbers(client_for, oncall, migration):
    put_live(migration, 25)
    guardrail = compared_latency(migration)
    evaluate_windows(guardrail, windows=3, new_factor=1.4)
    served(migration, new=137, old=411)
    response = control_room(client_for(oncall), migration)
    assert response.status_code == 200
    page = response.content.decode()
    last = GuardrailVerdict.objects.filter(guardrail=guardrail).order_by("-at").first()
    assert last.verdict == "fail"
    assert "Fail: new path worse than old" in page
    assert last.message in page  # "new p95 … vs old …: +40 % (95 % CI …), tolerance +20 %: fail, 3 of 3"
    assert f"{last.n_new} / {last.n_old}" in page
    assert f"{last.new:.0f} ms" in page and f"{last.old:.0f} ms" in page
    assert "<strong>137</strong> on the" in page and "<strong>411</strong> on the" in page
    assert "pauses the rollout after 3 failing evaluations in a row (window 60 s)" in page


def test_its_chart_draws_both_paths_and_the_verdict_history(client_for, oncall, migration):
    put_live(migration, 25)
    guardrail = compared_latency(migration)
    evaluate_windows(guardrail, windows=3, new_factor=1.4)
    figures = chart_data(control_room(client_for(oncall), migration, live=True))["cohorts"]
    assert [f["id"] for f in figures] == [f"cohort-chart-{guardrail.kpi_id}"]
    traces = {trace["name"]: trace for trace in figures[0]["figure"]["data"]}
    assert {"new path", "old path", "Fail: new path worse"} <= set(traces)
    assert traces["new path"]["yaxis"] == traces["old path"]["yaxis"] == "y"  # one axis, one clock
    failing = traces["Fail: new path worse"]
    assert len(failing["x"]) == 3 and all(30 < d < 50 for d in failing["y"])  # about +40 %
    assert all(minus > 0 for minus in failing["error_y"]["arrayminus"])  # the interval is drawn
    tolerance = [s for s in figures[0]["figure"]["layout"]["shapes"] if s.get("yref") == "y2"]
    assert tolerance[0]["y0"] == 20


def test_a_new_path_as_fast_as_the_old_one_passes(client_for, oncall, migration):
    put_live(migration, 25)
    guardrail = compared_latency(migration)
    evaluate_windows(guardrail, windows=2, new_factor=1.0)
    page = control_room(client_for(oncall), migration).content.decode()
    assert "Pass: new path within tolerance" in page
    assert "Fail: new path worse" not in page


def test_it_says_when_there_is_not_enough_data_yet(client_for, oncall, migration):
    put_live(migration, 25)
    guardrail = compared_latency(migration)
    response = control_room(client_for(oncall), migration, live=True)
    page = response.content.decode()
    assert "Not evaluated yet" in page
    assert "<strong>0</strong> on the" in page  # no user served yet, said as a number
    figure = chart_data(response)["cohorts"][0]["figure"]
    assert figure["empty"].startswith(f"Not enough data yet for {guardrail.kpi.name}")


def test_it_says_which_guardrail_paused_the_rollout_and_why(client_for, oncall, migration):
    put_live(migration, 25)
    guardrail = compared_latency(migration)
    evaluate_windows(guardrail, windows=3, new_factor=1.4)
    migration.refresh_from_db()
    assert migration.status == MigrationStatus.PAUSED
    page = control_room(client_for(oncall), migration).content.decode()
    assert "by guardrail “New path checkout latency”" in page
    assert "tolerance +20 %: fail, 3 of 3" in page


def test_a_migration_without_cohort_data_has_no_canary_section(client_for, oncall, migration):
    put_live(migration, 25)
    page = control_room(client_for(oncall), migration).content.decode()
    assert 'id="canary"' not in page
    assert chart_data(control_room(client_for(oncall), migration, live=True))["cohorts"] == []


def test_an_outsider_may_not_see_it(client_for, outsider, migration):
    assert control_room(client_for(outsider), migration).status_code == 403
