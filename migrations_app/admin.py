from django.contrib import admin
from django.db import transaction

from migrations_app import audit
from migrations_app.audit import Actor
from migrations_app.models import AuditEvent, Contact, Migration, MigrationRole, Phase


def _plain(value):
    """A form value as the audit trail stores it: text for objects, sorted text for lists."""
    if isinstance(value, list | tuple | set) or hasattr(value, "all"):
        items = value.all() if hasattr(value, "all") else value
        return sorted(str(item) for item in items)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


class AuditedAdmin(admin.ModelAdmin):
    """Admin edits are changes like any other: each one leaves an audit event with a diff."""

    def _migrations_of(self, obj) -> list:
        """The migrations whose timeline shows this change (None: the global trail only)."""
        return [getattr(obj, "migration", None)]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if change and not form.changed_data:
            return
        for migration in self._migrations_of(obj):
            audit.record(
                Actor.for_user(request.user),
                f"{obj._meta.model_name}.{'updated' if change else 'created'}",
                obj,
                migration=migration,
                before={name: _plain(form.initial.get(name)) for name in form.changed_data}
                if change
                else None,
                after={name: _plain(form.cleaned_data.get(name)) for name in form.changed_data},
                reason="edited in the admin",
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            for migration in self._migrations_of(obj):
                audit.record(
                    Actor.for_user(request.user),
                    f"{obj._meta.model_name}.deleted",
                    obj,
                    migration=migration,
                    before={"repr": str(obj)},
                    reason="deleted in the admin",
                )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Contact)
class ContactAdmin(AuditedAdmin):
    list_display = ["name", "role", "kind", "organisation", "phone", "email", "escalation_order", "on_call"]
    list_filter = ["kind", "on_call", "migrations"]
    search_fields = ["name", "organisation", "role", "email"]
    filter_horizontal = ["migrations"]

    def _migrations_of(self, obj) -> list:
        # A contact belongs to several migrations: each one's timeline shows the change.
        return list(obj.migrations.all()) or [None]


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0


class MigrationRoleInline(admin.TabularInline):
    model = MigrationRole
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Migration)
class MigrationAdmin(AuditedAdmin):
    list_display = ["name", "slug", "integration", "status", "target_date", "owner"]
    list_filter = ["status"]
    search_fields = ["name", "slug", "integration"]
    # Status moves only through the state machine (the migration page), never by editing the field.
    readonly_fields = ["slug", "status", "status_changed_at", "created_at"]
    inlines = [PhaseInline, MigrationRoleInline]

    def has_add_permission(self, request):
        return False  # created on the migrations page, where phases and the audit trail are set up

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        actor = Actor.for_user(request.user)
        for obj in formset.deleted_objects:
            audit.record(
                actor,
                f"{obj._meta.model_name}.deleted",
                obj,
                migration=form.instance,
                before={"repr": str(obj)},
            )
            obj.delete()
        for obj in instances:
            action = "updated" if obj.pk else "created"
            obj.save()
            audit.record(
                actor,
                f"{obj._meta.model_name}.{action}",
                obj,
                migration=form.instance,
                after={"repr": str(obj)},
            )
        formset.save_m2m()


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "object_repr", "migration", "reason"]
    list_filter = ["action", "actor_kind"]
    search_fields = ["actor_label", "action", "object_repr", "reason", "request_id"]
    date_hierarchy = "at"

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
