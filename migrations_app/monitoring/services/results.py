"""Probe results: store runs in chunks, keep streaks, tick checklist items, page on errors."""

from __future__ import annotations

import datetime as dt
import json
import re

from django.db import connection, transaction
from django.utils import timezone

from checklists.models import ChecklistItem
from checklists.services import record_automated_check
from migrations_app.audit import Actor
from migrations_app.monitoring.models import Guardrail, Outcome, Probe, ProbeResult
from migrations_app.monitoring.probing.kinds import Outcome as RunOutcome
from migrations_app.monitoring.services.alerts import send_alert
from migrations_app.monitoring.services.evaluation import evaluate_guardrail
from migrations_app.monitoring.services.traffic import tagging_percent


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
    if probe.checklist_item_id is None:
        return
    item = ChecklistItem.objects.filter(pk=probe.checklist_item_id, migration_id=probe.migration_id).first()
    if item is None or item.state == "done":
        return
    evidence = (
        f"Probe “{probe.name}” ({probe.get_kind_display()}) passed {probe.passes_to_tick} times in a row; "
        f"last at {result.checked_at:%Y-%m-%d %H:%M:%S %Z}: {probe.last_summary or result.outcome}"
    )
    record_automated_check(item, passed=True, evidence=evidence, by=Actor.system(f"probe: {probe.name}"))
