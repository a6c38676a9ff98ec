"""A guardrail whose action is "pause" freezes the rollout at its level: no advance of any kind
until a person resumes with a reason; users already admitted stay admitted."""

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from migrations_app.audit import Actor
from migrations_app.monitoring import services
from migrations_app.monitoring.models import Guardrail, Kpi
from migrations_app.rollout import selectors, tokens
from migrations_app.rollout import services as rollout
from migrations_app.rollout.models import RolloutPlan
from tests.canary import engine

pytestmark = pytest.mark.django_db


@pytest.fixture
def paused(migration):
    """A migration at 25 % paused by a threshold guardrail with the pause action."""
    selectors.snapshot_cache.clear()
    migration = engine.go_live(migration, 25)
    kpi = Kpi.objects.create(
        migration=migration, name="Payment success", metric="payment_success", critical=90, window_seconds=30
    )
    guardrail = Guardrail.objects.create(
        migration=migration, name="Payment success", kpi=kpi, consecutive=2, min_samples=1, action="pause"
    )
    now = timezone.now()
    for seconds in (20, 10):
        services.ingest_samples(
            migration,
            items=[
                {"metric": "payment_success", "ok": 1, "failed": 9, "at": now - dt.timedelta(seconds=seconds)}
            ],
        )
        services.evaluate_guardrail(guardrail, now=now - dt.timedelta(seconds=seconds - 1))
    migration.refresh_from_db()
    return migration


def _api(client, method, path, token, body=None):
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if body is not None:
        return getattr(client, method)(path, json.dumps(body), content_type="application/json", **kwargs)
    return getattr(client, method)(path, **kwargs)


def test_it_pauses_at_its_level_and_says_which_guardrail_with_its_numbers(client, paused, ops):
    assert paused.status == "paused"
    assert RolloutPlan.objects.get(migration=paused).percent == 25  # admitted users stay
    assert selectors.flag_snapshot().get(paused.slug).percent == 25
    tokens.cache.clear()
    _, token = tokens.create_token(user=ops, name="ci", scopes="operate", by=Actor.system("tests"))
    body = _api(client, "get", f"/api/v1/migrations/{paused.slug}", token).json()
    assert body["paused"]["guardrail"] == "Payment success"
    assert body["paused"]["by"] == "guardrail: Payment success"
    assert "10.00 %" in body["paused"]["reason"] and "2 evaluations in a row" in body["paused"]["reason"]


def test_no_kind_of_advance_passes_until_a_person_resumes(client, paused, ops, admin_user):
    with pytest.raises(ValidationError, match="Paused"):
        rollout.set_traffic(paused, to=50, by=Actor.for_user(ops))
    with pytest.raises(ValidationError, match="Paused"):
        rollout.set_traffic(paused, to=50, by=Actor.for_user(admin_user), reason="I know", override=True)
    client.force_login(admin_user)
    page = client.post(
        f"/migrations/{paused.slug}/traffic/set/",
        {"percent": 50, "override": "1", "reason": "now"},
        HTTP_HX_REQUEST="true",
    )
    assert page.status_code == 422 and "Paused" in page.content.decode()
    tokens.cache.clear()
    _, token = tokens.create_token(user=admin_user, name="ci", scopes="operate", by=Actor.system("tests"))
    api = _api(
        client,
        "post",
        f"/api/v1/migrations/{paused.slug}/traffic",
        token,
        {"percent": 50, "override": True, "reason": "x"},
    )
    assert api.status_code == 409 and "Paused" in api.json()["detail"][0]["message"]
    assert RolloutPlan.objects.get(migration=paused).percent == 25

    with pytest.raises(ValidationError, match="Say why"):
        rollout.resume_rollout(paused, by=Actor.for_user(ops), reason=" ")
    rollout.resume_rollout(paused, by=Actor.for_user(ops), reason="Provider fixed the timeouts")
    assert _api(client, "get", f"/api/v1/migrations/{paused.slug}", token).json()["paused"] is None
    # Healthy again, the guardrail no longer blocks: the next step goes through.
    guardrail = Guardrail.objects.get(migration=paused)
    later = timezone.now() + dt.timedelta(seconds=60)  # the failures have left the 30 s window
    services.ingest_samples(paused, items=[{"metric": "payment_success", "ok": 10, "failed": 0, "at": later}])
    services.evaluate_guardrail(guardrail, now=later + dt.timedelta(seconds=1))
    rollout.set_traffic(paused, to=50, by=Actor.for_user(ops))
    assert RolloutPlan.objects.get(migration=paused).percent == 50


def test_an_inconclusive_compare_verdict_blocks_advancing_but_never_rolls_back(migration, ops):
    selectors.snapshot_cache.clear()
    live = engine.go_live(migration, 25)
    guardrail = engine.latency_guardrail(live, action="rollback")
    Guardrail.objects.filter(pk=guardrail.pk).update(
        last_verdict="inconclusive", last_message="new 10 vs old 10 samples"
    )
    with pytest.raises(ValidationError, match="cannot yet tell"):
        rollout.set_traffic(live, to=50, by=Actor.for_user(ops))
    live.refresh_from_db()
    assert live.status == "rolling_out"
