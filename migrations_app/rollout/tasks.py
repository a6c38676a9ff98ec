"""Thin Celery wrappers around the outbox."""

from celery import shared_task

from migrations_app.rollout import outbox


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def deliver_outbox_message(*, message_id: str) -> None:
    # Retries are the outbox's own (next_attempt_at + the dispatcher), so a lost task loses nothing.
    outbox.deliver(message_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def dispatch_outbox() -> int:
    return outbox.dispatch_due()
