"""Every place a person or an API client gives golive a URL, in one table.

tests/security/test_hostile_urls_everywhere.py sends the hostile corpus through each row and finds
the URL-taking routes itself (the OpenAPI document, golive's form classes, its models and the
Django admin): a new URL field without a row here fails that test until it gets one.

A row says where to send the URL, how to build the rest of a valid request around it, and which
row it leaves alone when refused (a create adds no row, an update keeps the stored URL)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from migrations_app.audit import Actor
from migrations_app.incidents.models import NotificationChannel
from migrations_app.monitoring import services as monitoring_services
from migrations_app.monitoring.models import Probe
from migrations_app.rollout import hooks
from migrations_app.rollout.models import RollbackHook

SYSTEM = Actor.system("tests")
PUBLIC_URL = "https://93.184.215.14/health"  # a literal public address: saved without a lookup
WEBHOOK_SECRET = "whsec_" + "A" * 32

PROBE_FIELDS = {
    "name": "Health",
    "kind": "http_health",
    "method": "GET",
    "expected_statuses": "200",
    "webhook_scheme": "stripe",
    "min_days_valid": 14,
    "interval_seconds": 30,
    "timeout_seconds": 1,
    "passes_to_tick": 3,
    "errors_to_page": 3,
    "query": "up",
}
CHANNEL_FIELDS = {"name": "Ops chat", "incidents": "on", "active": "on"}


@dataclass(frozen=True)
class Existing:
    """The rows an update sends its hostile URL to."""

    migration: object
    probe: Probe
    hook: RollbackHook
    channel: NotificationChannel


def make_existing(migration) -> Existing:
    probe = monitoring_services.create_probe(migration, by=SYSTEM, name="Existing probe", url=PUBLIC_URL)
    hook, _ = hooks.create_hook(migration, by=SYSTEM, name="Existing hook", url=PUBLIC_URL)
    channel = NotificationChannel.objects.create(
        name="Existing webhook", kind="webhook", url=PUBLIC_URL, secret=WEBHOOK_SECRET
    )
    return Existing(migration, probe, hook, channel)


@dataclass(frozen=True)
class Surface:
    """One way in: `covers` is the OpenAPI operation ("PATCH /api/v1/probes/{probe_id}"), the form
    class ("ProbeForm") or the admin model ("monitoring.Probe") the discovery looks for."""

    name: str
    covers: str
    method: str
    path: Callable[[Existing], str]
    data: Callable[[str, Existing], dict]
    model: type
    stored: Callable[[Existing], str] | None = None  # an update: the URL that must stay
    also_covers: tuple[str, ...] = ()  # e.g. the form class an admin page uses

    @property
    def is_api(self) -> bool:
        return self.covers.split(" ")[-1].startswith("/api/")

    def send(self, client, existing: Existing, url: str, *, bearer: str = ""):
        path, data = self.path(existing), self.data(url, existing)
        if self.is_api:
            return client.generic(
                self.method,
                path,
                json.dumps(data),
                content_type="application/json",
                HTTP_AUTHORIZATION=bearer,
            )
        return client.post(path, data)

    def named_fields(self, response) -> set[str] | None:
        """The fields a refusal names, read as this surface's users read it; None if not refused."""
        if self.is_api:
            if response.status_code not in (400, 409, 422):
                return None
            return {entry["field"] for entry in response.json()["detail"]}
        if self.covers.count(".") == 1 and "Form" not in self.covers:  # the Django admin
            form = response.context["adminform"].form if response.status_code == 200 else None
        else:
            form = response.context["form"] if response.status_code == 422 else None
        return None if form is None else set(form.errors)


def _slug(e: Existing) -> str:
    return e.migration.slug


PAGES = [
    Surface(
        f"probe page, create ({kind})",
        "ProbeForm",
        "POST",
        lambda e: f"/migrations/{_slug(e)}/control-room/probes/new/",
        lambda url, e, kind=kind: {**PROBE_FIELDS, "kind": kind, "url": url},
        Probe,
    )
    for kind in ("http_health", "prometheus")
] + [
    Surface(
        "probe page, edit",
        "ProbeForm",
        "POST",
        lambda e: f"/migrations/{_slug(e)}/control-room/probes/{e.probe.pk}/",
        lambda url, e: {**PROBE_FIELDS, "name": "Existing probe", "url": url},
        Probe,
        stored=lambda e: e.probe.url,
    ),
    Surface(
        "rollback hook page, create",
        "RollbackHookForm",
        "POST",
        lambda e: f"/migrations/{_slug(e)}/rollback-hooks/",
        lambda url, e: {"name": "Deploy", "url": url, "active": "on"},
        RollbackHook,
    ),
    Surface(
        "rollback hook page, edit",
        "RollbackHookForm",
        "POST",
        lambda e: f"/migrations/{_slug(e)}/rollback-hooks/{e.hook.pk}/",
        lambda url, e: {"name": "Existing hook", "url": url, "active": "on"},
        RollbackHook,
        stored=lambda e: e.hook.url,
    ),
    *[
        Surface(
            f"channel page, create ({kind})",
            "ChannelForm",
            "POST",
            lambda e: "/notifications/new/",
            lambda url, e, kind=kind: {**CHANNEL_FIELDS, "kind": kind, "url": url, "secret": WEBHOOK_SECRET},
            NotificationChannel,
        )
        for kind in ("slack", "webhook")
    ],
    Surface(
        "channel page, edit",
        "ChannelEditForm",
        "POST",
        lambda e: f"/notifications/{e.channel.pk}/",
        lambda url, e: {**CHANNEL_FIELDS, "name": "Existing webhook", "kind": "webhook", "url": url},
        NotificationChannel,
        stored=lambda e: e.channel.url,
    ),
]

ADMIN = [
    Surface(
        "admin, probe",
        "monitoring.Probe",
        "POST",
        lambda e: "/admin/monitoring/probe/add/",
        lambda url, e: {**PROBE_FIELDS, "migration": e.migration.pk, "url": url},
        Probe,
        also_covers=("AdminProbeForm",),
    ),
    Surface(
        "admin, channel",
        "incidents.NotificationChannel",
        "POST",
        lambda e: "/admin/incidents/notificationchannel/add/",
        lambda url, e: {"name": "Hook", "kind": "slack", "url": url, "active": "on", "incidents": "on"},
        NotificationChannel,
    ),
    Surface(
        "admin, rollback hook",
        "rollout.RollbackHook",
        "POST",
        lambda e: "/admin/rollout/rollbackhook/add/",
        lambda url, e: {"migration": e.migration.pk, "name": "Deploy", "url": url, "secret": "whsec_x"},
        RollbackHook,
    ),
]

API = [
    *[
        Surface(
            f"probes API, create ({kind})",
            "POST /api/v1/migrations/{slug}/probes",
            "POST",
            lambda e: f"/api/v1/migrations/{_slug(e)}/probes",
            lambda url, e, kind=kind: {"name": "Health", "kind": kind, "url": url, "query": "up"},
            Probe,
        )
        for kind in ("http_health", "prometheus")
    ],
    Surface(
        "probes API, update",
        "PATCH /api/v1/probes/{probe_id}",
        "PATCH",
        lambda e: f"/api/v1/probes/{e.probe.pk}",
        lambda url, e: {"url": url},
        Probe,
        stored=lambda e: e.probe.url,
    ),
    Surface(
        "rollback hooks API, create",
        "POST /api/v1/migrations/{slug}/rollback-hooks",
        "POST",
        lambda e: f"/api/v1/migrations/{_slug(e)}/rollback-hooks",
        lambda url, e: {"name": "Deploy", "url": url},
        RollbackHook,
    ),
    Surface(
        "rollback hooks API, update",
        "PATCH /api/v1/rollback-hooks/{hook_id}",
        "PATCH",
        lambda e: f"/api/v1/rollback-hooks/{e.hook.pk}",
        lambda url, e: {"url": url},
        RollbackHook,
        stored=lambda e: e.hook.url,
    ),
    *[
        Surface(
            f"channels API, create ({kind})",
            "POST /api/v1/channels",
            "POST",
            lambda e: "/api/v1/channels",
            lambda url, e, kind=kind: {"name": "Ops chat", "kind": kind, "url": url},
            NotificationChannel,
        )
        for kind in ("slack", "webhook")
    ],
    Surface(
        "channels API, update",
        "PATCH /api/v1/channels/{channel_id}",
        "PATCH",
        lambda e: f"/api/v1/channels/{e.channel.pk}",
        lambda url, e: {"url": url},
        NotificationChannel,
        stored=lambda e: e.channel.url,
    ),
]

SURFACES = PAGES + ADMIN + API

# URL fields golive shows as links and never calls: the outbound guard is not theirs; they must
# still refuse what is no web address (javascript:, data:, file:), which their own test asserts.
LINKS_ONLY = {
    "checklists.ChecklistItem.evidence_link": "evidence a person opens; golive never fetches it",
    "ItemStateForm": "the checklist item's evidence link (ChecklistItem.evidence_link)",
    "POST /api/v1/items/{item_id}/tick": "the checklist item's evidence link (ChecklistItem.evidence_link)",
}
