"""The one way golive shows a person: full name, then user name ("Ada Admin (ada)")."""

from __future__ import annotations


def person_label(user) -> str:
    if user is None:
        return "nobody"
    username = user.get_username()
    full_name = user.get_full_name().strip()
    return f"{full_name} ({username})" if full_name else username
