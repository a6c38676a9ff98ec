"""The evidence pack: the whole go-live on one printable page, and as CSV and JSON."""

import csv
import io

from migrations_app.audit import Actor
from migrations_app.incidents import announcements, services
from migrations_app.rollout import services as rollout
from tests.factories import put_live


def _go_live(migration, ops, oncall):
    from checklists.models import ChecklistItem, ChecklistSection
    from migrations_app.models import Phase

    phase = Phase.objects.filter(migration=migration).order_by("position").first() or Phase.objects.create(
        migration=migration, name="Preparation", kind="preparation", position=1
    )
    section = ChecklistSection.objects.create(phase=phase, name="Access", position=99)
    ChecklistItem.objects.create(
        migration=migration,
        section=section,
        title="Production API keys stored in the vault",
        state="done",
        changed_by_label="ops-user",
    )
    migration = put_live(migration, 25)
    rollback = rollout.roll_back(migration, by=Actor.for_user(oncall), reason="=HYPERLINK(evil) error spike")
    services.change_status(rollback.incident, to="resolved", by=Actor.for_user(oncall), note="provider fixed")
    services.save_postmortem(
        rollback.incident,
        by=Actor.for_user(oncall),
        summary="5xx for 4 min",
        root_cause="Provider deploy",
        actions="Ask for change notices",
    )
    a = announcements.draft(migration, by=Actor.for_user(ops), kind="incident", date="today")
    announcements.send(a, by=Actor.for_user(ops))
    return migration


def test_the_printable_pack_tells_the_whole_go_live(client_for, migration, ops, oncall):
    _go_live(migration, ops, oncall)
    html = client_for(ops).get("/migrations/card-payments/evidence/").content.decode()
    for text in (
        "Success criteria",
        "Production API keys stored in the vault",
        "Rollback 25 % → 0 %",
        "Provider deploy",
        "Service disruption: Card payments go-live",
        "rollback.created",
        "window.print()",
        "ev-chart-data",
    ):
        assert text in html, text


def test_the_csv_has_every_section_and_defuses_formulas(client_for, migration, ops, oncall):
    _go_live(migration, ops, oncall)
    response = client_for(ops).get("/migrations/card-payments/evidence.csv")
    assert response["Content-Disposition"].startswith('attachment; filename="golive-evidence-card-payments-')
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    sections = {r["section"] for r in rows}
    assert {
        "success_criteria",
        "checklist",
        "traffic",
        "incident",
        "rollback",
        "announcement",
        "audit",
    } <= sections
    rollback_row = next(r for r in rows if r["section"] == "rollback")
    assert rollback_row["who"] == "oncall-user" and rollback_row["detail"].startswith("'=HYPERLINK")


def test_the_json_names_the_criteria_and_entries(client_for, migration, ops, oncall):
    _go_live(migration, ops, oncall)
    data = client_for(ops).get("/migrations/card-payments/evidence.json").json()
    assert data["migration"]["slug"] == "card-payments"
    keys = [c["key"] for c in data["success_criteria"]]
    assert keys == [
        "success_rate",
        "response_time",
        "uptime",
        "error_rate",
        "recovery",
        "alert_response",
        "resolution",
    ]
    incident = next(e for e in data["entries"] if e["section"] == "incident")
    assert "root cause: Provider deploy" in incident["detail"]


def test_outsiders_get_no_pack(client_for, outsider, migration):
    for suffix in ("evidence/", "evidence.csv", "evidence.json"):
        assert client_for(outsider).get(f"/migrations/card-payments/{suffix}").status_code == 403
