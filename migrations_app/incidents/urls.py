"""Three URL groups: pages under a migration, the public pages (no login), the channels page."""

from django.urls import path

from migrations_app.incidents import settings_views, status_views, views

app_name = "incidents"

# Under /migrations/<slug>/
urlpatterns = [
    path("incidents/", views.incident_list, name="list"),
    path("incidents/open/", views.incident_open, name="open"),
    path("incidents/<int:pk>/", views.incident_detail, name="detail"),
    path("incidents/<int:pk>/acknowledge/", views.incident_acknowledge, name="acknowledge"),
    path("incidents/<int:pk>/status/", views.incident_status, name="status"),
    path("incidents/<int:pk>/note/", views.incident_note, name="note"),
    path("incidents/<int:pk>/details/", views.incident_details, name="details"),
    path("incidents/<int:pk>/postmortem/", views.incident_postmortem, name="postmortem"),
    path("announcements/", status_views.announcement_list, name="announcements"),
    path("announcements/draft/", status_views.announcement_draft, name="draft"),
    path("announcements/<int:pk>/", status_views.announcement_detail, name="announcement"),
    path("announcements/<int:pk>/edit/", status_views.announcement_edit, name="announcement_edit"),
    path("announcements/<int:pk>/send/", status_views.announcement_send, name="announcement_send"),
    path(
        "announcements/<int:pk>/schedule/", status_views.announcement_schedule, name="announcement_schedule"
    ),
    path("announcements/<int:pk>/cancel/", status_views.announcement_cancel, name="announcement_cancel"),
    path("subscribers/add/", status_views.subscriber_add, name="subscriber_add"),
    path("subscribers/<int:pk>/remove/", status_views.subscriber_remove, name="subscriber_remove"),
    path("status-page/", status_views.status_page_settings, name="status_page_settings"),
    path("evidence/", views.evidence_pack, name="evidence"),
    path("evidence.csv", views.evidence_csv, name="evidence_csv"),
    path("evidence.json", views.evidence_json, name="evidence_json"),
]

public_urlpatterns = (
    [
        path("status/<slug:slug>/", status_views.status_page, name="status"),
        path("status/<slug:slug>.json", status_views.status_page_json, name="status_json"),
        path("ack/<str:token>/", views.acknowledge_link, name="acknowledge"),
    ],
    "incidents_public",
)

channel_urlpatterns = (
    [
        path("", views.channel_list, name="list"),
        path("new/", views.channel_create, name="create"),
        path("<int:pk>/test/", views.channel_test, name="test"),
        path("<int:pk>/", settings_views.channel_edit, name="edit"),
        path("<int:pk>/delete/", settings_views.channel_delete, name="delete"),
    ],
    "incidents_channels",
)
