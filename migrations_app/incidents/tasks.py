"""Thin Celery wrappers: the beat runs both every minute or so; both are idempotent."""

from celery import shared_task

from migrations_app.incidents import announcements, escalation, services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def escalate_due() -> int:
    return escalation.escalate_due()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_due_announcements() -> int:
    return announcements.send_due()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def open_for_fired_guardrails() -> int:

    return services.open_for_fired_guardrails()
