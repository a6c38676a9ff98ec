import json

import pytest

from migrations_app.monitoring.models import Sample

pytestmark = pytest.mark.django_db


def post(client, slug, body, token):
    return client.post(
        f"/api/v1/migrations/{slug}/samples",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_it_stores_values_and_counters(client, migration, ingest_token):
    body = {
        "samples": [
            {"metric": "payment_success", "ok": 998, "failed": 2},
            {"metric": "checkout_latency_ms", "value": 412.5, "at": "2026-01-01T00:00:00Z"},
        ]
    }
    from django.utils import timezone

    body["samples"][1]["at"] = timezone.now().isoformat()
    response = post(client, migration.slug, body, ingest_token)
    assert response.status_code == 202, response.content
    assert response.json() == {"stored": 2}
    counters = Sample.objects.get(metric="payment_success")
    assert (counters.ok, counters.failed, counters.value) == (998, 2, None)
    assert Sample.objects.get(metric="checkout_latency_ms").value == 412.5


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"metric": "Bad Name", "value": 1}, "samples[1].metric"),
        ({"metric": "x", "value": "12"}, "samples[1].value"),
        ({"metric": "x"}, "samples[1].value"),
        ({"metric": "x", "value": 1, "ok": 2}, "samples[1].value"),
        ({"metric": "x", "ok": -1}, "samples[1].ok"),
        ({"metric": "x", "failed": 1.5}, "samples[1].failed"),
        ({"metric": "x", "value": 1, "at": "yesterday"}, "samples[1].at"),
        ({"metric": "x", "value": 1, "at": "2026-01-01T00:00:00"}, "samples[1].at"),
        ({"metric": "x", "value": 1, "colour": "red"}, "samples[1].colour"),
        ("just text", "samples[1]"),
    ],
)
def test_a_bad_item_answers_400_naming_it_and_stores_nothing(client, migration, ingest_token, item, field):
    body = {"samples": [{"metric": "payment_success", "ok": 1}, item]}
    response = post(client, migration.slug, body, ingest_token)
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == field
    assert Sample.objects.count() == 0


def test_it_refuses_more_than_1000_items(client, migration, ingest_token):
    body = {"samples": [{"metric": "m", "value": 1}] * 1001}
    response = post(client, migration.slug, body, ingest_token)
    assert response.status_code == 400
    assert "1000" in response.json()["detail"][0]["message"]
    assert Sample.objects.count() == 0
    assert (
        post(
            client, migration.slug, {"samples": [{"metric": "m", "value": 1}] * 1000}, ingest_token
        ).status_code
        == 202
    )


def test_it_refuses_a_token_without_the_ingest_scope(client, migration, ops):
    from migrations_app.audit import Actor
    from migrations_app.rollout import tokens

    _, raw = tokens.create_token(user=ops, name="flags only", scopes="flags", by=Actor.system("tests"))
    response = post(client, migration.slug, {"samples": [{"metric": "m", "value": 1}]}, raw)
    assert response.status_code == 403
    assert (
        post(client, migration.slug, {"samples": [{"metric": "m", "value": 1}]}, "glv_nonsense").status_code
        == 401
    )
    assert Sample.objects.count() == 0


def test_it_answers_404_for_an_unknown_migration(client, migration, ingest_token):
    assert (
        post(client, "no-such", {"samples": [{"metric": "m", "value": 1}]}, ingest_token).status_code == 404
    )


def test_it_stores_a_full_batch_exactly_as_sent_tagged_with_the_traffic_level(
    client, migration, ingest_token
):
    import datetime as dt

    from django.utils import timezone

    from tests.factories import put_live

    migration = put_live(migration, 25)
    sent_at = timezone.now().replace(microsecond=123456) - dt.timedelta(minutes=1)
    local = sent_at.astimezone(dt.timezone(dt.timedelta(hours=2)))  # any offset: the same instant
    body = {
        "samples": [
            {"metric": "checkout_latency_ms", "value": n + 0.5, "at": local.isoformat()}
            if n % 2
            else {"metric": "payment_success", "ok": n, "failed": 1}
            for n in range(1000)
        ]
    }
    assert post(client, migration.slug, body, ingest_token).status_code == 202
    assert Sample.objects.filter(migration=migration).count() == 1000
    latencies = Sample.objects.filter(metric="checkout_latency_ms")
    assert sorted(latencies.values_list("value", flat=True)) == [n + 0.5 for n in range(1, 1000, 2)]
    assert set(latencies.values_list("at", flat=True)) == {sent_at}
    assert set(latencies.values_list("ok", "failed")) == {(None, None)}
    counters = Sample.objects.filter(metric="payment_success")
    assert sorted(counters.values_list("ok", flat=True)) == list(range(0, 1000, 2))
    assert set(counters.values_list("value", flat=True)) == {None}
    assert set(Sample.objects.values_list("traffic_percent", flat=True)) == {25}
