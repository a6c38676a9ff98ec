"""The incident timeline as a person reads it at 3 a.m.: runs of routine rows (guardrail
evaluations, probe failures, delivery receipts, notifications) fold into one line each, so the
moments that matter — rolled back, incident opened, escalated, acknowledged — stand out."""

from __future__ import annotations

from django.utils import timezone

# Rows that repeat many times during an incident: folded when consecutive.
ROUTINE_AUDIT = {"Guardrail changed", "Notified"}
# Rows marked as the turning points of the incident.
KEY_MOMENTS = {"Rolled back", "Incident opened", "Joined the incident", "Escalated to leads", "Acknowledged"}


def _routine_key(entry: dict) -> tuple | None:
    if entry["kind"] in ("notification", "probe"):
        return (entry["kind"],)
    if entry["kind"] == "audit" and entry["what"] in ROUTINE_AUDIT:
        return ("audit", entry["what"])
    return None


def _folded(run: list[dict]) -> dict:
    first, last = run[0], run[-1]
    span = f"{timezone.localtime(first['at']):%H:%M:%S}–{timezone.localtime(last['at']):%H:%M:%S}"
    noun = {"notification": "deliveries", "probe": "probe failures"}.get(first["kind"], first["what"].lower())
    return {
        **first,
        "what": f"{len(run)} × {first['what']}" if first["kind"] == "audit" else f"{len(run)} {noun}",
        "detail": f"{span}; last: {last['detail']}",
        "failed": any(entry.get("failed") for entry in run),
        "members": run,
    }


def grouped(entries: list[dict]) -> list[dict]:
    """`entries` (oldest first) with consecutive routine rows of one kind folded into one row
    (its `members` keep them all) and the key moments flagged `key`."""
    out: list[dict] = []
    run: list[dict] = []

    def flush():
        if run:
            out.append(run[0] if len(run) == 1 else _folded(list(run)))
            run.clear()

    for entry in entries:
        key = _routine_key(entry)
        if run and key != _routine_key(run[0]):
            flush()
        if key is None:
            out.append({**entry, "key": entry["what"] in KEY_MOMENTS})
        else:
            run.append(entry)
    flush()
    return out
