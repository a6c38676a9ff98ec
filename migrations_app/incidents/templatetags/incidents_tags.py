from django import template

from migrations_app import access
from migrations_app.incidents import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def incident_summary(context, migration):
    """The migration page's incidents card (the page's view belongs to another app)."""
    data = selectors.summary(migration)
    user = context["request"].user
    data["can_manage"] = access.can(user, "manage_incidents")
    data["can_send"] = access.can(user, "send_announcements")
    return data
