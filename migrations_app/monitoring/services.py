"""Every write of the monitoring app: probes, results, samples, guardrail evaluations, alerts."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.monitoring import batches, canary, kpis, pausing, tasks
from migrations_app.monitoring import guardrails as rules
from migrations_app.monitoring.cohorts import assign_cohorts
from migrations_app.monitoring.models import (
    Aggregation,
    Alert,
    Direction,
    Guardrail,
    GuardrailAction,
    GuardrailKind,
    Kpi,
    Outcome,
    Probe,
    ProbeField,
    ProbeResult,
    Rollup,
    Sample,
)
from migrations_app.monitoring.probing.kinds import Outcome as RunOutcome
from migrations_app.rollout import outbox
from migrations_app.rollout import services as rollout
from migrations_app.rollout.selectors import current_percent, flag_snapshot
from migrations_app.rollout.services import on_call_addresses

log = logging.getLogger(__name__)

PROBE_FIELDS = [
    "name",
    "kind",
    "url",
    "method",
    "headers",
    "expected_statuses",
    "expected_json",
    "json_path",
    "query",
    "secret_env",
    "webhook_scheme",
    "min_days_valid",
    "interval_seconds",
    "timeout_seconds",
    "enabled",
    "checklist_item_id",
    "passes_to_tick",
    "errors_to_page",
    "path",
]


def traffic_percent(migration: Migration) -> int:

    return current_percent(migration)


# --- probe configuration ------------------------------------------------------------------------


@transaction.atomic
def create_probe(migration: Migration, *, by: Actor, **fields) -> Probe:
    probe = Probe(migration=migration, **fields)
    probe.full_clean()
    probe.next_due_at = timezone.now()
    probe.save()
    audit.record(by, "probe.created", probe, migration=migration, after=audit.snapshot(probe, PROBE_FIELDS))
    return probe


@transaction.atomic
def update_probe(probe: Probe, *, by: Actor, **fields) -> Probe:
    probe = Probe.objects.select_for_update().get(pk=probe.pk)
    before = audit.snapshot(probe, PROBE_FIELDS)
    for name, value in fields.items():
        if name not in PROBE_FIELDS:
            raise ValueError(f"update_probe cannot change {name}")
        setattr(probe, name, value)
    probe.full_clean()
    old, new = audit.changed(before, audit.snapshot(probe, PROBE_FIELDS))
    if not new:
        return probe
    if probe.enabled and ("interval_seconds" in new or "enabled" in new):
        probe.next_due_at = timezone.now()
    probe.save()
    audit.record(by, "probe.updated", probe, migration=probe.migration, before=old, after=new)
    return probe


# --- scheduling and results ------------------------------------------------------------------------


def dispatch_due_probes(*, now: dt.datetime | None = None, limit: int = 5000) -> list[tuple[int, str]]:
    """Claim every probe whose slot has come and enqueue one run per probe and slot.

    The slot time (`due_at`) names the run, so a redelivered or doubly dispatched task stores
    nothing new (results are unique per probe and slot). A dispatcher that fell behind skips
    the missed slots instead of sending a burst."""

    now = now or timezone.now()
    with transaction.atomic():
        claimed = (
            _claim_due(now, limit) if connection.vendor == "postgresql" else _claim_due_portable(now, limit)
        )
        runs = [(probe_id, due_at.isoformat()) for probe_id, due_at in sorted(claimed, key=_by_slot)]
        transaction.on_commit(lambda: tasks.enqueue_runs(runs))
    return runs


def _claim_due(now: dt.datetime, limit: int) -> list[tuple[int, dt.datetime]]:
    # One statement: a 3,000-probe bulk_update took 2-3 s of beat's time per dispatch.
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_DUE, [now, limit, now])
        return cursor.fetchall()


def _claim_due_portable(now: dt.datetime, limit: int) -> list[tuple[int, dt.datetime]]:
    """_CLAIM_DUE through the ORM, for the SQLite database `make run` uses (one beat, no rival)."""
    due = list(
        Probe.objects.filter(enabled=True, next_due_at__lte=now)
        .order_by("next_due_at")
        .only("id", "next_due_at", "interval_seconds")[:limit]
    )
    claimed = []
    for probe in due:
        claimed.append((probe.pk, probe.next_due_at))
        skipped = math.floor((now - probe.next_due_at).total_seconds() / probe.interval_seconds) + 1
        probe.next_due_at += dt.timedelta(seconds=skipped * probe.interval_seconds)
    Probe.objects.bulk_update(due, ["next_due_at"])
    return claimed


# Claim the due probes (skipping rows another dispatcher holds) and move each to its next slot
# after `now`: a probe 10.5 intervals behind skips 10 slots instead of sending a burst.
_CLAIM_DUE = """
WITH due AS (
    SELECT id, next_due_at FROM monitoring_probe
     WHERE enabled AND next_due_at <= %s
     ORDER BY next_due_at LIMIT %s FOR UPDATE SKIP LOCKED
)
UPDATE monitoring_probe AS p
   SET next_due_at = due.next_due_at + make_interval(
       secs => p.interval_seconds * (floor(extract(epoch FROM (%s - due.next_due_at)) / p.interval_seconds) + 1))
  FROM due
 WHERE p.id = due.id
RETURNING p.id, due.next_due_at
"""


def _by_slot(row):
    return row[1], row[0]


def record_probe_result(
    probe: Probe, *, due_at: dt.datetime, outcome: RunOutcome, now=None
) -> ProbeResult | None:
    """Store one run. Returns None (and changes nothing) when this slot already has a result."""
    return record_probe_results([(probe, due_at, outcome)], now=now)[0]


def record_probe_results(
    runs: list[tuple[Probe, dt.datetime, RunOutcome]], *, now=None
) -> list[ProbeResult | None]:
    """Store a chunk of runs; an entry is None (and nothing changes for it) when its slot already
    has a result. A chunk costs one statement however many runs it holds (one per round when a
    probe has several slots in it: they count in slot order).

    1. Insert the results; the unique (probe, due_at) makes a redelivered run a no-op
       (ON CONFLICT DO NOTHING), and in the same statement, so atomically, lock the probes that
       got a result (in id order, so two chunks never deadlock) and update their streaks and
       last result.
    2. Then: tick a linked checklist item after enough passes in a row, page the on-call after
       enough errors in a row, and evaluate (once each) the guardrails that watch these probes."""
    now = now or timezone.now()
    percents: dict[int, int] = {}
    results = []
    for probe, due_at, outcome in runs:
        if probe.migration_id not in percents:
            percents[probe.migration_id] = tagging_percent(probe.migration)
        results.append(_probe_result(probe, due_at, outcome, now, percents[probe.migration_id]))
    streaks = {}
    store = _store_round if connection.vendor == "postgresql" else _store_round_portable
    for round_ in _rounds(list(zip(results, [outcome.summary for _, _, outcome in runs], strict=True))):
        streaks.update(store(round_, now=now))
    watched = set()
    for result, (probe, _, outcome) in zip(results, runs, strict=True):
        if result.pk is None:
            continue
        passes, errors, guarded = streaks[result.pk]
        _after_result(probe, result, outcome, passes=passes, errors=errors)
        if guarded and result.outcome != Outcome.ERROR:
            watched.add(probe.pk)
    if watched:
        for guardrail in Guardrail.objects.filter(kpi__probe__in=watched, enabled=True).only("pk"):
            evaluate_guardrail(guardrail, now=now)
    return [result if result.pk else None for result in results]


def _probe_result(probe: Probe, due_at, outcome: RunOutcome, now, percent: int) -> ProbeResult:
    return ProbeResult(
        probe_id=probe.pk,  # not probe=: the relation's setter costs more than the rest of the row
        migration_id=probe.migration_id,
        due_at=due_at,
        checked_at=now,
        outcome=outcome.outcome,
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        value=outcome.value,
        error=outcome.error[:500],
        detail=outcome.detail or {},
        traffic_percent=percent,
        cohort=probe.path,
    )


def _after_result(
    probe: Probe, result: ProbeResult, outcome: RunOutcome, *, passes: int, errors: int
) -> None:
    if result.outcome == Outcome.PASS and probe.checklist_item_id and passes == probe.passes_to_tick:
        tick_checklist_item(probe, result)
    if result.outcome == Outcome.ERROR and errors == probe.errors_to_page:
        send_alert(
            probe.migration,
            key=f"probe:{probe.pk}:errors",
            level="page",
            message=f"Probe “{probe.name}” failed to run {probe.errors_to_page} times in a row: {outcome.summary}",
        )


def tagging_percent(migration: Migration) -> int:
    """The traffic level to tag data with, from the rollout app's in-process flag snapshot
    (no query per result; a change reaches it within a second)."""

    state = flag_snapshot().get(migration.slug)
    return state.percent if state else 0


# ProbeResult's columns with their SQL types: a field added to the model without a database
# default fails every insert at once (tests/monitoring), so it cannot be forgotten here.
_RESULT_COLUMNS = {
    "probe_id": "bigint",
    "migration_id": "bigint",
    "due_at": "timestamptz",
    "checked_at": "timestamptz",
    "outcome": "varchar",
    "status_code": "smallint",
    "latency_ms": "float8",
    "value": "float8",
    "error": "varchar",
    "detail": "jsonb",
    "traffic_percent": "smallint",
    "cohort": "varchar",
}
_COLUMNS = ", ".join(_RESULT_COLUMNS)
_STORE_ROUND = f"""
WITH runs AS (
    SELECT * FROM json_to_recordset(%s::json)
        AS r({", ".join(f"{column} {kind}" for column, kind in _RESULT_COLUMNS.items())}, summary text)
), inserted AS (
    INSERT INTO monitoring_proberesult ({_COLUMNS}) SELECT {_COLUMNS} FROM runs
    ON CONFLICT (probe_id, due_at) DO NOTHING
    RETURNING id, probe_id, due_at, outcome
), locked AS (
    SELECT id FROM monitoring_probe WHERE id IN (SELECT probe_id FROM inserted) ORDER BY id FOR UPDATE
), streaks AS (
    -- An error neither passes nor fails: it breaks a run of passes, and a pass or fail breaks a run of errors.
    UPDATE monitoring_probe AS p
       SET consecutive_passes = CASE WHEN i.outcome = 'pass' THEN p.consecutive_passes + 1 ELSE 0 END,
           consecutive_errors = CASE WHEN i.outcome = 'error' THEN p.consecutive_errors + 1 ELSE 0 END,
           last_outcome = i.outcome, last_checked_at = %s, last_summary = left(r.summary, 300)
      FROM locked AS l JOIN inserted AS i ON i.probe_id = l.id JOIN runs AS r ON r.probe_id = l.id
     WHERE p.id = l.id
 RETURNING p.id, p.consecutive_passes, p.consecutive_errors
)
SELECT i.id, i.probe_id, i.due_at, s.consecutive_passes, s.consecutive_errors,
       EXISTS (SELECT 1 FROM monitoring_guardrail AS g JOIN monitoring_kpi AS k ON k.id = g.kpi_id
                WHERE k.probe_id = i.probe_id AND g.enabled) AS guarded
  FROM inserted AS i LEFT JOIN streaks AS s ON s.id = i.probe_id
"""


def _store_round(
    round_: list[tuple[ProbeResult, str]], *, now: dt.datetime
) -> dict[int, tuple[int, int, bool]]:
    """Insert a round (each probe at most once) and update its probes' streaks in one statement.

    Sets the pk of each inserted result; returns, by pk, the passes and errors in a row after it
    and whether an enabled guardrail watches its probe (so most chunks need no guardrail query)."""
    # The rows travel as one JSON document: json.dumps is C code, where adapting a dozen arrays
    # item by item cost more than the statement itself.
    document = json.dumps([_json_row(result, summary) for result, summary in round_])
    document = _JSON_NUL.sub(r"\1", document)  # PostgreSQL text cannot hold NUL; a target can send one
    with connection.cursor() as cursor:
        cursor.execute(_STORE_ROUND, [document, now])
        rows = cursor.fetchall()
    inserted = {(probe_id, due_at): (pk, *rest) for pk, probe_id, due_at, *rest in rows}
    streaks = {}
    for result, _ in round_:
        pk, passes, errors, guarded = inserted.get((result.probe_id, result.due_at), (None, 0, 0, False))
        result.pk = pk
        if pk is not None:
            streaks[pk] = (passes or 0, errors or 0, guarded)
    return streaks


def _store_round_portable(
    round_: list[tuple[ProbeResult, str]], *, now: dt.datetime
) -> dict[int, tuple[int, int, bool]]:
    """_store_round row by row, for the SQLite database `make run` uses (a demo's few probes)."""
    streaks = {}
    for result, summary in round_:
        with transaction.atomic():
            if ProbeResult.objects.filter(probe_id=result.probe_id, due_at=result.due_at).exists():
                continue  # a redelivered run: this slot has its result
            result.save(force_insert=True)
            probe = Probe.objects.select_for_update().get(pk=result.probe_id)
            passed, errored = result.outcome == Outcome.PASS, result.outcome == Outcome.ERROR
            probe.consecutive_passes = probe.consecutive_passes + 1 if passed else 0
            probe.consecutive_errors = probe.consecutive_errors + 1 if errored else 0
            probe.last_outcome, probe.last_checked_at, probe.last_summary = result.outcome, now, summary[:300]
            probe.save(
                update_fields=[
                    "consecutive_passes",
                    "consecutive_errors",
                    "last_outcome",
                    "last_checked_at",
                    "last_summary",
                ]
            )
        guarded = Guardrail.objects.filter(kpi__probe_id=probe.pk, enabled=True).exists()
        streaks[result.pk] = (probe.consecutive_passes, probe.consecutive_errors, guarded)
    return streaks


# A \u0000 escape in JSON text: one preceded by an even number of backslashes (an odd number
# means the backslash itself is escaped and the rest is plain text).
_JSON_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _json_row(result: ProbeResult, summary: str) -> dict:
    row = {column: getattr(result, column) for column in _RESULT_COLUMNS}
    row["due_at"], row["checked_at"] = result.due_at.isoformat(), result.checked_at.isoformat()
    row["summary"] = summary
    return row


def _rounds(stored: list[tuple[ProbeResult, str]]) -> list[list[tuple[ProbeResult, str]]]:
    """Split into rounds holding each probe at most once, earlier slots first (a round holding
    one slot twice would insert it once and count it twice)."""
    rounds: list[list] = []
    seen: dict[int, int] = {}
    for item in sorted(stored, key=lambda item: item[0].due_at):
        index = seen.get(item[0].probe_id, 0)
        seen[item[0].probe_id] = index + 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(item)
    return rounds


def tick_checklist_item(probe: Probe, result: ProbeResult) -> None:
    try:
        from checklists.models import ChecklistItem
        from checklists.services import record_automated_check
    except ImportError:  # the checklist app is optional for monitoring
        return
    item = ChecklistItem.objects.filter(pk=probe.checklist_item_id, migration_id=probe.migration_id).first()
    if item is None or item.state == "done":
        return
    evidence = (
        f"Probe “{probe.name}” ({probe.get_kind_display()}) passed {probe.passes_to_tick} times in a row; "
        f"last at {result.checked_at:%Y-%m-%d %H:%M:%S %Z}: {probe.last_summary or result.outcome}"
    )
    record_automated_check(item, passed=True, evidence=evidence, by=Actor.system(f"probe: {probe.name}"))


# --- pushed samples --------------------------------------------------------------------------------


def ingest_samples(migration: Migration, *, items: list[dict], idempotency_key: str = "") -> int:
    """Store already validated samples (see api.validate_batch) and evaluate the guardrails on them.

    Returns how many the batch stored; a retry under the same idempotency key stores nothing and
    returns the first answer. The evaluation is published after commit (batches.py)."""
    percent = tagging_percent(migration)
    now = timezone.now()
    cohorts = assign_cohorts(migration, items, now=now)
    rows = [
        (
            migration.pk,
            item["metric"],
            item.get("at") or now,
            item.get("value"),
            item.get("ok"),
            item.get("failed"),
            percent,
            cohort,
        )
        for item, cohort in zip(items, cohorts, strict=True)
    ]
    metrics = sorted({row[1] for row in rows})
    with transaction.atomic():
        batch, new = batches.claim(migration, key=idempotency_key, stored=len(rows), metrics=metrics)
        if new:
            _insert_samples(rows)
    return batch.stored


_SAMPLE_COLUMNS = ("migration_id", "metric", "at", "value", "ok", "failed", "traffic_percent", "cohort")


def _insert_samples(rows: list[tuple]) -> None:
    """Insert already validated rows (in _SAMPLE_COLUMNS order) inside the caller's transaction.

    On PostgreSQL by COPY: bulk_create spent most of a 500-row batch preparing each field of each
    row in Python, and was what held ingestion below its target (docs/benchmarks.md, item 6)."""
    if connection.vendor != "postgresql":
        Sample.objects.bulk_create(
            [Sample(**dict(zip(_SAMPLE_COLUMNS, row, strict=True))) for row in rows], batch_size=1000
        )
        return
    sql = f"COPY {Sample._meta.db_table} ({', '.join(_SAMPLE_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


# --- guardrails -------------------------------------------------------------------------------------

# Web and worker hosts' clocks may differ a little: an evaluation counts as having seen a batch
# only when it started at least this long after the batch was committed.
CLOCK_SLACK = dt.timedelta(milliseconds=500)


def evaluate_pushed_guardrails(
    *, migration_id: int, metrics: list[str], pushed_at: dt.datetime | None
) -> int:
    """Evaluate the guardrails on metrics a batch just brought; returns how many were evaluated.

    Under a burst of pushes the evaluations queue up behind each other. A guardrail evaluated after
    the batch was committed has already seen its samples, so that batch does not evaluate it again:
    one cheap query instead of an aggregate over the window, and the worker keeps up."""
    guardrails = Guardrail.objects.filter(migration_id=migration_id, kpi__metric__in=metrics, enabled=True)
    guardrails = guardrails.exclude(kind=GuardrailKind.NO_DATA)
    seen_after = None if pushed_at is None else pushed_at + CLOCK_SLACK
    if seen_after is not None:
        guardrails = guardrails.exclude(last_evaluated_at__gte=seen_after)
    evaluated = 0
    for guardrail in guardrails:
        _, actions = evaluate_guardrail(guardrail, unless_evaluated_since=seen_after)
        evaluated += actions is not None
    return evaluated


def _observe(guardrail: Guardrail, now: dt.datetime) -> tuple[str, float | None, str]:
    """(level, value, message) for one evaluation of one guardrail."""
    kpi = guardrail.kpi
    if guardrail.kind == GuardrailKind.NO_DATA:
        last = kpis.last_data_at(kpi)
        silence = None if last is None else (now - last).total_seconds()
        watching = traffic_percent(guardrail.migration) > 0
        level = rules.no_data_level(silence, guardrail.no_data_seconds, watching=watching)
        if not watching:
            return level, silence, "Not watching: no traffic on the new path."
        shown = "never" if last is None else f"{silence:.0f} s ago"
        return level, silence, f"Last data {shown}; limit {guardrail.no_data_seconds} s."
    reading = kpis.measure(kpi, now=now)
    if guardrail.kind == GuardrailKind.BASELINE:
        if guardrail.baseline_value is None and traffic_percent(guardrail.migration) > 0:
            guardrail.baseline_value = measure_baseline(kpi, now=now)
        if reading.samples < max(guardrail.min_samples, 1):
            return (
                rules.NO_SAMPLES,
                reading.value,
                f"{reading.samples} samples in the window; need {guardrail.min_samples}.",
            )
        level = rules.baseline_level(
            reading.value,
            guardrail.baseline_value,
            guardrail.degradation_percent,
            higher_is_better=kpi.direction == Direction.HIGHER_IS_BETTER,
        )
        base = (
            "not measured"
            if guardrail.baseline_value is None
            else kpis.format_value(kpi, guardrail.baseline_value)
        )
        return level, reading.value, f"{kpis.format_value(kpi, reading.value)} against baseline {base}."
    level = rules.threshold_level(kpis.level_of(kpi, reading.value), reading.samples, guardrail.min_samples)
    if level == rules.NO_SAMPLES:
        return level, reading.value, f"{reading.samples} samples in the window; need {guardrail.min_samples}."
    return level, reading.value, f"{kpis.format_value(kpi, reading.value)} (critical {kpi.threshold_label})."


def measure_baseline(
    kpi: Kpi, *, now: dt.datetime, window: dt.timedelta = dt.timedelta(hours=1)
) -> float | None:
    """The KPI over data taken at 0 % traffic (before the rollout started) in the last hour."""
    return kpis.measure(kpi, now=now, window=window, traffic_percent=0).value


def evaluate_guardrail(
    guardrail: Guardrail, *, now: dt.datetime | None = None, unless_evaluated_since: dt.datetime | None = None
) -> tuple[str, tuple[str, ...] | None]:
    """One evaluation: observe, step the state machine, store, then act (alert or roll back).

    With `unless_evaluated_since`, a guardrail another worker evaluated since then is left as it
    is (actions None): that evaluation already saw the data this one was asked for."""
    now = now or timezone.now()
    with transaction.atomic():
        guardrail = (
            Guardrail.objects.select_for_update(of=("self",))
            .select_related("kpi__probe", "migration")
            .get(pk=guardrail.pk)
        )
        last = guardrail.last_evaluated_at
        if unless_evaluated_since is not None and last is not None and last >= unless_evaluated_since:
            return guardrail.state, None
        comparison = canary.compare(guardrail, now=now) if guardrail.kind == GuardrailKind.COMPARE else None
        if comparison is not None:
            level, value, message = canary.level_of(comparison), comparison.difference, comparison.message
        else:
            level, value, message = _observe(guardrail, now)
        before = rules.Memory(guardrail.state, guardrail.breach_streak, guardrail.fired)
        after, actions = rules.step(
            before,
            level,
            rules.Rules(
                consecutive=guardrail.consecutive,
                roll_back=guardrail.action == GuardrailAction.ROLLBACK,
                pause=guardrail.action == GuardrailAction.PAUSE,
            ),
        )
        if comparison is not None:
            message = canary.with_streak(
                comparison, streak=after.breach_streak, consecutive=guardrail.consecutive
            )
            canary.record_verdict(guardrail, comparison, now=now, message=message)
        guardrail.last_verdict = comparison.verdict if comparison else canary.verdict_of_level(level)
        guardrail.state, guardrail.breach_streak, guardrail.fired = (
            after.state,
            after.breach_streak,
            after.fired,
        )
        guardrail.last_value, guardrail.last_evaluated_at, guardrail.last_message = value, now, message[:300]
        guardrail.save(
            update_fields=[
                "state",
                "breach_streak",
                "fired",
                "last_value",
                "last_evaluated_at",
                "last_message",
                "last_verdict",
                "baseline_value",
            ]
        )
        if after.state != before.state:
            audit.record(
                Actor.system(f"guardrail: {guardrail.name}"),
                "guardrail.state_changed",
                guardrail,
                migration=guardrail.migration,
                before={"state": before.state},
                after={"state": after.state},
                reason=message,
            )
        for action in actions:
            _act(guardrail, action, message, now)
    return after.state, actions


def _act(guardrail: Guardrail, action: str, message: str, now: dt.datetime) -> None:
    migration = guardrail.migration
    if action == rules.ALERT_WARNING:
        send_alert(
            migration,
            key=f"guardrail:{guardrail.pk}:warning",
            level="warning",
            message=f"Guardrail “{guardrail.name}” warning: {message}",
        )
    elif action == rules.ALERT_BREACH:
        send_alert(
            migration,
            key=f"guardrail:{guardrail.pk}:breach",
            level="critical",
            message=f"Guardrail “{guardrail.name}” breached (alert only): {message}",
        )
    elif action == rules.ROLL_BACK:
        fire_rollback(guardrail, message, now)
    elif action == rules.PAUSE:
        send_alert(
            migration,
            key=f"guardrail:{guardrail.pk}:breach",
            level="critical",
            message=pausing.fire_pause(guardrail, message),
        )


def fire_rollback(guardrail: Guardrail, message: str, now: dt.datetime) -> None:
    """The same rollback as the button, with the guardrail as the actor and the samples as evidence."""

    migration = Migration.objects.get(pk=guardrail.migration_id)
    if traffic_percent(migration) == 0 or rollout.rollback_blocker(migration):
        send_alert(
            migration,
            key=f"guardrail:{guardrail.pk}:breach",
            level="critical",
            message=f"Guardrail “{guardrail.name}” breached, nothing to roll back: {message}",
        )
        return
    try:
        rollout.roll_back(
            migration,
            by=Actor.system(f"guardrail: {guardrail.name}"),
            reason=f"Guardrail “{guardrail.name}” breached {guardrail.consecutive} evaluations in a row: {message}",
            evidence=breach_evidence(guardrail, now),
        )
    except ValidationError as error:  # the status changed meanwhile: tell a person instead
        send_alert(
            migration,
            key=f"guardrail:{guardrail.pk}:breach",
            level="critical",
            message=f"Guardrail “{guardrail.name}” breached but could not roll back ({'; '.join(error.messages)}): {message}",
        )


def breach_evidence(guardrail: Guardrail, now: dt.datetime, *, limit: int = 50) -> dict:
    kpi = guardrail.kpi
    since = now - dt.timedelta(
        seconds=max(
            kpi.window_seconds, guardrail.no_data_seconds if guardrail.kind == GuardrailKind.NO_DATA else 0
        )
    )
    rows = kpis.raw_rows(kpi, since=since, until=now)
    if kpi.probe_id:
        samples = [
            {
                "at": r.checked_at.isoformat(),
                "outcome": r.outcome,
                "status": r.status_code,
                "latency_ms": r.latency_ms and round(r.latency_ms, 1),
                "value": r.value,
                "error": r.error,
                "traffic_percent": r.traffic_percent,
            }
            for r in rows.order_by("-checked_at")[:limit]
        ]
    else:
        samples = [
            {
                "at": s.at.isoformat(),
                "value": s.value,
                "ok": s.ok,
                "failed": s.failed,
                "traffic_percent": s.traffic_percent,
            }
            for s in rows.order_by("-at")[:limit]
        ]
    return {
        "guardrail": guardrail.name,
        "rule": guardrail.get_kind_display(),
        "kpi": kpi.name,
        "source": kpi.source_label,
        "threshold": kpi.threshold_label,
        "value": guardrail.last_value,
        "consecutive": guardrail.consecutive,
        "window_seconds": kpi.window_seconds,
        "breaching_samples": samples,
    }


# --- alerts --------------------------------------------------------------------------------------


def send_alert(migration: Migration, *, key: str, level: str, message: str) -> Alert | None:
    """Notify the on-call by e-mail and the migration's webhooks, at most once per key and period."""

    period = dt.timedelta(seconds=settings.GOLIVE_ALERT_DEDUPE_SECONDS)
    now = timezone.now()
    with transaction.atomic():
        Migration.objects.select_for_update().filter(pk=migration.pk).first()  # serialise racing alerts
        if Alert.objects.filter(migration=migration, key=key, created_at__gte=now - period).exists():
            return None
        alert = Alert.objects.create(migration=migration, key=key, level=level, message=message[:500])
        dedupe = f"alert:{alert.pk}"
        if addresses := on_call_addresses(migration):
            outbox.enqueue_email(
                to=addresses,
                subject=f"[golive] {level.upper()}: {migration.name}",
                body=f"{message}\n\nControl room: /migrations/{migration.slug}/control-room/",
                migration=migration,
                dedupe_key=f"{dedupe}:email",
            )
        for hook in migration.rollback_hooks.filter(active=True):
            outbox.enqueue_webhook(
                url=hook.url,
                secret=hook.secret,
                event_type=f"golive.alert.{level}",
                payload={
                    "type": f"golive.alert.{level}",
                    "data": {"migration": migration.slug, "message": message},
                },
                migration=migration,
                dedupe_key=f"{dedupe}:hook:{hook.pk}",
            )
    return alert


# --- standard KPIs ---------------------------------------------------------------------------------

# (name, probe field or metric, aggregation, direction, warning, critical, unit)
STANDARD_PROBE_KPIS = [
    ("Success rate", ProbeField.SUCCESS, Aggregation.RATE, Direction.HIGHER_IS_BETTER, 99.8, 99.5, "%"),
    ("p95 response time", ProbeField.LATENCY, Aggregation.P95, Direction.LOWER_IS_BETTER, 1500, 2000, "ms"),
    ("Error rate", ProbeField.SUCCESS, Aggregation.ERROR_RATE, Direction.LOWER_IS_BETTER, 0.3, 0.5, "%"),
]
STANDARD_METRIC_KPIS = [
    ("Payment success", "payment_success", Aggregation.RATE, Direction.HIGHER_IS_BETTER, 99.95, 99.9, "%"),
    ("Webhook delivery", "webhook_delivery", Aggregation.RATE, Direction.HIGHER_IS_BETTER, 99.5, 99.0, "%"),
    ("Uptime", "uptime", Aggregation.RATE, Direction.HIGHER_IS_BETTER, 99.95, 99.9, "%"),
]


@transaction.atomic
def add_standard_kpis(
    migration: Migration, *, probe: Probe | None, by: Actor, action: str = GuardrailAction.ROLLBACK
) -> list[Kpi]:
    """The reference plans' KPIs with a guardrail each. Existing KPIs (by name) are kept as they are."""
    created = []
    position = Kpi.objects.filter(migration=migration).count()
    specs = (
        [
            (n, {"probe": probe, "probe_field": f}, a, d, w, c, u)
            for n, f, a, d, w, c, u in STANDARD_PROBE_KPIS
        ]
        if probe
        else []
    )
    specs += [(n, {"metric": m}, a, d, w, c, u) for n, m, a, d, w, c, u in STANDARD_METRIC_KPIS]
    for name, source, aggregation, direction, warning, critical, unit in specs:
        if Kpi.objects.filter(migration=migration, name=name).exists():
            continue
        position += 1
        kpi = Kpi.objects.create(
            migration=migration,
            name=name,
            aggregation=aggregation,
            direction=direction,
            warning=warning,
            critical=critical,
            unit=unit,
            position=position,
            **source,
        )
        Guardrail.objects.create(migration=migration, name=f"{name} guardrail", kpi=kpi, action=action)
        audit.record(
            by,
            "kpi.created",
            kpi,
            migration=migration,
            after={"name": name, "source": kpi.source_label, "threshold": kpi.threshold_label},
        )
        created.append(kpi)
    return created


# --- retention -------------------------------------------------------------------------------------


def roll_up_old_data(*, now: dt.datetime | None = None, older_than: dt.timedelta | None = None) -> int:
    """Fold raw results and samples older than the retention age into per-minute rollups.

    Only whole minutes are folded, and the raw rows are deleted in the same transaction, so a
    rerun finds nothing to fold twice. Returns how many raw rows were folded."""
    now = now or timezone.now()
    cutoff = now - (older_than or dt.timedelta(hours=settings.GOLIVE_RAW_RETENTION_HOURS))
    cutoff = cutoff.replace(second=0, microsecond=0)
    if connection.vendor != "postgresql":
        return _roll_up_python(cutoff)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO monitoring_rollup (migration_id, source, minute, traffic_percent, count, ok, failed,
                                           errors, total, valued, p95, last)
            SELECT migration_id, 'probe:' || probe_id, date_trunc('minute', checked_at), traffic_percent,
                   count(*), count(*) FILTER (WHERE outcome = 'pass'), count(*) FILTER (WHERE outcome = 'fail'),
                   count(*) FILTER (WHERE outcome = 'error'), coalesce(sum(latency_ms), 0), count(latency_ms),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms),
                   (array_agg(coalesce(value, latency_ms) ORDER BY checked_at DESC))[1]
            FROM monitoring_proberesult WHERE checked_at < %s
            GROUP BY 1, 2, 3, 4
            ON CONFLICT (migration_id, source, minute, traffic_percent) DO UPDATE SET
                count = monitoring_rollup.count + EXCLUDED.count, ok = monitoring_rollup.ok + EXCLUDED.ok,
                failed = monitoring_rollup.failed + EXCLUDED.failed, errors = monitoring_rollup.errors + EXCLUDED.errors,
                total = monitoring_rollup.total + EXCLUDED.total, valued = monitoring_rollup.valued + EXCLUDED.valued,
                p95 = greatest(monitoring_rollup.p95, EXCLUDED.p95), last = EXCLUDED.last
            """,
            [cutoff],
        )
        cursor.execute("DELETE FROM monitoring_proberesult WHERE checked_at < %s", [cutoff])
        folded = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO monitoring_rollup (migration_id, source, minute, traffic_percent, count, ok, failed,
                                           errors, total, valued, p95, last)
            SELECT migration_id, metric, date_trunc('minute', at), traffic_percent, count(*),
                   coalesce(sum(ok), 0), coalesce(sum(failed), 0), 0, coalesce(sum(value), 0), count(value),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY value),
                   (array_agg(value ORDER BY at DESC))[1]
            FROM monitoring_sample WHERE at < %s
            GROUP BY 1, 2, 3, 4
            ON CONFLICT (migration_id, source, minute, traffic_percent) DO UPDATE SET
                count = monitoring_rollup.count + EXCLUDED.count, ok = monitoring_rollup.ok + EXCLUDED.ok,
                failed = monitoring_rollup.failed + EXCLUDED.failed,
                total = monitoring_rollup.total + EXCLUDED.total, valued = monitoring_rollup.valued + EXCLUDED.valued,
                p95 = greatest(monitoring_rollup.p95, EXCLUDED.p95), last = EXCLUDED.last
            """,
            [cutoff],
        )
        cursor.execute("DELETE FROM monitoring_sample WHERE at < %s", [cutoff])
        folded += cursor.rowcount
    return folded


def _roll_up_python(cutoff: dt.datetime) -> int:
    """SQLite (the no-setup demo): the same folding, row by row."""
    folded = 0
    with transaction.atomic():
        for result in ProbeResult.objects.filter(checked_at__lt=cutoff).iterator():
            rollup, _ = Rollup.objects.get_or_create(
                migration_id=result.migration_id,
                source=f"probe:{result.probe_id}",
                minute=result.checked_at.replace(second=0, microsecond=0),
                traffic_percent=result.traffic_percent,
            )
            rollup.count += 1
            rollup.ok += result.outcome == Outcome.PASS
            rollup.failed += result.outcome == Outcome.FAIL
            rollup.errors += result.outcome == Outcome.ERROR
            if result.latency_ms is not None:
                rollup.total += result.latency_ms
                rollup.valued += 1
                rollup.p95 = max(rollup.p95 or 0, result.latency_ms)
            rollup.save()
            folded += 1
        ProbeResult.objects.filter(checked_at__lt=cutoff).delete()
        for sample in Sample.objects.filter(at__lt=cutoff).iterator():
            rollup, _ = Rollup.objects.get_or_create(
                migration_id=sample.migration_id,
                source=sample.metric,
                minute=sample.at.replace(second=0, microsecond=0),
                traffic_percent=sample.traffic_percent,
            )
            rollup.count += 1
            rollup.ok += sample.ok or 0
            rollup.failed += sample.failed or 0
            if sample.value is not None:
                rollup.total += sample.value
                rollup.valued += 1
                rollup.last = sample.value
            rollup.save()
            folded += 1
        Sample.objects.filter(at__lt=cutoff).delete()
    return folded


# --- demo --------------------------------------------------------------------------------------------


@transaction.atomic
def add_demo_monitoring(migration: Migration, *, base_url: str, by: Actor) -> Probe:
    """For seed_demo: a probe on golive's own /health (127.0.0.1 is allowlisted in DEBUG) and the
    standard KPIs with alert-only guardrails, so the control room has live data at once."""
    probe = Probe.objects.filter(migration=migration, name="Provider health").first()
    if probe is None:
        probe = create_probe(
            migration,
            by=by,
            name="Provider health",
            url=f"{base_url.rstrip('/')}/health",
            expected_json=[{"path": "status", "equals": "ok"}],
            interval_seconds=10,
            timeout_seconds=3,
        )
    add_standard_kpis(migration, probe=probe, by=by, action=GuardrailAction.ALERT)
    return probe
