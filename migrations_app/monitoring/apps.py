from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "migrations_app.monitoring"
    label = "monitoring"
    verbose_name = "Probes, KPIs and guardrails"

    def ready(self):
        # Ingestion publishes each batch's evaluation through this task without importing the
        # tasks module (which imports the services that import batches).
        from migrations_app.monitoring import batches, tasks  # noqa: PLC0415 - models load before ready

        batches.use_evaluation_task(tasks.evaluate_metric_guardrails)
