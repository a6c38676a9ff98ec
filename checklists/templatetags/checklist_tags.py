from django import template

from checklists import selectors
from migrations_app.models import MigrationRoleName

register = template.Library()


@register.simple_tag
def checklist_summary(migration) -> dict:
    """The migration page includes the checklist card without knowing about checklists."""
    return selectors.migration_summary(migration)


@register.filter
def role_label(role: str) -> str:

    return MigrationRoleName(role).label if role in MigrationRoleName.values else role
