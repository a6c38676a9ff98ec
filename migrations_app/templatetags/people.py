from django import template

from migrations_app.people.accounts import group_of
from migrations_app.people.display import person_label

register = template.Library()


@register.filter
def person(user) -> str:
    """`{{ user|person }}`: full name, then user name; the same everywhere a person is shown."""
    return person_label(user)


@register.filter
def golive_group(user) -> str:
    return group_of(user)


@register.filter
def nobody_count(grid) -> int:
    """How many sign-off slots of a `roles.signoff_grid` nobody may sign."""
    return sum(slot.nobody for _, slots in grid for slot in slots)
