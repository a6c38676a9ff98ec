"""Two URL groups: the settings page under a migration, and the receiving URL (no login)."""

from django.urls import path

from migrations_app.inbound import views

app_name = "inbound"

# Under /migrations/<slug>/webhook-receipt/
urlpatterns = [
    path("", views.receipt_page, name="page"),
    path("rotate/", views.rotate_secret, name="rotate"),
    path("kpis/", views.add_kpis, name="kpis"),
]

# At the site root: what the provider posts to.
receiver_urlpatterns = (
    [path("inbound/<slug:slug>/webhooks", views.receive, name="receive")],
    "inbound_receiver",
)
