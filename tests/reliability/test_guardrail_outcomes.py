"""The guardrail, driven through the real services by any sequence of probe outcomes (pass, fail,
error), against a reference model (Hypothesis): never more than one rollback, and errors are never
counted, neither as breaches nor as passes (removing them changes nothing)."""

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrations_app.audit import Actor
from migrations_app.monitoring import services
from migrations_app.monitoring.models import Guardrail
from migrations_app.rollout.models import Rollback
from tests.factories import make_migration, put_live
from tests.monitoring.test_services import errored, failed, make_kpi, passed, slot

pytestmark = pytest.mark.django_db
OUTCOMES = {"pass": passed, "fail": failed, "error": errored}


class _Undo(Exception):
    pass


def run(outcomes: list[str], consecutive: int) -> tuple[int, str, int]:
    """(rollbacks, guardrail state, breach streak) after feeding `outcomes`; leaves nothing behind."""
    seen = {}
    try:
        with transaction.atomic():
            migration = put_live(make_migration(slug="guarded"), 25)
            probe = services.create_probe(
                migration, by=Actor.system("tests"), name="p", url="http://127.0.0.1:9/"
            )
            kpi = make_kpi(migration, probe, window_seconds=3600)
            guardrail = Guardrail.objects.create(
                migration=migration, name="Success", kpi=kpi, consecutive=consecutive, min_samples=1
            )
            now = timezone.now()
            for n, outcome in enumerate(outcomes, start=1):
                services.record_probe_result(probe, due_at=slot(n), outcome=OUTCOMES[outcome](), now=now)
            guardrail.refresh_from_db()
            seen["result"] = (
                Rollback.objects.filter(migration=migration).count(),
                guardrail.state,
                guardrail.breach_streak,
            )
            raise _Undo
    except _Undo:
        pass
    return seen["result"]


def reference_rollbacks(outcomes: list[str], consecutive: int) -> int:
    """With a success-rate KPI over the whole window, every evaluation from the first fail on is
    critical; errors are no evaluation at all. One rollback once `consecutive` criticals are seen."""
    counted = [o for o in outcomes if o != "error"]
    if "fail" not in counted:
        return 0
    criticals = len(counted) - counted.index("fail")
    return 1 if criticals >= consecutive else 0


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(outcomes=st.lists(st.sampled_from(sorted(OUTCOMES)), max_size=12), consecutive=st.integers(1, 4))
def test_the_guardrail_matches_the_reference_and_ignores_errors(outcomes, consecutive):
    rollbacks, state, streak = run(outcomes, consecutive)
    assert rollbacks <= 1
    assert rollbacks == reference_rollbacks(outcomes, consecutive), (outcomes, consecutive, state, streak)
    without_errors = run([o for o in outcomes if o != "error"], consecutive)
    assert (rollbacks, state, streak) == without_errors
