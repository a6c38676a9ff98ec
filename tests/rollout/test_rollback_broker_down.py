"""A rollback with the broker unreachable answers 200 at once; its webhooks arrive after the broker
returns (real redis-server, gunicorn, Celery worker and beat; nothing mocked)."""

import shutil
import subprocess
import time
from contextlib import contextmanager

import httpx
import pytest

from migrations_app.models import MigrationStatus
from migrations_app.rollout.models import OutboxMessage, OutboxStatus, RollbackHook, new_webhook_secret
from tests.factories import put_live
from tests.processes import _stop, celery_beat, celery_worker, free_port, together, wait_until
from tests.rollout.conftest import gunicorn
from tests.rollout.receiver import webhook_receiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


@contextmanager
def redis_server(port: int, tmp_path):
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed"
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--dir", str(tmp_path)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _pong(port), timeout=10, message=f"redis on {port}")
        yield proc
    finally:
        _stop(proc)


def _pong(port: int) -> bool:
    import redis

    try:
        return redis.Redis(port=port, socket_connect_timeout=0.2).ping()
    except redis.RedisError:
        return False


def test_a_rollback_with_the_broker_down_answers_200_and_delivers_later(
    tmp_path, migration, oncall_operate_token
):
    port = free_port()
    broker = f"redis://127.0.0.1:{port}/0"
    env = {"CELERY_BROKER_URL": broker, "REDIS_URL": broker, "GOLIVE_OUTBOX_DISPATCH_SECONDS": "1"}
    put_live(migration, 50)
    secret = new_webhook_secret()
    with webhook_receiver(secret) as receiver:
        RollbackHook.objects.create(
            migration=migration, name="Deploy pipeline", url=receiver.url, secret=secret
        )
        RollbackHook.objects.create(
            migration=migration, name="Load balancer", url=receiver.url, secret=secret
        )

        with redis_server(port, tmp_path):
            pass  # the broker existed, and is now gone
        assert not _pong(port)

        with gunicorn(tmp_path, **env) as server:
            started = time.monotonic()
            response = httpx.post(
                f"{server.url}/api/v1/migrations/card-payments/rollback",
                json={"reason": "error rate 4 % with the broker down"},
                headers={"Authorization": f"Bearer {oncall_operate_token}"},
                timeout=30,
            )
            elapsed = time.monotonic() - started
            assert response.status_code == 200, response.text
            assert response.json()["already_rolled_back"] is False
            state = httpx.get(
                f"{server.url}/api/v1/migrations/card-payments",
                headers={"Authorization": f"Bearer {oncall_operate_token}"},
            ).json()
            assert (state["traffic_percent"], state["status"]) == (0, MigrationStatus.ROLLED_BACK)
            log = server.log_path.read_text()
        assert "the dispatcher will deliver it" in log, log[-2000:]
        assert elapsed < 5, f"the rollback took {elapsed:.1f}s with the broker down"
        rows = OutboxMessage.objects.filter(migration=migration, kind="webhook")
        assert rows.count() == 2 and set(rows.values_list("status", flat=True)) == {OutboxStatus.PENDING}
        assert receiver.received == []

        with (
            redis_server(port, tmp_path),
            together(celery_worker(tmp_path, **env), celery_beat(tmp_path, **env)),
        ):
            wait_until(
                lambda: set(rows.values_list("status", flat=True)) == {OutboxStatus.DELIVERED},
                timeout=60,
                interval=0.3,
                message="webhooks delivered after the broker returned",
            )
    assert len(receiver.received) == 2
    assert all("payload" in delivery for delivery in receiver.received), receiver.received
    assert {d["headers"]["webhook-id"] for d in receiver.received} == {
        str(pk) for pk in rows.values_list("pk", flat=True)
    }
    assert receiver.received[0]["payload"]["data"]["from_percent"] == 50
    print(f"rollback answered in {elapsed * 1000:.0f} ms with the broker down")


def test_with_the_broker_up_the_webhook_goes_out_at_once_without_beat(
    tmp_path, migration, oncall_operate_token
):
    put_live(migration, 25)
    secret = new_webhook_secret()
    with webhook_receiver(secret) as receiver, celery_worker(tmp_path), gunicorn(tmp_path) as server:
        RollbackHook.objects.create(
            migration=migration, name="Deploy pipeline", url=receiver.url, secret=secret
        )
        response = httpx.post(
            f"{server.url}/api/v1/migrations/card-payments/rollback",
            json={"reason": "errors"},
            headers={"Authorization": f"Bearer {oncall_operate_token}"},
            timeout=30,
        )
        assert response.status_code == 200
        wait_until(lambda: receiver.received, timeout=20, message="the webhook")
    assert "payload" in receiver.received[0]
    assert OutboxMessage.objects.get().status == OutboxStatus.DELIVERED
