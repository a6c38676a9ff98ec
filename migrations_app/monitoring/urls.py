# Mounted at /migrations/<slug>/control-room/ (golive_site/urls.py).
from django.urls import path

from migrations_app.monitoring import settings_views, views

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
    # KPI and guardrail settings (settings_views)
    path("settings/", settings_views.settings_page, name="settings"),
    path("settings/plan-kpis/", settings_views.plan_kpis, name="plan_kpis"),
    path("kpis/new/", settings_views.kpi_form, name="kpi_create"),
    path("kpis/<int:kpi_id>/", settings_views.kpi_form, name="kpi_edit"),
    path("kpis/<int:kpi_id>/delete/", settings_views.kpi_delete, name="kpi_delete"),
    path("kpis/<int:kpi_id>/move/", settings_views.kpi_move, name="kpi_move"),
    path("guardrails/new/", settings_views.guardrail_form, name="guardrail_create"),
    path("guardrails/<int:guardrail_id>/", settings_views.guardrail_form, name="guardrail_edit"),
    path("guardrails/<int:guardrail_id>/delete/", settings_views.guardrail_delete, name="guardrail_delete"),
]
