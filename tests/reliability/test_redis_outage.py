"""Redis (the broker) stops for a minute in the middle of a go-live. golive runs on its own
redis-server on another port, with gunicorn, a Celery worker and beat; nothing is mocked.

During the outage: logins and pages work, a rollback answers 200 in under 2 s and OFREP shows
0 % within 1 s. After Redis returns: every queued webhook arrives within 60 s, none twice."""

import os
import time
from contextlib import ExitStack

import httpx
import pytest

from migrations_app.rollout.models import OutboxMessage, OutboxStatus, RollbackHook, new_webhook_secret
from tests.factories import put_live
from tests.processes import (
    _stop,
    celery_beat,
    celery_worker,
    free_port,
    logged_in_client,
    together,
    wait_until,
)
from tests.rollout.conftest import gunicorn
from tests.rollout.receiver import webhook_receiver
from tests.rollout.test_rollback_broker_down import _pong, redis_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]
OUTAGE_SECONDS = float(os.environ.get("GOLIVE_TEST_REDIS_OUTAGE_SECONDS", "60"))


def test_a_redis_outage_keeps_golive_working_and_loses_no_webhook(tmp_path, migration, ops, oncall):
    from migrations_app.audit import Actor
    from migrations_app.rollout import tokens

    _, raw = tokens.create_token(
        user=oncall, name="pipeline", scopes=["operate", "flags"], by=Actor.system("tests")
    )
    auth = {"Authorization": f"Bearer {raw}"}
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    env = {"CELERY_BROKER_URL": broker, "REDIS_URL": broker, "GOLIVE_OUTBOX_DISPATCH_SECONDS": "1"}
    put_live(migration, 50)
    secret = new_webhook_secret()
    # The second redis-server is entered on this stack, so it stays up until golive's processes
    # have stopped: a worker stopped with its broker gone waits out its reconnect loop first.
    with webhook_receiver(secret) as receiver, ExitStack() as redis_back:
        for name in ("Deploy pipeline", "Load balancer"):
            RollbackHook.objects.create(migration=migration, name=name, url=receiver.url, secret=secret)
        with (
            redis_server(port, tmp_path) as first_redis,
            together(
                gunicorn(tmp_path, **env), celery_worker(tmp_path, **env), celery_beat(tmp_path, **env)
            ) as (server, _worker, _beat),
        ):
            assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
            _stop(first_redis)  # Redis goes away (our own redis-server, stopped by its PID)
            outage_started = time.monotonic()
            assert not _pong(port)

            # Pages and logins keep working.
            browser = logged_in_client(server.url, ops.username, timeout=10)
            assert browser.get(f"/migrations/{migration.slug}/").status_code == 200
            assert browser.get(f"/migrations/{migration.slug}/control-room/").status_code == 200

            # Rollback answers 200 in under 2 s; OFREP shows 0 % within 1 s.
            started = time.monotonic()
            response = httpx.post(
                f"{server.url}/api/v1/migrations/{migration.slug}/rollback",
                json={"reason": "error rate up while Redis is down"},
                headers=auth,
                timeout=30,
            )
            rollback_seconds = time.monotonic() - started
            assert response.status_code == 200, response.text
            assert rollback_seconds < 2, f"rollback took {rollback_seconds:.2f}s"

            def ofrep_zero():
                answer = httpx.post(
                    f"{server.url}/ofrep/v1/evaluate/flags/{migration.slug}",
                    json={"context": {"targetingKey": "user-42"}},
                    headers=auth,
                    timeout=5,
                ).json()
                return answer.get("value") is False and answer.get("metadata", {}).get("percent") == 0

            visible = wait_until(ofrep_zero, timeout=1.0, interval=0.05, message="OFREP at 0 % within 1 s")
            assert visible
            assert receiver.received == []

            # Stay down for the rest of the outage, then bring Redis back on the same port.
            time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - outage_started)))
            assert browser.get(f"/migrations/{migration.slug}/").status_code == 200
            redis_back.enter_context(redis_server(port, tmp_path))
            returned = time.monotonic()
            rows = OutboxMessage.objects.filter(migration=migration, kind="webhook")
            wait_until(
                lambda: (
                    rows.count() == 2
                    and set(rows.values_list("status", flat=True)) == {OutboxStatus.DELIVERED}
                    and len(receiver.received) >= 2
                ),
                timeout=60,
                interval=0.3,
                message="every webhook delivered within 60 s after Redis returned",
            )
            delivered_after = time.monotonic() - returned
            time.sleep(3)  # a duplicate would arrive now
    ids = [d["headers"]["webhook-id"] for d in receiver.received]
    assert len(ids) == 2 and len(set(ids)) == 2, ids
    print(
        f"rollback {rollback_seconds * 1000:.0f} ms during the outage; webhooks {delivered_after:.1f} s after Redis returned"
    )
