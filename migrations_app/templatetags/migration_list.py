"""{% traffic_percent migration %}: the share of users on the new path, for the migration list."""

from django import template

from migrations_app.rollout.selectors import current_percent

register = template.Library()


@register.simple_tag
def traffic_percent(migration) -> int:
    return current_percent(migration)
