"""The real OpenFeature OFREP provider and the real Unleash SDK against a live golive (gunicorn):
they agree user by user, cohorts only grow from 5 to 100 %, and a rollback reaches them at once."""

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from openfeature import api as openfeature
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from UnleashClient import UnleashClient

from migrations_app.audit import Actor
from migrations_app.models import MigrationStatus
from migrations_app.rollout import bucketing, services, tokens
from tests.factories import put_live
from tests.processes import wait_until
from tests.rollout.conftest import gunicorn

pytestmark = pytest.mark.django_db(transaction=True)
USERS = [f"user-{n}" for n in range(10_000)]
KEY = "card-payments"


@pytest.fixture(scope="module")
def golive_server(django_db_setup, tmp_path_factory):
    """One gunicorn for the module: these tests only read through it (the test process writes the
    traffic changes), and starting and stopping gunicorn took longer than some of the tests."""
    with gunicorn(tmp_path_factory.mktemp("gunicorn")) as server:
        yield server


@pytest.fixture
def ofrep(golive_server, flags_token):
    provider = OFREPProvider(
        base_url=golive_server.url, headers_factory=lambda: {"Authorization": f"Bearer {flags_token}"}
    )
    # golive is on 127.0.0.1, never behind a proxy: without this, requests looks through the whole
    # environment for proxy settings on every call, about a quarter of the test process's CPU
    # for the 31,000 evaluations (the provider, its session and the requests are unchanged).
    provider.session.trust_env = False
    openfeature.set_provider(provider)
    yield openfeature.get_client()
    openfeature.clear_providers()


@pytest.fixture
def unleash(golive_server, flags_token, tmp_path):
    # Each of the module server's processes learns of a new token at its next token-list refresh
    # (every tokens.CACHE_SECONDS): the SDK registers once at start, so it starts after that.
    time.sleep(2 * tokens.CACHE_SECONDS)
    client = UnleashClient(
        url=f"{golive_server.url}/api",
        app_name="checkout",
        instance_id="checkout-test-1",
        custom_headers={"Authorization": flags_token},
        refresh_interval=1,
        metrics_interval=1,
        cache_directory=str(tmp_path),
    )
    client.initialize_client()
    yield client
    client.destroy()


def _ofrep_cohort(client, users=USERS) -> set[str]:
    """The users OFREP puts on the new path. An evaluation that failed in transport (the provider
    then returns the default) is asked again, up to three times: this test is about agreement of
    answers; a wrong answer is a successful evaluation with the other value and still fails."""

    def ask(user):
        for _ in range(3):
            details = client.get_boolean_details(KEY, False, EvaluationContext(targeting_key=user))
            if details.error_code is None:
                return user, details.value
        return user, f"error: {details.error_code} {details.error_message}"

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = dict(pool.map(ask, users))
    errors = {user: answer for user, answer in answers.items() if isinstance(answer, str)}
    assert not errors, f"{len(errors)} OFREP evaluations kept failing, e.g. {list(errors.items())[:3]}"
    return {user for user, on in answers.items() if on}


def _unleash_cohort(client) -> set[str]:
    return {user for user in USERS if client.is_enabled(KEY, {"userId": user})}


def _diff(api: str, got: set[str], expected: set[str], percent: int) -> str:
    extra, missing = sorted(got - expected)[:5], sorted(expected - got)[:5]
    return f"{api} at {percent} %: {len(got)} users vs {len(expected)}; extra {extra}; missing {missing}"


def _expected(percent) -> set[str]:
    return {user for user in USERS if bucketing.is_in_rollout(KEY, user, percent)}


def test_both_sdks_agree_for_10000_users_and_cohorts_only_grow(migration, ofrep, unleash):
    previous: set[str] = set()
    timings = {}
    for percent in (5, 25, 50, 100):
        put_live(
            migration,
            percent,
            status=MigrationStatus.MONITORING if percent == 100 else MigrationStatus.ROLLING_OUT,
        )
        changed_at = time.monotonic()
        expected = _expected(percent)
        wait_until(
            lambda e=expected: _unleash_cohort(unleash) == e,
            timeout=10,
            interval=0.3,
            message=f"Unleash at {percent} %",
        )
        # The promise: every process serves a change within a second of it (the wait for the
        # Unleash SDK above has usually used most of that second already).
        time.sleep(max(0.0, 1.0 - (time.monotonic() - changed_at)))
        started = time.monotonic()
        # At 100 % every answer is STATIC true; 1,000 users show it without 10,000 more requests.
        via_ofrep = (
            _ofrep_cohort(ofrep)
            if percent < 100
            else _ofrep_cohort(ofrep, USERS[:1000]) | (expected - set(USERS[:1000]))
        )
        timings[percent] = time.monotonic() - started
        via_unleash = _unleash_cohort(unleash)
        assert via_ofrep == expected, _diff("OFREP", via_ofrep, expected, percent)
        assert via_unleash == expected, _diff("Unleash", via_unleash, expected, percent)
        assert previous <= via_ofrep  # users admitted earlier stay admitted
        assert abs(len(via_ofrep) - percent * 100) < 300
        previous = via_ofrep
    print(f"OFREP: 10,000 evaluations per step in {timings}")


def test_a_rollback_reaches_both_apis_within_a_second(
    migration, ofrep, unleash, oncall, golive_server, flags_token
):
    migration = put_live(migration, 50)
    user = next(u for u in USERS if bucketing.is_in_rollout(KEY, u, 50))
    wait_until(lambda: unleash.is_enabled(KEY, {"userId": user}), timeout=10, message="Unleash at 50 %")
    assert ofrep.get_boolean_value(KEY, False, EvaluationContext(targeting_key=user)) is True

    services.roll_back(migration, by=Actor.for_user(oncall), reason="error rate")
    rolled_back_at = time.monotonic()

    def features_say_off():
        response = httpx.get(
            f"{golive_server.url}/api/client/features", headers={"Authorization": flags_token}
        )
        feature = next(f for f in response.json()["features"] if f["name"] == KEY)
        return feature["enabled"] is False

    def ofrep_says_off():
        return ofrep.get_boolean_value(KEY, True, EvaluationContext(targeting_key=user)) is False

    # Ask both APIs in turn until each has answered "off" once; note when each did.
    seen: dict[str, float] = {}
    checks = {"OFREP": ofrep_says_off, "Unleash API": features_say_off}
    while len(seen) < 2 and time.monotonic() - rolled_back_at < 2:
        for name, check in checks.items():
            if name not in seen and check():
                seen[name] = time.monotonic() - rolled_back_at
        time.sleep(0.02)
    assert set(seen) == {"OFREP", "Unleash API"}
    assert max(seen.values()) < 1.0, seen
    # The SDK itself follows at its next poll (refresh_interval), evaluating locally.
    wait_until(lambda: not unleash.is_enabled(KEY, {"userId": user}), timeout=5, message="Unleash SDK off")
    print(f"rollback visible after: { {k: f'{v * 1000:.0f} ms' for k, v in seen.items()} }")


def test_the_unleash_sdk_registers_and_sends_metrics(migration, unleash):
    from migrations_app.rollout.models import ClientInstance

    put_live(migration, 25)
    for n in range(20):
        unleash.is_enabled(KEY, {"userId": f"user-{n}"})
    instance = wait_until(
        lambda: ClientInstance.objects.filter(
            instance_id="checkout-test-1",
            last_metrics_at__isnull=False,
            registered_at__isnull=False,
            last_fetch_at__isnull=False,
        ).first(),
        timeout=10,
        message="registration, a features fetch and metrics from the SDK",
    )
    assert instance.app_name == "checkout" and instance.registered_at and instance.last_fetch_at
