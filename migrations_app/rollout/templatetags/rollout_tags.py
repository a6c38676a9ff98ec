from django import template

from migrations_app.rollout import selectors

register = template.Library()


@register.inclusion_tag("rollout/panel.html", takes_context=True)
def traffic_panel(context, migration):
    """The traffic panel on the migration page, with its own data (the page view stays unaware)."""
    return {
        "migration": migration,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        **selectors.traffic_panel(migration, context["request"].user),
    }
