"""A person clicks rollback while a guardrail fires it, 100 times: one rollback each time, and the
audit names the one who was first."""

import threading

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.models import AuditEvent
from migrations_app.monitoring import services as monitoring
from migrations_app.monitoring.models import Guardrail
from migrations_app.rollout import services as rollout
from migrations_app.rollout.models import Rollback
from tests.factories import make_migration, put_live

pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 100


def _race(manual, guardrail_fires):
    barrier = threading.Barrier(2)
    errors = []

    def run(action):
        try:
            barrier.wait(timeout=10)
            action()
        except Exception as error:
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in (manual, guardrail_fires)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_a_manual_rollback_racing_a_guardrail_makes_exactly_one_and_the_audit_names_the_winner(oncall):
    probe_owner = oncall
    winners = {"oncall-user": 0, "guardrail": 0}
    for n in range(ROUNDS):
        migration = put_live(make_migration(owner=probe_owner, slug=f"race-{n}"), 25)
        probe = monitoring.create_probe(
            migration, by=Actor.system("tests"), name="health", url="http://127.0.0.1:9/"
        )
        kpi = monitoring.add_standard_kpis(migration, probe=probe, by=Actor.system("tests"))[0]
        guardrail = Guardrail.objects.filter(kpi=kpi).first() or Guardrail.objects.create(
            migration=migration, name="p95", kpi=kpi, consecutive=1, min_samples=1
        )
        errors = _race(
            lambda m=migration: rollout.roll_back(m, by=Actor.for_user(oncall), reason="clicked"),
            lambda g=guardrail: monitoring.fire_rollback(g, "p95 over 800 ms", timezone.now()),
        )
        close_old_connections()
        assert not errors, errors
        rollbacks = list(Rollback.objects.filter(migration=migration))
        assert len(rollbacks) == 1, f"round {n}: {len(rollbacks)} rollbacks"
        events = AuditEvent.objects.filter(migration=migration, action="rollback.created")
        assert events.count() == 1, f"round {n}: {events.count()} rollback audit rows"
        assert events.get().actor_label == rollbacks[0].by
        winners["guardrail" if rollbacks[0].by.startswith("guardrail") else "oncall-user"] += 1
    print("winners:", winners)
    assert sum(winners.values()) == ROUNDS
