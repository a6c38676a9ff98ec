"""{% demo_provider_shown migration %} / {% demo_provider_context migration %}: the demo card's data,
so the migration page includes the card with one line (see migrations_app/demo/card.py)."""

from django import template

from migrations_app.demo import card

register = template.Library()


@register.simple_tag
def demo_provider_shown(migration) -> bool:
    return card.shown_for(migration)


@register.simple_tag(takes_context=True)
def demo_provider_context(context, migration) -> dict:
    return card.card_context(context["request"], migration)
