"""Every JSON endpoint fed hostile bodies, DEBUG on and off: never a 5xx, never Python's words.

Endpoints: OFREP (one flag, all flags), the Unleash client API (register, metrics) and every
/api/v1 route that takes a body (create a migration, traffic, rollback, samples). Bodies: deep
nesting, NaN/Infinity/1e999, integers past bigint and past Python's 4,300 digits, invalid UTF-8,
NUL characters, wrong content types and a body over the limit. Each refusal is in the
endpoint's own error shape and names the field; nothing is stored."""

import itertools
import json

import pytest
from django.test import override_settings

from migrations_app.access import Group
from migrations_app.audit import Actor
from migrations_app.models import Migration
from migrations_app.monitoring.models import Sample
from migrations_app.rollout import selectors, tokens
from migrations_app.rollout.models import ClientInstance
from tests.factories import make_migration, make_user, put_live

pytestmark = pytest.mark.django_db

OFREP_ONE, OFREP_ALL = "/ofrep/v1/evaluate/flags/checkout", "/ofrep/v1/evaluate/flags"
REGISTER, METRICS = "/api/client/register", "/api/client/metrics"
CREATE, TRAFFIC = "/api/v1/migrations", "/api/v1/migrations/checkout/traffic"
ROLLBACK, SAMPLES = "/api/v1/migrations/checkout/rollback", "/api/v1/migrations/checkout/samples"
ENDPOINTS = [OFREP_ONE, OFREP_ALL, REGISTER, METRICS, CREATE, TRAFFIC, ROLLBACK, SAMPLES]

# A valid body for each endpoint, with {} where the hostile value goes (as JSON text).
VALID = {
    OFREP_ONE: '{"context": {"targetingKey": "user-1", "plan": %s}}',
    OFREP_ALL: '{"context": {"targetingKey": "user-1", "plan": %s}}',
    REGISTER: '{"appName": "shop", "instanceId": "i-1", "started": "2026-01-01T00:00:00Z", "strategies": %s}',
    METRICS: '{"appName": "shop", "instanceId": "i-1", "bucket": {"toggles": %s}}',
    CREATE: '{"name": "New", "slug": "new-one", "template": "payment-gateway-go-live", "integration": %s}',
    TRAFFIC: '{"percent": %s, "reason": "fuzz"}',
    ROLLBACK: '{"reason": %s}',
    SAMPLES: '{"samples": [{"metric": "payment_success", "value": %s}]}',
}
# Where the hostile value sits, as each endpoint names fields.
FIELD = {
    OFREP_ONE: "context.plan",
    OFREP_ALL: "context.plan",
    REGISTER: "strategies",
    METRICS: "bucket.toggles",
    CREATE: "integration",
    TRAFFIC: "percent",
    ROLLBACK: "reason",
    SAMPLES: "samples[0].value",
}
HOSTILE_VALUES = {
    "NaN": "NaN",
    "Infinity": "Infinity",
    "-Infinity": "-Infinity",
    "1e999": "1e999",
    "-1e999": "-1e999",
    "integer of 5000 digits": "9" * 5000,
    "integer past any float": "1" + "0" * 400,
    "NUL character": '"before\\u0000after"',
    "nesting 40 deep": "[" * 40 + "]" * 40,
}
WHOLE_BODIES = {
    "nesting 100000 deep": b"[" * 100_000,
    "object nesting 5000 deep": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "invalid UTF-8": b'{"context": {"targetingKey": "\xff\xfe"}, "appName": "\xc3"}',
    "truncated JSON": b'{"context": {"targetingKey": ',
    "a bare NUL byte": b'{"a": 1}\x00',
    "not JSON at all": b"\x00\x01\x02 hello",
    "UTF-16": json.dumps({"appName": "x"}).encode("utf-16"),
}
PYTHON_WORDS = ("Traceback", "Expecting", "(char ", "Error(", "codec can't", "Exceeds the limit")


@pytest.fixture
def bearer(db):
    admin = make_user("json-admin", groups=(Group.ADMIN,), is_staff=True)
    put_live(make_migration(owner=admin, slug="checkout"), 25)
    tokens.cache.clear()
    selectors.snapshot_cache.clear()
    _, raw = tokens.create_token(
        user=admin, name="fuzz", scopes=["flags", "operate", "ingest"], by=Actor.system("tests")
    )
    return f"Bearer {raw}"


def post(client, url, body: bytes, bearer, content_type="application/json"):
    return client.generic("POST", url, body, content_type=content_type, HTTP_AUTHORIZATION=bearer)


def named_fields(url: str, response) -> list[str]:
    """The refused fields an answer names, read the way each endpoint's clients read it."""
    body = response.json()
    if url.startswith("/ofrep/"):
        assert body["errorCode"] == "PARSE_ERROR", body
        return [body["errorDetails"]]
    if url.startswith("/api/client/"):
        return [body["field"]]
    assert isinstance(body["detail"], list), body
    return [entry["field"] for entry in body["detail"]]


def assert_refused_readably(url, response, *, status=400):
    assert response.status_code == status, (url, response.status_code, response.content[:300])
    text = response.content.decode()
    assert not any(word in text for word in PYTHON_WORDS), text[:300]
    return named_fields(url, response)


def nothing_stored():
    return (
        Sample.objects.count(),
        ClientInstance.objects.count(),
        Migration.objects.filter(slug="new-one").exists(),
        selectors.current_percent(Migration.objects.get(slug="checkout")),
    )


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_hostile_value_is_refused_naming_its_field(client, bearer, debug):
    before = nothing_stored()
    with override_settings(DEBUG=debug):
        for url, (name, value) in itertools.product(ENDPOINTS, HOSTILE_VALUES.items()):
            if url.startswith("/ofrep/") and name == "NUL character":
                continue  # OFREP stores nothing: a NUL in the context is data (a test below)
            response = post(client, url, (VALID[url] % value).encode(), bearer)
            fields = assert_refused_readably(url, response)
            # OFREP names the field in its errorDetails sentence; a too deep body is the body's fault.
            where = FIELD[url] if name != "nesting 40 deep" else "body"
            if url.startswith("/ofrep/") and where == "body":
                where = "nested deeper than 32 levels"
            assert any(where in field for field in fields), (url, name, fields)
    assert nothing_stored() == before


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_body_that_is_not_json_is_refused_as_the_body(client, bearer, debug):
    before = nothing_stored()
    with override_settings(DEBUG=debug):
        for url, (name, body) in itertools.product(ENDPOINTS, WHOLE_BODIES.items()):
            response = post(client, url, body, bearer)
            fields = assert_refused_readably(url, response)
            expected = "not valid JSON" if url.startswith("/ofrep/") else "body"
            words = (expected, "nested", "UTF-8")
            assert any(word in field for field in fields for word in words), (url, name, fields)
    assert nothing_stored() == before


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_body_over_the_limit_answers_413_with_a_sentence(client, bearer, debug):
    padding = json.dumps("x" * (1024 * 1024))
    with override_settings(DEBUG=debug):
        for url in ENDPOINTS:
            response = post(client, url, (VALID[url] % padding).encode(), bearer)
            assert_refused_readably(url, response, status=413)
            assert "larger than 1,048,576 bytes" in response.content.decode(), url


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_a_wrong_content_type_never_errors(client, bearer, debug):
    with override_settings(DEBUG=debug):
        for url, (content_type, body) in itertools.product(
            ENDPOINTS,
            [
                ("text/plain", b'{"percent": 5, "reason": "x", "context": {"targetingKey": "u"}}'),
                ("application/x-www-form-urlencoded", b"percent=5&reason=x&context=1"),
                (
                    "multipart/form-data; boundary=xyz",
                    b"--xyz\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--xyz--",
                ),
                ("application/xml", b"<percent>5</percent>"),
            ],
        ):
            response = post(client, url, body, bearer, content_type=content_type)
            assert response.status_code < 500, (url, content_type, response.content[:300])
            if response.status_code == 400:
                assert named_fields(url, response), (url, content_type)


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
def test_an_integer_past_bigint_is_refused_where_a_field_has_a_range_and_never_errors(client, bearer, debug):
    with override_settings(DEBUG=debug):
        for url in ENDPOINTS:
            response = post(client, url, (VALID[url] % str(2**63)).encode(), bearer)
            assert response.status_code < 500, (url, response.content[:300])
            if url in (TRAFFIC, ROLLBACK, CREATE):  # typed fields: an int, a string, a string
                assert assert_refused_readably(url, response) == [FIELD[url]], url
    assert ClientInstance.objects.get(app_name="shop").last_metrics == {"toggles": 2**63}  # jsonb keeps it


def test_a_nul_in_an_ofrep_context_is_evaluated_not_refused(client, bearer):
    body = b'{"context": {"targetingKey": "user\\u00001", "plan": "a\\u0000b"}}'
    response = post(client, OFREP_ONE, body, bearer)
    assert response.status_code == 200 and response.json()["key"] == "checkout"


def test_a_nul_in_a_field_golive_does_not_read_is_accepted(client, bearer):
    body = b'{"samples": [{"metric": "latency_ms", "value": 12}], "note\\u0000": "x\\u0000"}'
    assert post(client, SAMPLES, body, bearer).status_code == 202


def test_the_non_finite_sample_is_named_by_its_place_in_the_batch(client, bearer):
    body = b'{"samples": [{"metric": "latency_ms", "value": 12}, {"metric": "latency_ms", "value": 1e999}]}'
    response = post(client, SAMPLES, body, bearer)
    assert response.status_code == 400
    assert response.json()["detail"] == [
        {
            "field": "samples[1].value",
            "message": "must be a finite number (not NaN, Infinity or out of range)",
        }
    ]
    assert Sample.objects.count() == 0


def test_a_page_post_over_the_upload_limit_answers_413_with_a_sentence(client, ops):
    client.force_login(ops)
    with override_settings(DEBUG=True, DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        response = client.post("/migrations/", {"name": "x" * 5000})
    assert response.status_code == 413
    assert response.content.decode().startswith("The body is larger than 1,000 bytes")
