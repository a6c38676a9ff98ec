"""The JSON APIs fuzzed with schemathesis: no server error, every response as the spec says.

/api/v1 against the OpenAPI document golive serves, with every check: each status it answers is
documented, valid data is never refused with 400 and invalid data never accepted; /ofrep against
the official OFREP spec. Requests go through the WSGI app in this process (same database
transaction as the test)."""

import datetime as dt
from pathlib import Path

import pytest
import schemathesis
import yaml
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.checks import ignored_auth, negative_data_rejection, positive_data_acceptance

from migrations_app.audit import Actor
from migrations_app.models import SLUG_VALIDATOR
from migrations_app.rollout import selectors, tokens
from tests.factories import make_migration, make_user

pytestmark = pytest.mark.django_db

EXAMPLES = 100
APP = get_wsgi_application()
OFREP_SPEC = Path(__file__).resolve().parents[3] / "shared/specs/ofrep/openapi.yaml"

golive_api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)
_ofrep = yaml.safe_load(OFREP_SPEC.read_text())
# The spec's codeDefaultFlag ("has no `value` property") is written as `properties: {}`, which every
# object matches, so its `oneOf` would reject every boolean answer: state what its text says
# (as tests/rollout/test_flags_ofrep.py does).
_ofrep["components"]["schemas"]["codeDefaultFlag"]["not"] = {"required": ["value"]}
ofrep_api = schemathesis.openapi.from_dict(_ofrep)
ofrep_api.app = APP
TEMPLATE = "payment-gateway-go-live"  # built in: loaded after every migrate
WEEK = dt.timedelta(days=7) - dt.timedelta(minutes=1)  # the ingestion window, with a margin
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """A bare WSGI app closes "old" connections at each request, which would end the test's
    transaction; Django's own test client switches that off the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(db):
    """An Admin's token with every scope, and a live migration with slug 'checkout' to aim at."""
    from migrations_app.access import Group
    from tests.factories import put_live

    admin = make_user("fuzz-admin", groups=(Group.ADMIN,), is_staff=True)
    put_live(make_migration(owner=admin, slug="checkout"), 25)
    tokens.cache.clear()
    selectors.snapshot_cache.clear()
    _, raw = tokens.create_token(
        user=admin, name="fuzz", scopes=["flags", "operate", "ingest"], by=Actor.system("tests")
    )
    return {"Authorization": f"Bearer {raw}"}


# Generated slugs almost never name an existing object, which would leave every valid request at
# 404: half the time aim at the live migration "checkout" and at a template that exists.
@golive_api.hook
def flatmap_path_parameters(context, path_parameters):
    if not path_parameters or "slug" not in path_parameters:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, "slug": "checkout"}])


@golive_api.hook
def flatmap_body(context, body):
    if context.operation.path != "/api/v1/migrations" or not isinstance(body, dict):
        return st.just(body)
    if not isinstance(body.get("template"), str) or not SLUG_VALIDATOR.regex.match(body["template"]):
        return st.just(body)  # a negative case spoilt the template: keep it spoilt
    return st.sampled_from([body, {**body, "template": TEMPLATE}])


@golive_api.hook
def map_body(context, body):
    """A sample's `at` must lie within the last 7 days, relative to now, which JSON Schema cannot
    say (the document says it in words): move a well-formed time outside that window into it.
    A time golive cannot parse is left as it is, so a format the document allows and golive
    refuses still fails positive_data_acceptance."""
    if not context.operation.path.endswith("/samples") or not isinstance(body, dict):
        return body
    for item in body.get("samples") or []:
        at = item.get("at") if isinstance(item, dict) else None
        try:
            parsed = parse_datetime(at) if isinstance(at, str) else None
        except ValueError:  # well-formed but no time (minute 99): golive must refuse it with 400
            continue
        now = timezone.now()
        if parsed is not None and parsed.tzinfo is not None and not now - WEEK < parsed < now:
            item["at"] = (now - dt.timedelta(minutes=1)).isoformat()
    return body


@golive_api.parametrize()
@FUZZ
def test_the_golive_api_never_errors_and_keeps_to_its_schema(case, bearer):
    case.call_and_validate(headers=bearer)


@ofrep_api.parametrize()
@FUZZ
def test_the_ofrep_endpoints_never_error_and_keep_to_the_official_spec(case, bearer):
    # A schema-valid request may still be answered with an OFREP error the spec documents
    # (404 FLAG_NOT_FOUND for a key that is no migration, 400 TARGETING_KEY_MISSING for an empty
    # targetingKey); every answer must still match the spec, which the other checks assert.
    # ignored_auth spoils the spec's other scheme (X-API-Key, which golive does not use) while the
    # valid Bearer header this test always sends still authenticates: tests/security/test_tokens.py
    # covers missing, wrong and revoked tokens on these endpoints instead.
    # negative_data_rejection: golive ignores the optional flagConfigEtag/flagConfigLastModified
    # cache hints, so a malformed hint is ignored rather than refused.
    excluded = [positive_data_acceptance, ignored_auth, negative_data_rejection]
    case.call_and_validate(headers=bearer, excluded_checks=excluded)
