"""One way to read a JSON request body, used by every JSON endpoint (flag APIs, /api/v1, samples).

Python's json module accepts what golive must refuse before it reaches a view or the database:
bodies of any size, nesting deep enough to exhaust the recursion limit (a RecursionError, a 500),
NaN/Infinity and 1e999 (PostgreSQL stores them, JSON cannot carry them back), integers longer
than a float holds (an OverflowError, or a ValueError past 4,300 digits), and NUL characters in a body stored as it came
(PostgreSQL text and jsonb refuse them).
An integer field's range is its schema's business (pydantic names the field); a large integer
anywhere else is valid JSON and stored as jsonb's arbitrary-precision numeric. `parse` refuses
each with a `BodyRefused` naming the field (dotted, `samples[3].value`) or `body`, in plain words
and never with the exception's text; each endpoint turns it into its own error shape.

JSON itself is RFC 8259: UTF-8 only (section 8.1), and numbers "Infinity" and "NaN" are not
permitted (section 6)."""

from __future__ import annotations

import json
import math
import sys

from django.conf import settings

DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_MAX_DEPTH = 32


class BodyRefused(Exception):
    """A body golive will not read: `status` 400 (or 413 for size), the `field` and a sentence."""

    def __init__(self, field: str, message: str, *, status: int = 400):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.status = field, message, status


class _NonFinite(float):
    """What the decoder makes of NaN, Infinity, 1e999 and integers no float holds (over 1.8e308:
    float conversion raised OverflowError; past 4,300 digits Python refuses to parse them), so
    that the walk can name the field."""


_REFUSED_NUMBER = _NonFinite("nan")


class _Refused(Exception):
    """Raised by the fast decoder at the first refused number: the slow one then names it."""


def _raise(text: str):
    raise _Refused


def _mark(text: str) -> float:
    return _REFUSED_NUMBER


def _decoder(refuse) -> json.JSONDecoder:
    """A decoder that hands numbers golive refuses to `refuse` (raise, or return a marker)."""

    def number(text: str) -> float:
        value = float(text)
        return value if math.isfinite(value) else refuse(text)

    def integer(text: str):
        if len(text) - text.startswith("-") <= 308:  # every such integer fits a float
            return int(text)
        value = int(text) if len(text) <= 4300 else None  # Python's parse limit
        return value if value is not None and abs(value) <= sys.float_info.max else refuse(text)

    return json.JSONDecoder(parse_constant=refuse, parse_float=number, parse_int=integer)


# Built once (json.loads with hooks builds a decoder per call: most of a flag request's parse).
_FAST, _NAMING = _decoder(_raise), _decoder(_mark)


def max_bytes() -> int:
    return getattr(settings, "GOLIVE_JSON_MAX_BYTES", DEFAULT_MAX_BYTES)


def max_depth() -> int:
    return getattr(settings, "GOLIVE_JSON_MAX_DEPTH", DEFAULT_MAX_DEPTH)


def too_big_message() -> str:
    return f"The body is larger than {max_bytes():,} bytes; send less per request."


def parse(body: bytes, *, empty=None, refuse_nul: bool = False):
    """The decoded document, or BodyRefused. `empty` is what an empty body means (None: refused).

    `refuse_nul`: for endpoints that store the body as it came (Unleash metrics, a jsonb column).
    Elsewhere a NUL is the schema's business: /api/v1's text fields refuse it naming the field, a
    field nobody reads may carry it, and OFREP stores nothing."""
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
    try:
        document, suspect = _decode(text, _FAST), False
    except _Refused:
        document, suspect = _decode(text, _NAMING), True
    _check_depth(document)
    # The naming walk only when something is there to name (it costs twice the parse of a
    # 1,000-sample batch). JSON can carry a NUL only as the escape \u0000.
    if suspect or (refuse_nul and "\\u0000" in text):
        _check(document, "", refuse_nul=refuse_nul)
    return document


def _decode(text: str, decoder: json.JSONDecoder):
    try:
        return decoder.decode(text)
    except RecursionError:
        raise BodyRefused("body", f"The JSON is nested deeper than {max_depth()} levels.") from None
    except ValueError as error:
        # A JSONDecodeError's position helps; its Python wording stays out of the answer.
        where = f" (line {error.lineno}, column {error.colno})" if hasattr(error, "lineno") else ""
        raise BodyRefused("body", f"The body is not valid JSON{where}.") from None


def _check_depth(document) -> None:
    limit, stack = max_depth(), [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if type(value) is dict:
            value = value.values()
        elif type(value) is not list:
            continue
        if depth > limit:
            raise BodyRefused("body", f"The JSON is nested deeper than {limit} levels.")
        stack.extend((child, depth + 1) for child in value if type(child) in (dict, list))


def _check(value, path: str, *, refuse_nul: bool) -> None:
    """Refuse what the database or a view cannot take, naming where it is (recursive only as deep
    as the depth limit _check_depth enforced first)."""
    if isinstance(value, dict | list):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str):
                if "\x00" in key and refuse_nul:
                    raise BodyRefused(path or "body", "A field name contains a NUL character.")
                child = f"{path}.{key}" if path else key
            else:
                child = f"{path}[{key}]" if path else f"[{key}]"
            _check(item, child, refuse_nul=refuse_nul)
        return
    field = path or "body"
    if isinstance(value, _NonFinite):
        raise BodyRefused(field, "must be a finite number (not NaN, Infinity or out of range)")
    if isinstance(value, str) and "\x00" in value and refuse_nul:
        raise BodyRefused(field, "must not contain NUL characters")
