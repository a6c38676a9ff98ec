from celery import shared_task

from checklists import services
from checklists.models import RecurringRule
from migrations_app.models import Migration


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def create_recurring_items() -> int:
    """Beat runs this hourly: each live migration gets this period's recurring items. The unique
    (rule, period) constraint makes a redelivered or repeated run create nothing new."""
    migration_ids = (
        RecurringRule.objects.filter(migration__status__in=services.RECURRING_STATUSES)
        .values_list("migration_id", flat=True)
        .distinct()
    )
    created = 0
    for migration_id in migration_ids:
        migration = Migration.objects.filter(pk=migration_id).first()
        if migration is not None:
            created += services.create_recurring_items(migration)
    return created
