from django.contrib import admin

from checklists.models import ChecklistTemplate, PhaseGate, TemplateItem
from migrations_app.admin import AuditedAdmin


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(AuditedAdmin):
    """Name and description here; phases and items are edited as YAML on the template's own page."""

    list_display = ["name", "slug", "builtin", "updated_at"]
    readonly_fields = ["slug", "builtin"]
    fields = ["name", "slug", "description", "builtin"]


@admin.register(TemplateItem)
class TemplateItemAdmin(AuditedAdmin):
    list_display = ["title", "section", "required", "owner_role", "due_offset_days", "probe_kind"]
    list_filter = ["section__phase__template", "required", "owner_role"]
    search_fields = ["title"]
    list_select_related = ["section"]


@admin.register(PhaseGate)
class PhaseGateAdmin(AuditedAdmin):
    """Which roles sign a running migration's phase off (changing it is audited)."""

    list_display = ["phase", "signoff_roles"]
    list_filter = ["phase__migration"]

    def _migrations_of(self, obj) -> list:
        return [obj.phase.migration]
