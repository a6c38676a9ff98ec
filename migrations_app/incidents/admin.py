from django.contrib import admin

from migrations_app.incidents.models import Incident


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["title", "migration", "severity", "status", "opened_at", "opened_by"]
    list_filter = ["status", "severity"]
    readonly_fields = ["opened_at", "opened_by", "evidence"]
