"""Checklist items and phase sign-offs through /api/v1 (`operate` scope).

The token's user decides, exactly as on the checklist page: the same `Viewer` rules say who may
tick an item or revoke a sign-off, and the same services write, audit and refuse."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict

from checklists import selectors, services
from checklists.models import ChecklistItem, ItemState
from checklists.selectors import Viewer
from migrations_app import access
from migrations_app.api_kit import (
    PAGE_QUERY,
    TEXT_PATTERN,
    Refused,
    TokenAuth,
    actor,
    answers,
    only_query,
    person,
    refusals,
    within_rows,
)
from migrations_app.models import Migration

router = Router(auth=TokenAuth(scope="operate"), tags=["checklists"])

CANNOT_UPDATE = (
    "Your account may not update this item: Ops engineers tick any item; others tick the items "
    "they own or whose role they hold on this migration."
)


class ItemOut(Schema):
    id: int
    phase: str
    section: str
    title: str
    required: bool
    done: bool = Field(description="Done or not applicable: the item counts towards its phase.")
    state: str = Field(description="open, done, na (not applicable) or blocked.")
    owner: str | None = Field(description="User name of the owner, or null.")
    owner_role: str
    due: dt.date | None
    evidence: str
    evidence_link: str

    @staticmethod
    def resolve_phase(item):
        return item.section.phase.name

    @staticmethod
    def resolve_section(item):
        return item.section.name

    @staticmethod
    def resolve_done(item):
        return item.is_settled

    @staticmethod
    def resolve_owner(item):
        return item.owner.get_username() if item.owner else None

    @staticmethod
    def resolve_due(item):
        return item.due_date

    @staticmethod
    def resolve_evidence(item):
        return item.evidence_note


class ItemFilters(Schema):
    phase: str | None = Field(
        None, max_length=80, pattern=TEXT_PATTERN, description="Phase name, e.g. Preparation."
    )
    section: str | None = Field(None, max_length=120, pattern=TEXT_PATTERN, description="Section name.")
    owner: str | None = Field(
        None, max_length=150, pattern=TEXT_PATTERN, description="Owner's user name; `none` for unowned."
    )
    done: bool | None = None
    required: bool | None = None


class TickIn(Schema):
    done: bool
    evidence: str | None = Field(None, max_length=5000, pattern=TEXT_PATTERN, description="Kept if omitted.")
    evidence_link: str | None = Field(None, max_length=500, pattern=TEXT_PATTERN, description="A URL.")


class ItemPatch(Schema):
    owner: str | None = Field(
        None, max_length=150, pattern=TEXT_PATTERN, description="User name; null clears the owner."
    )
    due: dt.date | None = Field(None, description="Due date; null clears it.")


class BulkIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt field must not turn into "change nothing"

    items: list[int] = Field(min_length=1, max_length=1000, description="Item ids of this migration.")
    owner: str | None = Field(
        None, max_length=150, pattern=TEXT_PATTERN, description="Give them this owner (null clears)."
    )
    due: dt.date | None = Field(None, description="Set this due date (null clears).")
    done: bool | None = Field(None, description="Tick them done (true) or reopen them (false).")


class BulkOut(Schema):
    changed: int = Field(description="How many items changed (repeats change nothing).")
    items: list[ItemOut]


def _items(migration: Migration):
    return (
        ChecklistItem.objects.filter(migration=migration)
        .select_related("section__phase", "owner", "migration")
        .order_by("section__phase__position", "section__position", "position", "id")
    )


def _item(request, item_id: int) -> tuple[ChecklistItem, Viewer]:
    access.require(request.auth.user, "view")
    item = get_object_or_404(_items_any(), pk=item_id)
    return item, Viewer.of(request.auth.user, item.migration)


def _items_any():
    return ChecklistItem.objects.select_related("section__phase", "owner", "migration")


def _owner(username: str | None, migration: Migration):
    """An owner as the page offers them: an active user with a golive group."""
    return person("owner", username, queryset=selectors.owner_choices(migration))


@router.get(
    "/migrations/{slug}/items",
    response=answers({200: list[ItemOut]}, 400, 401, 403, 404),
    summary="List checklist items (filter by phase, section, owner, done, required)",
)
@paginate(LimitOffsetPagination)
def list_items(request, slug: str, filters: Query[ItemFilters]):
    only_query(request, *PAGE_QUERY, *ItemFilters.model_fields)
    migration = access.get_migration_for_user(request.auth.user, slug)
    items = _items(migration)
    if filters.phase:
        items = items.filter(section__phase__name__iexact=filters.phase)
    if filters.section:
        items = items.filter(section__name__iexact=filters.section)
    if filters.owner == "none":
        items = items.filter(owner__isnull=True)
    elif filters.owner:
        items = items.filter(owner__username=filters.owner)
    if filters.done is not None:
        settled = [ItemState.DONE, ItemState.NOT_APPLICABLE]
        items = items.filter(state__in=settled) if filters.done else items.exclude(state__in=settled)
    if filters.required is not None:
        items = items.filter(required=filters.required)
    return within_rows(request, items)


@router.get(
    "/items/{item_id}", response=answers({200: ItemOut}, 400, 401, 403, 404), summary="One checklist item"
)
def get_item(request, item_id: int):
    only_query(request)
    return _item(request, item_id)[0]


@router.patch(
    "/items/{item_id}",
    response=answers({200: ItemOut}, 400, 401, 403, 404),
    summary="Set an item's owner and due date (fields left out stay as they are)",
)
def update_item(request, item_id: int, payload: ItemPatch):
    item, _ = _item(request, item_id)
    access.require(request.auth.user, "manage_migration")
    given = payload.model_fields_set
    owner = _owner(payload.owner, item.migration) if "owner" in given else item.owner
    services.assign_items(
        [item],
        owner=owner,
        due_date=payload.due if "due" in given else item.due_date,
        set_due=True,
        by=actor(request),
    )
    return _items_any().get(pk=item.pk)


@router.post(
    "/items/{item_id}/tick",
    response=answers({200: ItemOut}, 400, 401, 403, 404, 409),
    summary="Tick an item done (or reopen it), with evidence",
)
def tick_item(request, item_id: int, payload: TickIn):
    item, viewer = _item(request, item_id)
    if not viewer.can_update(item):
        if item.migration.is_terminal:
            raise Refused(409, _closed(item))
        raise PermissionDenied(CANNOT_UPDATE)
    with refusals("evidence_link"):  # a closed checklist is the state's refusal
        services.set_item_state(
            item,
            by=actor(request),
            state=ItemState.DONE if payload.done else ItemState.OPEN,
            evidence_note=payload.evidence,
            evidence_link=payload.evidence_link,
        )
    return _items_any().get(pk=item.pk)


def _closed(item: ChecklistItem) -> ValidationError:
    status = item.migration.get_status_display().lower()
    return ValidationError({"done": f"{item.migration.name} is {status}; its checklist is closed."})


@router.post(
    "/migrations/{slug}/items/bulk",
    response=answers({200: BulkOut}, 400, 401, 403, 404, 409),
    summary="Assign, date or tick many items at once (all or nothing)",
)
def bulk_items(request, slug: str, payload: BulkIn):
    migration = access.get_migration_for_user(request.auth.user, slug)
    given = payload.model_fields_set - {"items"}
    items = list(_items(migration).filter(pk__in=payload.items))
    missing = sorted(set(payload.items) - {item.pk for item in items})
    if missing:
        raise Refused(404, _field("items", f"No items {missing} on {migration.name}."))
    if given & {"owner", "due"}:
        access.require(request.auth.user, "manage_migration")
    viewer = Viewer.of(request.auth.user, migration)
    if "done" in given and not all(viewer.can_update(item) for item in items):
        raise PermissionDenied(CANNOT_UPDATE)
    owner = _owner(payload.owner, migration) if "owner" in given else None
    with transaction.atomic(), refusals():
        changed = _apply_bulk(items, payload, given, owner=owner, request=request)
    return {"changed": changed, "items": list(_items(migration).filter(pk__in=payload.items))}


def _apply_bulk(items, payload: BulkIn, given: set[str], *, owner, request) -> int:
    changed = 0
    by = actor(request)
    for item in items:
        if given & {"owner", "due"}:
            changed_here = services.assign_items(
                [item],
                owner=owner if "owner" in given else item.owner,
                due_date=payload.due if "due" in given else item.due_date,
                set_due=True,
                by=by,
            )
        else:
            changed_here = 0
        if "done" in given:
            version = item.version
            ticked = services.tick_item(item, by=by, done=payload.done)
            changed_here = changed_here or ticked.version != version
        changed += bool(changed_here)
    return changed


def _field(name: str, message: str) -> ValidationError:
    return ValidationError({name: message})
