"""What GET /metrics says: parsed with prometheus-client's own parser, after real changes."""

import datetime as dt
import json
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.core import CollectorRegistry
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families

from migrations_app.audit import Actor
from migrations_app.models import MigrationStatus, WorkerHeartbeat
from migrations_app.monitoring import metrics_export
from migrations_app.monitoring import services as monitoring_services
from migrations_app.monitoring.models import Guardrail, GuardrailState
from migrations_app.monitoring.probing.kinds import Outcome as RunOutcome
from migrations_app.rollout import exposure, outbox, tokens
from migrations_app.rollout import services as rollout_services
from migrations_app.rollout.models import Exposure, OutboxMessage, OutboxStatus
from tests.factories import make_migration, put_live
from tests.integrations.helpers import probe_with_guardrail, record_probe_runs, samples, value

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def test_traffic_status_and_flags_follow_a_traffic_change_and_a_rollback(scrape, migration):
    put_live(migration, 25)
    text = scrape()
    slug = migration.slug
    assert value(text, "golive_traffic_percent", migration=slug) == 25
    assert value(text, "golive_migration_status", migration=slug, status="rolling_out") == 1
    assert value(text, "golive_migration_status", migration=slug, status="paused") == 0
    assert value(text, "golive_migration_rolled_back", migration=slug) == 0

    rollout_services.set_traffic(migration, to=50, by=SYSTEM, reason="metrics test", override=True)
    assert value(scrape(), "golive_traffic_percent", migration=slug) == 50

    rollout_services.pause_rollout(migration, by=SYSTEM, reason="looking at p95")
    text = scrape()
    assert value(text, "golive_migration_paused", migration=slug) == 1
    assert value(text, "golive_traffic_percent", migration=slug) == 50  # paused keeps its level

    rollout_services.roll_back(migration, by=SYSTEM, reason="declines")
    text = scrape()
    assert value(text, "golive_traffic_percent", migration=slug) == 0
    assert value(text, "golive_migration_rolled_back", migration=slug) == 1
    assert value(text, "golive_migration_status", migration=slug, status="rolled_back") == 1
    statuses = [labels for (name, labels), v in samples(text).items() if name == "golive_migration_status"]
    assert len(statuses) == len(MigrationStatus.values)  # one series per status, as kube-state-metrics


def test_every_family_has_help_and_the_golive_prefix(scrape, migration):
    text = scrape()
    names = [line.split()[2] for line in text.splitlines() if line.startswith("# HELP")]
    assert names and all(name.startswith("golive_") for name in names)
    assert all(len(line.split(None, 3)[3]) > 20 for line in text.splitlines() if line.startswith("# HELP"))
    assert "python_gc" not in text and "process_" not in text  # its own registry, not the default one


def test_probe_results_give_success_ratio_counts_and_a_latency_histogram(scrape, migration):
    record_probe_runs(migration)
    text = scrape()
    names = {"migration": migration.slug, "probe": "Provider health"}
    assert value(text, "golive_probe_success_ratio", **names) == pytest.approx(2 / 3)
    for outcome, count in (("pass", 2), ("fail", 1), ("error", 1)):
        assert value(text, "golive_probe_results", **names, outcome=outcome) == count
    # The error (a timeout) is left out of the latency, as the KPIs leave it out.
    assert value(text, "golive_probe_latency_seconds_count", **names) == 3
    assert value(text, "golive_probe_latency_seconds_sum", **names) == pytest.approx(1.54)
    assert value(text, "golive_probe_latency_seconds_bucket", **names, le="0.05") == 1
    assert value(text, "golive_probe_latency_seconds_bucket", **names, le="0.5") == 2
    assert value(text, "golive_probe_latency_seconds_bucket", **names, le="1.0") == 2
    assert value(text, "golive_probe_latency_seconds_bucket", **names, le="2.5") == 3
    assert value(text, "golive_probe_latency_seconds_bucket", **names, le="+Inf") == 3

    guardrail = Guardrail.objects.get()
    assert guardrail.state == GuardrailState.BREACHED and guardrail.fired
    labels = {"migration": migration.slug, "guardrail": "Health above 99 %", "action": "alert"}
    state = [(dict(key), v) for (name, key), v in samples(text).items() if name == "golive_guardrail_state"]
    assert state == [({**labels, "kind": "threshold", "verdict": guardrail.last_verdict or "none"}, 2)]
    assert value(text, "golive_guardrail_fired", **labels) == 1
    assert value(text, "golive_guardrail_enabled", **labels) == 1


def test_results_older_than_the_window_leave_the_probe_families(scrape, migration):
    probe = probe_with_guardrail(migration)
    long_ago = timezone.now() - metrics_export.PROBE_WINDOW - dt.timedelta(minutes=1)
    monitoring_services.record_probe_results(
        [(probe, long_ago, RunOutcome("pass", "200 OK", latency_ms=20))], now=long_ago
    )
    text = scrape()
    assert (
        value(text, "golive_probe_success_ratio", migration=migration.slug, probe="Provider health") is None
    )
    assert "golive_probe_latency_seconds_bucket{" not in text


def test_flag_answers_per_path_come_from_the_last_complete_minute(client, migration, ops, make_token):
    put_live(migration, 50)
    flags = make_token(ops, "flags", "checkout")
    while time.time() % 60 > 55:  # all 40 answers in one minute, not split across two
        time.sleep(0.2)
    for user in range(40):
        body = json.dumps({"context": {"targetingKey": f"user-{user}"}})
        answer = client.post(
            f"/ofrep/v1/evaluate/flags/{migration.slug}",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {flags}",
        )
        assert answer.status_code == 200
    exposure.flush()  # what each web process's flusher thread does every few seconds
    # A scrape a minute later reads the minute those answers were served in.
    later = CollectorRegistry(auto_describe=False)
    served_in = Exposure.objects.get(migration=migration, source="ofrep", variant="new").minute
    scraped_at = served_in + dt.timedelta(seconds=75)
    later.register(metrics_export.GoliveCollector(clock=lambda: scraped_at))
    text = metrics_export.exposition("", source=later)[0].decode()
    new = value(text, "golive_flag_answers_per_minute", migration=migration.slug, path="new", source="ofrep")
    old = value(text, "golive_flag_answers_per_minute", migration=migration.slug, path="old", source="ofrep")
    assert new + old == 40 and 0 < new < 40  # about half of the users at 50 %
    assert value(text, "golive_flag_users_per_minute", migration=migration.slug, path="new") == new


def test_the_outbox_backlog_and_failed_deliveries(scrape, migration):
    for n in range(3):
        outbox.enqueue_email(to=["oncall@example.com"], subject=f"n{n}", body="", migration=migration)
    webhook = outbox.enqueue_webhook(
        url="https://deploy.example.com/hook",
        secret="",
        event_type="rollback",
        payload={},
        migration=migration,
    )
    OutboxMessage.objects.filter(pk=webhook.pk).update(status=OutboxStatus.FAILED)
    OutboxMessage.objects.filter(kind="email").update(created_at=timezone.now() - dt.timedelta(minutes=7))
    text = scrape()
    assert value(text, "golive_outbox_messages", kind="email", status="pending") == 3
    assert value(text, "golive_outbox_messages", kind="webhook", status="failed") == 1
    assert value(text, "golive_outbox_messages", kind="webhook", status="pending") == 0
    assert 7 * 60 <= value(text, "golive_outbox_oldest_pending_age_seconds") < 8 * 60


def test_worker_heartbeats_are_timestamps(scrape, db):
    seen = timezone.now() - dt.timedelta(seconds=40)
    WorkerHeartbeat.objects.create(hostname="celery@worker-1", last_seen=seen)
    assert value(
        scrape(), "golive_worker_last_seen_timestamp_seconds", worker="celery@worker-1"
    ) == pytest.approx(seen.timestamp())


def test_a_scrape_costs_the_same_queries_for_two_migrations_or_twenty(scrape, ops):
    def queries() -> int:
        tokens.cache.clear()  # each scrape then reloads the token list: the same queries each time
        with CaptureQueriesContext(connection) as captured:
            scrape()
        return len(captured)

    for _ in range(2):
        put_live(make_migration(owner=ops), 25)
    few = queries()
    for _ in range(18):
        migration = put_live(make_migration(owner=ops), 25)
        probe_with_guardrail(migration)
    assert queries() == few <= 12


def test_prometheus_asking_for_openmetrics_gets_it(scrape, migration):
    put_live(migration, 5)
    text = scrape(HTTP_ACCEPT="application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5")
    assert text.endswith("# EOF\n")
    families = {family.name: family for family in openmetrics_families(text)}
    [sample] = [
        s for s in families["golive_traffic_percent"].samples if s.labels["migration"] == migration.slug
    ]
    assert sample.value == 5
