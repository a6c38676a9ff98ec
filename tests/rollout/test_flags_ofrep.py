"""OFREP 0.3.0 endpoints: shapes validated against the spec's schemas, errors, ETag, no queries."""

import json
from pathlib import Path

import pytest
import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from migrations_app.models import MigrationStatus
from migrations_app.rollout import bucketing, selectors, tokens
from tests.factories import make_migration, put_live

pytestmark = pytest.mark.django_db

SPEC = yaml.safe_load((Path(__file__).resolve().parents[3] / "shared/specs/ofrep/openapi.yaml").read_text())
# The spec's codeDefaultFlag ("has no `value` property") is written as `properties: {}`, which every
# object matches, so `oneOf` [booleanFlag, codeDefaultFlag] rejects every boolean answer. We state the
# documented intent (no `value`) and validate everything else exactly as published.
SPEC["components"]["schemas"]["codeDefaultFlag"]["not"] = {"required": ["value"]}
# OpenAPI 3.1 schemas are JSON Schema 2020-12; the whole document is one resource for $refs.
REGISTRY = Registry().with_resource(
    "urn:ofrep", Resource.from_contents({"$schema": "https://json-schema.org/draft/2020-12/schema", **SPEC})
)


def assert_matches(schema_name: str, data) -> None:
    validator = Draft202012Validator(
        {"$ref": f"urn:ofrep#/components/schemas/{schema_name}"}, registry=REGISTRY
    )
    errors = sorted(validator.iter_errors(data), key=str)
    assert not errors, [error.message for error in errors]


def post(client, path, body, token, **headers):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.post(path, data, content_type="application/json", **auth, **headers)


def _user_in(key, percent, inside=True):
    return next(
        f"user-{n}" for n in range(1000) if bucketing.is_in_rollout(key, f"user-{n}", percent) is inside
    )


def test_it_evaluates_a_split_flag_per_user(client, live_migration, flags_token):
    inside, outside = _user_in("card-payments", 25), _user_in("card-payments", 25, inside=False)
    for user, expected in ((inside, True), (outside, False)):
        response = post(
            client, "/ofrep/v1/evaluate/flags/card-payments", {"context": {"targetingKey": user}}, flags_token
        )
        assert response.status_code == 200
        body = response.json()
        assert_matches("serverEvaluationSuccess", body)
        assert (body["key"], body["value"], body["reason"]) == ("card-payments", expected, "SPLIT")


@pytest.mark.parametrize(
    ("percent", "status", "value", "reason"),
    [
        (100, MigrationStatus.MONITORING, True, "STATIC"),
        (0, MigrationStatus.ROLLING_OUT, False, "DISABLED"),
        (25, MigrationStatus.ROLLED_BACK, False, "DISABLED"),
        (0, MigrationStatus.READY, False, "DISABLED"),
    ],
)
def test_it_answers_static_and_disabled(client, migration, flags_token, percent, status, value, reason):
    put_live(migration, percent, status=status)
    body = post(
        client, "/ofrep/v1/evaluate/flags/card-payments", {"context": {"targetingKey": "u1"}}, flags_token
    ).json()
    assert_matches("serverEvaluationSuccess", body)
    assert (body["value"], body["reason"]) == (value, reason)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"context": {}}, "TARGETING_KEY_MISSING"),
        ({"context": {"targetingKey": ""}}, "TARGETING_KEY_MISSING"),
        ("{not json", "PARSE_ERROR"),
        ({"context": "user-1"}, "INVALID_CONTEXT"),
        ({"context": {"targetingKey": 42}}, "INVALID_CONTEXT"),
        ([], "INVALID_CONTEXT"),
    ],
)
def test_it_answers_400_with_the_spec_error_codes(client, live_migration, flags_token, body, code):
    single = post(client, "/ofrep/v1/evaluate/flags/card-payments", body, flags_token)
    assert single.status_code == 400
    assert_matches("evaluationFailure", single.json())
    assert single.json()["errorCode"] == code
    bulk = post(client, "/ofrep/v1/evaluate/flags", body, flags_token)
    assert bulk.status_code == 400
    assert_matches("bulkEvaluationFailure", bulk.json())
    assert bulk.json()["errorCode"] == code


def test_it_answers_404_for_an_unknown_flag(client, live_migration, flags_token):
    response = post(client, "/ofrep/v1/evaluate/flags/nope", {"context": {"targetingKey": "u"}}, flags_token)
    assert response.status_code == 404
    assert_matches("flagNotFound", response.json())
    assert response.json()["errorCode"] == "FLAG_NOT_FOUND"


def test_it_answers_401_without_a_valid_token_and_403_without_the_flags_scope(
    client, live_migration, operate_token
):
    body = {"context": {"targetingKey": "u"}}
    assert post(client, "/ofrep/v1/evaluate/flags/card-payments", body, None).status_code == 401
    assert post(client, "/ofrep/v1/evaluate/flags/card-payments", body, "glv_bogus_token").status_code == 401
    assert post(client, "/ofrep/v1/evaluate/flags/card-payments", body, operate_token).status_code == 403
    assert post(client, "/ofrep/v1/evaluate/flags", body, operate_token).status_code == 403


def test_it_accepts_the_x_api_key_header(client, live_migration, flags_token):
    response = post(
        client,
        "/ofrep/v1/evaluate/flags/card-payments",
        {"context": {"targetingKey": "u"}},
        None,
        HTTP_X_API_KEY=flags_token,
    )
    assert response.status_code == 200


def test_it_evaluates_every_flag_in_bulk_with_an_etag(client, live_migration, flags_token, ops):
    other = make_migration(owner=ops, slug="payouts")
    put_live(other, 100, status=MigrationStatus.MONITORING)
    response = post(client, "/ofrep/v1/evaluate/flags", {"context": {"targetingKey": "user-7"}}, flags_token)
    assert response.status_code == 200
    body = response.json()
    assert_matches("bulkEvaluationSuccess", body)
    assert {flag["key"]: flag["reason"] for flag in body["flags"]} == {
        "card-payments": "SPLIT",
        "payouts": "STATIC",
    }
    etag = response["ETag"]
    again = post(
        client,
        "/ofrep/v1/evaluate/flags",
        {"context": {"targetingKey": "user-7"}},
        flags_token,
        HTTP_IF_NONE_MATCH=etag,
    )
    assert again.status_code == 304 and again.content == b""
    other_user = post(
        client,
        "/ofrep/v1/evaluate/flags",
        {"context": {"targetingKey": "user-8"}},
        flags_token,
        HTTP_IF_NONE_MATCH=etag,
    )
    assert other_user.status_code == 200
    put_live(other, 50)
    changed = post(
        client,
        "/ofrep/v1/evaluate/flags",
        {"context": {"targetingKey": "user-7"}},
        flags_token,
        HTTP_IF_NONE_MATCH=etag,
    )
    assert changed.status_code == 200 and changed["ETag"] != etag


def test_it_makes_no_database_query_per_evaluation_in_steady_state(
    client, live_migration, flags_token, monkeypatch
):
    # Steady state: the caches are fresh (a slow test machine must not see a scheduled rebuild).
    monkeypatch.setattr(selectors, "SNAPSHOT_SECONDS", 60)
    monkeypatch.setattr(tokens, "CACHE_SECONDS", 60)
    body = {"context": {"targetingKey": "user-1"}}
    post(client, "/ofrep/v1/evaluate/flags/card-payments", body, flags_token)  # warm-up fills the caches
    with CaptureQueriesContext(connection) as queries:
        for n in range(50):
            single = post(
                client,
                "/ofrep/v1/evaluate/flags/card-payments",
                {"context": {"targetingKey": f"u{n}"}},
                flags_token,
            )
            bulk = post(
                client, "/ofrep/v1/evaluate/flags", {"context": {"targetingKey": f"u{n}"}}, flags_token
            )
            assert single.status_code == bulk.status_code == 200
    assert len(queries) == 0, [q["sql"] for q in queries]


def test_it_sees_a_change_once_the_snapshot_is_stale(client, live_migration, flags_token, monkeypatch):
    body = {"context": {"targetingKey": _user_in("card-payments", 25)}}
    assert post(client, "/ofrep/v1/evaluate/flags/card-payments", body, flags_token).json()["value"] is True
    put_live(live_migration, 0, status=MigrationStatus.ROLLED_BACK)
    monkeypatch.setattr(selectors.snapshot_cache, "_built_at", selectors.snapshot_cache._built_at - 0.6)
    assert (
        post(client, "/ofrep/v1/evaluate/flags/card-payments", body, flags_token).json()["reason"]
        == "DISABLED"
    )


def test_it_refuses_get(client, flags_token):
    assert client.get("/ofrep/v1/evaluate/flags/card-payments").status_code == 405
    assert client.get("/ofrep/v1/evaluate/flags").status_code == 405
