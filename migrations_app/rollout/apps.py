from django.apps import AppConfig


class RolloutConfig(AppConfig):
    name = "migrations_app.rollout"
    label = "rollout"
    verbose_name = "Traffic, flags and rollback"
