import csv
import io

import pytest

from migrations_app.models import AuditEvent, Contact, ContactKind, Migration, MigrationStatus

pytestmark = pytest.mark.django_db


def test_the_list_shows_active_migrations_with_their_status_in_words(client_for, ops, migration):
    response = client_for(ops).get("/migrations/")
    assert response.status_code == 200
    assert migration.name in response.text
    assert ">Draft<" in response.text


def test_the_list_has_an_empty_state_that_says_what_to_do(client_for, ops):
    response = client_for(ops).get("/migrations/")
    assert "No migrations here yet." in response.text
    assert "New migration" in response.text


def test_the_migration_page_shows_its_contacts_in_escalation_order(client_for, oncall, migration):
    second = Contact.objects.create(
        name="Hosting NOC", kind=ContactKind.EXTERNAL_PARTNER, role="Hosting", escalation_order=2
    )
    first = Contact.objects.create(
        name="Provider support",
        kind=ContactKind.EXTERNAL_PARTNER,
        role="Support",
        phone="+44 20 0000",
        escalation_order=1,
    )
    Contact.objects.create(name="Unrelated", kind=ContactKind.INTERNAL_BUSINESS, role="Other")
    for contact in (first, second):
        contact.migrations.add(migration)
    page = client_for(oncall).get(f"/migrations/{migration.slug}/").text
    assert page.index("Provider support") < page.index("Hosting NOC")
    assert "Unrelated" not in page
    assert "tel:+44 20 0000" in page


def test_ops_creates_a_migration_and_lands_on_its_page(client_for, ops):
    response = client_for(ops).post(
        "/migrations/new/",
        {
            "name": "Partner API",
            "slug": "partner-api",
            "integration": "Partner",
            "source_environment": "staging",
            "target_environment": "production",
            "owner": ops.pk,
            "target_date": "2026-12-24",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/migrations/partner-api/"
    migration = Migration.objects.get(slug="partner-api")
    assert migration.status == MigrationStatus.DRAFT
    assert [p.name for p in migration.phases.all()] == ["Preparation", "Testing", "Deployment", "Post-launch"]
    assert AuditEvent.objects.filter(action="migration.created", migration=migration, actor_user=ops).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("slug", "Not A Slug!", "Slug"),
        ("name", "", "Name"),
        ("target_date", "31/31/2026", "Target go-live date"),
        ("owner", "999999", "Owner"),
    ],
)
def test_invalid_input_names_the_field_and_creates_nothing(client_for, ops, field, value, message):
    data = {
        "name": "Partner API",
        "slug": "partner-api",
        "integration": "Partner",
        "source_environment": "staging",
        "target_environment": "production",
        "owner": ops.pk,
    }
    data[field] = value
    response = client_for(ops).post("/migrations/new/", data)
    assert response.status_code == 422
    assert f"{message}:" in response.text
    assert not Migration.objects.exists()


def test_a_duplicate_slug_is_refused_by_name(client_for, ops, migration):
    response = client_for(ops).post(
        "/migrations/new/",
        {
            "name": "Again",
            "slug": migration.slug,
            "integration": "X",
            "source_environment": "a",
            "target_environment": "b",
            "owner": ops.pk,
        },
    )
    assert response.status_code == 422
    assert "Slug: A migration with this slug already exists." in response.text
    assert Migration.objects.count() == 1


def test_an_htmx_transition_swaps_the_status_panel_and_signals_the_page(client_for, ops, migration):
    response = client_for(ops).post(
        f"/migrations/{migration.slug}/transition/", {"to": "preparing"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="card" id="status-panel"')
    assert "<html" not in response.text
    assert response["HX-Trigger"] == '{"migrationChanged": {}}'
    migration.refresh_from_db()
    assert migration.status == MigrationStatus.PREPARING


def test_an_invalid_htmx_transition_answers_422_with_the_reason(client_for, ops, migration):
    response = client_for(ops).post(
        f"/migrations/{migration.slug}/transition/", {"to": "completed"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "A migration that is Draft cannot become Completed" in response.text
    migration.refresh_from_db()
    assert migration.status == MigrationStatus.DRAFT


def test_an_abort_without_reason_is_refused_and_says_so(client_for, ops, migration):
    response = client_for(ops).post(
        f"/migrations/{migration.slug}/transition/", {"to": "aborted", "reason": ""}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "Say why the migration becomes Aborted." in response.text
    migration.refresh_from_db()
    assert migration.status == MigrationStatus.DRAFT


def test_a_malformed_transition_names_the_field(client_for, ops, migration):
    response = client_for(ops).post(
        f"/migrations/{migration.slug}/transition/", {"to": "nonsense"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "To:" in response.text


def test_the_timeline_lists_changes_newest_first(client_for, pm, ops, migration):
    client_for(ops).post(f"/migrations/{migration.slug}/transition/", {"to": "preparing"})
    page = client_for(pm).get(f"/migrations/{migration.slug}/timeline/").text
    assert page.index("migration.status_changed") < page.index("migration.created")


def test_the_timeline_names_people_by_full_name_and_user_name(client_for, pm, ops, migration):
    client_for(ops).post(f"/migrations/{migration.slug}/transition/", {"to": "preparing"})
    page = client_for(pm).get(f"/migrations/{migration.slug}/timeline/").text
    assert "<td>Olivia Ops (ops-user)</td>" in page


def test_the_csv_export_has_one_row_per_event_with_utc_times(client_for, pm, ops, migration):
    client_for(ops).post(
        f"/migrations/{migration.slug}/transition/", {"to": "preparing"}, REMOTE_ADDR="198.51.100.7"
    )
    response = client_for(pm).get(f"/migrations/{migration.slug}/timeline.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["action"] for row in rows] == ["migration.status_changed", "migration.created"]
    assert rows[0]["actor"] == "ops-user"
    assert rows[0]["client_ip"] == "198.51.100.7"
    assert rows[0]["time_utc"].endswith("+00:00")
    assert '"status": "preparing"' in rows[0]["after"]


def test_an_unknown_migration_is_a_404_page(client_for, ops):
    response = client_for(ops).get("/migrations/nope/")
    assert response.status_code == 404


def test_the_status_panel_refreshes_itself_after_a_change_made_elsewhere(client_for, ops, oncall, migration):
    page = client_for(oncall).get(f"/migrations/{migration.slug}/").text
    assert 'hx-trigger="trafficChanged from:body' in page
    client_for(ops).post(f"/migrations/{migration.slug}/transition/", {"to": "preparing"})
    response = client_for(oncall).get(
        f"/migrations/{migration.slug}/panels/status-panel/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="card" id="status-panel"')
    assert ">Preparing<" in response.text
    recent = client_for(oncall).get(f"/migrations/{migration.slug}/panels/recent-changes/").text
    assert "migration.status_changed" in recent


def test_an_unknown_panel_is_a_404_and_outsiders_get_403(client_for, ops, outsider, migration):
    assert client_for(ops).get(f"/migrations/{migration.slug}/panels/secrets/").status_code == 404
    refused = client_for(outsider).get(f"/migrations/{migration.slug}/panels/status-panel/")
    assert refused.status_code == 403


def test_an_empty_post_is_invalid_input_not_a_fresh_form(client_for, ops):
    response = client_for(ops).post("/migrations/new/", {})
    assert response.status_code == 422
    assert "Name: This field is required." in response.text
    assert not Migration.objects.exists()
