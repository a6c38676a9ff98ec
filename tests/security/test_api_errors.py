"""The automation API documents every error it answers, in one shape, and answers what it documents.

test_api_fuzz.py checks this on generated requests; these tests pin the cases a pipeline author
reads about: which statuses each operation lists, and two inputs the fuzzing found answered
wrongly (a 500 and a refused valid number)."""

import json

import pytest

from migrations_app.audit import Actor
from migrations_app.monitoring.models import Sample
from migrations_app.rollout import tokens

pytestmark = pytest.mark.django_db

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


@pytest.fixture
def ingest_token(ops):
    tokens.cache.clear()
    _, raw = tokens.create_token(user=ops, name="shop backend", scopes="ingest", by=Actor.system("tests"))
    return raw


def push(client, token, *items):
    return client.post(
        "/api/v1/migrations/card-payments/samples",
        data=json.dumps({"samples": list(items)}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_it_documents_the_errors_each_operation_answers(client):
    document = client.get("/api/v1/openapi.json").json()
    documented = {
        f"{method.upper()} {path}": sorted(int(status) for status in operation["responses"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    # Pinned: the operations pipelines started with answer exactly these.
    pinned = {
        "GET /api/v1/templates": [200, 401, 403],
        "GET /api/v1/migrations": [200, 401, 403],
        "POST /api/v1/migrations": [201, 400, 401, 403, 404, 409],
        "GET /api/v1/migrations/{slug}": [200, 401, 403, 404],
        "POST /api/v1/migrations/{slug}/traffic": [200, 400, 401, 403, 404, 409],
        "POST /api/v1/migrations/{slug}/rollback": [200, 400, 401, 403, 404, 409],
        "POST /api/v1/migrations/{slug}/samples": [202, 400, 401, 403, 404],
    }
    # 413 (body over the limit) and 503 (database unreachable) can be the answer of any operation.
    for name, statuses in pinned.items():
        assert documented[name] == sorted([*statuses, 413, 503]), name
    # Every other operation: what its shape says it can answer, whoever wrote it.
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            name, statuses = f"{method.upper()} {path}", set(documented[f"{method.upper()} {path}"])
            assert {401, 403, 413, 503} <= statuses, name
            assert any(200 <= status < 300 for status in statuses), name
            if "{" in path:
                assert 404 in statuses, name  # an unknown migration, item, probe...
            if "requestBody" in operation:
                assert 400 in statuses, name  # invalid input, naming the field
            if any(parameter["name"] == "limit" for parameter in operation.get("parameters", [])):
                assert 400 in statuses, name  # a paginated list refuses a misspelt parameter
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    assert answer["content"] == ERROR, (path, status)
                    assert answer["description"] not in ("Bad Request", "Unauthorized"), (path, status)
    template = document["components"]["schemas"]["MigrationIn"]["properties"]["template"]
    assert template["minLength"] == 1 and template["pattern"].startswith("^")


def test_an_impossible_sample_time_answers_400_naming_it(client, migration, ingest_token):
    response = push(
        client, ingest_token, {"metric": "payment_success", "ok": 1, "at": "2026-01-01T12:99:00Z"}
    )
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "samples[0].at"
    assert not Sample.objects.exists()


def test_a_whole_count_written_with_a_decimal_point_is_stored(client, migration, ingest_token):
    response = push(client, ingest_token, {"metric": "payment_success", "ok": 998.0, "failed": 2})
    assert response.status_code == 202, response.content
    assert Sample.objects.get().ok == 998
    response = push(client, ingest_token, {"metric": "payment_success", "ok": 1.5})
    assert response.status_code == 400 and response.json()["detail"][0]["field"] == "samples[0].ok"
