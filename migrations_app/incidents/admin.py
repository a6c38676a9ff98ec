from django.contrib import admin

from migrations_app.incidents.models import (
    Announcement,
    AnnouncementTemplate,
    Incident,
    NotificationChannel,
    StatusPage,
    StatusSubscriber,
)


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["title", "migration", "severity", "status", "opened_at", "opened_by", "acknowledged_by"]
    list_filter = ["status", "severity"]
    readonly_fields = ["opened_at", "opened_by", "evidence", "snapshot"]


@admin.register(NotificationChannel)
class NotificationChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "active", "incidents", "announcements"]
    list_filter = ["kind", "active"]
    filter_horizontal = ["migrations"]


@admin.register(AnnouncementTemplate)
class AnnouncementTemplateAdmin(admin.ModelAdmin):
    list_display = ["kind", "subject"]


@admin.register(Announcement)
class AnnouncementAdmin(admin.ModelAdmin):
    list_display = ["subject", "migration", "kind", "status", "send_at", "sent_at"]
    list_filter = ["kind", "status"]


admin.site.register(StatusSubscriber)
admin.site.register(StatusPage)
