from celery import shared_task
from django.db.models import F
from django.utils import timezone

from migrations_app.models import WorkerHeartbeat


@shared_task(bind=True, acks_late=True, ignore_result=True)
def heartbeat(self) -> None:
    """Record that a worker is alive (beat sends one every 30 s)."""
    hostname = self.request.hostname or "unknown"
    now = timezone.now()
    _, created = WorkerHeartbeat.objects.get_or_create(
        hostname=hostname, defaults={"last_seen": now, "beats": 1}
    )
    if not created:
        WorkerHeartbeat.objects.filter(hostname=hostname).update(last_seen=now, beats=F("beats") + 1)
