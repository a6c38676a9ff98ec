import pytest
from django.db import DatabaseError, connection, transaction

from migrations_app import audit, services
from migrations_app.audit import Actor
from migrations_app.models import AuditEvent, MigrationRole, MigrationRoleName
from tests.factories import make_migration

pytestmark = pytest.mark.django_db


def test_creating_a_migration_records_who_and_what(ops):
    migration = make_migration(owner=ops, slug="acme-pay", name="Acme Pay")
    event = AuditEvent.objects.get(action="migration.created", migration=migration)
    assert event.actor_kind == "system"
    assert event.after["slug"] == "acme-pay"
    assert event.after["owner"] == "ops-user"


def test_updating_a_migration_records_only_what_changed(migration, ops):
    services.update_migration(migration, by=Actor.for_user(ops), integration="Beta Pay", name=migration.name)
    event = AuditEvent.objects.get(action="migration.updated")
    assert event.before == {"integration": "Acme Payments"}
    assert event.after == {"integration": "Beta Pay"}
    assert event.actor_user == ops
    assert event.actor_label == "ops-user"


def test_an_update_that_changes_nothing_records_nothing(migration, ops):
    count = AuditEvent.objects.count()
    services.update_migration(migration, by=Actor.for_user(ops), name=migration.name)
    assert AuditEvent.objects.count() == count


def test_assigning_and_removing_a_role_is_audited_once(migration, pm):
    actor = Actor.system("tests")
    assignment = services.assign_role(migration, user=pm, role=MigrationRoleName.PRODUCT_MANAGER, by=actor)
    services.assign_role(migration, user=pm, role=MigrationRoleName.PRODUCT_MANAGER, by=actor)
    assert AuditEvent.objects.filter(action="role.assigned").count() == 1
    services.remove_role(assignment, by=actor)
    assert not MigrationRole.objects.exists()
    removed = AuditEvent.objects.get(action="role.removed")
    assert removed.before == {"user": "pm-user", "role": "product_manager"}


def test_the_orm_refuses_to_edit_or_delete_audit_events(migration):
    event = AuditEvent.objects.first()
    event.reason = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == ""


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE migrations_app_auditevent SET reason = 'rewritten'",
        "DELETE FROM migrations_app_auditevent",
    ],
)
def test_postgresql_itself_refuses_update_and_delete_on_audit_rows(migration, sql):
    assert connection.vendor == "postgresql"
    count = AuditEvent.objects.count()
    with (
        pytest.raises(DatabaseError, match="audit_append_only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.count() == count
    assert not AuditEvent.objects.filter(reason="rewritten").exists()


def test_a_rolled_back_change_leaves_no_audit_row(ops):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_migration(owner=ops, slug="never")
        raise RuntimeError("the change fails after its audit row was written")
    assert not AuditEvent.objects.filter(object_repr__contains="never").exists()
    assert not AuditEvent.objects.filter(after__slug="never").exists()


def test_request_id_and_client_ip_are_recorded_for_web_changes(client_for, ops, migration):
    client = client_for(ops)
    client.post(
        f"/migrations/{migration.slug}/transition/",
        {"to": "preparing"},
        HTTP_X_REQUEST_ID="req-42",
        REMOTE_ADDR="203.0.113.9",
    )
    event = AuditEvent.objects.get(action="migration.status_changed")
    assert event.request_id == "req-42"
    assert event.client_ip == "203.0.113.9"
    assert event.actor_user == ops


def test_the_actor_can_be_an_api_token(migration, ops):
    class Token:
        name = "deploy-pipeline"
        user = ops

    audit.record(Actor.for_token(Token()), "traffic.changed", migration, after={"percent": 5})
    event = AuditEvent.objects.get(action="traffic.changed")
    assert event.actor_kind == "token"
    assert event.actor_label == "token deploy-pipeline (ops-user)"
