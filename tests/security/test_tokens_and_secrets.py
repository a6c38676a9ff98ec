"""API tokens (long, hashed, revocable) and secrets that never leave the worker's environment."""

import base64
import json
import logging
import time

import pytest
from django.apps import apps
from django.core import serializers
from django.test import Client

from migrations_app.audit import Actor
from migrations_app.monitoring import services as monitoring_services
from migrations_app.monitoring import tasks as monitoring_tasks
from migrations_app.rollout import tokens
from migrations_app.rollout.models import ApiToken
from tests.monitoring.servers import Route, local_server
from tests.security.test_permission_matrix import EXPECTED, parse
from tests.security.world import build_world, fill, put_live, url_patterns

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")
SECRET = "sk_live_Zq8v3M1xRkT0pW6yA2nB"


def everything_in_the_database() -> str:
    """Every row of every model, as JSON text."""
    dumps = []
    for model in apps.get_models():
        dumps.append(serializers.serialize("json", model.objects.all()))
    return "\n".join(dumps)


def text_of(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_a_token_carries_at_least_128_random_bits_and_only_its_hash_is_stored(ops):
    raws = [tokens.create_token(user=ops, name=f"t{i}", scopes="flags", by=SYSTEM)[1] for i in range(50)]
    assert len(set(raws)) == 50
    for raw in raws:
        secret_part = raw.split("_", 2)[2]
        assert len(base64.urlsafe_b64decode(secret_part + "==")) * 8 >= 128
    database = everything_in_the_database()
    for raw in raws:
        assert raw not in database and raw.split("_", 2)[2] not in database
        assert ApiToken.objects.filter(token_hash=tokens.hash_token(raw)).exists()


def test_a_revoked_token_gets_401_everywhere(client_for, ops, migration):
    put_live(migration, 25)
    token, raw = tokens.create_token(
        user=ops, name="ci", scopes=["flags", "operate", "ingest", "metrics"], by=SYSTEM
    )
    api = Client()
    calls = [
        ("get", f"/api/v1/migrations/{migration.slug}", None),
        ("post", f"/ofrep/v1/evaluate/flags/{migration.slug}", {"context": {"targetingKey": "u1"}}),
        ("get", "/api/client/features", None),
        ("get", "/metrics", None),
    ]

    def statuses():
        out = []
        for method, url, body in calls:
            kwargs = {"data": json.dumps(body), "content_type": "application/json"} if body else {}
            out.append(getattr(api, method)(url, **bearer(raw), **kwargs).status_code)
        return out

    assert statuses() == [200, 200, 200, 200]
    response = client_for(ops).post(f"/account/tokens/{token.pk}/revoke/")
    assert response.status_code in (200, 302)
    time.sleep(tokens.CACHE_SECONDS + 0.1)  # another process's cache forgets it within this
    assert statuses() == [401, 401, 401, 401]
    assert [api.get(url, **bearer("glv_00000000_wrong")).status_code for _, url, _ in calls[:1]] == [401]


def test_a_token_can_do_no_more_than_its_owner(pm, oncall, migration):
    """A product manager's token with the operate scope still may not roll back or move traffic."""
    put_live(migration, 25)
    _, raw = tokens.create_token(user=pm, name="pm script", scopes="operate", by=SYSTEM)
    api = Client()
    rollback = api.post(
        f"/api/v1/migrations/{migration.slug}/rollback",
        data=json.dumps({"reason": "test"}),
        content_type="application/json",
        **bearer(raw),
    )
    assert rollback.status_code == 403
    migration.refresh_from_db()
    assert migration.status == "rolling_out"


def test_a_probe_secret_never_appears_in_a_page_an_api_answer_a_log_line_or_the_database(
    ops, pm, oncall, admin_user, monkeypatch, caplog
):
    """The probe sends the secret; the target echoes it back in its body and headers; then every
    page, the API and the logs are searched for it."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("GOLIVE_TEST_PROVIDER_KEY", SECRET)
    world = build_world(ops=ops, pm=pm, oncall=oncall, admin_user=admin_user)
    with local_server() as server:

        def echo(method, path, headers, body):
            said = headers.get("Authorization", "")
            return Route.json(
                {"error": f"token {said} rejected", "echo": said}, status=500, headers={"X-Echo": said}
            )

        server.handler = echo
        probe = monitoring_services.create_probe(
            world.migration,
            by=SYSTEM,
            name="Provider account",
            kind="authenticated_call",
            url=server.url("/me"),
            headers={"Authorization": "Bearer ${GOLIVE_TEST_PROVIDER_KEY}"},
        )
        for _ in range(2):
            probe.refresh_from_db()
            monitoring_tasks.run_probe(probe_id=probe.pk, due_at=probe.next_due_at.isoformat())
            probe.next_due_at = probe.next_due_at.replace(microsecond=1)
            probe.save(update_fields=["next_due_at"])
        assert server.requests and server.requests[0]["headers"]["Authorization"] == f"Bearer {SECRET}"

    seen: list[tuple[str, str]] = []
    pages = {n for (n, m), codes in parse(EXPECTED).items() if m == "GET"}
    for role in ("ops", "pm", "oncall", "admin"):
        client = Client()
        client.force_login(world.users[role])
        for name, route, _ in url_patterns():
            if name in pages and name != "logout":
                seen.append((f"{role} {name}", text_of(client.get(fill(route, name, world)))))
        seen.append(
            (
                f"{role} probe form",
                client.get(
                    f"/migrations/{world.migration.slug}/control-room/probes/{probe.pk}/"
                ).content.decode(),
            )
        )
    _, raw = tokens.create_token(
        user=admin_user, name="scan", scopes=["flags", "operate", "ingest"], by=SYSTEM
    )
    api = Client()
    for url in ("/api/v1/migrations", f"/api/v1/migrations/{world.migration.slug}", "/api/client/features"):
        seen.append((url, api.get(url, **bearer(raw)).content.decode()))
    seen.append(("logs", "\n".join(record.getMessage() + str(record.args) for record in caplog.records)))
    seen.append(("database", everything_in_the_database()))
    leaks = [where for where, text in seen if SECRET in text]
    assert not leaks, f"the probe secret appears in: {leaks}"
    probe.refresh_from_db()
    assert probe.results.count() == 2 and probe.last_outcome in ("fail", "error")  # the calls were made
