"""The demo's canary promise, end to end: the demo provider's simulated checkout asks golive's OFREP
endpoint which path each user takes and pushes latencies with targeting keys; degrading only the
new path pauses the rollout within the compare guardrail's windows, with the numbers on the
control room; slowing both paths alike does not. Real worker; short windows to keep it quick."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.demo import provider as demo_provider
from migrations_app.demo.seed import ROLLING_SLUG
from migrations_app.models import Migration, MigrationStatus
from migrations_app.monitoring.models import Guardrail, GuardrailVerdict, Kpi
from migrations_app.rollout import exposure
from migrations_app.rollout import services as rollout
from tests.processes import celery_worker, wait_until

pytest_plugins = ["tests.browser.journeys"]  # seeded: the demo as `make run` seeds it

pytestmark = pytest.mark.django_db(transaction=True)
WINDOW_SECONDS = 15
CONSECUTIVE = 2


@pytest.fixture
def checkout(seeded, live_server, tmp_path):
    """The seeded demo with its compare guardrails on short windows, and the simulated checkout
    reporting to the live server every second."""
    latency = Guardrail.objects.get(migration__slug=ROLLING_SLUG, name="New path checkout latency")
    Kpi.objects.filter(migration__slug=ROLLING_SLUG, metric__startswith="checkout_").update(
        window_seconds=WINDOW_SECONDS
    )
    Guardrail.objects.filter(kind="compare", migration__slug=ROLLING_SLUG).update(consecutive=CONSECUTIVE)
    sender = demo_provider.Sender(
        seeded.state,
        golive_url=live_server.url,
        slug=ROLLING_SLUG,
        token_file=tmp_path / "token",
        webhook_url="",
        webhook_secret=demo_provider.DEFAULT_WEBHOOK_SECRET,
        every=1.0,
    )
    sender.start()
    yield latency
    sender.stopped.set()
    sender.join(timeout=5)


def last_verdict(guardrail) -> GuardrailVerdict | None:
    return GuardrailVerdict.objects.filter(guardrail=guardrail).order_by("-at", "-id").first()


def status() -> str:
    return Migration.objects.get(slug=ROLLING_SLUG).status


def test_degrading_only_the_new_path_pauses_the_demo_and_both_paths_does_not(checkout, client, tmp_path):
    guardrail = checkout
    client.force_login(get_user_model().objects.get(username="oncall"))
    with celery_worker(tmp_path, concurrency=2):
        healthy = wait_until(
            lambda: (v := last_verdict(guardrail)) and v.verdict == "pass" and v,
            timeout=40,
            interval=0.5,
            message="a passing comparison of two healthy paths",
        )
        assert healthy.n_old > 2 * healthy.n_new >= 60  # 25 % of the users are on the new path

        started = time.monotonic()
        assert (
            client.post(f"/migrations/{ROLLING_SLUG}/demo-provider/", {"mode": "new_slow"}).status_code == 200
        )
        wait_until(
            lambda: status() == MigrationStatus.PAUSED,
            timeout=WINDOW_SECONDS * (CONSECUTIVE + 2),
            interval=0.25,
            message="the compare guardrail's pause",
        )
        took = time.monotonic() - started
        failing = last_verdict(guardrail)
        assert failing.verdict == "fail" and failing.difference > 20
        exposure.flush()  # the live server runs in this process: write what it counted
        page = client.get(f"/migrations/{ROLLING_SLUG}/control-room/").content.decode()
        assert "by guardrail “New path checkout latency”" in page
        assert "Fail: new path worse than old" in page
        assert failing.message.split(":")[0] in page  # "new p95 … ms vs old … ms"
        assert 'on the <span class="cohort-new">new path</span>' in page

        # Both paths slow alike: wait until the window holds only that, then resume and watch.
        client.post(f"/migrations/{ROLLING_SLUG}/demo-provider/", {"mode": "both_slow"})
        wait_until(
            lambda: (
                (v := last_verdict(guardrail))
                and v.verdict == "pass"
                and v.old > 1.3 * healthy.old
                and v.new > 1.3 * healthy.new
            ),
            timeout=WINDOW_SECONDS * 3,
            interval=0.5,
            message="a passing comparison with both paths slower",
        )
        migration = Migration.objects.get(slug=ROLLING_SLUG)
        rollout.resume_rollout(
            migration,
            by=Actor.for_user(get_user_model().objects.get(username="ops")),
            reason="Both paths are slow alike: the provider, not us",
        )
        resumed_at, watched = timezone.now(), time.monotonic()
        while time.monotonic() - watched < WINDOW_SECONDS * CONSECUTIVE:
            assert status() == MigrationStatus.ROLLING_OUT, last_verdict(guardrail).message
            time.sleep(0.5)
        calm = last_verdict(guardrail)
    assert calm.at > resumed_at
    assert not GuardrailVerdict.objects.filter(
        guardrail=guardrail, at__gt=resumed_at, verdict="fail"
    ).exists()
    # Still both slower than healthy at the end (the wait above saw both over 1.3 times; the
    # provider slows them 1.5 times, and a p95 over a short window on a loaded machine is noisy).
    assert calm.old > healthy.old and calm.new > healthy.new
    print(f"paused {took:.1f} s after only the new path slowed; both slow: {calm.message}")
