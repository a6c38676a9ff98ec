"""Guardrail gate for traffic changes. Until guardrails exist, none can be breached."""


def guardrail_blocker(migration) -> str | None:
    """None when no guardrail blocks advancing traffic, else one sentence saying which and why."""
    return None
