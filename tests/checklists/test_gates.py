import pytest
from django.core.exceptions import ValidationError

from checklists import gates, services
from checklists.models import ChecklistItem, ItemState, SignOff
from migrations_app import services as migration_services
from migrations_app.audit import Actor
from migrations_app.models import AuditEvent, MigrationStatus, PhaseKind
from tests.checklists.conftest import phase_of, settle, sign_all
from tests.factories import make_migration

SYSTEM = Actor.system("tests")


def _gate(live):
    return gates.gate_phases(live)


def test_it_copies_the_templates_phases_items_and_signoff_roles(live, template):
    kinds = list(live.phases.order_by("position").values_list("kind", flat=True))
    assert kinds == [p.kind for p in template.phases.order_by("position")]
    assert live.checklist_items.count() == 60
    testing = phase_of(live, PhaseKind.TESTING)
    assert gates.signoff_roles(testing) == ["deployment_lead", "technical_lead", "product_manager", "qa_lead"]
    item = live.checklist_items.get(title__startswith="Merchant account fully approved")
    assert item.owner_role == "product_manager"
    assert str(item.due_date) == "2030-05-11"  # 21 days before 1 June
    assert live.recurring_rules.count() == 3
    assert AuditEvent.objects.filter(migration=live, action="checklist.created_from_template").exists()


def test_later_template_edits_do_not_change_a_running_migration(live, template):
    first = template.phases.first().sections.first().items.first()
    first.title = "Changed in the template"
    first.save()
    template.phases.last().delete()
    assert not live.checklist_items.filter(title="Changed in the template").exists()
    assert live.phases.count() == 4


def test_the_go_live_gate_names_open_items_and_missing_signoffs(live):
    blocker = gates.go_live_gate_blocker(live)
    assert blocker.startswith("Preparation (week 1) is not complete: 25 required items not done")
    assert "QA Lead sign-off missing" in blocker


def test_a_migration_without_phases_before_deployment_has_no_gate(db):
    migration = make_migration(phases=[("Deploy", PhaseKind.DEPLOYMENT), ("After", PhaseKind.POST_LAUNCH)])
    assert gates.go_live_gate_blocker(migration) is None


def test_the_gate_opens_when_items_are_settled_and_all_signoffs_are_current(live, leads):
    for phase in _gate(live):
        settle(phase)
        assert not gates.phase_status(phase).complete  # items done, sign-offs missing
        sign_all(phase, leads)
        assert gates.phase_status(phase).complete
    assert gates.go_live_gate_blocker(live) is None


def test_not_applicable_needs_a_reason_and_then_counts_as_settled(live):
    item = live.checklist_items.filter(required=True).first()
    with pytest.raises(ValidationError) as error:
        services.set_item_state(item, by=SYSTEM, state=ItemState.NOT_APPLICABLE, reason="  ")
    assert "reason" in error.value.message_dict
    item.refresh_from_db()
    assert item.state == ItemState.OPEN
    services.set_item_state(
        item, by=SYSTEM, state=ItemState.NOT_APPLICABLE, reason="We have no store profile"
    )
    status = gates.phase_status(item.section.phase)
    assert status.required_settled == 1


def test_a_blocked_item_needs_a_reason_and_keeps_the_phase_incomplete(live, leads):
    phase = _gate(live)[0]
    settle(phase)
    item = ChecklistItem.objects.filter(section__phase=phase, required=True).first()
    with pytest.raises(ValidationError):
        services.set_item_state(item, by=SYSTEM, state=ItemState.BLOCKED)
    services.set_item_state(item, by=SYSTEM, state=ItemState.BLOCKED, reason="Waiting for the gateway")
    status = gates.phase_status(phase)
    assert not status.complete
    assert status.blocked == 1
    assert "1 required item not done (1 blocked)" in status.summary


def test_an_optional_item_does_not_hold_up_the_phase(db, ops):
    from checklists.yaml_io import import_text

    template = import_text(
        "slug: tiny\nname: Tiny\nphases:\n"
        "  - {name: Prep, kind: preparation, signoff_roles: [], sections: [{name: S, items: [{title: a}, {title: b, required: false}]}]}\n"
        "  - {name: Go, kind: deployment, signoff_roles: [], sections: [{name: S, items: [{title: c}]}]}\n",
        by=SYSTEM,
    )
    migration = services.create_migration_from_template(
        by=SYSTEM, template=template, name="T", slug="tiny-1", owner=ops, integration="x"
    )
    services.tick_item(migration.checklist_items.get(title="a"), by=SYSTEM)
    assert gates.go_live_gate_blocker(migration) is None


def test_a_signoff_goes_stale_when_a_required_item_changes_and_stops_counting(live, leads):
    phase = _gate(live)[0]
    settle(phase)
    sign_all(phase, leads)
    assert gates.phase_status(phase).complete
    item = ChecklistItem.objects.filter(section__phase=phase, required=True).first()
    services.tick_item(item, by=SYSTEM, done=False)
    services.tick_item(item, by=SYSTEM, done=True)  # back to done, but it changed after signing
    status = gates.phase_status(phase)
    assert [slot.state for slot in status.slots] == ["stale", "stale"]
    assert not status.complete
    assert "Deployment Lead sign-off stale" in status.summary
    # Renewing brings it back; the old sign-off is kept, marked renewed.
    services.sign_off_phase(phase, user=leads["deployment_lead"], role="deployment_lead", by=SYSTEM)
    services.sign_off_phase(phase, user=leads["technical_lead"], role="technical_lead", by=SYSTEM)
    assert gates.phase_status(phase).complete
    assert SignOff.objects.filter(phase=phase, revoke_reason="renewed").count() == 2
    assert AuditEvent.objects.filter(action="signoff.renewed").count() == 2


def test_an_optional_item_change_does_not_make_signoffs_stale(live, leads):
    phase = phase_of(live, PhaseKind.DEPLOYMENT)
    optional = ChecklistItem.objects.create(
        migration=live, section=phase.sections.first(), title="Nice to have", required=False
    )
    settle(phase)
    sign_all(phase, leads)
    services.tick_item(optional, by=SYSTEM, done=False)
    assert gates.phase_status(phase).complete


def test_a_migration_is_refused_past_an_incomplete_gate(live, leads):
    migration_services.transition_migration(live, to=MigrationStatus.PREPARING, by=SYSTEM)
    with pytest.raises(ValidationError) as error:
        migration_services.transition_migration(live, to=MigrationStatus.READY, by=SYSTEM)
    message = error.value.message_dict["to"][0]
    assert "Ready is refused until the phase gate is complete" in message
    assert "Preparation (week 1) is not complete" in message
    live.refresh_from_db()
    assert live.status == MigrationStatus.PREPARING
    for phase in _gate(live):
        settle(phase)
        sign_all(phase, leads)
    migration_services.transition_migration(live, to=MigrationStatus.READY, by=SYSTEM)
    migration_services.transition_migration(live, to=MigrationStatus.ROLLING_OUT, by=SYSTEM)
    live.refresh_from_db()
    assert live.status == MigrationStatus.ROLLING_OUT


def test_a_stale_signoff_closes_the_gate_again(live, leads):
    for phase in _gate(live):
        settle(phase)
        sign_all(phase, leads)
    item = ChecklistItem.objects.filter(section__phase=_gate(live)[1], required=True).first()
    services.set_item_state(item, by=SYSTEM, state=ItemState.NOT_APPLICABLE, reason="Not used by this shop")
    migration_services.transition_migration(live, to=MigrationStatus.PREPARING, by=SYSTEM)
    with pytest.raises(ValidationError, match="sign-off stale"):
        migration_services.transition_migration(live, to=MigrationStatus.READY, by=SYSTEM)


def test_completing_needs_the_deployment_phase_complete(live, leads):
    for phase in _gate(live):
        settle(phase)
        sign_all(phase, leads)
    for status in (
        MigrationStatus.PREPARING,
        MigrationStatus.READY,
        MigrationStatus.ROLLING_OUT,
        MigrationStatus.MONITORING,
    ):
        migration_services.transition_migration(live, to=status, by=SYSTEM)
    with pytest.raises(ValidationError, match="Deployment .* is not complete"):
        migration_services.transition_migration(live, to=MigrationStatus.COMPLETED, by=SYSTEM)
    deployment = phase_of(live, PhaseKind.DEPLOYMENT)
    settle(deployment)
    sign_all(deployment, leads)
    migration_services.transition_migration(live, to=MigrationStatus.COMPLETED, by=SYSTEM)


def test_migrations_without_a_checklist_move_freely(migration):
    for status in (MigrationStatus.PREPARING, MigrationStatus.READY, MigrationStatus.ROLLING_OUT):
        migration_services.transition_migration(migration, to=status, by=SYSTEM)


def test_every_item_change_is_audited_with_before_and_after(live):
    item = live.checklist_items.first()
    services.set_item_state(
        item, by=SYSTEM, state=ItemState.BLOCKED, reason="Waiting", evidence_note="ticket 42"
    )
    event = AuditEvent.objects.get(action="checklist_item.changed", object_id=str(item.pk))
    assert event.before == {"state": "open", "reason": "", "evidence_note": ""}
    assert event.after == {"state": "blocked", "reason": "Waiting", "evidence_note": "ticket 42"}
    assert event.migration_id == live.pk
    item.refresh_from_db()
    assert item.changed_by_label == "tests" and item.changed_at is not None


def test_ticking_twice_is_one_change(live, ops):
    item = live.checklist_items.first()
    services.tick_item(item, by=Actor.for_user(ops))
    services.tick_item(item, by=Actor.for_user(ops))
    assert AuditEvent.objects.filter(action="checklist_item.changed", object_id=str(item.pk)).count() == 1
    item.refresh_from_db()
    assert item.version == 1 and item.changed_by == ops


def test_an_automated_check_ticks_the_item_with_its_evidence(live):
    item = live.checklist_items.exclude(probe_kind="").first()
    services.record_automated_check(item, passed=False, evidence="HTTP 500", by=Actor.system("probe tls"))
    item.refresh_from_db()
    assert item.state == ItemState.OPEN
    services.record_automated_check(
        item, passed=True, evidence="3 passes in a row", by=Actor.system("probe tls")
    )
    item.refresh_from_db()
    assert item.state == ItemState.DONE and item.evidence_note == "3 passes in a row"
    assert item.changed_by_label == "probe tls"
    actions = list(AuditEvent.objects.filter(object_id=str(item.pk)).values_list("action", flat=True))
    assert set(actions) == {"checklist_item.check_failed", "checklist_item.changed"}


def test_a_late_probe_result_for_a_finished_migration_changes_nothing(live):
    item = live.checklist_items.exclude(probe_kind="").first()
    type(live).objects.filter(pk=live.pk).update(status=MigrationStatus.ABORTED)
    item.refresh_from_db()
    services.record_automated_check(item, passed=True, evidence="late pass", by=Actor.system("probe tls"))
    item.refresh_from_db()
    assert item.state == ItemState.OPEN
