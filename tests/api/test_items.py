"""Checklist items through /api/v1: list with filters, tick with evidence, owner and due date, bulk."""

import pytest

from checklists.models import ChecklistItem, ItemState
from migrations_app.models import AuditEvent, Migration, MigrationStatus
from tests.api.conftest import fields

pytestmark = pytest.mark.django_db


def first_item(plan, **filters) -> ChecklistItem:
    return ChecklistItem.objects.filter(migration=plan, **filters).order_by("id").first()


def test_it_lists_items_paginated_with_the_fields_a_pipeline_needs(api, token_of, plan):
    response = api("get", "/migrations/webhooks/items?limit=5", token_of("pm"))
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == plan.checklist_items.count() and len(data["items"]) == 5
    item = data["items"][0]
    assert {"id", "phase", "section", "title", "required", "done", "owner", "due"} <= set(item)
    assert item["phase"] == "Staging validation" and item["done"] is False


def test_it_filters_items_by_phase_section_owner_done_and_required(api, token_of, plan, ops):
    item = first_item(plan)
    ChecklistItem.objects.filter(pk=item.pk).update(owner=ops, state=ItemState.DONE)
    token = token_of("pm")
    by_owner = api("get", "/migrations/webhooks/items?owner=ops-user", token).json()
    assert [i["id"] for i in by_owner["items"]] == [item.pk]
    done = api("get", "/migrations/webhooks/items?done=true", token).json()
    assert [i["id"] for i in done["items"]] == [item.pk]
    phase = api("get", "/migrations/webhooks/items?phase=deployment&limit=1000", token).json()
    assert (
        phase["count"]
        == ChecklistItem.objects.filter(migration=plan, section__phase__name="Deployment").count()
    )
    section = item.section.name
    by_section = api("get", f"/migrations/webhooks/items?section={section}&limit=1000", token).json()
    assert {i["section"] for i in by_section["items"]} == {section}
    optional = api("get", "/migrations/webhooks/items?required=false&limit=1000", token).json()
    assert optional["count"] == plan.checklist_items.filter(required=False).count()


def test_a_misspelt_filter_is_refused_naming_it_rather_than_listing_everything(api, token_of, plan):
    response = api("get", "/migrations/webhooks/items?phse=Deployment", token_of("ops"))
    assert response.status_code == 400 and fields(response) == ["phse"]
    assert "phase" in response.json()["detail"][0]["message"]


def test_it_refuses_a_listing_without_a_valid_token_or_of_an_unknown_migration(api, token_of, plan):
    assert api("get", "/migrations/webhooks/items", None).status_code == 401
    assert api("get", "/migrations/webhooks/items", "glv_nope_nope").status_code == 401
    assert api("get", "/migrations/nope/items", token_of("ops")).status_code == 404
    outsider = api("get", "/migrations/webhooks/items", token_of("outsider"))
    assert outsider.status_code == 403 and "may not view" in outsider.json()["detail"]


def test_a_tick_marks_the_item_done_with_evidence_and_audits_the_token(api, token_of, plan):
    item = first_item(plan)
    body = {"done": True, "evidence": "Run 4411 green", "evidence_link": "https://ci.example.com/4411"}
    response = api("post", f"/items/{item.pk}/tick", token_of("ops"), body)
    assert response.status_code == 200, response.content
    assert response.json()["done"] is True and response.json()["evidence"] == "Run 4411 green"
    item.refresh_from_db()
    assert item.state == ItemState.DONE and item.evidence_link == "https://ci.example.com/4411"
    event = AuditEvent.objects.get(action="checklist_item.changed", object_id=str(item.pk))
    assert event.actor_kind == "token" and "ops pipeline" in event.actor_label
    assert api("post", f"/items/{item.pk}/tick", token_of("ops"), body).status_code == 200
    assert AuditEvent.objects.filter(action="checklist_item.changed").count() == 1  # a repeat is a no-op
    reopened = api("post", f"/items/{item.pk}/tick", token_of("ops"), {"done": False})
    assert reopened.json()["done"] is False and reopened.json()["evidence"] == "Run 4411 green"


def test_a_bad_tick_names_the_field_and_changes_nothing(api, token_of, plan):
    item = first_item(plan)
    for body, field in [
        ({}, "done"),
        ({"done": "maybe"}, "done"),
        ({"done": True, "evidence": "a\x00"}, "evidence"),
    ]:
        response = api("post", f"/items/{item.pk}/tick", token_of("ops"), body)
        assert response.status_code == 400 and field in fields(response), body
    bad_link = api("post", f"/items/{item.pk}/tick", token_of("ops"), {"done": True, "evidence_link": "nope"})
    assert bad_link.status_code == 400 and fields(bad_link) == ["evidence_link"]
    item.refresh_from_db()
    assert item.state == ItemState.OPEN and item.version == 0


def test_the_token_user_ticks_only_what_the_page_lets_them_tick(api, token_of, plan, pm):
    item = ChecklistItem.objects.filter(migration=plan).exclude(owner_role="product_manager").first()
    refused = api("post", f"/items/{item.pk}/tick", token_of("pm"), {"done": True})
    assert refused.status_code == 403 and "may not update this item" in refused.json()["detail"]
    ChecklistItem.objects.filter(pk=item.pk).update(owner=pm)  # owners tick their own items
    assert api("post", f"/items/{item.pk}/tick", token_of("pm"), {"done": True}).status_code == 200
    assert api("post", "/items/999999/tick", token_of("ops"), {"done": True}).status_code == 404


def test_a_closed_checklist_refuses_a_tick_with_409(api, token_of, plan):
    Migration.objects.filter(pk=plan.pk).update(status=MigrationStatus.ABORTED)
    item = first_item(plan)
    response = api("post", f"/items/{item.pk}/tick", token_of("ops"), {"done": True})
    assert response.status_code == 409 and fields(response) == ["done"]
    assert "closed" in response.json()["detail"][0]["message"]


def test_an_ops_token_sets_owner_and_due_date_and_leaves_out_fields_alone(api, token_of, plan, pm):
    item = first_item(plan)
    response = api("patch", f"/items/{item.pk}", token_of("ops"), {"owner": "pm-user", "due": "2030-01-31"})
    assert response.status_code == 200, response.content
    assert (response.json()["owner"], response.json()["due"]) == ("pm-user", "2030-01-31")
    only_due = api("patch", f"/items/{item.pk}", token_of("ops"), {"due": None})
    assert (only_due.json()["owner"], only_due.json()["due"]) == ("pm-user", None)
    event = AuditEvent.objects.filter(action="checklist_item.assigned").order_by("id").first()
    assert event.after == {"owner": "pm-user", "due_date": "2030-01-31"}


def test_assigning_refuses_unknown_people_bad_dates_and_the_wrong_roles(api, token_of, plan):
    item = first_item(plan)
    unknown = api("patch", f"/items/{item.pk}", token_of("ops"), {"owner": "ghost"})
    assert unknown.status_code == 404 and fields(unknown) == ["owner"]
    bad_date = api("patch", f"/items/{item.pk}", token_of("ops"), {"due": "tomorrow"})
    assert bad_date.status_code == 400 and fields(bad_date) == ["due"]
    forbidden = api("patch", f"/items/{item.pk}", token_of("pm"), {"owner": "pm-user"})
    assert (
        forbidden.status_code == 403 and "may not create migrations or change" in forbidden.json()["detail"]
    )
    item.refresh_from_db()
    assert item.owner is None and not AuditEvent.objects.filter(action="checklist_item.assigned").exists()


def test_bulk_assigns_and_ticks_many_items_at_once(api, token_of, plan):
    ids = list(plan.checklist_items.order_by("id").values_list("id", flat=True)[:3])
    body = {"items": ids, "owner": "ops-user", "due": "2030-02-01", "done": True}
    response = api("post", "/migrations/webhooks/items/bulk", token_of("ops"), body)
    assert response.status_code == 200, response.content
    assert response.json()["changed"] == 3
    assert {(i["owner"], i["due"], i["done"]) for i in response.json()["items"]} == {
        ("ops-user", "2030-02-01", True)
    }
    again = api("post", "/migrations/webhooks/items/bulk", token_of("ops"), body)
    assert again.json()["changed"] == 0


def test_bulk_is_all_or_nothing(api, token_of, plan, admin_user):
    ids = list(plan.checklist_items.order_by("id").values_list("id", flat=True)[:2])
    other = api(
        "post", "/migrations/webhooks/items/bulk", token_of("ops"), {"items": [*ids, 999999], "done": True}
    )
    assert other.status_code == 404 and fields(other) == ["items"]
    empty = api("post", "/migrations/webhooks/items/bulk", token_of("ops"), {"items": []})
    assert empty.status_code == 400 and fields(empty) == ["items"]
    typo = api(
        "post", "/migrations/webhooks/items/bulk", token_of("ops"), {"items": ids, "owners": "ops-user"}
    )
    assert typo.status_code == 400 and fields(typo) == ["owners"]
    nothing = api("post", "/migrations/webhooks/items/bulk", token_of("ops"), {"items": ids})
    assert nothing.status_code == 200 and nothing.json()["changed"] == 0
    pm = api("post", "/migrations/webhooks/items/bulk", token_of("pm"), {"items": ids, "done": True})
    assert pm.status_code == 403
    assert not plan.checklist_items.exclude(state=ItemState.OPEN).exists()
