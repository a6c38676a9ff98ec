"""Sticky per-user bucketing, identical to the Unleash SDKs' flexibleRollout.

bucket = murmur3_x86_32("<groupId>:<stickiness value>", seed 0) % 100 + 1, and a user takes the new
path when bucket <= percent. A bucket never changes, so the cohort at 5 % is inside the cohort at 25 %."""

from __future__ import annotations

import random

import mmh3


def bucket(group_id: str, identifier: str) -> int:
    """1..100 for this identifier in this group (the flag key)."""
    return mmh3.hash(f"{group_id}:{identifier}", 0, signed=False) % 100 + 1


def is_in_rollout(group_id: str, identifier: str, percent: int) -> bool:
    return percent > 0 and bucket(group_id, identifier) <= percent


def stickiness_value(context: dict, stickiness: str) -> str | None:
    """The context value a flexibleRollout hashes, as Unleash picks it.

    `default` means userId, else sessionId, else a random value; `random` is always random; any other
    name is userId/sessionId or a custom field from context["properties"]."""
    if stickiness in ("default", ""):
        for field in ("userId", "sessionId"):
            if context.get(field):
                return str(context[field])
        return str(random.randint(1, 100_000))
    if stickiness == "random":
        return str(random.randint(1, 100_000))
    value = context.get(stickiness) or (context.get("properties") or {}).get(stickiness)
    return str(value) if value not in (None, "") else None


def flexible_rollout(*, context: dict, rollout: int, stickiness: str, group_id: str) -> bool:
    if rollout >= 100:
        return True
    value = stickiness_value(context, stickiness)
    if value is None:
        return False
    return is_in_rollout(group_id, value, rollout)


def gradual_rollout_user_id(*, context: dict, percentage: int, group_id: str) -> bool:
    user_id = context.get("userId")
    if not user_id:
        return False
    return is_in_rollout(group_id, str(user_id), percentage)
