import pytest
from django.urls import reverse

from checklists import gates, services
from checklists.models import ChecklistItem, ChecklistTemplate, ItemComment, ItemState, SignOff
from migrations_app.audit import Actor
from migrations_app.models import AuditEvent, PhaseKind
from tests.checklists.conftest import phase_of, settle, sign_all

HX = {"HTTP_HX_REQUEST": "true"}


def _item(live, **filters):
    return live.checklist_items.filter(**filters).order_by("id").first()


def _post_urls(live):
    item = _item(live)
    phase = phase_of(live, PhaseKind.PREPARATION)
    return [
        reverse("checklists:item_tick", args=[item.pk]),
        reverse("checklists:item_details", args=[item.pk]),
        reverse("checklists:item_comment", args=[item.pk]),
        reverse("checklists:bulk_assign", args=[live.slug]),
        reverse("checklists:phase_signoff", args=[phase.pk]),
    ]


# --- every POST view: GET is 405, an outsider gets 403 ---------------------------------------------


def test_post_views_refuse_get(client_for, live, ops):
    client = client_for(ops)
    for url in _post_urls(live):
        assert client.get(url).status_code == 405, url


def test_post_views_refuse_an_outsider(client_for, live, outsider):
    client = client_for(outsider)
    for url in [*_post_urls(live), reverse("checklists:item", args=[_item(live).pk])]:
        assert client.post(url, {"state": "done", "role": "qa_lead", "body": "x"}).status_code == 403, url
    assert not AuditEvent.objects.filter(actor_label=outsider.username).exists()


def test_pages_are_refused_to_an_outsider(client_for, live, outsider):
    client = client_for(outsider)
    phase = live.phases.first()
    for url in [
        reverse("checklists:checklist", args=[live.slug]),
        reverse("checklists:phase_sheet", args=[phase.pk]),
        reverse("checklists:template_list"),
    ]:
        assert client.get(url).status_code == 403


def test_revoke_refuses_get_and_strangers(client_for, live, leads, outsider, techlead):
    phase = phase_of(live, PhaseKind.PREPARATION)
    settle(phase)
    sign_all(phase, leads)
    signoff = SignOff.objects.get(phase=phase, role="deployment_lead")
    url = reverse("checklists:signoff_revoke", args=[signoff.pk])
    assert client_for(outsider).get(url).status_code == 405
    assert client_for(outsider).post(url, {"reason": "x"}).status_code == 403
    # The technical lead did not sign this slot and is no Admin.
    assert client_for(techlead).post(url, {"reason": "x"}).status_code == 403
    signoff.refresh_from_db()
    assert signoff.revoked_at is None


# --- ticking -------------------------------------------------------------------------------------------


def test_an_htmx_tick_answers_with_the_row_and_the_progress_out_of_band(client_for, live, ops):
    item = _item(live)
    response = client_for(ops).post(reverse("checklists:item_tick", args=[item.pk]), {"state": "done"}, **HX)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == '{"checklistChanged": {}}'
    html = response.content.decode()
    assert html.lstrip().startswith(f'<div class="ck-row ck-state-done" id="item-{item.pk}"')
    assert f'id="phase-head-{item.section.phase_id}" hx-swap-oob="true"' in html
    assert f'id="section-progress-{item.section_id}" hx-swap-oob="true"' in html
    assert "1 of 1" not in html and "1 of " in html
    assert "<html" not in html
    item.refresh_from_db()
    assert item.state == ItemState.DONE and item.changed_by == ops


def test_without_javascript_a_tick_is_a_form_post_that_redirects_back(client_for, live, ops):
    item = _item(live)
    url = reverse("checklists:checklist", args=[live.slug])
    response = client_for(ops).post(
        reverse("checklists:item_tick", args=[item.pk]), {"state": "done", "next": f"{url}?show=mine"}
    )
    assert response.status_code == 302
    assert response.url == f"{url}?show=mine"
    item.refresh_from_db()
    assert item.state == ItemState.DONE


def test_an_invalid_tick_names_the_field_and_changes_nothing(client_for, live, ops):
    item = _item(live)
    response = client_for(ops).post(
        reverse("checklists:item_tick", args=[item.pk]), {"state": "finished"}, **HX
    )
    assert response.status_code == 422
    assert "State: Select a valid choice" in response.content.decode()
    item.refresh_from_db()
    assert item.state == ItemState.OPEN and item.version == 0


def test_not_applicable_without_a_reason_is_refused_naming_the_reason(client_for, live, ops):
    item = _item(live)
    response = client_for(ops).post(
        reverse("checklists:item", args=[item.pk]), {"state": "na", "reason": ""}, **HX
    )
    assert response.status_code == 422
    assert "Reason: Say why the item is not applicable." in response.content.decode()
    item.refresh_from_db()
    assert item.state == ItemState.OPEN
    assert not AuditEvent.objects.filter(action="checklist_item.changed").exists()


def test_blocked_with_a_reason_and_evidence_is_saved_from_the_item_page(client_for, live, ops):
    item = _item(live)
    response = client_for(ops).post(
        reverse("checklists:item", args=[item.pk]),
        {
            "state": "blocked",
            "reason": "Gateway has not approved us",
            "evidence_note": "Ticket 8812",
            "evidence_link": "https://tickets.example/8812",
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.state, item.reason, item.evidence_link) == (
        "blocked",
        "Gateway has not approved us",
        "https://tickets.example/8812",
    )


def test_a_product_manager_ticks_their_own_items_but_not_others(client_for, live, pm):
    own = _item(live, owner_role="product_manager")
    other = _item(live, owner_role="technical_lead")
    client = client_for(pm)
    assert (
        client.post(reverse("checklists:item_tick", args=[own.pk]), {"state": "done"}, **HX).status_code
        == 200
    )
    response = client.post(reverse("checklists:item_tick", args=[other.pk]), {"state": "done"}, **HX)
    assert response.status_code == 403
    other.refresh_from_db()
    assert other.state == ItemState.OPEN


def test_a_closed_migration_refuses_changes(client_for, live, ops):
    live.status = "aborted"
    live.save()
    item = _item(live)
    response = client_for(ops).post(reverse("checklists:item_tick", args=[item.pk]), {"state": "done"}, **HX)
    assert response.status_code == 403


# --- owners, comments, filters ----------------------------------------------------------------------


def test_bulk_assign_gives_the_selected_items_an_owner_and_audits_each(client_for, live, ops, techlead):
    items = list(live.checklist_items.order_by("id")[:3])
    response = client_for(ops).post(
        reverse("checklists:bulk_assign", args=[live.slug]),
        {"items": [i.pk for i in items], "owner": techlead.pk},
    )
    assert response.status_code == 302
    assert live.checklist_items.filter(owner=techlead).count() == 3
    assert AuditEvent.objects.filter(action="checklist_item.assigned").count() == 3


def test_bulk_assign_without_items_is_refused_naming_the_field(client_for, live, ops, techlead):
    response = client_for(ops).post(
        reverse("checklists:bulk_assign", args=[live.slug]), {"owner": techlead.pk}
    )
    assert response.status_code == 422
    assert "Items: Tick at least one item to assign." in response.content.decode()
    assert not live.checklist_items.filter(owner__isnull=False).exists()


def test_bulk_assign_needs_the_manage_right(client_for, live, pm):
    item = _item(live)
    response = client_for(pm).post(
        reverse("checklists:bulk_assign", args=[live.slug]), {"items": [item.pk], "owner": pm.pk}
    )
    assert response.status_code == 403


def test_owner_and_due_date_are_set_from_the_item_page(client_for, live, ops, qa):
    item = _item(live)
    response = client_for(ops).post(
        reverse("checklists:item_details", args=[item.pk]), {"owner": qa.pk, "due_date": "2030-05-02"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.owner == qa and str(item.due_date) == "2030-05-02"
    bad = client_for(ops).post(
        reverse("checklists:item_details", args=[item.pk]), {"owner": qa.pk, "due_date": "soon"}
    )
    assert bad.status_code == 422 and "Due date: Enter a valid date." in bad.content.decode()


def test_anyone_on_the_team_comments_and_it_is_audited(client_for, live, pm):
    item = _item(live)
    response = client_for(pm).post(
        reverse("checklists:item_comment", args=[item.pk]), {"body": "Asked the bank"}, **HX
    )
    assert response.status_code == 200
    assert "Asked the bank" in response.content.decode()
    assert ItemComment.objects.get(item=item).author == pm
    assert AuditEvent.objects.filter(action="checklist_item.commented", actor_label=pm.username).exists()
    empty = client_for(pm).post(reverse("checklists:item_comment", args=[item.pk]), {"body": ""})
    assert empty.status_code == 422 and "Comment: This field is required." in empty.content.decode()


def test_filters_show_my_items_overdue_blocked_and_by_owner(client_for, live, pm, ops, techlead):
    url = reverse("checklists:checklist", args=[live.slug])
    client = client_for(pm)
    mine = client.get(url, {"show": "mine"}).content.decode()
    assert "Merchant account fully approved" in mine  # a Product Manager item
    assert "Webhooks verified with HMAC" not in mine  # a Technical Lead item
    overdue = client.get(url, {"show": "overdue"}).content.decode()
    assert "0 items shown" in overdue  # go-live is in 2030
    blocked_item = _item(live, owner_role="technical_lead")
    services.set_item_state(blocked_item, by=Actor.for_user(ops), state="blocked", reason="No keys yet")
    blocked = client.get(url, {"show": "blocked"}).content.decode()
    assert "1 item shown" in blocked and blocked_item.title in blocked
    services.assign_items([blocked_item], owner=techlead, by=Actor.for_user(ops))
    by_owner = client.get(url, {"owner": techlead.pk}).content.decode()
    assert "1 item shown" in by_owner
    section = blocked_item.section
    by_section = client.get(url, {"section": section.pk}).content.decode()
    assert f"{section.items.count()} items shown" in by_section


# --- sign-offs -----------------------------------------------------------------------------------------


def test_ops_cannot_sign_as_product_manager(client_for, live, ops, leads):
    phase = phase_of(live, PhaseKind.TESTING)
    settle(phase)
    response = client_for(ops).post(
        reverse("checklists:phase_signoff", args=[phase.pk]), {"role": "product_manager"}, **HX
    )
    assert response.status_code == 403
    assert "Only the Product Manager of Checkout go-live may sign off" in response.content.decode()
    assert not SignOff.objects.exists()


def test_a_user_without_the_role_gets_403(client_for, live, oncall):
    phase = phase_of(live, PhaseKind.PREPARATION)
    settle(phase)
    response = client_for(oncall).post(
        reverse("checklists:phase_signoff", args=[phase.pk]), {"role": "deployment_lead"}
    )
    assert response.status_code == 403


def test_the_product_manager_signs_off_and_the_phase_head_shows_it(client_for, live, pm):
    phase = phase_of(live, PhaseKind.TESTING)
    settle(phase)
    response = client_for(pm).post(
        reverse("checklists:phase_signoff", args=[phase.pk]),
        {"role": "product_manager", "comment": "UAT fine"},
        **HX,
    )
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == '{"checklistChanged": {}}'
    html = response.content.decode()
    assert html.lstrip().startswith(f'<div class="ck-phase-head" id="phase-head-{phase.pk}"')
    assert "Priya PM" in html and "UAT fine" in html
    signoff = SignOff.objects.get(phase=phase)
    assert (signoff.user, signoff.role, signoff.fingerprint) == (
        pm,
        "product_manager",
        gates.fingerprint(phase),
    )
    assert AuditEvent.objects.filter(action="signoff.signed", actor_label=pm.username).exists()


def test_one_user_cannot_fill_two_slots_of_a_phase(client_for, live, pm, leads):
    from migrations_app import services as migration_services

    phase = phase_of(live, PhaseKind.TESTING)
    settle(phase)
    migration_services.assign_role(live, user=pm, role="qa_lead", by=Actor.system("tests"))
    client = client_for(pm)
    client.post(reverse("checklists:phase_signoff", args=[phase.pk]), {"role": "product_manager"}, **HX)
    response = client.post(reverse("checklists:phase_signoff", args=[phase.pk]), {"role": "qa_lead"}, **HX)
    assert response.status_code == 422
    assert "You already signed" in response.content.decode()
    assert SignOff.objects.filter(phase=phase).count() == 1


def test_signing_before_the_required_items_are_done_is_refused(client_for, live, pm):
    phase = phase_of(live, PhaseKind.TESTING)
    response = client_for(pm).post(
        reverse("checklists:phase_signoff", args=[phase.pk]), {"role": "product_manager"}, **HX
    )
    assert response.status_code == 422
    assert "required item(s) not done" in response.content.decode()
    assert not SignOff.objects.exists()


def test_a_signer_revokes_with_a_reason_and_it_is_audited(client_for, live, leads, ops):
    phase = phase_of(live, PhaseKind.PREPARATION)
    settle(phase)
    sign_all(phase, leads)
    signoff = SignOff.objects.get(phase=phase, role="deployment_lead")
    url = reverse("checklists:signoff_revoke", args=[signoff.pk])
    assert client_for(ops).post(url, {"reason": ""}, **HX).status_code == 422
    response = client_for(ops).post(url, {"reason": "Found a problem with backups"}, **HX)
    assert response.status_code == 200
    signoff.refresh_from_db()
    assert signoff.revoked_at is not None and signoff.revoke_reason == "Found a problem with backups"
    assert AuditEvent.objects.filter(action="signoff.revoked", reason="Found a problem with backups").exists()
    assert not gates.phase_status(phase).complete


def test_the_printable_sheet_shows_who_did_what_and_when(client_for, live, leads, pm):
    phase = phase_of(live, PhaseKind.PREPARATION)
    settle(phase, by=Actor.for_user(leads["deployment_lead"]))
    sign_all(phase, leads)
    html = client_for(pm).get(reverse("checklists:phase_sheet", args=[phase.pk])).content.decode()
    assert "Sign-off sheet: Preparation (week 1)" in html
    assert html.count("Olivia Ops") >= 25  # who ticked each item
    assert "Olivia Ops" in html and "Tomás Tech" in html
    assert "Signed, current" in html and "@media print" not in html


# --- templates -----------------------------------------------------------------------------------------


def test_an_admin_imports_a_template_file(client_for, admin_user):
    from tests.checklists.test_templates_yaml import GOOD

    response = client_for(admin_user).post(reverse("checklists:template_import"), {"yaml_text": GOOD})
    assert response.status_code == 302
    assert ChecklistTemplate.objects.get(slug="small").phases.count() == 2


def test_a_broken_upload_is_refused_with_line_and_field_and_saves_nothing(client_for, admin_user):
    from tests.checklists.test_templates_yaml import GOOD

    response = client_for(admin_user).post(
        reverse("checklists:template_import"), {"yaml_text": GOOD.replace("kind: deployment", "kind: deploy")}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Line 13" in html and "phases[1].kind" in html
    assert not ChecklistTemplate.objects.filter(slug="small").exists()


def test_an_admin_edits_a_template_as_yaml(client_for, admin_user):
    from checklists import yaml_io

    template = ChecklistTemplate.objects.get(slug="webhook-service-release")
    lines = yaml_io.export(template).split("\n")
    assert lines[1].startswith("name: ")
    text = "\n".join([lines[0], "name: Webhook release v2", *lines[2:]])
    client = client_for(admin_user)
    assert client.get(reverse("checklists:template_edit", args=[template.slug])).status_code == 200
    response = client.post(reverse("checklists:template_edit", args=[template.slug]), {"yaml_text": text})
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.name == "Webhook release v2"
    assert AuditEvent.objects.filter(action="template.replaced").exists()


@pytest.mark.parametrize("role", ["ops", "pm", "oncall"])
def test_only_admins_edit_or_import_templates(request, client_for, role):
    client = client_for(request.getfixturevalue(role))
    assert client.get(reverse("checklists:template_import")).status_code == 403
    assert (
        client.post(
            reverse("checklists:template_edit", args=["webhook-service-release"]), {"yaml_text": "x"}
        ).status_code
        == 403
    )
    assert client.get(reverse("checklists:template_list")).status_code == 200


def test_a_template_exports_as_a_yaml_download(client_for, ops):
    response = client_for(ops).get(reverse("checklists:template_export", args=["mobile-money-deployment"]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="mobile-money-deployment.yaml"'
    assert response.content.decode().startswith("slug: mobile-money-deployment\n")


def test_new_migration_from_a_template_via_the_form(client_for, ops):
    template = ChecklistTemplate.objects.get(slug="identity-payment-dev-to-prod")
    response = client_for(ops).post(
        reverse("migrations_app:create"),
        {
            "template": template.pk,
            "name": "ID payments",
            "slug": "id-pay",
            "integration": "ID",
            "source_environment": "dev",
            "target_environment": "prod",
            "owner": ops.pk,
            "target_date": "2031-02-01",
        },
    )
    assert response.status_code == 302
    items = ChecklistItem.objects.filter(migration__slug="id-pay")
    assert items.count() == 45
    assert items.filter(due_date__isnull=False).exists()


def test_the_migration_page_shows_the_checklist_summary(client_for, live, ops):
    html = client_for(ops).get(reverse("migrations_app:detail", args=[live.slug])).content.decode()
    assert "Checklist and sign-offs" in html
    assert "Go-live gate not complete." in html
    assert reverse("checklists:checklist", args=[live.slug]) in html
