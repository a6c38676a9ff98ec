import pytest
from django.core.exceptions import ValidationError

from migrations_app import services, states
from migrations_app.audit import Actor
from migrations_app.models import AuditEvent, Migration, MigrationStatus

pytestmark = pytest.mark.django_db

ALL = list(MigrationStatus.values)
VALID = [(source, target) for source, targets in states.TRANSITIONS.items() for target in targets]
INVALID = [(s, t) for s in ALL for t in ALL if s != t and t not in states.TRANSITIONS[s]]
ACTOR = Actor.system("tests")


def _at(migration, status):
    Migration.objects.filter(pk=migration.pk).update(status=status)
    migration.refresh_from_db()
    return migration


@pytest.mark.parametrize(("source", "target"), VALID)
def test_it_allows_every_valid_transition_and_audits_it(migration, source, target):
    _at(migration, source)
    services.transition_migration(migration, to=target, by=ACTOR, reason="planned")
    migration.refresh_from_db()
    assert migration.status == target
    event = AuditEvent.objects.filter(migration=migration, action="migration.status_changed").first()
    assert event.before == {"status": source}
    assert event.after == {"status": target}
    assert event.reason == "planned"


@pytest.mark.parametrize(("source", "target"), INVALID)
def test_it_refuses_every_invalid_transition_and_changes_nothing(migration, source, target):
    _at(migration, source)
    events_before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.transition_migration(migration, to=target, by=ACTOR, reason="try")
    message = " ".join(refused.value.messages)
    assert MigrationStatus(target).label in message or "cannot change any more" in message
    migration.refresh_from_db()
    assert migration.status == source
    assert AuditEvent.objects.count() == events_before


def test_the_valid_and_invalid_sets_cover_every_pair():
    assert len(VALID) + len(INVALID) == len(ALL) * (len(ALL) - 1)
    assert states.TRANSITIONS[MigrationStatus.COMPLETED] == {}
    assert states.TRANSITIONS[MigrationStatus.ABORTED] == {}


@pytest.mark.parametrize("target", sorted(states.REASON_REQUIRED))
def test_it_asks_for_a_reason_when_stopping_a_go_live(migration, target):
    source = next(s for s, targets in states.TRANSITIONS.items() if target in targets)
    _at(migration, source)
    with pytest.raises(ValidationError) as refused:
        services.transition_migration(migration, to=target, by=ACTOR, reason="   ")
    assert "reason" in refused.value.message_dict
    migration.refresh_from_db()
    assert migration.status == source


@pytest.mark.parametrize("source", sorted(states.RESUMED_FROM))
def test_it_asks_for_a_reason_when_resuming_after_a_pause_or_a_rollback(migration, source):
    _at(migration, source)
    with pytest.raises(ValidationError) as refused:
        services.transition_migration(migration, to=MigrationStatus.ROLLING_OUT, by=ACTOR, reason="")
    assert "reason" in refused.value.message_dict
    migration.refresh_from_db()
    assert migration.status == source


def test_starting_a_rollout_from_ready_needs_no_reason():
    assert not states.needs_reason(MigrationStatus.READY, MigrationStatus.ROLLING_OUT)


def test_repeating_a_transition_is_a_no_op(migration):
    services.transition_migration(migration, to=MigrationStatus.PREPARING, by=ACTOR)
    count = AuditEvent.objects.count()
    services.transition_migration(migration, to=MigrationStatus.PREPARING, by=ACTOR)
    assert AuditEvent.objects.count() == count


def test_an_unknown_status_is_refused_by_name(migration):
    with pytest.raises(ValidationError) as refused:
        services.transition_migration(migration, to="launched", by=ACTOR)
    assert "launched" in refused.value.message_dict["to"][0]
