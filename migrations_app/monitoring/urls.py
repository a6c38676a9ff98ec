# Mounted at /migrations/<slug>/control-room/ (golive_site/urls.py).
from django.urls import path

from migrations_app.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.control_room, name="control_room"),
    path("live/", views.live, name="live"),
    path("levels/", views.levels, name="levels"),
    path("probes/new/", views.probe_form, name="probe_create"),
    path("probes/<int:probe_id>/", views.probe_form, name="probe_edit"),
    path("probes/<int:probe_id>/toggle/", views.probe_toggle, name="probe_toggle"),
    path("probes/<int:probe_id>/delete/", views.probe_delete, name="probe_delete"),
    path("standard-kpis/", views.standard_kpis, name="standard_kpis"),
]
