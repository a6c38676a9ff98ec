"""One way to read a JSON request body, used by every JSON endpoint (flag APIs, /api/v1, samples).

Python's json module accepts what golive must refuse before it reaches a view or the database:
bodies of any size, nesting deep enough to exhaust the recursion limit (a RecursionError, a 500),
NaN/Infinity and 1e999 (PostgreSQL stores them, JSON cannot carry them back), integers past
PostgreSQL's bigint, and NUL characters (PostgreSQL text and jsonb refuse them). `parse` refuses
each with a `BodyRefused` naming the field (dotted, `samples[3].value`) or `body`, in plain words
and never with the exception's text; each endpoint turns it into its own error shape.

JSON itself is RFC 8259: UTF-8 only (section 8.1), and numbers "Infinity" and "NaN" are not
permitted (section 6)."""

from __future__ import annotations

import json
import math

from django.conf import settings

DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_MAX_DEPTH = 32
BIGINT = 2**63 - 1  # PostgreSQL bigint, the widest integer column golive has


class BodyRefused(Exception):
    """A body golive will not read: `status` 400 (or 413 for size), the `field` and a sentence."""

    def __init__(self, field: str, message: str, *, status: int = 400):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.status = field, message, status


class _NonFinite(float):
    """What the decoder makes of NaN, Infinity and 1e999, so the walk can name the field."""


def _non_finite(text: str) -> float:
    return _NonFinite("nan")


def _number(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite("nan")


class _OutOfRange(int):
    """An integer too long to be any column's (Python refuses to parse over 4,300 digits)."""


def _integer(text: str) -> int:
    return int(text) if len(text) <= 20 else _OutOfRange(0)


def max_bytes() -> int:
    return getattr(settings, "GOLIVE_JSON_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_depth() -> int:
    return getattr(settings, "GOLIVE_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH)


def too_big_message() -> str:
    return f"The body is larger than {max_bytes():,} bytes; send less per request."


def parse(body: bytes, *, empty=None, allow_nul: bool = False):
    """The decoded document, or BodyRefused. `empty` is what an empty body means (None: refused).

    `allow_nul`: for endpoints that store nothing of the body (OFREP), a NUL in a string is data."""
    if len(body) > max_bytes():
        raise BodyRefused("body", too_big_message(), status=413)
    if not body.strip():
        if empty is None:
            raise BodyRefused("body", "Send a JSON document; the body is empty.")
        return empty
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyRefused("body", "The body is not UTF-8 text (JSON must be UTF-8, RFC 8259).") from None
    document = _decode(text)
    _check(document, "", depth=1, allow_nul=allow_nul)
    return document


def _decode(text: str):
    try:
        return json.loads(text, parse_constant=_non_finite, parse_float=_number, parse_int=_integer)
    except RecursionError:
        raise BodyRefused("body", f"The JSON is nested deeper than {max_depth()} levels.") from None
    except ValueError as error:
        # A JSONDecodeError's position helps; its Python wording stays out of the answer.
        where = f" (line {error.lineno}, column {error.colno})" if hasattr(error, "lineno") else ""
        raise BodyRefused("body", f"The body is not valid JSON{where}.") from None


def _check(value, path: str, *, depth: int, allow_nul: bool) -> None:
    """Refuse what the database or a view cannot take, naming where it is (recursive only as deep
    as the depth limit)."""
    if isinstance(value, dict | list):
        if depth > max_depth():
            raise BodyRefused("body", f"The JSON is nested deeper than {max_depth()} levels.")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str):
                if "\x00" in key and not allow_nul:
                    raise BodyRefused(path or "body", "A field name contains a NUL character.")
                child = f"{path}.{key}" if path else key
            else:
                child = f"{path}[{key}]" if path else f"[{key}]"
            _check(item, child, depth=depth + 1, allow_nul=allow_nul)
        return
    field = path or "body"
    if isinstance(value, _NonFinite):
        raise BodyRefused(field, "must be a finite number (not NaN, Infinity or out of range)")
    out_of_range = isinstance(value, _OutOfRange) or (
        isinstance(value, int) and not -BIGINT - 1 <= value <= BIGINT
    )
    if out_of_range and not isinstance(value, bool):
        raise BodyRefused(field, f"must be a number between {-BIGINT - 1} and {BIGINT}")
    if isinstance(value, str) and "\x00" in value and not allow_nul:
        raise BodyRefused(field, "must not contain NUL characters")
