"""The Unleash-compatible client API: features, register, metrics, and the connected instances."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from migrations_app.models import MigrationStatus
from migrations_app.rollout import flags
from migrations_app.rollout.models import ClientInstance
from tests.factories import put_live

pytestmark = pytest.mark.django_db

SDK_HEADERS = {
    "HTTP_UNLEASH_APPNAME": "checkout",
    "HTTP_UNLEASH_INSTANCEID": "checkout-1",
    "HTTP_UNLEASH_SDK": "unleash-python-sdk:6.9.1",
}


@pytest.fixture(autouse=True)
def forget_seen():
    flags._seen.clear()


def test_it_lists_migrations_as_flexible_rollout_features(client, live_migration, flags_token):
    # The Unleash SDKs send the token without "Bearer".
    response = client.get("/api/client/features", HTTP_AUTHORIZATION=flags_token, **SDK_HEADERS)
    assert response.status_code == 200
    (feature,) = response.json()["features"]
    assert feature["name"] == "card-payments" and feature["enabled"] is True
    assert feature["strategies"] == [
        {
            "name": "flexibleRollout",
            "parameters": {"rollout": "25", "stickiness": "default", "groupId": "card-payments"},
            "constraints": [],
        }
    ]


def test_it_disables_a_rolled_back_feature(client, migration, flags_token):
    put_live(migration, 0, status=MigrationStatus.ROLLED_BACK)
    (feature,) = client.get("/api/client/features", HTTP_AUTHORIZATION=flags_token).json()["features"]
    assert feature["enabled"] is False and feature["strategies"][0]["parameters"]["rollout"] == "0"


def test_it_answers_304_for_an_unchanged_etag(client, live_migration, flags_token):
    first = client.get("/api/client/features", HTTP_AUTHORIZATION=flags_token)
    again = client.get(
        "/api/client/features", HTTP_AUTHORIZATION=flags_token, HTTP_IF_NONE_MATCH=first["ETag"]
    )
    assert again.status_code == 304
    put_live(live_migration, 50)
    changed = client.get(
        "/api/client/features", HTTP_AUTHORIZATION=flags_token, HTTP_IF_NONE_MATCH=first["ETag"]
    )
    assert changed.status_code == 200


def test_it_refuses_missing_and_wrong_scope_tokens(client, live_migration, operate_token):
    assert client.get("/api/client/features").status_code == 401
    assert client.get("/api/client/features", HTTP_AUTHORIZATION=operate_token).status_code == 403


def test_it_records_a_poll_at_most_every_few_seconds(client, live_migration, flags_token):
    client.get("/api/client/features", HTTP_AUTHORIZATION=flags_token, **SDK_HEADERS)
    instance = ClientInstance.objects.get(app_name="checkout", instance_id="checkout-1")
    assert instance.last_fetch_at is not None and instance.token_name == "flags token"
    with CaptureQueriesContext(connection) as queries:
        for _ in range(20):
            assert (
                client.get("/api/client/features", HTTP_AUTHORIZATION=flags_token, **SDK_HEADERS).status_code
                == 200
            )
    assert not [q for q in queries if "clientinstance" in q["sql"]]


def test_it_accepts_register_and_metrics(client, flags_token):
    register = {
        "appName": "checkout",
        "instanceId": "checkout-2",
        "sdkVersion": "unleash-python-sdk:6.9.1",
        "strategies": ["flexibleRollout"],
        "started": "2026-11-21T10:00:00Z",
        "interval": 15000,
    }
    response = client.post(
        "/api/client/register",
        json.dumps(register),
        content_type="application/json",
        HTTP_AUTHORIZATION=flags_token,
    )
    assert response.status_code == 202
    metrics = {
        "appName": "checkout",
        "instanceId": "checkout-2",
        "bucket": {
            "start": "2026-11-21T10:00:00Z",
            "stop": "2026-11-21T10:01:00Z",
            "toggles": {"card-payments": {"yes": 3, "no": 9}},
        },
    }
    response = client.post(
        "/api/client/metrics",
        json.dumps(metrics),
        content_type="application/json",
        HTTP_AUTHORIZATION=flags_token,
    )
    assert response.status_code == 202
    instance = ClientInstance.objects.get(instance_id="checkout-2")
    assert instance.registered_at and instance.last_metrics_at
    assert instance.last_metrics["toggles"]["card-payments"] == {"yes": 3, "no": 9}


def test_it_answers_400_to_register_without_an_app_name(client, flags_token):
    response = client.post(
        "/api/client/register", "{}", content_type="application/json", HTTP_AUTHORIZATION=flags_token
    )
    assert response.status_code == 400
    assert "appName" in response.json()["error"]
    assert not ClientInstance.objects.exists()


def test_it_shows_connected_instances_on_the_traffic_panel(
    client_for, live_migration, ops, flags_token, client
):
    client.get("/api/client/features", HTTP_AUTHORIZATION=flags_token, **SDK_HEADERS)
    page = client_for(ops).get(f"/migrations/{live_migration.slug}/")
    assert b"checkout-1" in page.content


def test_register_and_metrics_refuse_get_and_missing_tokens(client):
    for path in ("/api/client/register", "/api/client/metrics"):
        assert client.get(path).status_code == 405
        assert client.post(path, "{}", content_type="application/json").status_code == 401
    assert client.post("/api/client/features").status_code == 405
