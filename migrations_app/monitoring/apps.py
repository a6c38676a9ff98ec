from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "migrations_app.monitoring"
    label = "monitoring"
    verbose_name = "Probes, KPIs and guardrails"
