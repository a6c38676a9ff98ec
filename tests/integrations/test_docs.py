"""The Prometheus and Grafana docs say what /metrics does: docs/grafana-dashboard.json is importable
(a Prometheus datasource input) and queries only metrics /metrics exposes; docs/integrations.md
lists every family and gives a scrape config of the shape the real-Prometheus tests use."""

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import put_live
from tests.integrations.prometheus import scrape_config

pytestmark = pytest.mark.django_db

DOCS = Path(__file__).resolve().parents[2] / "docs"
DASHBOARD = DOCS / "grafana-dashboard.json"
GUIDE = DOCS / "integrations.md"
NAME = re.compile(r"\bgolive_[a-z0-9_]+\b")
HISTOGRAM_SAMPLES = ("_bucket", "_count", "_sum")


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def panels() -> list[dict]:
    return [panel for panel in dashboard()["panels"] if panel["type"] != "row"]


def expressions() -> list[str]:
    """Every PromQL expression: the panels' targets and the template variables' queries."""
    found = [target["expr"] for panel in panels() for target in panel["targets"]]
    found += [variable["definition"] for variable in dashboard()["templating"]["list"]]
    return found


def exposed_names(text: str) -> set[str]:
    """The sample names /metrics can carry: each family's, and a histogram's _bucket/_count/_sum."""
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        if family.type == "histogram":
            names.update(family.name + suffix for suffix in HISTOGRAM_SAMPLES)
    return names


def test_it_is_an_importable_dashboard_with_a_prometheus_input():
    board = dashboard()
    assert board["schemaVersion"] >= 36 and board["uid"] and board["title"]
    assert [i["name"] for i in board["__inputs"] if i["pluginId"] == "prometheus"] == ["DS_PROMETHEUS"]
    for panel in panels():
        assert panel["title"] and panel["description"], panel["id"]
        sources = [panel["datasource"], *[target["datasource"] for target in panel["targets"]]]
        assert all(source["uid"] == "${DS_PROMETHEUS}" for source in sources), panel["title"]
    assert len({panel["id"] for panel in board["panels"]}) == len(board["panels"])


def test_every_metric_the_dashboard_queries_is_one_golive_exposes(scrape, migration):
    put_live(migration, 25)
    exposed = exposed_names(scrape())
    used = {name for expr in expressions() for name in NAME.findall(expr)}
    assert used and used - exposed == set()


def test_it_shows_what_an_on_call_looks_for():
    exprs = "\n".join(expressions())
    for needed in (
        "golive_traffic_percent",
        "golive_guardrail_state",
        "golive_probe_success_ratio",
        "histogram_quantile(0.95, sum by (migration, probe, le) (golive_probe_latency_seconds_bucket",
        "golive_outbox_messages",
        "golive_celery_queue_length",
    ):
        assert needed in exprs, needed


def _section() -> str:
    text = GUIDE.read_text()
    start = text.index("## Prometheus and Grafana")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_the_guide_lists_every_family_and_no_other(scrape, migration):
    text = scrape()
    families = {family.name for family in text_string_to_metric_families(text)}
    listed = set(re.findall(r"^\| `(golive_[a-z0-9_]+)` \|", _section(), flags=re.MULTILINE))
    assert families and listed == families


def test_the_guides_scrape_config_is_the_shape_the_tests_scrape_with(tmp_path):
    block = re.search(r"```yaml\n(.*?)```", _section(), flags=re.DOTALL).group(1)
    [job] = yaml.safe_load(block)["scrape_configs"]
    tested = scrape_config("http://127.0.0.1:8000", credentials_file=tmp_path / "token")["scrape_configs"][0]
    assert set(job) == set(tested)
    assert job["metrics_path"] == "/metrics" and job["authorization"]["type"] == "Bearer"
    assert set(job["authorization"]) == set(tested["authorization"])
