from django import template

register = template.Library()


@register.filter
def audit_values(values) -> str:
    """An audit before/after dict as `key: value` pairs, the way people read a change."""
    if not isinstance(values, dict):
        return "" if values is None else str(values)
    return "; ".join(f"{key}: {'—' if value in (None, '') else value}" for key, value in values.items())
