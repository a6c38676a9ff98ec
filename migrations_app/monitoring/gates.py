"""Guardrail gate for traffic changes: traffic may not grow while a guardrail is breached."""

from migrations_app.monitoring.models import Guardrail, GuardrailState


def guardrail_blocker(migration) -> str | None:
    """None when no guardrail blocks advancing traffic, else one sentence saying which and why."""
    breached = Guardrail.objects.filter(migration=migration, enabled=True, state=GuardrailState.BREACHED)
    names = [f"“{g.name}” ({g.last_message})" if g.last_message else f"“{g.name}”" for g in breached[:3]]
    if not names:
        return None
    return f"Guardrail {', '.join(names)} is breached: fix the cause before adding traffic."
