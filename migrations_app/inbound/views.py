"""The webhook receipt page (settings, secret, recent deliveries) and the receiving URL itself."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from migrations_app import access
from migrations_app.audit import Actor
from migrations_app.inbound import kpis, selectors, services
from migrations_app.inbound.forms import InboundWebhookForm, WebhookKpisForm
from migrations_app.inbound.models import InboundWebhook

# Provider events are a few kilobytes; a megabyte is not an event, it is a mistake or an attack.
MAX_BODY_BYTES = 256 * 1024


def _page(request, migration, *, form=None, kpis_form=None, secret=None, status=200):
    endpoint = selectors.endpoint_for(migration)
    context = {
        "migration": migration,
        "endpoint": endpoint,
        "form": form or InboundWebhookForm(instance=endpoint),
        "kpis_form": kpis_form or WebhookKpisForm(),
        "secret": secret,
        "receive_url": request.build_absolute_uri(reverse("inbound_receiver:receive", args=[migration.slug])),
        "counts": selectors.delivery_counts(endpoint) if endpoint else None,
        "deliveries": selectors.recent_deliveries(endpoint) if endpoint else [],
        "can_configure": access.can(request.user, "manage_migration"),
        "metrics": (services.RECEIVED_METRIC, services.VERIFIED_METRIC),
    }
    return render(request, "inbound/receipt.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def receipt_page(request, slug):
    action = "manage_migration" if request.method == "POST" else "view"
    migration = access.get_migration_for_user(request.user, slug, action=action)
    if request.method == "GET":
        return _page(request, migration)
    form = InboundWebhookForm(request.POST, instance=selectors.endpoint_for(migration))
    if not form.is_valid():
        return _page(request, migration, form=form, status=422)
    endpoint, secret = services.configure_inbound(
        migration, by=Actor.for_user(request.user), **form.cleaned_data
    )
    if secret is None:
        messages.success(request, "Webhook receipt settings saved.")
        return redirect("inbound:page", slug=migration.slug)
    # Shown in this answer only: a reload or a later visit never shows it again.
    return _page(request, migration, secret=secret)


@require_POST
@login_required
def rotate_secret(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="manage_migration")
    endpoint = selectors.endpoint_for(migration)
    if endpoint is None:
        raise Http404("This migration does not receive webhooks yet.")
    secret = services.rotate_inbound_secret(endpoint, by=Actor.for_user(request.user))
    return _page(request, migration, secret=secret)


@require_POST
@login_required
def add_kpis(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="manage_migration")
    form = WebhookKpisForm(request.POST)
    if not form.is_valid():
        return _page(request, migration, kpis_form=form, status=422)
    created = kpis.add_webhook_kpis(
        migration,
        by=Actor.for_user(request.user),
        action=form.cleaned_data["action"],
        no_data_seconds=form.cleaned_data["no_data_minutes"] * 60,
    )
    if created:
        messages.success(request, f"Added {len(created)} KPIs: {', '.join(k.name for k in created)}.")
    else:
        messages.info(request, "The webhook KPIs exist already.")
    return redirect(reverse("inbound:page", args=[migration.slug]) + "#kpis")


def _refusal(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


@csrf_exempt  # signed by the provider instead: no session, no cookie
@require_POST
def receive(request, slug):
    endpoint = InboundWebhook.objects.select_related("migration").filter(migration__slug=slug).first()
    if endpoint is None or not endpoint.enabled:
        return _refusal(404, "No webhook receipt is set up at this address.")
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
        return _refusal(413, f"The body must be at most {MAX_BODY_BYTES} bytes.")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return _refusal(413, f"The body must be at most {MAX_BODY_BYTES} bytes.")
    receipt = services.receive(endpoint, body=body, headers=request.headers)
    if not receipt.verified:
        return _refusal(401, f"Signature refused: {receipt.reason}.")
    return JsonResponse({"received": True, "duplicate": receipt.duplicate, "id": receipt.event_id})
