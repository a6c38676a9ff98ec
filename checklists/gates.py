"""Phase gates. Placeholder until the checklist models land: the checklist work replaces this."""


def go_live_gate_blocker(migration) -> str | None:
    """None when the go-live gate is complete, else one sentence saying what is missing."""
    return None
