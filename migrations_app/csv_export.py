"""Spreadsheet-safe CSV: every CSV golive writes goes through `writer` or `dict_writer`.

A spreadsheet runs a cell starting with =, +, -, @, a tab or a carriage return as a formula
(CSV injection: OWASP's "CSV Injection" page), so an audit reason, an item title or a user name
typed as `=HYPERLINK(...)` would run on the auditor's machine. Such text cells get a leading
apostrophe, which spreadsheets show as text and csv readers keep visible. Numbers stay numbers:
a negative number is not a formula."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


class _SafeWriter:
    def __init__(self, file, **options):
        self._writer = csv.writer(file, **options)

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class _SafeDictWriter(csv.DictWriter):
    def writerow(self, rowdict: Mapping[str, Any]):
        return super().writerow({key: safe_cell(value) for key, value in rowdict.items()})


def writer(file, **options) -> _SafeWriter:
    """csv.writer whose every cell is neutralised."""
    return _SafeWriter(file, **options)


def dict_writer(file, fieldnames, **options) -> csv.DictWriter:
    """csv.DictWriter whose every cell is neutralised (the header is ours, written as is)."""
    return _SafeDictWriter(file, fieldnames, **options)
