from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "migrations_app.incidents"
    label = "incidents"
    verbose_name = "Incidents and notifications"

    def ready(self):
        # Notification channels are one kind of outbox row; the outbox learns its sender here.
        from migrations_app.incidents import channels  # noqa: PLC0415 - models load before ready
        from migrations_app.rollout import outbox  # noqa: PLC0415 - models load before ready
        from migrations_app.rollout.models import OutboxKind  # noqa: PLC0415 - models load before ready

        outbox.register_sender(OutboxKind.CHANNEL, channels.deliver)
