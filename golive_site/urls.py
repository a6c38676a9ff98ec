from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from golive_site.api import api
from golive_site.health import health
from migrations_app.inbound.urls import receiver_urlpatterns
from migrations_app.incidents.urls import channel_urlpatterns, public_urlpatterns
from migrations_app.monitoring.metrics_views import metrics
from migrations_app.views import favicon

admin.site.site_header = "golive administration"
admin.site.site_title = "golive admin"

urlpatterns = [
    # The flag APIs take most requests by far: they resolve first (docs/benchmarks.md).
    path("", include("migrations_app.rollout.urls")),
    path("health", health, name="health"),
    path("metrics", metrics, name="metrics"),  # Prometheus (docs/integrations.md)
    path("", RedirectView.as_view(pattern_name="migrations_app:list", permanent=False)),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Django's default LOGIN_URL, and what people type: send it to golive's login page.
    path(
        "accounts/login/",
        RedirectView.as_view(pattern_name="login", query_string=True),
        name="accounts_login",
    ),
    path("favicon.ico", favicon, name="favicon"),
    path("people/", include("migrations_app.people.urls")),
    path("admin/", admin.site.urls),
    path("migrations/<slug:slug>/control-room/", include("migrations_app.monitoring.urls")),
    path("migrations/<slug:slug>/rollback-hooks/", include("migrations_app.rollout.hook_urls")),
    path("migrations/<slug:slug>/webhook-receipt/", include("migrations_app.inbound.urls")),
    path("migrations/<slug:slug>/", include("migrations_app.incidents.urls")),
    path("migrations/", include("migrations_app.urls")),
    path("notifications/", include(channel_urlpatterns)),
    path("", include(public_urlpatterns)),
    path("", include(receiver_urlpatterns)),
    path("checklists/", include("checklists.urls")),
    path("api/v1/", api.urls),
]
handler403 = "migrations_app.views.permission_denied"
