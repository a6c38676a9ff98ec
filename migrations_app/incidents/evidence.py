"""The go-live evidence pack: one record of the whole go-live for an auditor or a post-mortem."""

from __future__ import annotations

import datetime as dt
import io

from django.utils import timezone

from checklists.models import ChecklistItem, SignOff
from migrations_app import csv_export
from migrations_app.incidents import selectors, success
from migrations_app.incidents.models import Announcement, Incident
from migrations_app.models import AuditEvent, Migration
from migrations_app.monitoring import selectors as monitoring
from migrations_app.rollout.models import Rollback, TrafficChange

MAX_SPAN = dt.timedelta(days=90)


def pack(migration: Migration, *, now: dt.datetime | None = None, charts: bool = True) -> dict:

    now = now or timezone.now()
    span = min(max(now - migration.created_at, dt.timedelta(hours=1)), MAX_SPAN)
    items = (
        ChecklistItem.objects.filter(migration=migration)
        .select_related("section__phase", "owner")
        .order_by("section__phase__position", "section__position", "position", "pk")
    )
    incidents = list(
        Incident.objects.filter(migration=migration).select_related("commander").order_by("opened_at")
    )
    return {
        "migration": migration,
        "generated_at": now,
        "checklist": list(items),
        "signoffs": list(
            SignOff.objects.filter(phase__migration=migration)
            .select_related("phase", "user")
            .order_by("signed_at")
        ),
        "traffic": list(TrafficChange.objects.filter(migration=migration).order_by("at", "id")),
        "levels": monitoring.per_traffic_level(migration, now=now, window=span),
        "charts": monitoring.chart_figures(migration, now=now, span=span) if charts else None,
        "incidents": [{"incident": i, "durations": selectors.durations(i)} for i in incidents],
        "rollbacks": list(Rollback.objects.filter(migration=migration).order_by("at")),
        "announcements": list(Announcement.objects.filter(migration=migration).order_by("created_at")),
        "criteria": success.criteria(migration, now=now),
        "events": list(
            AuditEvent.objects.filter(migration=migration)
            .select_related("actor_user")
            .order_by("at", "id")[:5000]
        ),
    }


def _iso(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


def rows(data: dict) -> list[dict]:
    """One flat list (section, at, who, what, detail) for CSV and JSON exports."""
    out = []

    def add(section, at, who, what, detail=""):
        out.append({"section": section, "at": _iso(at), "who": who or "", "what": what, "detail": detail})

    for c in data["criteria"]:
        add(
            "success_criteria",
            data["generated_at"],
            "golive",
            c["label"],
            f"{c['state']}: {c['text']} (target {c['target']})",
        )
    for item in data["checklist"]:
        add(
            "checklist",
            item.changed_at,
            item.changed_by_label,
            f"{item.section.phase.name} / {item.section.name}: {item.title}",
            f"{item.get_state_display()}; owner {item.owner.get_username() if item.owner else '-'}",
        )
    for s in data["signoffs"]:
        detail = (
            f"revoked {_iso(s.revoked_at)} by {s.revoked_by_label}: {s.revoke_reason}"
            if s.revoked_at
            else s.comment
        )
        add("signoff", s.signed_at, s.user.get_username(), f"{s.phase.name}: {s.get_role_display()}", detail)
    for t in data["traffic"]:
        add("traffic", t.at, t.by, f"{t.get_kind_display()} {t.from_percent} % → {t.to_percent} %", t.reason)
    levels = data["levels"]
    for row in levels["rows"]:
        cells = ", ".join(
            f"{lvl} %: {cell['text']}" for lvl, cell in zip(levels["levels"], row["cells"], strict=False)
        )
        add("kpi_per_level", data["generated_at"], "golive", row["kpi"].name, cells)
    for entry in data["incidents"]:
        i, d = entry["incident"], entry["durations"]
        add(
            "incident",
            i.opened_at,
            i.opened_by,
            f"{i.severity_label} {i.title}",
            f"status {i.status}; acknowledged by {i.acknowledged_by or '-'}; detect {d['detect']}, "
            f"mitigate {d['mitigate']}, resolve {d['resolve']}; root cause: {i.postmortem_root_cause or '-'}",
        )
    for r in data["rollbacks"]:
        add("rollback", r.at, r.by, f"Rolled back from {r.from_percent} %", r.reason)
    for a in data["announcements"]:
        add(
            "announcement",
            a.sent_at or a.created_at,
            a.sent_by or a.created_by,
            a.subject,
            f"{a.get_kind_display()}, {a.get_status_display().lower()}, {a.recipients} subscriber(s)",
        )
    for e in data["events"]:
        add("audit", e.at, e.actor_label, e.action, selectors._audit_detail(e))
    return out


def as_csv(data: dict) -> str:
    buffer = io.StringIO()
    writer = csv_export.dict_writer(buffer, fieldnames=["section", "at", "who", "what", "detail"])
    writer.writeheader()
    for row in rows(data):
        writer.writerow(row)
    return buffer.getvalue()


def as_json(data: dict) -> dict:
    migration = data["migration"]
    return {
        "migration": {"slug": migration.slug, "name": migration.name, "status": migration.status},
        "generated_at": _iso(data["generated_at"]),
        "success_criteria": [
            {k: c[k] for k in ("key", "label", "target", "value", "state", "text")} for c in data["criteria"]
        ],
        "entries": rows(data),
    }
