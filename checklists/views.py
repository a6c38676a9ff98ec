"""The checklist page and its items: tick, state with reason and evidence, owner and due date,
comments, bulk assign. Sign-offs are in signoff_views, templates in template_views."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from checklists import selectors, services
from checklists.forms import (
    BulkAssignForm,
    CommentForm,
    ItemDetailsForm,
    ItemStateForm,
    TickForm,
)
from checklists.models import ChecklistItem, ChecklistSection, ItemState
from checklists.selectors import Viewer
from migrations_app import access, htmx_kit
from migrations_app.audit import Actor


def _item(request, pk: int) -> tuple[ChecklistItem, Viewer]:
    access.require(request.user, "view")
    item = get_object_or_404(
        ChecklistItem.objects.select_related("migration", "section__phase", "owner", "changed_by"), pk=pk
    )
    return item, Viewer.of(request.user, item.migration)


def _require_update(viewer: Viewer, item: ChecklistItem) -> None:
    if not viewer.can_update(item):
        raise PermissionDenied(
            "Your account may not update this item: Ops engineers tick any item; others tick the items "
            "they own or whose role they hold on this migration."
        )


def _checklist_url(item: ChecklistItem) -> str:
    return reverse("checklists:checklist", args=[item.migration.slug]) + f"#item-{item.pk}"


# --- The checklist page ----------------------------------------------------------------------------


@require_GET
@login_required
def checklist(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    return render(request, "checklists/checklist.html", _checklist_context(request, migration))


def _checklist_context(request, migration, **extra) -> dict:
    viewer = Viewer.of(request.user, migration)
    show = request.GET.get("show", "all")
    show = show if show in selectors.FILTERS else "all"
    section_id = _int(request.GET.get("section"))
    owner_id = _int(request.GET.get("owner"))
    phases = selectors.checklist(migration, viewer, show=show, section_id=section_id, owner_id=owner_id)
    context = {
        "migration": migration,
        "viewer": viewer,
        "phases": phases,
        "show": show,
        "filters": selectors.FILTERS,
        "section_id": section_id,
        "owner_id": owner_id,
        "owners": selectors.owner_choices(migration),
        "sections": ChecklistSection.objects.filter(phase__migration=migration).select_related("phase"),
        "shown_count": sum(len(s["items"]) for p in phases for s in p["sections"]),
        "item_states": ItemState.choices,
        **extra,
    }
    return context


def _int(value) -> int | None:
    try:
        return int(value) if value else None
    except (TypeError, ValueError):
        return None


def _row_response(
    request, item: ChecklistItem, viewer: Viewer, *, errors=(), status: int = 200, open_form=False
):
    """The item's row, plus the section and phase heads swapped out-of-band (progress, gate, sign-offs)."""
    item = ChecklistItem.objects.select_related("migration", "section__phase", "owner", "changed_by").get(
        pk=item.pk
    )
    selectors.decorate([item], viewer)
    phase = item.section.phase
    context = {
        "item": item,
        "viewer": viewer,
        "migration": item.migration,
        "row_errors": errors,
        "open_form": open_form,
        "p": selectors.phase_context(phase, viewer),
        "section": item.section,
        "progress": selectors.section_progress(item.migration, item.section).get(item.section_id, {}),
        "next": request.POST.get("next", ""),
        "item_states": ItemState.choices,
        "oob": True,
    }
    response = render(request, "checklists/_row_response.html", context, status=status)
    return response if errors else trigger_client_event(response, "checklistChanged")


@require_POST
@login_required
def item_tick(request, pk):
    item, viewer = _item(request, pk)
    _require_update(viewer, item)
    form = TickForm(request.POST)
    errors: list[str] = []
    if not form.is_valid():
        errors = htmx_kit.form_messages(form)
    else:
        try:
            item = services.set_item_state(
                item, by=Actor.for_user(request.user), state=form.cleaned_data["state"]
            )
        except ValidationError as error:
            errors = htmx_kit.refusal_messages(error)
    return htmx_kit.partial_or_redirect(
        request,
        lambda: _row_response(request, item, viewer, errors=errors, status=422 if errors else 200),
        redirect_to=htmx_kit.next_url(request, _checklist_url(item)),
        errors=errors,
    )


@require_http_methods(["GET", "POST"])
@login_required
def item_detail(request, pk):
    """The item's own page: state with reason and evidence, owner and due date, comments, history.
    The row's "More…" form posts here too (htmx answers with the row)."""
    item, viewer = _item(request, pk)
    form = ItemStateForm(
        request.POST if request.method == "POST" else None,
        initial={
            "state": item.state,
            "reason": item.reason,
            "evidence_note": item.evidence_note,
            "evidence_link": item.evidence_link,
        },
    )
    if request.method == "POST":
        _require_update(viewer, item)
        errors: list[str] = []
        if form.is_valid():
            try:
                item = services.set_item_state(item, by=Actor.for_user(request.user), **form.cleaned_data)
            except ValidationError as error:
                errors = htmx_kit.refusal_messages(error, form)
                htmx_kit.put_refusal_on_form(form, error)
        else:
            errors = htmx_kit.form_messages(form)
        if request.htmx:
            return _row_response(
                request, item, viewer, errors=errors, status=422 if errors else 200, open_form=bool(errors)
            )
        if not errors:
            messages.success(request, f"Saved: {item.title[:80]} is {item.get_state_display().lower()}.")
            return redirect(htmx_kit.next_url(request, _checklist_url(item)))
    return _item_page(request, item, viewer, state_form=form, status=422 if form.is_bound else 200)


def _item_page(request, item, viewer, *, state_form=None, details_form=None, comment_form=None, status=200):
    selectors.decorate([item], viewer)
    owners = selectors.owner_choices(item.migration)
    context = {
        "item": item,
        "migration": item.migration,
        "viewer": viewer,
        "state_form": state_form
        or ItemStateForm(
            initial={
                "state": item.state,
                "reason": item.reason,
                "evidence_note": item.evidence_note,
                "evidence_link": item.evidence_link,
            }
        ),
        "details_form": details_form
        or ItemDetailsForm(initial={"owner": item.owner_id, "due_date": item.due_date}, owners=owners),
        "comment_form": comment_form or CommentForm(),
        "comments": item.comments.select_related("author"),
        "history": selectors.item_history(item)[:50],
    }
    return render(request, "checklists/item_detail.html", context, status=status)


@require_POST
@login_required
def item_details(request, pk):
    """Owner and due date of one item."""
    item, viewer = _item(request, pk)
    access.require(request.user, "manage_migration")
    form = ItemDetailsForm(request.POST, owners=selectors.owner_choices(item.migration))
    if not form.is_valid():
        return _item_page(request, item, viewer, details_form=form, status=422)
    services.assign_items(
        [item],
        owner=form.cleaned_data["owner"],
        due_date=form.cleaned_data["due_date"],
        set_due=True,
        by=Actor.for_user(request.user),
    )
    messages.success(request, "Owner and due date saved.")
    return redirect("checklists:item", pk=item.pk)


@require_POST
@login_required
def item_comment(request, pk):
    item, viewer = _item(request, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _item_page(request, item, viewer, comment_form=form, status=422)
    services.add_comment(item, by=Actor.for_user(request.user), body=form.cleaned_data["body"])
    if request.htmx:
        response = render(
            request,
            "checklists/item_detail.html#comments",
            {"item": item, "comments": item.comments.select_related("author"), "comment_form": CommentForm()},
        )
        return trigger_client_event(response, "checklistChanged")
    return redirect(reverse("checklists:item", args=[item.pk]) + "#comments")


@require_POST
@login_required
def bulk_assign(request, slug):
    migration = access.get_migration_for_user(request.user, slug, action="manage_migration")
    item_ids = list(migration.checklist_items.values_list("pk", flat=True))
    form = BulkAssignForm(request.POST, item_ids=item_ids, owners=selectors.owner_choices(migration))
    fallback = reverse("checklists:checklist", args=[migration.slug])
    if not form.is_valid():
        context = _checklist_context(request, migration, bulk_errors=htmx_kit.form_messages(form))
        return render(request, "checklists/checklist.html", context, status=422)
    items = list(migration.checklist_items.filter(pk__in=form.cleaned_data["items"]))
    owner = form.cleaned_data["owner"]
    changed = services.assign_items(items, owner=owner, by=Actor.for_user(request.user))
    who = owner.get_full_name() or owner.get_username() if owner else "nobody"
    messages.success(request, f"Assigned {changed} item{'s' if changed != 1 else ''} to {who}.")
    return redirect(htmx_kit.next_url(request, fallback))
