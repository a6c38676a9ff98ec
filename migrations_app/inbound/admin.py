"""Break-glass view of webhook receipt: read-only, and never the secret (golive's page rotates it)."""

from django.contrib import admin

from migrations_app.inbound.models import InboundDelivery, InboundWebhook


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(InboundWebhook)
class InboundWebhookAdmin(ReadOnlyAdmin):
    list_display = ["migration", "scheme", "enabled", "tolerance_seconds", "created_at", "rotated_at"]
    exclude = ["secret"]


@admin.register(InboundDelivery)
class InboundDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "endpoint", "verified", "event_type", "event_id", "reason"]
    list_filter = ["verified"]
