"""What golive knows, in the Prometheus exposition format (GET /metrics, metrics_views.py).

A custom prometheus-client Collector reads golive's state from the database at scrape time, so
every web process answers the same numbers and nothing is counted in memory. Each group of
families is one query across all migrations, never one per migration; the Celery queue depth is
one Redis pipeline. The collector lives in its own CollectorRegistry: the process-global default
would add this process's Python and GC metrics, which say nothing about golive.

Labels: `migration` is the migration's slug (its flag key); `guardrail` and `probe` are names,
unique within a migration. docs/integrations.md lists every family for people."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator

from django.db.models import Count, Exists, Min, OuterRef, Q, Sum
from django.utils import timezone
from prometheus_client.core import (
    CollectorRegistry,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from migrations_app.models import Migration, MigrationStatus, WorkerHeartbeat
from migrations_app.monitoring import broker_queues
from migrations_app.monitoring.models import Guardrail, GuardrailState, Outcome, ProbeResult
from migrations_app.rollout.exposure import FLUSH_SECONDS
from migrations_app.rollout.models import Exposure, OutboxMessage, OutboxStatus, Rollback
from migrations_app.rollout.selectors import effective_percent

# Probe results are summarised over this recent window (the KPIs' default window).
PROBE_WINDOW = dt.timedelta(minutes=5)
# Upper bounds of the probe latency histogram, in seconds (prometheus-client's defaults, to 10 s).
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
# golive_guardrail_state's value: worse is higher; not enough data to judge is below healthy.
GUARDRAIL_STATE_VALUES = {
    GuardrailState.INSUFFICIENT_DATA: -1,
    GuardrailState.HEALTHY: 0,
    GuardrailState.WARNING: 1,
    GuardrailState.BREACHED: 2,
}
# Outbox rows still to deliver or given up on (delivered rows are history, not a backlog).
OUTBOX_STATUSES = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.FAILED)


class GoliveCollector(Collector):
    """Every golive_* family, read when Prometheus scrapes. `clock` is for tests."""

    def __init__(self, *, clock: Callable[[], dt.datetime] = timezone.now):
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        now = self._clock()
        migration_ids = yield from _migration_families()
        yield from _guardrail_families()
        yield from _probe_families(migration_ids, now=now)
        yield from _exposure_families(migration_ids, now=now)
        yield from _outbox_families(now=now)
        yield from _worker_families()
        yield from broker_queues.families()


registry = CollectorRegistry(auto_describe=False)
registry.register(GoliveCollector())


def exposition(accept: str, *, source: CollectorRegistry = registry) -> tuple[bytes, str]:
    """(body, content type): OpenMetrics when the scraper asks for it (Prometheus does), else the
    classic text format 0.0.4 (curl, older scrapers)."""
    encoder, content_type = choose_encoder(accept)
    return encoder(source), content_type


# --- migrations: traffic, status, rollback, pause ---------------------------------------------


def _migration_families() -> Iterator[Metric]:
    """Yields the families; returns the migrations' ids for the windowed reads that follow."""
    traffic = GaugeMetricFamily(
        "golive_traffic_percent",
        "Share of users the flag APIs send down the new path now, in percent (0 unless rolling out, "
        "monitoring, completed or paused).",
        labels=["migration"],
    )
    status = GaugeMetricFamily(
        "golive_migration_status",
        "The migration's status: 1 for the status it is in, 0 for every other (as kube-state-metrics).",
        labels=["migration", "status"],
    )
    rolled_back = GaugeMetricFamily(
        "golive_migration_rolled_back",
        "1 while a rollback is active (traffic held at 0 % until a person resumes), else 0.",
        labels=["migration"],
    )
    paused = GaugeMetricFamily(
        "golive_migration_paused",
        "1 while the rollout is paused (traffic kept at its level, no advance), else 0.",
        labels=["migration"],
    )
    active_rollback = Rollback.objects.filter(migration=OuterRef("pk"), resumed_at__isnull=True)
    rows = (
        Migration.objects.annotate(rolled_back=Exists(active_rollback))
        .order_by("slug")
        .values_list("pk", "slug", "status", "rollout_plan__percent", "rolled_back")
    )
    ids = []
    for pk, slug, current, percent, is_rolled_back in rows:
        ids.append(pk)
        traffic.add_metric([slug], effective_percent(current, percent))
        for value in MigrationStatus.values:
            status.add_metric([slug, value], 1 if value == current else 0)
        rolled_back.add_metric([slug], 1 if is_rolled_back else 0)
        paused.add_metric([slug], 1 if current == MigrationStatus.PAUSED else 0)
    yield from (traffic, status, rolled_back, paused)
    return ids


# --- guardrails -------------------------------------------------------------------------------


def _guardrail_families() -> Iterator[Metric]:
    labels = ["migration", "guardrail", "action"]
    state = GaugeMetricFamily(
        "golive_guardrail_state",
        "The guardrail's state at its last evaluation: -1 insufficient data, 0 healthy, 1 warning, "
        "2 breached. `verdict` is its last verdict (pass, fail, inconclusive, no_data, none).",
        labels=[*labels, "kind", "verdict"],
    )
    fired = GaugeMetricFamily(
        "golive_guardrail_fired",
        "1 once the guardrail fired its action (alert, pause or rollback), until it is healthy again; else 0.",
        labels=labels,
    )
    enabled = GaugeMetricFamily(
        "golive_guardrail_enabled", "1 if the guardrail is evaluated, 0 if switched off.", labels=labels
    )
    rows = Guardrail.objects.order_by("migration__slug", "name").values_list(
        "migration__slug", "name", "action", "kind", "state", "last_verdict", "fired", "enabled"
    )
    for slug, name, action, kind, current, verdict, has_fired, is_enabled in rows:
        state.add_metric(
            [slug, name, action, kind, verdict or "none"], GUARDRAIL_STATE_VALUES.get(current, -1)
        )
        fired.add_metric([slug, name, action], 1 if has_fired else 0)
        enabled.add_metric([slug, name, action], 1 if is_enabled else 0)
    yield from (state, fired, enabled)


# --- probes over the recent window ------------------------------------------------------------


def _probe_families(migration_ids: list[int], *, now: dt.datetime) -> Iterator[Metric]:
    window = f"the last {int(PROBE_WINDOW.total_seconds() // 60)} minutes"
    labels = ["migration", "probe"]
    results = GaugeMetricFamily(
        "golive_probe_results",
        f"Probe results in {window}, by outcome (pass, fail, error: timeouts and unreachable targets).",
        labels=[*labels, "outcome"],
    )
    success = GaugeMetricFamily(
        "golive_probe_success_ratio",
        f"Passes / (passes + failures) of the probe in {window}, errors left out as in the KPIs; "
        "absent when the probe judged nothing.",
        labels=labels,
    )
    latency = HistogramMetricFamily(
        "golive_probe_latency_seconds",
        f"Latency of the probe's passes and failures in {window} (not a running total: use "
        "histogram_quantile on the buckets directly, without rate()).",
        labels=labels,
    )
    judged = ~Q(outcome=Outcome.ERROR)
    buckets = {
        f"le_{index}": Count("id", filter=judged & Q(latency_ms__lte=bound * 1000))
        for index, bound in enumerate(LATENCY_BUCKETS)
    }
    rows = (
        ProbeResult.objects.filter(
            migration_id__in=migration_ids, checked_at__gt=now - PROBE_WINDOW, checked_at__lte=now
        )
        .values("migration__slug", "probe__name")
        .annotate(
            passed=Count("id", filter=Q(outcome=Outcome.PASS)),
            failed=Count("id", filter=Q(outcome=Outcome.FAIL)),
            errors=Count("id", filter=Q(outcome=Outcome.ERROR)),
            timed=Count("latency_ms", filter=judged),
            latency_total_ms=Sum("latency_ms", filter=judged),
            **buckets,
        )
        .order_by("migration__slug", "probe__name")
    )
    for row in rows:
        names = [row["migration__slug"], row["probe__name"]]
        for outcome, key in ((Outcome.PASS, "passed"), (Outcome.FAIL, "failed"), (Outcome.ERROR, "errors")):
            results.add_metric([*names, outcome], row[key])
        if row["passed"] + row["failed"]:
            success.add_metric(names, row["passed"] / (row["passed"] + row["failed"]))
        if row["timed"]:
            counts = [(_le(bound), row[f"le_{i}"]) for i, bound in enumerate(LATENCY_BUCKETS)]
            latency.add_metric(
                names, [*counts, ("+Inf", row["timed"])], (row["latency_total_ms"] or 0) / 1000
            )
    yield from (results, success, latency)


def _le(bound: float) -> str:
    return repr(float(bound))


# --- flag answers per path, from the exposure counts ------------------------------------------


def last_complete_minute(now: dt.datetime) -> dt.datetime:
    """The latest minute every web process has written: over, and its last counts flushed."""
    settled = now - dt.timedelta(seconds=FLUSH_SECONDS * 2)
    return settled.replace(second=0, microsecond=0) - dt.timedelta(minutes=1)


def _exposure_families(migration_ids: list[int], *, now: dt.datetime) -> Iterator[Metric]:
    answers = GaugeMetricFamily(
        "golive_flag_answers_per_minute",
        "Flag answers served in the last complete minute, by path (new, old) and source (ofrep: "
        "answers golive gave; unleash: evaluations the Unleash SDKs reported).",
        labels=["migration", "path", "source"],
    )
    users = GaugeMetricFamily(
        "golive_flag_users_per_minute",
        "Distinct users (targeting keys) OFREP answered in the last complete minute, by path; "
        "counted per web process, so a user two processes answered counts twice.",
        labels=["migration", "path"],
    )
    rows = (
        Exposure.objects.filter(migration_id__in=migration_ids, minute=last_complete_minute(now))
        .values("migration__slug", "variant", "source")
        .annotate(evaluations=Sum("evaluations"), users=Sum("users"))
        .order_by("migration__slug", "variant", "source")
    )
    for row in rows:
        answers.add_metric([row["migration__slug"], row["variant"], row["source"]], row["evaluations"])
        if row["source"] == "ofrep":
            users.add_metric([row["migration__slug"], row["variant"]], row["users"])
    yield from (answers, users)


# --- outbox and workers -----------------------------------------------------------------------


def _outbox_families(*, now: dt.datetime) -> Iterator[Metric]:
    messages = GaugeMetricFamily(
        "golive_outbox_messages",
        "Notifications and webhooks not delivered, by kind and status: pending (waiting or retrying), "
        "sending (a worker holds it), failed (given up after the last retry).",
        labels=["kind", "status"],
    )
    oldest = GaugeMetricFamily(
        "golive_outbox_oldest_pending_age_seconds",
        "Age of the oldest pending outbox message (0 when none waits): a growing value means "
        "deliveries are stuck (workers down, broker down, receiver failing).",
    )
    rows = (
        OutboxMessage.objects.filter(status__in=OUTBOX_STATUSES)
        .values("kind", "status")
        .annotate(count=Count("id"), oldest=Min("created_at"))
    )
    counts = {(row["kind"], row["status"]): row for row in rows}
    for kind in OutboxMessage._meta.get_field("kind").choices or ():
        for status in OUTBOX_STATUSES:
            row = counts.get((kind[0], status))
            messages.add_metric([kind[0], status], row["count"] if row else 0)
    pending = [row["oldest"] for (_, status), row in counts.items() if status == OutboxStatus.PENDING]
    oldest.add_metric([], max(0.0, (now - min(pending)).total_seconds()) if pending else 0)
    yield from (messages, oldest)


def _worker_families() -> Iterable[Metric]:
    seen = GaugeMetricFamily(
        "golive_worker_last_seen_timestamp_seconds",
        "When each Celery worker last ran its heartbeat task (Unix time); time() minus it is its silence.",
        labels=["worker"],
    )
    for hostname, last_seen in WorkerHeartbeat.objects.order_by("hostname").values_list(
        "hostname", "last_seen"
    ):
        seen.add_metric([hostname], last_seen.timestamp())
    return [seen]
