import datetime as dt

import pytest

from checklists import services, tasks
from checklists.models import ChecklistItem
from migrations_app.models import AuditEvent, MigrationStatus
from tests.processes import celery_beat, celery_worker, wait_until

TODAY = dt.date(2030, 8, 14)  # a Wednesday in ISO week 33, Q3


def _go_live(migration, status=MigrationStatus.MONITORING):
    # The status itself is what matters here; the gate path is tested in test_gates.
    type(migration).objects.filter(pk=migration.pk).update(status=status)
    migration.refresh_from_db()


def test_period_keys_and_due_dates():
    assert services.period_of("weekly", TODAY) == ("2030-W33", dt.date(2030, 8, 18))
    assert services.period_of("monthly", TODAY) == ("2030-08", dt.date(2030, 8, 31))
    assert services.period_of("quarterly", TODAY) == ("2030-Q3", dt.date(2030, 9, 30))
    assert services.period_of("yearly", TODAY) == ("2030", dt.date(2030, 12, 31))
    assert services.period_of("monthly", dt.date(2030, 12, 3)) == ("2030-12", dt.date(2030, 12, 31))


def test_recurring_work_is_created_with_owners_and_due_dates_once_per_period(live, techlead, ops):
    _go_live(live)
    assert services.create_recurring_items(live, today=TODAY) == 3
    items = ChecklistItem.objects.filter(migration=live, recurring_rule__isnull=False).order_by("title")
    assert [(i.title, i.owner, i.due_date) for i in items] == [
        ("Backup restoration test (2030-Q3)", ops, dt.date(2030, 9, 30)),
        ("Security audit (2030-08)", techlead, dt.date(2030, 8, 31)),
        ("Weekly payment performance review (2030-W33)", techlead, dt.date(2030, 8, 18)),
    ]
    assert all(i.section.name == "Recurring work" and not i.required for i in items)
    # A repeated or redelivered run in the same period creates nothing.
    assert services.create_recurring_items(live, today=TODAY) == 0
    assert services.create_recurring_items(live, today=TODAY + dt.timedelta(days=3)) == 0
    # Next week brings only the next weekly review.
    assert services.create_recurring_items(live, today=TODAY + dt.timedelta(days=7)) == 1
    assert AuditEvent.objects.filter(action="checklist_item.recurring_created").count() == 4


def test_no_recurring_work_before_the_migration_is_live(live):
    assert services.create_recurring_items(live, today=TODAY) == 0
    _go_live(live, MigrationStatus.ROLLING_OUT)
    assert services.create_recurring_items(live, today=TODAY) == 0
    _go_live(live, MigrationStatus.COMPLETED)
    assert services.create_recurring_items(live, today=TODAY) == 3


def test_the_task_covers_every_live_migration_and_is_idempotent(live):
    _go_live(live)
    assert tasks.create_recurring_items() == 3
    assert tasks.create_recurring_items() == 0


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_celery_beat_creates_the_recurring_items_through_a_worker(tmp_path, template, ops, techlead):
    migration = services.create_migration_from_template(
        by=services.Actor.system("tests"),
        template=template,
        name="Beat",
        slug="beat",
        owner=ops,
        integration="x",
    )
    _go_live(migration)
    with celery_worker(tmp_path), celery_beat(tmp_path, GOLIVE_RECURRING_ITEMS_SECONDS="1"):
        wait_until(
            lambda: (
                ChecklistItem.objects.filter(migration=migration, recurring_rule__isnull=False).count() == 3
            ),
            timeout=60,
            message="beat to create three recurring items",
        )
    assert ChecklistItem.objects.filter(migration=migration, recurring_rule__isnull=False).count() == 3
