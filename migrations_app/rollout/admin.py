from django.contrib import admin

from migrations_app.rollout.models import (
    ApiToken,
    ClientInstance,
    OutboxMessage,
    Rollback,
    RollbackHook,
    RollbackStep,
    RolloutPlan,
    TrafficChange,
)


@admin.register(RollbackHook)
class RollbackHookAdmin(admin.ModelAdmin):
    list_display = ["name", "migration", "url", "active"]
    list_filter = ["active"]


@admin.register(RolloutPlan)
class RolloutPlanAdmin(admin.ModelAdmin):
    list_display = ["migration", "percent", "steps", "soak_minutes", "level_since"]
    # Traffic moves only through the panel and the API (gated and audited).
    readonly_fields = ["percent", "level_since"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RollbackStepInline(admin.TabularInline):
    model = RollbackStep
    extra = 0
    can_delete = False
    readonly_fields = ["position", "text", "done_at", "done_by"]


@admin.register(Rollback)
class RollbackAdmin(ReadOnlyAdmin):
    list_display = ["migration", "at", "by", "from_percent", "resumed_at"]
    inlines = [RollbackStepInline]


@admin.register(TrafficChange)
class TrafficChangeAdmin(ReadOnlyAdmin):
    list_display = ["migration", "at", "by", "kind", "from_percent", "to_percent"]


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "event_type", "target", "status", "attempts", "next_attempt_at"]
    list_filter = ["status", "kind"]
    exclude = ["secret"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "user", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]


@admin.register(ClientInstance)
class ClientInstanceAdmin(ReadOnlyAdmin):
    list_display = ["app_name", "instance_id", "sdk_version", "last_fetch_at", "last_metrics_at"]
