"""Every form-posting URL fuzzed with Hypothesis: hostile input is refused, never a 500.

Field names and choices come from golive's own forms, so most examples reach the validation
and the services, not just "field required"."""

import pytest
from django import forms
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checklists import forms as checklist_forms
from migrations_app import forms as migration_forms
from migrations_app.incidents import forms as incident_forms
from migrations_app.monitoring import forms as monitoring_forms
from tests.security.test_permission_matrix import EXPECTED, parse
from tests.security.world import build_world, fill, url_patterns

pytestmark = pytest.mark.django_db
EXAMPLES_PER_URL = 8

NASTY = [
    "",
    " ",
    "0",
    "-1",
    "101",
    "99999999999999999999",
    "1e309",
    "NaN",
    "-0",
    "2026-13-45",
    "2026-02-30T25:61",
    "<script>alert(1)</script>",
    "\x00",
    "a\x00b",
    "../../etc/passwd",
    "%s%n%x",
    "' OR 1=1 --",
    "${HOME}",
    "\u202e\u0000\ufeff",
    "🚀" * 300,
    "x" * 20000,
    "true",
    "on",
    "null",
    "[]",
    "{}",
]


def golive_form_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for module in (checklist_forms, migration_forms, incident_forms, monitoring_forms):
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
            ):
                fields.update(value.base_fields)
    return fields


FIELDS = golive_form_fields()


def value_for(field: forms.Field):
    choices = []
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        choices = [str(key) for key, label in field.choices if not isinstance(label, (list, tuple))]
    options = [st.sampled_from(NASTY), st.text(max_size=50), st.integers(-(10**12), 10**12).map(str)]
    if choices:
        options.append(st.sampled_from(choices))
    return st.one_of(options)


PAIRS = st.sampled_from(sorted(FIELDS)).flatmap(lambda n: st.tuples(st.just(n), value_for(FIELDS[n])))
BODIES = st.lists(PAIRS, max_size=10).map(dict)


class _Undo(Exception):
    pass


def test_no_form_answers_a_500_whatever_is_posted(ops, pm, oncall, admin_user):
    world = build_world(ops=ops, pm=pm, oncall=oncall, admin_user=admin_user)
    post_urls = [
        (name, fill(route, name, world))
        for name, route, _ in url_patterns()
        if parse(EXPECTED).get((name, "POST"), {}).get("admin") not in (None, 401, 404, 405)
        and name not in ("logout",)
    ]
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    failures: list[str] = []

    for name, url in post_urls:

        @settings(
            max_examples=EXAMPLES_PER_URL,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        @given(body=BODIES, htmx=st.booleans())
        def post(body, htmx):
            headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            try:
                with transaction.atomic():  # every example starts from the same world
                    response = client.post(url, body, **headers)  # noqa: B023 (runs in this iteration)
                    if response.status_code >= 500:
                        failures.append(f"{name} {response.status_code} {body!r}"[:500])  # noqa: B023
                    raise _Undo
            except _Undo:
                pass

        post()  # runs now, in this iteration: the loop variables are current
    assert len(post_urls) >= 30
    assert not failures, "\n".join(failures[:20])
