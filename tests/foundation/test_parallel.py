"""Parallel test workers keep to themselves: their own Redis database and test database, which
the processes a test starts (gunicorn, Celery) are handed too (tests/parallel.py)."""

import os

import pytest
from django.conf import settings
from django.db import connection

from tests.parallel import REDIS_DATABASES, isolate_redis, redis_url_for_worker, worker_index
from tests.processes import process_env


def test_each_worker_gets_the_next_redis_database():
    assert redis_url_for_worker("redis://127.0.0.1:6379/12", 0) == "redis://127.0.0.1:6379/12"
    assert redis_url_for_worker("redis://127.0.0.1:6379/12", 3) == "redis://127.0.0.1:6379/15"
    assert redis_url_for_worker("redis://:secret@cache:6380", 2) == "redis://:secret@cache:6380/2"


def test_a_worker_past_the_last_redis_database_is_refused_with_the_numbers():
    with pytest.raises(pytest.UsageError, match=r"gw4 would use Redis database 16.*databases 0-15"):
        redis_url_for_worker("redis://127.0.0.1:6379/12", 4)
    assert REDIS_DATABASES == 16


def test_only_redis_urls_are_rewritten_and_only_in_a_worker():
    environ = {"REDIS_URL": "redis://h:6379/9", "CELERY_BROKER_URL": "golivesql+sqlite:///broker.sqlite3"}
    isolate_redis(environ, None)
    assert environ["REDIS_URL"] == "redis://h:6379/9"
    isolate_redis(environ, 1)
    assert environ == {
        "REDIS_URL": "redis://h:6379/10",
        "CELERY_BROKER_URL": "golivesql+sqlite:///broker.sqlite3",
    }


@pytest.mark.django_db
def test_started_processes_use_this_workers_databases():
    env = process_env()
    index = worker_index()
    name = connection.settings_dict["NAME"]
    assert env["DATABASE_URL"].endswith(f"/{name}")
    assert env["CELERY_BROKER_URL"] == settings.CELERY_BROKER_URL
    assert env["REDIS_URL"] == os.environ["REDIS_URL"]
    if index is not None:  # under pytest-xdist (make test): test_golive_gw1, Redis database base + 1
        assert name.endswith(f"_gw{index}")
