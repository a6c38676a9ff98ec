from django.apps import AppConfig


class RolloutConfig(AppConfig):
    name = "migrations_app.rollout"
    label = "rollout"
    verbose_name = "Traffic, flags and rollback"

    def ready(self):
        # The outbox publishes through its task without importing the tasks module (which imports it).
        from migrations_app.rollout import outbox, tasks  # noqa: PLC0415 - models load before ready

        outbox.use_delivery_task(tasks.deliver_outbox_message)
