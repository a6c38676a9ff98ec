# Application-facing flag endpoints (OFREP, Unleash client API), mounted at the site root,
# and the traffic panel's actions under /migrations/<slug>/traffic/.
from django.urls import path

from migrations_app.rollout import flags, views

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
    path("account/tokens/", views.token_list, name="tokens"),
    path("account/tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
