from django import template

from migrations_app.monitoring import selectors

register = template.Library()


@register.simple_tag
def monitoring_summary(migration):
    return selectors.summary(migration)
