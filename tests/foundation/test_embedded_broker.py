"""With no Redis, golive's Celery runs on kombu's SQLAlchemy transport over a SQLite file.
This proves it delivers every task sent by several producer processes at once to a real worker."""

import subprocess
import sys

import pytest

from migrations_app.models import WorkerHeartbeat
from tests.processes import ROOT, celery_worker, process_env, wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PRODUCERS = 4
TASKS_EACH = 100
SEND = (
    "import django; django.setup()\n"
    "from migrations_app.tasks import heartbeat\n"
    f"for _ in range({TASKS_EACH}): heartbeat.delay()\n"
)


def test_the_embedded_broker_delivers_every_task_from_concurrent_producers(tmp_path):
    broker = f"golivesql+sqlite:///{tmp_path / 'broker.sqlite3'}"
    with celery_worker(tmp_path, concurrency=2, CELERY_BROKER_URL=broker):
        producers = [
            subprocess.Popen(
                [sys.executable, "-c", SEND], cwd=ROOT, env=process_env(CELERY_BROKER_URL=broker)
            )
            for _ in range(PRODUCERS)
        ]
        assert [p.wait(timeout=120) for p in producers] == [0] * PRODUCERS

        def delivered():
            return sum(WorkerHeartbeat.objects.values_list("beats", flat=True))

        wait_until(
            lambda: delivered() >= PRODUCERS * TASKS_EACH,
            timeout=90,
            interval=0.5,
            message=f"{PRODUCERS * TASKS_EACH} heartbeats",
        )
        assert delivered() == PRODUCERS * TASKS_EACH
