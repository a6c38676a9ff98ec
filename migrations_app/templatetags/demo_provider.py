"""{% demo_provider_shown migration %} / {% demo_provider_context migration %}: the demo card's data,
so the migration page includes the card with one line (see migrations_app/demo.py)."""

from django import template

from migrations_app import demo

register = template.Library()


@register.simple_tag
def demo_provider_shown(migration) -> bool:
    return demo.shown_for(migration)


@register.simple_tag(takes_context=True)
def demo_provider_context(context, migration) -> dict:
    return demo.card_context(context["request"], migration)
