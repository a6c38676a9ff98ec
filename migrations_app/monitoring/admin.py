from django.contrib import admin

from migrations_app.admin import AuditedAdmin
from migrations_app.monitoring.forms import ProbeForm
from migrations_app.monitoring.models import Alert, Guardrail, Kpi, Probe, ProbeResult

STATE_FIELDS = ["state", "breach_streak", "fired", "last_value", "last_evaluated_at", "last_message"]


class AdminProbeForm(ProbeForm):
    """The same validation as the control room's form (secrets as ${VARIABLE}, SSRF check)."""

    def __init__(self, *args, **kwargs):
        instance = kwargs.get("instance")
        super().__init__(*args, migration=getattr(instance, "migration", None), **kwargs)

    class Meta(ProbeForm.Meta):
        fields = ["migration", *ProbeForm.Meta.fields, "checklist_item_id"]

    def clean(self):
        data = super().clean()
        self.migration = data.get("migration") or self.migration
        self.instance.headers = data.get("headers_text", {})
        self.instance.expected_json = data.get("expected_json_text", [])
        return data


@admin.register(Probe)
class ProbeAdmin(AuditedAdmin):
    form = AdminProbeForm
    list_display = [
        "name",
        "migration",
        "kind",
        "url",
        "interval_seconds",
        "enabled",
        "last_outcome",
        "last_checked_at",
    ]
    list_filter = ["kind", "enabled", "migration"]
    search_fields = ["name", "url"]
    readonly_fields = [
        "next_due_at",
        "consecutive_passes",
        "consecutive_errors",
        "last_outcome",
        "last_checked_at",
        "last_summary",
    ]


@admin.register(Kpi)
class KpiAdmin(AuditedAdmin):
    list_display = [
        "name",
        "migration",
        "probe",
        "metric",
        "aggregation",
        "direction",
        "warning",
        "critical",
        "unit",
    ]
    list_filter = ["migration", "aggregation"]


@admin.register(Guardrail)
class GuardrailAdmin(AuditedAdmin):
    list_display = ["name", "migration", "kpi", "kind", "action", "consecutive", "state", "enabled"]
    list_filter = ["migration", "kind", "action", "state"]
    readonly_fields = STATE_FIELDS


@admin.register(ProbeResult)
class ProbeResultAdmin(admin.ModelAdmin):
    list_display = ["probe", "checked_at", "outcome", "status_code", "latency_ms", "value", "traffic_percent"]
    list_filter = ["outcome"]
    list_select_related = ["probe"]
    show_full_result_count = False  # a million rows: no COUNT(*) per page

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["created_at", "migration", "level", "message"]
    list_filter = ["level", "migration"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
