from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "migrations_app.incidents"
    label = "incidents"
    verbose_name = "Incidents and notifications"
