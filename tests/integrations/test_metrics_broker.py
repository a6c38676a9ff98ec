"""Celery queue depth in /metrics: read from the real Redis broker, absent for any other broker."""

import time

import pytest
from django.conf import settings

from golive_site.celery import app
from migrations_app.tasks import heartbeat
from tests.integrations.helpers import samples, value
from tests.processes import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def empty_queue():
    """No message left by an earlier test; none of this test's left for the next one."""
    assert settings.CELERY_BROKER_URL.startswith("redis://"), "run with REDIS_URL set (make test does)"
    app.control.purge()
    yield
    app.control.purge()


def test_tasks_waiting_in_the_redis_queue_are_counted(scrape, empty_queue):
    text = scrape()
    assert value(text, "golive_celery_broker_up") == 1
    assert value(text, "golive_celery_queue_length", queue="celery") == 0
    for _ in range(3):
        heartbeat.apply_async()  # no worker runs in this test: they wait in the queue
    heartbeat.apply_async(priority=9)  # kombu keeps another list per priority step
    text = scrape()
    assert value(text, "golive_celery_queue_length", queue="celery") == 4
    assert value(text, "golive_celery_unacked_messages") == 0


def test_a_broker_that_is_down_reads_as_down_without_holding_the_scrape(scrape, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    started = time.monotonic()
    text = scrape()
    assert time.monotonic() - started < 3
    assert value(text, "golive_celery_broker_up") == 0
    assert not [name for name, _ in samples(text) if name == "golive_celery_queue_length"]
    assert "golive_traffic_percent" in text  # the rest of the exposition is still there


def test_another_broker_gives_no_queue_families(scrape, settings, tmp_path):
    settings.CELERY_BROKER_URL = f"golivesql+sqlite:///{tmp_path / 'broker.sqlite3'}"
    assert "golive_celery_" not in scrape()
