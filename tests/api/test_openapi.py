"""The OpenAPI document pipelines read: every lifecycle route, its errors, paginated lists."""

import pytest

pytestmark = pytest.mark.django_db

LIFECYCLE = {
    "/api/v1/migrations/{slug}/transition": {"post"},
    "/api/v1/migrations/{slug}/items": {"get"},
    "/api/v1/items/{item_id}": {"get", "patch"},
    "/api/v1/items/{item_id}/tick": {"post"},
    "/api/v1/migrations/{slug}/items/bulk": {"post"},
    "/api/v1/migrations/{slug}/signoffs": {"get"},
    "/api/v1/signoffs/{slot_id}/sign": {"post"},
    "/api/v1/signoffs/{slot_id}/renew": {"post"},
    "/api/v1/signoffs/{slot_id}/revoke": {"post"},
    "/api/v1/migrations/{slug}/incidents": {"get", "post"},
    "/api/v1/incidents/{incident_id}": {"get", "patch"},
    "/api/v1/incidents/{incident_id}/acknowledge": {"post"},
    "/api/v1/incidents/{incident_id}/resolve": {"post"},
    "/api/v1/incidents/{incident_id}/notes": {"get", "post"},
    "/api/v1/incidents/{incident_id}/postmortem": {"put"},
    "/api/v1/migrations/{slug}/announcements": {"get", "post"},
    "/api/v1/announcements/{announcement_id}": {"get", "put", "delete"},
    "/api/v1/announcements/{announcement_id}/schedule": {"post"},
    "/api/v1/announcements/{announcement_id}/send": {"post"},
    "/api/v1/announcements/{announcement_id}/cancel": {"post"},
}
LISTS = [
    "/api/v1/migrations/{slug}/items",
    "/api/v1/migrations/{slug}/signoffs",
    "/api/v1/migrations/{slug}/incidents",
    "/api/v1/incidents/{incident_id}/notes",
    "/api/v1/migrations/{slug}/announcements",
]


def test_every_lifecycle_route_is_documented_with_its_errors(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path, methods in LIFECYCLE.items():
        assert methods <= set(paths.get(path, {})), path
        for method in methods:
            responses = paths[path][method]["responses"]
            assert {"400", "401", "403", "404"} <= set(responses), (method, path)
            assert "No token" in responses["401"]["description"]


def test_lists_are_paginated_with_limit_and_offset(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in LISTS:
        names = {p["name"] for p in paths[path]["get"]["parameters"]}
        assert {"limit", "offset"} <= names, path
        ok = paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert "$ref" in ok  # the Paged… schema: {"items": [...], "count": n}
