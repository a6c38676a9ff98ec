"""Hostile query strings and path ids, DEBUG on and off: numbers past PostgreSQL's bigint, 1e999,
NaN and NUL characters in every query parameter of every /api/v1 GET (limit and offset of every
paginated list, the item and incident filters), found from the OpenAPI document, and in the
query parameters golive's pages read. Each answers 400 naming the parameter or a (possibly
empty) result, never a 5xx; an id past bigint in a path is not found."""

from __future__ import annotations

import pytest
from django.test import override_settings

from migrations_app.access import Group
from migrations_app.audit import Actor
from migrations_app.rollout import tokens
from tests.factories import make_user
from tests.security.openapi_operations import operations, path_values
from tests.security.test_json_bodies import PYTHON_WORDS

pytestmark = pytest.mark.django_db

HOSTILE = ["9223372036854775808", "-9223372036854775809", "9" * 30, "1e999", "NaN", "a\x00b", "-1"]
HUGE_ID = "9223372036854775808"

# The query parameters golive's pages read (request.GET in the views), with where they are read.
PAGE_QUERIES = [
    ("/migrations/", "status"),
    ("/people/", "q"),
    ("/people/", "status"),
    ("/people/search/", "add"),
    ("/people/search/", "list"),
    ("/people/contacts/new/", "migration"),
    ("/migrations/checkout/control-room/", "span"),
    ("/checklists/migration/checkout/", "show"),
    ("/checklists/migration/checkout/", "section"),
    ("/checklists/migration/checkout/", "owner"),
    ("/migrations/checkout/panels/status-panel/", "v"),
]


@pytest.fixture
def bearer(world):
    user = make_user("query-admin", groups=(Group.ADMIN,), is_staff=True, is_superuser=True)
    tokens.cache.clear()
    _, raw = tokens.create_token(user=user, name="q", scopes=["operate"], by=Actor.system("tests"))
    return f"Bearer {raw}"


def _readable(response, where):
    assert response.status_code < 500, (where, response.status_code, response.content[:300])
    assert not any(word in response.content.decode() for word in PYTHON_WORDS), where


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_every_api_query_parameter_answers_400_naming_it_or_a_result(client, world, bearer, debug):
    document = client.get("/api/v1/openapi.json").json()
    lists = [op for op in operations(document, path_values(world)) if op.method == "GET" and op.query]
    names = {p["name"] for op in lists for p in op.query}
    assert {"limit", "offset", "section", "owner", "phase"} <= names  # found, not listed by hand
    with override_settings(DEBUG=debug):
        for op in lists:
            for parameter in (p["name"] for p in op.query):
                for value in HOSTILE:
                    response = client.get(op.path, {parameter: value}, HTTP_AUTHORIZATION=bearer)
                    _readable(response, (op.key, parameter, value))
                    if response.status_code == 400:
                        fields = [entry["field"] for entry in response.json()["detail"]]
                        assert fields == [parameter], (op.key, parameter, value, fields)
                    else:
                        assert response.status_code == 200, (op.key, parameter, value)
                        assert isinstance(response.json()["items"], list), (op.key, parameter)


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_an_id_past_bigint_in_an_api_path_is_not_found(client, world, bearer, debug):
    document = client.get("/api/v1/openapi.json").json()
    values = {
        name: (HUGE_ID if name.endswith("_id") else value) for name, value in path_values(world).items()
    }
    with override_settings(DEBUG=debug):
        for op in operations(document, values):
            if HUGE_ID not in op.path:
                continue
            response = client.generic(
                op.method, op.path, b"{}", "application/json", HTTP_AUTHORIZATION=bearer
            )
            _readable(response, op.key)
            assert response.status_code in (400, 404), (op.key, response.status_code, response.content[:200])


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_every_query_parameter_a_page_reads_survives_hostile_values(client, world, debug):
    client.force_login(world.users["admin"])
    with override_settings(DEBUG=debug):
        for path, parameter in PAGE_QUERIES:
            for value in HOSTILE:
                response = client.get(path, {parameter: value})
                _readable(response, (path, parameter, value))
                assert response.status_code in (200, 400, 404), (path, parameter, value, response.status_code)
