import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from checklists import services as checklist_services
from migrations_app import access, csv_export, htmx_kit, selectors, services, states
from migrations_app.audit import Actor
from migrations_app.forms import MigrationForm, TransitionForm
from migrations_app.models import MigrationStatus
from migrations_app.people import roles
from migrations_app.rollout import gates as rollout_gates


@require_GET
@login_required
def migration_list(request):
    access.require(request.user, "view")
    status = request.GET.get("status", "active")
    context = {
        "migrations": selectors.migrations_for_list(status=status),
        "status": status,
        "statuses": MigrationStatus.choices,
        "can_create": access.can(request.user, "manage_migration"),
    }
    return render(request, "migrations_app/migration_list.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def migration_create(request):
    access.require(request.user, "manage_migration")
    form = MigrationForm(request.POST if request.method == "POST" else None, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        template = fields.pop("template", None)
        try:
            if template is not None:
                migration = checklist_services.create_migration_from_template(
                    by=Actor.for_user(request.user), template=template, **fields
                )
            else:
                migration = services.create_migration(by=Actor.for_user(request.user), **fields)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Created {migration.name}.")
            return redirect(migration)
    status = 422 if form.is_bound else 200
    return render(request, "migrations_app/migration_form.html", {"form": form}, status=status)


@require_GET
@login_required
def migration_detail(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    return render(request, "migrations_app/migration_detail.html", _detail_context(request, migration))


# The parts of the migration page that refresh themselves when something changes elsewhere.
REFRESHING_PANELS = {"status-panel", "recent-changes", "head-rollback"}


@require_GET
@login_required
def migration_panel(request, slug, panel):
    migration = access.get_migration_for_user(request.user, slug)
    if panel not in REFRESHING_PANELS:
        raise Http404("No such panel.")
    return render(
        request, f"migrations_app/migration_detail.html#{panel}", _detail_context(request, migration)
    )


def _detail_context(request, migration, **extra):
    return {
        "migration": migration,
        "phases": migration.phases.all(),
        "roles": roles.roles_for(migration),
        "empty_slots": roles.empty_slots(migration),
        "can_assign_roles": access.can_assign_roles(request.user, migration),
        "can_edit_contacts": access.can(request.user, "edit_contacts"),
        "contacts": selectors.contacts_for(migration),
        "transitions": selectors.transitions_for(migration, request.user),
        "path": selectors.go_live_path(migration),
        "head_rollback": access.can(request.user, "rollback")
        and rollout_gates.rollback_blocker(migration) is None
        and migration.status != MigrationStatus.ROLLED_BACK,
        "recent_events": selectors.timeline(migration)[:8],
        **extra,
    }


@require_POST
@login_required
def migration_transition(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    form = TransitionForm(request.POST)
    errors: list[str] = []
    if not form.is_valid():
        errors = htmx_kit.form_messages(form)
    else:
        target, override = form.cleaned_data["to"], form.cleaned_data["override"]
        access.require(request.user, states.permission_for(target))
        if override:
            access.require(request.user, "override_gate")
        try:
            migration = services.transition_migration(
                migration,
                to=target,
                by=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
                override=override,
            )
        except ValidationError as error:
            errors = htmx_kit.refusal_messages(error, form)

    def status_panel():
        response = render(
            request,
            "migrations_app/migration_detail.html#status-panel",
            _detail_context(request, migration, status_errors=errors),
            status=422 if errors else 200,
        )
        return response if errors else trigger_client_event(response, "migrationChanged")

    return htmx_kit.partial_or_redirect(request, status_panel, redirect_to=migration, errors=errors)


@require_GET
@login_required
def migration_timeline(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    events = selectors.timeline(migration)
    return render(request, "migrations_app/timeline.html", {"migration": migration, "events": events[:500]})


class _Echo:
    def write(self, value):
        return value


@require_GET
@login_required
def migration_timeline_csv(request, slug):
    migration = access.get_migration_for_user(request.user, slug)
    writer = csv_export.writer(_Echo())  # neutralises cells a spreadsheet would run
    header = ["time_utc", "actor_kind", "actor", "action", "object_type", "object_id", "object"]
    header += ["before", "after", "reason", "request_id", "client_ip"]

    def rows():
        yield writer.writerow(header)
        for event in selectors.timeline(migration).iterator():
            yield writer.writerow(
                [
                    event.at.astimezone(dt.UTC).isoformat(),
                    event.actor_kind,
                    event.actor_label,
                    event.action,
                    event.object_type,
                    event.object_id,
                    event.object_repr,
                    "" if event.before is None else _json(event.before),
                    "" if event.after is None else _json(event.after),
                    event.reason,
                    event.request_id,
                    event.client_ip or "",
                ]
            )

    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{migration.slug}-audit-{stamp}.csv"'
    return response


def _json(value) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True)


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "You are not allowed to do this."
    return render(request, "403.html", {"message": message}, status=403)


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the SVG whitenoise serves."""
    return redirect(static("favicon.svg"), permanent=True)
