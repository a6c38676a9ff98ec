"""Sign-offs and status transitions through /api/v1, and the Admin's override of a gate."""

import pytest

from checklists import gates
from checklists.models import ChecklistItem, ItemState, SignOff
from migrations_app import services as migration_services
from migrations_app.access import Group
from migrations_app.audit import Actor
from migrations_app.models import AuditEvent, Migration, MigrationRoleName, MigrationStatus
from tests.api.conftest import SYSTEM, fields, make_token
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def phase_of(plan, role: str):
    return next(p for p in plan.phases.order_by("position") if role in gates.signoff_roles(p))


def finish_items(phase) -> None:
    ChecklistItem.objects.filter(section__phase=phase).update(state=ItemState.DONE)


def slot(phase, role: str) -> str:
    return f"{phase.pk}-{role}"


def test_it_lists_every_sign_off_slot_with_its_state(api, token_of, plan):
    response = api("get", "/migrations/webhooks/signoffs?limit=100", token_of("oncall"))
    assert response.status_code == 200
    slots = response.json()["items"]
    expected = sum(len(gates.signoff_roles(p)) for p in plan.phases.all())
    assert response.json()["count"] == expected == len(slots)
    first = slots[0]
    assert (first["phase"], first["state"], first["by"]) == ("Staging validation", "missing", None)
    assert first["id"] == f"{first['phase_id']}-{first['role']}"


def test_the_role_holder_signs_and_the_slot_turns_current(api, token_of, plan):
    phase = phase_of(plan, "product_manager")
    finish_items(phase)
    response = api(
        "post", f"/signoffs/{slot(phase, 'product_manager')}/sign", token_of("pm"), {"comment": "ok"}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["state"], response.json()["by"]) == ("current", "pm-user")
    event = AuditEvent.objects.get(action="signoff.signed")
    assert event.actor_kind == "token" and "pm pipeline" in event.actor_label


def test_someone_without_the_role_may_not_sign_whatever_their_group(api, token_of, plan):
    phase = phase_of(plan, "product_manager")
    finish_items(phase)
    response = api("post", f"/signoffs/{slot(phase, 'product_manager')}/sign", token_of("admin"), {})
    assert response.status_code == 403
    assert "does not hold that role" in response.json()["detail"]
    assert not SignOff.objects.exists()


def test_a_service_account_holding_a_role_signs_for_ci(api, plan, ops):
    robot = make_user("ci-bot", groups=(Group.OPS,))
    migration_services.assign_role(plan, user=robot, role=MigrationRoleName.QA_LEAD, by=SYSTEM)
    phase = phase_of(plan, "qa_lead")
    finish_items(phase)
    response = api("post", f"/signoffs/{slot(phase, 'qa_lead')}/sign", make_token(robot, name="ci"), {})
    assert response.status_code == 200 and response.json()["by"] == "ci-bot"


def test_signing_with_items_left_is_a_409_naming_the_role(api, token_of, plan):
    phase = phase_of(plan, "product_manager")
    response = api("post", f"/signoffs/{slot(phase, 'product_manager')}/sign", token_of("pm"), {})
    assert response.status_code == 409 and fields(response) == ["role"]
    assert "required item(s) not done" in response.json()["detail"][0]["message"]
    assert not SignOff.objects.exists()


def test_unknown_slots_answer_404_and_bad_bodies_400(api, token_of, plan):
    phase = phase_of(plan, "product_manager")
    assert api("post", f"/signoffs/{phase.pk}-on_call/sign", token_of("oncall"), {}).status_code == 404
    assert api("post", "/signoffs/999999-qa_lead/sign", token_of("pm"), {}).status_code == 404
    bad = api("post", f"/signoffs/{slot(phase, 'product_manager')}/sign", token_of("pm"), {"comment": 5})
    assert bad.status_code == 400 and fields(bad) == ["comment"]
    assert api("post", f"/signoffs/{slot(phase, 'product_manager')}/sign", None, {}).status_code == 401


def test_a_stale_sign_off_is_renewed_and_a_revoke_needs_a_reason(api, token_of, plan):
    phase = phase_of(plan, "product_manager")
    finish_items(phase)
    slot_id = slot(phase, "product_manager")
    nothing = api("post", f"/signoffs/{slot_id}/renew", token_of("pm"), {})
    assert nothing.status_code == 409 and "sign instead" in nothing.json()["detail"][0]["message"]
    api("post", f"/signoffs/{slot_id}/sign", token_of("pm"), {})
    ChecklistItem.objects.filter(section__phase=phase, required=True).update(version=7)
    assert api("get", f"/signoffs/{slot_id}", token_of("pm")).json()["state"] == "stale"
    renewed = api("post", f"/signoffs/{slot_id}/renew", token_of("pm"), {"comment": "re-checked"})
    assert (
        renewed.json()["state"] == "current" and AuditEvent.objects.filter(action="signoff.renewed").exists()
    )
    no_reason = api("post", f"/signoffs/{slot_id}/revoke", token_of("pm"), {})
    assert no_reason.status_code == 400 and fields(no_reason) == ["reason"]
    assert api("post", f"/signoffs/{slot_id}/revoke", token_of("ops"), {"reason": "x"}).status_code == 403
    revoked = api("post", f"/signoffs/{slot_id}/revoke", token_of("admin"), {"reason": "wrong build"})
    assert revoked.status_code == 200 and revoked.json()["state"] == "missing"
    again = api("post", f"/signoffs/{slot_id}/revoke", token_of("admin"), {"reason": "again"})
    assert again.status_code == 409


def test_a_transition_moves_the_status_and_refuses_what_the_page_refuses(api, token_of, plan):
    moved = api(
        "post", "/migrations/webhooks/transition", token_of("ops"), {"to": "preparing", "reason": "kick-off"}
    )
    assert moved.status_code == 200 and moved.json()["status"] == "preparing"
    assert (
        api("post", "/migrations/webhooks/transition", token_of("ops"), {"to": "preparing"}).status_code
        == 200
    )
    assert AuditEvent.objects.filter(action="migration.status_changed").count() == 1
    skip = api("post", "/migrations/webhooks/transition", token_of("ops"), {"to": "completed"})
    assert skip.status_code == 409 and fields(skip) == ["to"]
    gated = api("post", "/migrations/webhooks/transition", token_of("ops"), {"to": "ready"})
    assert gated.status_code == 409 and "phase gate" in gated.json()["detail"][0]["message"]
    no_reason = api("post", "/migrations/webhooks/transition", token_of("ops"), {"to": "aborted"})
    assert no_reason.status_code == 409 and fields(no_reason) == ["reason"]
    unknown = api("post", "/migrations/webhooks/transition", token_of("ops"), {"to": "flying"})
    assert unknown.status_code == 400 and fields(unknown) == ["to"]
    pm = api("post", "/migrations/webhooks/transition", token_of("pm"), {"to": "draft"})
    assert pm.status_code == 403 and "may not create migrations or change their status" in pm.json()["detail"]
    assert api("post", "/migrations/nope/transition", token_of("ops"), {"to": "draft"}).status_code == 404
    assert api("post", "/migrations/webhooks/transition", None, {"to": "draft"}).status_code == 401
    assert Migration.objects.get(pk=plan.pk).status == MigrationStatus.PREPARING


def test_an_admin_override_passes_the_go_live_gate_with_a_reason_and_is_audited(api, token_of, plan):
    migration_services.transition_migration(plan, to=MigrationStatus.PREPARING, by=SYSTEM)
    body = {"to": "ready", "override": True}
    ops = api("post", "/migrations/webhooks/transition", token_of("ops"), {**body, "reason": "x"})
    assert ops.status_code == 403 and "Admin" in ops.json()["detail"]
    no_reason = api("post", "/migrations/webhooks/transition", token_of("admin"), body)
    assert no_reason.status_code == 409 and fields(no_reason) == ["reason"]
    reason = "Sign-offs collected on paper in the go/no-go meeting"
    done = api("post", "/migrations/webhooks/transition", token_of("admin"), {**body, "reason": reason})
    assert done.status_code == 200 and done.json()["status"] == "ready"
    event = AuditEvent.objects.get(action="migration.status_overridden")
    assert event.reason == reason and "not complete" in event.after["gate"]


def test_no_override_passes_the_order_of_statuses(api, token_of, plan):
    body = {"to": "completed", "override": True, "reason": "just do it"}
    response = api("post", "/migrations/webhooks/transition", token_of("admin"), body)
    assert response.status_code == 409 and "No override passes" in response.json()["detail"][0]["message"]


def test_a_traffic_override_also_passes_the_go_live_status_check(api, token_of, plan, admin_user):
    """The override names the go-live gate: moving ready -> rolling out must not refuse it again."""
    migration_services.transition_migration(plan, to=MigrationStatus.PREPARING, by=SYSTEM)
    migration_services.transition_migration(
        plan, to=MigrationStatus.READY, by=Actor.for_user(admin_user), reason="paper", override=True
    )
    body = {"percent": 5, "override": True, "reason": "QA signs tomorrow; 5 % is safe"}
    response = api("post", "/migrations/webhooks/traffic", token_of("admin"), body)
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["traffic_percent"]) == ("rolling_out", 5)
    assert AuditEvent.objects.filter(action="traffic.overridden").exists()


def test_a_rolled_back_migration_says_no_override_passes(api, token_of, plan):
    Migration.objects.filter(pk=plan.pk).update(status=MigrationStatus.ROLLED_BACK)
    body = {"percent": 5, "override": True, "reason": "try"}
    response = api("post", "/migrations/webhooks/traffic", token_of("admin"), body)
    assert response.status_code == 409
    assert "No override passes this" in response.json()["detail"][0]["message"]
