"""The demo provider's control card: make the stand-in provider slow, erroring or down, or degrade
only the new path of its simulated checkout (or both paths alike) to watch a compare guardrail.

Shown on the demo migrations' pages when GOLIVE_DEMO_PROVIDER_URL is set (`make run` sets it);
see migrations_app/demo/provider.py."""

from __future__ import annotations

import os

import httpx
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from migrations_app import access, audit
from migrations_app.audit import Actor
from migrations_app.models import Migration

DEMO_SLUGS = ("payment-gateway", "webhook-service")
# mode: (label, what it does, button text, group on the card)
MODES = {
    "ok": ("Healthy", "answers at once; both checkout paths healthy", "Make it healthy", "provider"),
    "slow": ("Slow", "every call takes 2.5 s", "Make it slow", "provider"),
    "error": ("Erroring", "every call answers HTTP 500", "Make it erroring", "provider"),
    "down": ("Down", "every connection is dropped", "Make it down", "provider"),
    "new_slow": (
        "New path slow",
        "checkouts on the new path take 1.5 times as long; the old path stays healthy",
        "Slow down the new path only",
        "canary",
    ),
    "new_error": (
        "New path erroring",
        "8 % of checkouts on the new path fail; the old path stays healthy",
        "Make the new path fail",
        "canary",
    ),
    "both_slow": (
        "Both paths slow",
        "every checkout takes 1.5 times as long, on the new and the old path alike",
        "Slow down both paths",
        "canary",
    ),
}
TIMEOUT_SECONDS = 2.0


def provider_url() -> str:
    url = getattr(settings, "GOLIVE_DEMO_PROVIDER_URL", "") or os.environ.get("GOLIVE_DEMO_PROVIDER_URL", "")
    return url.rstrip("/")


def shown_for(migration: Migration) -> bool:
    return migration.slug in DEMO_SLUGS and bool(provider_url())


def read_mode() -> tuple[str | None, str]:
    """(mode, problem): the provider's current mode, or None and why it could not be read."""
    try:
        response = httpx.get(f"{provider_url()}/_control", timeout=TIMEOUT_SECONDS)
        response.raise_for_status()
        return response.json().get("mode"), ""
    except (httpx.HTTPError, ValueError) as error:
        return None, f"The demo provider at {provider_url()} does not answer ({type(error).__name__})."


def set_mode(migration: Migration, *, mode: str, by: Actor) -> str:
    """Tell the provider to behave as `mode`; audited on the migration. Returns the mode it reports."""
    before, _ = read_mode()
    response = httpx.post(f"{provider_url()}/_control", json={"mode": mode}, timeout=TIMEOUT_SECONDS)
    response.raise_for_status()
    if before != mode:
        audit.record(
            by,
            "demo_provider.mode_changed",
            migration,
            migration=migration,
            before={"mode": before},
            after={"mode": mode},
            reason=f"Demo provider set to {MODES[mode][0].lower()}: {MODES[mode][1]}.",
        )
    return response.json().get("mode", mode)


def card_context(request, migration: Migration, *, error: str = "") -> dict:
    mode, problem = read_mode()
    return {
        "migration": migration,
        "demo_url": provider_url(),
        "demo_mode": mode,
        "demo_mode_label": MODES.get(mode, ("Unknown", ""))[0] if mode else "",
        "demo_modes": [
            (key, label, what, button)
            for key, (label, what, button, group) in MODES.items()
            if group == "provider"
        ],
        "demo_canary_modes": [
            (key, label, what, button)
            for key, (label, what, button, group) in MODES.items()
            if group == "canary"
        ],
        "demo_problem": problem,
        "demo_error": error,
        "demo_can_control": access.can(request.user, "control_demo_provider"),
    }


@require_POST
@login_required
def demo_provider_mode(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="control_demo_provider")
    template = "migrations_app/_demo_provider.html#demo-provider-card"
    mode = request.POST.get("mode", "")
    if not shown_for(migration) or mode not in MODES:
        error = (
            f"Choose one of: {', '.join(MODES)}."
            if shown_for(migration)
            else "This migration has no demo provider."
        )
        return render(request, template, card_context(request, migration, error=error), status=422)
    try:
        set_mode(migration, mode=mode, by=Actor.for_user(request.user))
    except httpx.HTTPError as error:
        message = (
            f"The demo provider did not take the change ({type(error).__name__}); is `make run` running?"
        )
        return render(request, template, card_context(request, migration, error=message), status=422)
    response = render(request, template, card_context(request, migration))
    return trigger_client_event(response, "demoProviderChanged")
