from django.apps import AppConfig


class InboundConfig(AppConfig):
    name = "migrations_app.inbound"
    label = "inbound"
    verbose_name = "Inbound webhooks"
