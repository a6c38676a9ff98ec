"""Thin Celery wrappers around the outbox and the scheduled steps."""

from celery import shared_task

from migrations_app.rollout import outbox, schedule


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_outbox_message(*, message_id: str) -> None:
    # Retries are the outbox's own (next_attempt_at + the dispatcher), so a lost task loses nothing.
    outbox.deliver(message_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def dispatch_outbox() -> int:
    return outbox.dispatch_due()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_scheduled_steps() -> int:
    # Each step is locked and checked in its own transaction: two beats or a redelivery apply it once.
    return len(schedule.run_due_steps())
