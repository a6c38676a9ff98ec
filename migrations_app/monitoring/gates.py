"""Guardrail gate for traffic changes: traffic may not grow while a guardrail is breached, or while
a compare guardrail's last verdict is fail or inconclusive (not yet sure the new path is fine)."""

from django.db.models import Q

from migrations_app.monitoring.models import Guardrail, GuardrailKind, GuardrailState, Verdict


def guardrail_blocker(migration) -> str | None:
    """None when no guardrail blocks advancing traffic, else one sentence saying which and why."""
    enabled = Guardrail.objects.filter(migration=migration, enabled=True)
    breached = list(enabled.filter(state=GuardrailState.BREACHED)[:3])
    if breached:
        return f"Guardrail {_names(breached)} is breached: fix the cause before adding traffic."
    unsure = list(
        enabled.filter(
            Q(kind=GuardrailKind.COMPARE), Q(last_verdict__in=[Verdict.FAIL, Verdict.INCONCLUSIVE])
        )[:3]
    )
    if unsure:
        return (
            f"Guardrail {_names(unsure)} cannot yet tell the new path is as good as the old one: "
            "wait for a pass before adding traffic."
        )
    return None


def _names(guardrails: list[Guardrail]) -> str:
    return ", ".join(
        f"“{g.name}” ({g.last_message})" if g.last_message else f"“{g.name}”" for g in guardrails
    )
