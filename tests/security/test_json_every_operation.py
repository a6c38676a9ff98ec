"""Every /api/v1 operation that takes a body, enumerated from golive's own OpenAPI document, fed
hostile bodies with DEBUG on and off: deep nesting, NaN/Infinity/1e999, integers no float holds,
invalid UTF-8, NUL bytes and NUL characters in every text field, integers past PostgreSQL's
bigint in every integer field, wrong content types and a body over the limit. Each answer is a
4xx naming the field (or `body`) in the API's own shape, with no Python wording, and nothing is
written (no audit event: every write records one). One request per hostile body per operation.

test_json_bodies.py does the same for OFREP and the Unleash client API; the inbound webhook
receiver is at the end of this file."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from migrations_app.access import Group
from migrations_app.audit import Actor
from migrations_app.models import AuditEvent
from migrations_app.rollout import tokens
from tests.factories import make_user
from tests.security.openapi_operations import (
    first_property,
    leaves,
    operations,
    path_values,
    required_besides,
)
from tests.security.test_json_bodies import HOSTILE_VALUES, PYTHON_WORDS, WHOLE_BODIES
from tests.security.world import build_world

pytestmark = pytest.mark.django_db

BIGINTS = [2**63, -(2**63) - 1]
WRONG_TYPES = [
    ("text/plain", b'{"name": "x"}'),
    ("application/x-www-form-urlencoded", b"name=x&url=https%3A%2F%2Fexample.com"),
    (
        "multipart/form-data; boundary=xyz",
        b"--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--xyz--",
    ),
    ("application/xml", b"<name>x</name>"),
]


@pytest.fixture
def fuzzing(client, ops, pm, oncall, admin_user):
    """The world (one object of each kind), an all-scopes Admin token, and the operations."""
    world = build_world(ops=ops, pm=pm, oncall=oncall, admin_user=admin_user)
    superuser = make_user("json-everything", groups=(Group.ADMIN,), is_staff=True, is_superuser=True)
    tokens.cache.clear()
    _, raw = tokens.create_token(
        user=superuser, name="fuzz", scopes=["flags", "operate", "ingest"], by=Actor.system("tests")
    )
    document = client.get("/api/v1/openapi.json").json()
    found = [op for op in operations(document, path_values(world)) if op.body_schema is not None]
    return {"bearer": f"Bearer {raw}", "ops": found, "components": document["components"]["schemas"]}


def send(client, op, body: bytes, bearer: str, content_type="application/json"):
    return client.generic(op.method, op.path, body, content_type=content_type, HTTP_AUTHORIZATION=bearer)


def refused_fields(op, response, *, status=400) -> list[str]:
    assert response.status_code == status, (op.key, response.status_code, response.content[:300])
    text = response.content.decode()
    assert not any(word in text for word in PYTHON_WORDS), (op.key, text[:300])
    detail = response.json()["detail"]
    assert isinstance(detail, list), (op.key, detail)
    return [entry["field"] for entry in detail]


def test_the_document_lists_the_operations_that_take_bodies(fuzzing):
    keys = {op.key for op in fuzzing["ops"]}
    assert len(keys) >= 35  # the lifecycle, settings and people routes merged today among them
    assert {"POST /api/v1/channels", "PATCH /api/v1/probes/{probe_id}", "POST /api/v1/users"} <= keys


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_body_that_is_not_json_is_refused_as_the_body_everywhere(client, fuzzing, debug):
    events = AuditEvent.objects.count()
    with override_settings(DEBUG=debug):
        for op in fuzzing["ops"]:
            for name, body in WHOLE_BODIES.items():
                fields = refused_fields(op, send(client, op, body, fuzzing["bearer"]))
                assert fields == ["body"], (op.key, name, fields)
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_non_finite_huge_or_too_deep_value_is_refused_naming_its_field_everywhere(client, fuzzing, debug):
    events = AuditEvent.objects.count()
    with override_settings(DEBUG=debug):
        for op in fuzzing["ops"]:
            field = first_property(op.body_schema, fuzzing["components"]) or "value"
            for name, value in HOSTILE_VALUES.items():
                if name == "NUL character":
                    continue  # per text field, below
                body = f'{{"{field}": {value}}}'.encode()
                fields = refused_fields(op, send(client, op, body, fuzzing["bearer"]))
                expected = "body" if name.startswith("nesting") else field
                assert fields == [expected], (op.key, name, fields)
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_every_text_field_refuses_a_nul_and_every_integer_field_a_number_past_bigint(client, fuzzing, debug):
    """A NUL is refused by every text field's schema (PostgreSQL text cannot hold it). An integer
    past bigint is refused by a bounded field's schema, and an id reference (a KPI's probe, a
    guardrail's KPI, bulk item ids) is not found (404 naming it): asserted wherever the body is
    otherwise valid, and never a 5xx anywhere."""
    events, named = AuditEvent.objects.count(), 0
    components = fuzzing["components"]
    with override_settings(DEBUG=debug):
        for op in fuzzing["ops"]:
            for leaf in leaves(op.body_schema, components):
                values = ["before\x00after"] if leaf.type == "string" else BIGINTS
                alone = not required_besides(op.body_schema, components, str(leaf.where[0]))
                for value in values:
                    response = send(client, op, json.dumps(leaf.body_with(value)).encode(), fuzzing["bearer"])
                    if leaf.type == "string" or leaf.bounded:
                        assert leaf.name in refused_fields(op, response), (op.key, leaf.name, value)
                    elif alone:
                        fields = refused_fields(op, response, status=404)  # a list names itself
                        assert {leaf.name, str(leaf.where[0])} & set(fields), (op.key, leaf.name, fields)
                    else:
                        assert response.status_code < 500, (op.key, leaf.name, response.content[:300])
                        continue
                    named += 1
    assert AuditEvent.objects.count() == events
    assert named > 100  # the walk reached nested fields (samples, headers, checks), not only the top


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_wrong_content_type_is_never_a_server_error_and_a_refusal_names_a_field(client, fuzzing, debug):
    """A JSON document labelled text/plain is read as JSON (token-authenticated, so no cross-site
    form can send it); a form, multipart or XML body is not JSON and changes nothing."""
    with override_settings(DEBUG=debug):
        for op in fuzzing["ops"]:
            events = AuditEvent.objects.count()
            for content_type, body in WRONG_TYPES:
                response = send(client, op, body, fuzzing["bearer"], content_type=content_type)
                assert response.status_code < 500, (op.key, content_type, response.content[:300])
                if content_type == "text/plain":
                    events = AuditEvent.objects.count()  # JSON after all: it may write
                    continue
                assert refused_fields(op, response) == ["body"], (op.key, content_type)
                assert AuditEvent.objects.count() == events, (op.key, content_type)


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_body_over_the_limit_is_413_with_a_sentence_everywhere(client, fuzzing, debug):
    body = json.dumps({"name": "x" * (1024 * 1024)}).encode()
    with override_settings(DEBUG=debug):
        for op in fuzzing["ops"]:
            response = send(client, op, body, fuzzing["bearer"])
            assert refused_fields(op, response, status=413) == ["body"]
            assert "larger than 1,048,576 bytes" in response.content.decode(), op.key
