"""Ingestion never answers an error for a batch it stored, and a retry stores nothing new.

The broker (our own redis-server port, with nothing listening) and the worker are down while an
application pushes through a real gunicorn: every batch answers 202, a retry with the same
`Idempotency-Key` answers the same and stores nothing. When Redis, a worker and beat come back,
beat evaluates the guardrails of the batches whose evaluation could not be published."""

import json

import httpx
import pytest

from migrations_app.audit import Actor
from migrations_app.monitoring.models import Guardrail, IngestBatch, Kpi, Sample
from migrations_app.rollout import tokens
from tests.factories import put_live
from tests.processes import celery_beat, celery_worker, free_port, together, wait_until
from tests.rollout.conftest import gunicorn
from tests.rollout.test_rollback_broker_down import redis_server

pytestmark = pytest.mark.django_db(transaction=True)

BATCH = {
    "samples": [{"metric": "payment_success", "ok": 97, "failed": 3}, {"metric": "latency_ms", "value": 120}]
}


def guardrail_on(migration) -> Guardrail:
    kpi = Kpi.objects.create(
        migration=migration, name="Payment success", metric="payment_success", critical=99, window_seconds=300
    )
    return Guardrail.objects.create(
        migration=migration, name="Payment success", kpi=kpi, consecutive=3, min_samples=1, action="alert"
    )


def ingest_token(user) -> str:
    tokens.cache.clear()
    return tokens.create_token(user=user, name="shop backend", scopes="ingest", by=Actor.system("tests"))[1]


def push(client, slug, token, key=None, body=BATCH):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(
        f"/api/v1/migrations/{slug}/samples",
        data=json.dumps(body),
        content_type="application/json",
        **headers,
    )


def test_a_retry_with_the_same_key_stores_nothing_new_and_answers_the_same(client, migration, ops):
    token = ingest_token(ops)
    first = push(client, migration.slug, token, key="7b0c1f5e-batch-1")
    again = push(client, migration.slug, token, key="7b0c1f5e-batch-1")
    other = push(client, migration.slug, token, key="7b0c1f5e-batch-2")
    assert (first.status_code, again.status_code, other.status_code) == (202, 202, 202)
    assert first.json() == again.json() == {"stored": 2}
    assert Sample.objects.count() == 4  # two batches, not three
    assert IngestBatch.objects.filter(migration=migration).count() == 2


def test_batches_without_a_key_are_each_stored(client, migration, ops):
    token = ingest_token(ops)
    assert push(client, migration.slug, token).status_code == 202
    assert push(client, migration.slug, token).status_code == 202
    assert Sample.objects.count() == 4


@pytest.mark.parametrize("key", ["", "has space", "x" * 201, "caf\u00e9"])
def test_an_unusable_key_is_refused_naming_the_header(client, migration, ops, key):
    response = client.post(
        f"/api/v1/migrations/{migration.slug}/samples",
        data=json.dumps(BATCH),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {ingest_token(ops)}",
        headers={"Idempotency-Key": key.encode().decode("latin-1")},
    )
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "Idempotency-Key"
    assert Sample.objects.count() == 0


@pytest.mark.services
def test_with_broker_and_worker_down_every_batch_answers_202_once_stored_and_is_evaluated_later(
    tmp_path, migration, ops
):
    put_live(migration, 25)
    guardrail = guardrail_on(migration)
    token = ingest_token(ops)
    port = free_port()  # nothing listens here until the broker "comes back"
    broker = f"redis://127.0.0.1:{port}/0"
    env = {"CELERY_BROKER_URL": broker, "REDIS_URL": broker, "GOLIVE_OUTBOX_DISPATCH_SECONDS": "1"}
    url = f"/api/v1/migrations/{migration.slug}/samples"
    headers = {"Authorization": f"Bearer {token}"}
    with (
        gunicorn(tmp_path, **env) as server,
        httpx.Client(base_url=server.url, headers=headers, timeout=10) as app,
    ):
        answers = []
        for n in range(5):  # five batches, each sent twice as a client that lost the answer would
            for _ in range(2):
                response = app.post(url, json=BATCH, headers={"Idempotency-Key": f"batch-{n}"})
                answers.append((response.status_code, response.json()))
        assert answers == [(202, {"stored": 2})] * 10
        assert Sample.objects.filter(migration=migration).count() == 10
        assert IngestBatch.objects.filter(evaluated_at__isnull=True).count() == 5
        assert Guardrail.objects.get(pk=guardrail.pk).last_evaluated_at is None

        with (
            redis_server(port, tmp_path),
            together(celery_worker(tmp_path, **env), celery_beat(tmp_path, **env)),
        ):
            wait_until(
                lambda: not IngestBatch.objects.filter(evaluated_at__isnull=True).exists(),
                timeout=30,
                interval=0.2,
                message="beat evaluating the batches stored while the broker was down",
            )
    assert Guardrail.objects.get(pk=guardrail.pk).last_evaluated_at is not None
    assert Sample.objects.filter(migration=migration).count() == 10
