"""The settings through /api/v1: same permissions as the pages (the token's user decides),
errors naming the field, paginated lists, secrets only in the answers that make them."""

import json

import pytest

from migrations_app.audit import Actor
from migrations_app.inbound.models import InboundWebhook
from migrations_app.incidents.models import NotificationChannel, StatusPage, StatusSubscriber
from migrations_app.models import AuditEvent
from migrations_app.monitoring import services
from migrations_app.monitoring.models import Probe
from migrations_app.rollout.models import RollbackHook

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("tests")


def call(client, method, url, headers, body=None):
    send = getattr(client, method)
    if body is None:
        return send(url, headers=headers)
    return send(url, data=json.dumps(body), content_type="application/json", headers=headers)


def fields(response) -> set[str]:
    return {entry["field"] for entry in response.json()["detail"]}


# --- probes -------------------------------------------------------------------------------------


def test_a_pipeline_creates_lists_pauses_and_deletes_a_probe(client, migration, ops, bearer_for):
    auth = bearer_for(ops)
    body = {
        "name": "Credits",
        "kind": "json_metric",
        "url": "http://127.0.0.1:9/credits",
        "json_path": "$.left",
    }
    created = call(client, "post", f"/api/v1/migrations/{migration.slug}/probes", auth, body)
    assert created.status_code == 201, created.content
    probe_id = created.json()["id"]
    assert AuditEvent.objects.get(action="probe.created").actor_label.startswith("token ci ops-user")
    listed = call(client, "get", f"/api/v1/migrations/{migration.slug}/probes?limit=10", auth).json()
    assert listed["count"] == 1 and listed["items"][0]["json_path"] == "$.left"
    paused = call(client, "patch", f"/api/v1/probes/{probe_id}", auth, {"enabled": False})
    assert paused.status_code == 200 and paused.json()["enabled"] is False
    assert paused.json()["json_path"] == "$.left"  # fields left out keep their value
    assert call(client, "delete", f"/api/v1/probes/{probe_id}", auth).status_code == 204
    assert not Probe.objects.exists() and AuditEvent.objects.filter(action="probe.deleted").exists()


def test_the_page_rules_apply_with_the_field_named(client, migration, ops, bearer_for):
    auth = bearer_for(ops)
    url = f"/api/v1/migrations/{migration.slug}/probes"
    bad_path = call(
        client, "post", url, auth, {"name": "P", "kind": "json_metric", "url": "http://127.0.0.1:9/"}
    )
    assert bad_path.status_code == 409 and fields(bad_path) == {"json_path"}
    secret_header = call(
        client,
        "post",
        url,
        auth,
        {
            "name": "P",
            "url": "http://127.0.0.1:9/",
            "headers": [{"name": "Authorization", "value": "Bearer abc"}],
        },
    )
    assert secret_header.status_code == 409 and fields(secret_header) == {"headers"}
    out_of_range = call(
        client, "post", url, auth, {"name": "P", "url": "http://127.0.0.1:9/", "interval_seconds": 0}
    )
    assert out_of_range.status_code == 400 and fields(out_of_range) == {"interval_seconds"}
    assert not Probe.objects.exists()


def test_a_pm_token_may_read_but_not_change_probes(client, migration, pm, bearer_for):
    probe = services.create_probe(migration, by=SYSTEM, name="Health", url="http://127.0.0.1:9/health")
    auth = bearer_for(pm)
    assert call(client, "get", f"/api/v1/probes/{probe.pk}", auth).status_code == 200
    refused = call(client, "patch", f"/api/v1/probes/{probe.pk}", auth, {"enabled": False})
    assert refused.status_code == 403 and "may not" in refused.json()["detail"]
    assert call(client, "delete", f"/api/v1/probes/{probe.pk}", auth).status_code == 403
    probe.refresh_from_db()
    assert probe.enabled


# --- rollback hooks -----------------------------------------------------------------------------


def test_an_admin_token_manages_hooks_and_sees_the_secret_only_when_made(
    client, migration, admin_user, bearer_for
):
    auth = bearer_for(admin_user)
    created = call(
        client,
        "post",
        f"/api/v1/migrations/{migration.slug}/rollback-hooks",
        auth,
        {"name": "Deploy", "url": "https://deploy.example.com/h"},
    )
    assert created.status_code == 201
    hook = RollbackHook.objects.get()
    assert created.json()["secret"] == hook.secret
    read = call(client, "get", f"/api/v1/rollback-hooks/{hook.pk}", auth)
    assert "secret" not in read.json() and hook.secret not in read.content.decode()
    listed = call(client, "get", f"/api/v1/migrations/{migration.slug}/rollback-hooks", auth).json()
    assert listed["count"] == 1 and hook.secret not in json.dumps(listed)
    rotated = call(client, "post", f"/api/v1/rollback-hooks/{hook.pk}/rotate", auth)
    hook.refresh_from_db()
    assert rotated.json()["secret"] == hook.secret != created.json()["secret"]
    changed = call(client, "patch", f"/api/v1/rollback-hooks/{hook.pk}", auth, {"active": False})
    assert changed.json()["active"] is False and changed.json()["url"] == "https://deploy.example.com/h"
    assert call(client, "delete", f"/api/v1/rollback-hooks/{hook.pk}", auth).status_code == 204
    assert not RollbackHook.objects.exists()


def test_hooks_are_admin_only_and_bad_urls_are_named(client, migration, ops, admin_user, bearer_for):
    url = f"/api/v1/migrations/{migration.slug}/rollback-hooks"
    body = {"name": "Deploy", "url": "https://deploy.example.com/h"}
    assert call(client, "post", url, bearer_for(ops), body).status_code == 403
    assert call(client, "get", url, bearer_for(ops)).status_code == 403
    bad = call(client, "post", url, bearer_for(admin_user), body | {"url": "ftp://x"})
    assert bad.status_code == 409 and fields(bad) == {"url"}
    assert not RollbackHook.objects.exists()


# --- channels -----------------------------------------------------------------------------------


def test_an_admin_token_manages_channels(client, migration, admin_user, bearer_for):
    auth = bearer_for(admin_user)
    body = {
        "name": "Partner",
        "kind": "webhook",
        "url": "https://partner.example.com/in",
        "migrations": [migration.slug],
    }
    created = call(client, "post", "/api/v1/channels", auth, body)
    assert created.status_code == 201, created.content
    channel = NotificationChannel.objects.get()
    assert created.json()["secret"] == channel.secret and channel.secret.startswith("whsec_")
    assert created.json()["migrations"] == [migration.slug]
    assert "secret" not in call(client, "get", f"/api/v1/channels/{channel.pk}", auth).json()
    changed = call(client, "patch", f"/api/v1/channels/{channel.pk}", auth, {"announcements": False})
    assert changed.status_code == 200 and changed.json()["announcements"] is False
    channel.refresh_from_db()
    assert channel.secret == created.json()["secret"]  # editing keeps the secret
    assert call(client, "post", f"/api/v1/channels/{channel.pk}/test", auth).json() == {"queued": True}
    assert call(client, "get", "/api/v1/channels", auth).json()["count"] == 1
    assert call(client, "delete", f"/api/v1/channels/{channel.pk}", auth).status_code == 204


def test_channels_refuse_non_admins_and_name_bad_fields(client, migration, ops, admin_user, bearer_for):
    body = {"name": "Mail", "kind": "email", "addresses": "not-an-address"}
    assert call(client, "post", "/api/v1/channels", bearer_for(ops), body).status_code == 403
    bad = call(client, "post", "/api/v1/channels", bearer_for(admin_user), body)
    assert bad.status_code == 409 and fields(bad) == {"addresses"}
    unknown = call(
        client,
        "post",
        "/api/v1/channels",
        bearer_for(admin_user),
        {"name": "Mail", "kind": "email", "addresses": "a@example.com", "migrations": ["nope"]},
    )
    assert unknown.status_code == 404 and fields(unknown) == {"migrations"}
    assert not NotificationChannel.objects.exists()


# --- status page and subscribers -----------------------------------------------------------------


def test_the_status_page_settings_follow_the_announcement_right(client, migration, pm, oncall, bearer_for):
    url = f"/api/v1/migrations/{migration.slug}/status-page"
    assert call(client, "put", url, bearer_for(oncall), {"enabled": True}).status_code == 403
    answer = call(client, "put", url, bearer_for(pm), {"enabled": True, "public_name": "Card payments"})
    assert answer.status_code == 200 and answer.json()["public_url"].endswith(f"/status/{migration.slug}/")
    assert StatusPage.objects.get(migration=migration).enabled
    assert call(client, "get", url, bearer_for(oncall)).json()["public_name"] == "Card payments"
    row = AuditEvent.objects.get(action="status_page.changed")
    assert row.before == {"enabled": False, "public_name": ""} and row.after["enabled"] is True
    assert call(client, "get", url, bearer_for(pm)).json()["show_history"] is True


def test_subscribers_are_added_listed_and_removed(client, migration, pm, oncall, bearer_for):
    url = f"/api/v1/migrations/{migration.slug}/subscribers"
    assert call(client, "post", url, bearer_for(oncall), {"email": "a@example.com"}).status_code == 403
    added = call(client, "post", url, bearer_for(pm), {"email": "Reader@Example.com"})
    assert added.status_code == 201 and added.json()["email"] == "reader@example.com"
    assert AuditEvent.objects.get(action="subscriber.added").after == {"email": "reader@example.com"}
    assert call(client, "get", url, bearer_for(oncall)).json()["count"] == 1
    bad = call(client, "post", url, bearer_for(pm), {"email": "a@b@c"})
    assert bad.status_code in (400, 409) and fields(bad) == {"email"}
    removed = call(client, "delete", f"{url}/{added.json()['id']}", bearer_for(pm))
    assert removed.status_code == 204 and not StatusSubscriber.objects.exists()


# --- webhook receipt ---------------------------------------------------------------------------


def test_webhook_receipt_is_set_up_and_rotated_through_the_api(client, migration, ops, pm, bearer_for):
    url = f"/api/v1/migrations/{migration.slug}/webhook-receipt"
    assert call(client, "put", url, bearer_for(pm), {"scheme": "stripe"}).status_code == 403
    first = call(client, "put", url, bearer_for(ops), {"scheme": "stripe"})
    endpoint = InboundWebhook.objects.get()
    assert first.json()["secret"] == endpoint.secret and first.json()["url"].endswith(
        f"/inbound/{migration.slug}/webhooks"
    )
    again = call(client, "put", url, bearer_for(ops), {"scheme": "standard"})
    assert again.json()["secret"] is None and again.json()["scheme"] == "standard"
    rotated = call(client, "post", f"{url}/rotate", bearer_for(ops))
    endpoint.refresh_from_db()
    assert rotated.json()["secret"] == endpoint.secret != first.json()["secret"]
    assert call(client, "get", url, bearer_for(pm)).json()["secret"] is None


def test_a_list_refuses_an_unknown_query_parameter_by_name(client, migration, ops, bearer_for):
    answer = call(client, "get", f"/api/v1/migrations/{migration.slug}/probes?limt=5", bearer_for(ops))
    assert answer.status_code == 400 and fields(answer) == {"limt"}
