from django import template

from migrations_app.rollout import selectors, zones

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


@register.simple_tag
def local_time(value, zone_name):
    """A UTC time as the wall clock of the zone it was set in: "Tue 31 Mar 2026, 09:00 Europe/Paris (CEST)"."""
    return zones.describe(value, zone_name)
