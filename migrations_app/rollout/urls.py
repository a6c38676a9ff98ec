# Application-facing flag endpoints (OFREP, Unleash client API), mounted at the site root,
# and the traffic panel's actions under /migrations/<slug>/traffic/.
from django.urls import path

from migrations_app.rollout import calendar, flags, schedule_views, views

app_name = "rollout"

urlpatterns = [
    path("ofrep/v1/evaluate/flags/<str:key>", flags.ofrep_evaluate_flag, name="ofrep_flag"),
    path("ofrep/v1/evaluate/flags", flags.ofrep_evaluate_flags, name="ofrep_flags"),
    path("api/client/features", flags.unleash_features, name="unleash_features"),
    path("api/client/register", flags.unleash_register, name="unleash_register"),
    path("api/client/metrics", flags.unleash_metrics, name="unleash_metrics"),
    path("migrations/<slug:slug>/traffic/", views.traffic_panel, name="panel"),
    path("migrations/<slug:slug>/traffic/version/", views.traffic_version, name="version"),
    path("migrations/<slug:slug>/traffic/set/", views.traffic_set, name="set"),
    path("migrations/<slug:slug>/traffic/plan/", views.plan_update, name="plan"),
    path("migrations/<slug:slug>/traffic/pause/", views.traffic_pause, name="pause"),
    path("migrations/<slug:slug>/traffic/resume/", views.traffic_resume, name="resume"),
    path("migrations/<slug:slug>/rollback/", views.rollback, name="rollback"),
    path("migrations/<slug:slug>/rollback/steps/<int:step_id>/", views.rollback_step, name="rollback_step"),
    path("migrations/<slug:slug>/traffic/schedule/", schedule_views.schedule_create, name="schedule"),
    path(
        "migrations/<slug:slug>/traffic/schedule/<int:step_id>/cancel/",
        schedule_views.schedule_cancel,
        name="schedule_cancel",
    ),
    path(
        "migrations/<slug:slug>/traffic/calendar/",
        schedule_views.migration_calendar,
        name="migration_calendar",
    ),
    path("freezes/", schedule_views.freeze_list, name="freezes"),
    path("freezes/<int:freeze_id>/delete/", schedule_views.freeze_delete, name="freeze_delete"),
    path("freezes/calendar/", schedule_views.global_calendar, name="global_calendar"),
    path("calendar-links/<int:feed_id>/revoke/", schedule_views.calendar_revoke, name="calendar_revoke"),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path("account/tokens/", views.token_list, name="tokens"),
    path("account/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
