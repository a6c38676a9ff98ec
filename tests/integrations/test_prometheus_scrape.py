"""A real Prometheus scrapes golive's /metrics (live_server) with a metrics token every second:
the traffic percent it stores follows a traffic change, and a wrong token shows on its targets."""

import pytest

from migrations_app.audit import Actor
from migrations_app.rollout import services as rollout_services
from tests.factories import put_live
from tests.integrations.helpers import record_probe_runs
from tests.integrations.prometheus import prometheus, scrape_config
from tests.integrations.test_docs import expressions
from tests.processes import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
SYSTEM = Actor.system("tests")


def test_prometheus_stores_the_traffic_percent_and_follows_a_change(
    live_server, tmp_path, migration, metrics_token
):
    put_live(migration, 25)
    credentials = tmp_path / "golive-token"
    credentials.write_text(metrics_token + "\n")  # as a secrets mount writes it
    with prometheus(tmp_path, scrape_config(live_server.url, credentials_file=credentials)) as server:
        server.wait_for("golive_traffic_percent", 25.0, label=migration.slug)
        [target] = server.targets()
        assert target["health"] == "up" and target["labels"]["job"] == "golive"

        rollout_services.set_traffic(migration, to=50, by=SYSTEM, reason="prometheus test", override=True)
        server.wait_for("golive_traffic_percent", 50.0, label=migration.slug)
        status = server.values('golive_migration_status{status="rolling_out"}')
        assert status[migration.slug] == 1.0
        assert server.values("golive_guardrail_state") == {}  # no guardrail: no series, not a zero


def test_a_token_without_the_metrics_scope_shows_as_a_failing_target(
    live_server, tmp_path, migration, ops, make_token
):
    credentials = tmp_path / "golive-token"
    credentials.write_text(make_token(ops, "flags"))

    def refused():
        targets = server.targets()
        return targets and targets[0]["health"] == "down" and "403" in targets[0]["lastError"]

    with prometheus(tmp_path, scrape_config(live_server.url, credentials_file=credentials)) as server:
        wait_until(refused, timeout=30, interval=0.25, message="the target to fail with 403")
        assert server.values("golive_traffic_percent") == {}
        assert server.values("up") == {"": 0.0}


def test_every_dashboard_query_runs_in_prometheus_and_the_p95_has_data(
    live_server, tmp_path, migration, metrics_token
):
    put_live(migration, 25)
    record_probe_runs(migration)
    credentials = tmp_path / "golive-token"
    credentials.write_text(metrics_token)
    with prometheus(tmp_path, scrape_config(live_server.url, credentials_file=credentials)) as server:
        server.wait_for("golive_traffic_percent", 25.0, label=migration.slug)
        for expr in expressions():
            if expr.startswith("label_values("):
                metric = expr.removeprefix("label_values(").split(",")[0]
                assert server.query(f"count({metric})"), expr
                continue
            server.query(expr.replace("$migration", ".+"))  # Prometheus refuses what it cannot parse
        p95 = server.query(
            "histogram_quantile(0.95, sum by (migration, probe, le) (golive_probe_latency_seconds_bucket))"
        )
        assert [row["metric"]["probe"] for row in p95] == ["Provider health"]
        assert 1.0 <= float(p95[0]["value"][1]) <= 2.5  # the slowest of three results was 1.2 s
