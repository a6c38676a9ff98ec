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
    # 413 (body over the limit) and 503 (database unreachable) can be the answer of any operation.
    every_operation = [413, 503]
    assert documented == {
        operation: sorted([*statuses, *every_operation])
        for operation, statuses in {
            "GET /api/v1/templates": [200, 401, 403],
            "GET /api/v1/migrations": [200, 401, 403],
            "POST /api/v1/migrations": [201, 400, 401, 403, 404, 409],
            "GET /api/v1/migrations/{slug}": [200, 401, 403, 404],
            "POST /api/v1/migrations/{slug}/traffic": [200, 400, 401, 403, 404, 409],
            "POST /api/v1/migrations/{slug}/rollback": [200, 400, 401, 403, 404, 409],
            "POST /api/v1/migrations/{slug}/samples": [202, 400, 401, 403, 404],
            "GET /api/v1/migrations/{slug}/probes": [200, 400, 401, 403, 404],
            "POST /api/v1/migrations/{slug}/probes": [201, 400, 401, 403, 404, 409],
            "GET /api/v1/probes/{probe_id}": [200, 400, 401, 403, 404],
            "PATCH /api/v1/probes/{probe_id}": [200, 400, 401, 403, 404, 409],
            "DELETE /api/v1/probes/{probe_id}": [204, 400, 401, 403, 404],
            "GET /api/v1/migrations/{slug}/kpis": [200, 400, 401, 403, 404],
            "POST /api/v1/migrations/{slug}/kpis": [201, 400, 401, 403, 404, 409],
            "GET /api/v1/kpis/{kpi_id}": [200, 400, 401, 403, 404],
            "PATCH /api/v1/kpis/{kpi_id}": [200, 400, 401, 403, 404, 409],
            "DELETE /api/v1/kpis/{kpi_id}": [204, 400, 401, 403, 404],
            "GET /api/v1/migrations/{slug}/guardrails": [200, 400, 401, 403, 404],
            "POST /api/v1/migrations/{slug}/guardrails": [201, 400, 401, 403, 404, 409],
            "GET /api/v1/guardrails/{guardrail_id}": [200, 400, 401, 403, 404],
            "PATCH /api/v1/guardrails/{guardrail_id}": [200, 400, 401, 403, 404, 409],
            "DELETE /api/v1/guardrails/{guardrail_id}": [204, 400, 401, 403, 404],
            "GET /api/v1/migrations/{slug}/rollback-hooks": [200, 400, 401, 403, 404],
            "POST /api/v1/migrations/{slug}/rollback-hooks": [201, 400, 401, 403, 404, 409],
            "GET /api/v1/rollback-hooks/{hook_id}": [200, 400, 401, 403, 404],
            "PATCH /api/v1/rollback-hooks/{hook_id}": [200, 400, 401, 403, 404, 409],
            "DELETE /api/v1/rollback-hooks/{hook_id}": [204, 400, 401, 403, 404],
            "POST /api/v1/rollback-hooks/{hook_id}/rotate": [200, 400, 401, 403, 404],
            "GET /api/v1/channels": [200, 400, 401, 403],
            "POST /api/v1/channels": [201, 400, 401, 403, 404, 409],
            "GET /api/v1/channels/{channel_id}": [200, 400, 401, 403, 404],
            "PATCH /api/v1/channels/{channel_id}": [200, 400, 401, 403, 404, 409],
            "DELETE /api/v1/channels/{channel_id}": [204, 400, 401, 403, 404],
            "POST /api/v1/channels/{channel_id}/test": [202, 400, 401, 403, 404],
            "GET /api/v1/migrations/{slug}/status-page": [200, 401, 403, 404],
            "PUT /api/v1/migrations/{slug}/status-page": [200, 400, 401, 403, 404],
            "GET /api/v1/migrations/{slug}/subscribers": [200, 400, 401, 403, 404],
            "POST /api/v1/migrations/{slug}/subscribers": [201, 400, 401, 403, 404, 409],
            "DELETE /api/v1/migrations/{slug}/subscribers/{subscriber_id}": [204, 400, 401, 403, 404],
            "GET /api/v1/migrations/{slug}/webhook-receipt": [200, 401, 403, 404],
            "PUT /api/v1/migrations/{slug}/webhook-receipt": [200, 400, 401, 403, 404],
            "POST /api/v1/migrations/{slug}/webhook-receipt/rotate": [200, 401, 403, 404],
            "POST /api/v1/migrations/{slug}/transition": [200, 400, 401, 403, 404, 409],
            "GET /api/v1/migrations/{slug}/items": [200, 400, 401, 403, 404],
            "GET /api/v1/items/{item_id}": [200, 400, 401, 403, 404],
            "PATCH /api/v1/items/{item_id}": [200, 400, 401, 403, 404],
            "POST /api/v1/items/{item_id}/tick": [200, 400, 401, 403, 404, 409],
            "POST /api/v1/migrations/{slug}/items/bulk": [200, 400, 401, 403, 404, 409],
            "GET /api/v1/migrations/{slug}/signoffs": [200, 400, 401, 403, 404],
            "GET /api/v1/signoffs/{slot_id}": [200, 400, 401, 403, 404],
            "POST /api/v1/signoffs/{slot_id}/sign": [200, 400, 401, 403, 404, 409],
            "POST /api/v1/signoffs/{slot_id}/renew": [200, 400, 401, 403, 404, 409],
            "POST /api/v1/signoffs/{slot_id}/revoke": [200, 400, 401, 403, 404, 409],
            "GET /api/v1/migrations/{slug}/incidents": [200, 400, 401, 403, 404],
            "POST /api/v1/migrations/{slug}/incidents": [201, 400, 401, 403, 404],
            "GET /api/v1/incidents/{incident_id}": [200, 400, 401, 403, 404],
            "PATCH /api/v1/incidents/{incident_id}": [200, 400, 401, 403, 404, 409],
            "POST /api/v1/incidents/{incident_id}/acknowledge": [200, 400, 401, 403, 404],
            "POST /api/v1/incidents/{incident_id}/resolve": [200, 400, 401, 403, 404],
            "GET /api/v1/incidents/{incident_id}/notes": [200, 400, 401, 403, 404],
            "POST /api/v1/incidents/{incident_id}/notes": [201, 400, 401, 403, 404],
            "PUT /api/v1/incidents/{incident_id}/postmortem": [200, 400, 401, 403, 404],
            "GET /api/v1/migrations/{slug}/announcements": [200, 400, 401, 403, 404],
            "POST /api/v1/migrations/{slug}/announcements": [201, 400, 401, 403, 404],
            "GET /api/v1/migrations/{slug}/announcements/proposals": [200, 400, 401, 403, 404],
            "GET /api/v1/announcements/{announcement_id}": [200, 400, 401, 403, 404],
            "PUT /api/v1/announcements/{announcement_id}": [200, 400, 401, 403, 404, 409],
            "DELETE /api/v1/announcements/{announcement_id}": [204, 400, 401, 403, 404, 409],
            "POST /api/v1/announcements/{announcement_id}/schedule": [200, 400, 401, 403, 404, 409],
            "POST /api/v1/announcements/{announcement_id}/send": [200, 400, 401, 403, 404, 409],
            "POST /api/v1/announcements/{announcement_id}/cancel": [200, 400, 401, 403, 404],
            "GET /api/v1/migrations/{slug}/roles": [200, 400, 401, 403, 404],
            "PUT /api/v1/migrations/{slug}/roles/{role}": [200, 400, 401, 403, 404, 409],
            "GET /api/v1/users": [200, 400, 401, 403],
            "POST /api/v1/users": [201, 400, 401, 403, 409],
            "PATCH /api/v1/users/{username}": [200, 400, 401, 403, 404, 409],
        }.items()
    }
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
