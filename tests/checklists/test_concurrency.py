"""Double clicks and racing requests: one change, one audit row."""

import threading

import pytest
from django.db import connection

from checklists import services
from checklists.models import SignOff
from migrations_app.audit import Actor
from migrations_app.models import AuditEvent, PhaseKind
from tests.checklists.conftest import phase_of, settle

pytestmark = pytest.mark.django_db(transaction=True)


def _race(n, fn):
    barrier = threading.Barrier(n)
    errors = []

    def run():
        try:
            barrier.wait()
            fn()
        except Exception as error:  # collected and asserted on below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_it_ticks_once_under_concurrent_clicks(live, ops):
    item = live.checklist_items.order_by("id").first()
    errors = _race(10, lambda: services.tick_item(item, by=Actor.for_user(ops)))
    assert errors == []
    item.refresh_from_db()
    assert item.state == "done" and item.version == 1
    assert AuditEvent.objects.filter(action="checklist_item.changed", object_id=str(item.pk)).count() == 1


def test_it_signs_once_under_concurrent_clicks(live, pm):
    phase = phase_of(live, PhaseKind.TESTING)
    settle(phase)
    errors = _race(
        10, lambda: services.sign_off_phase(phase, user=pm, role="product_manager", by=Actor.for_user(pm))
    )
    assert errors == []
    assert SignOff.objects.filter(phase=phase).count() == 1
    assert AuditEvent.objects.filter(action="signoff.signed").count() == 1
