"""Exporting tables to CSV and Excel without formula injection.

A study name such as ``=HYPERLINK("http://x")`` typed into an upload would run as a
formula when an exported file is opened in a spreadsheet. Following the OWASP guidance
on CSV injection, every text cell (and column name) that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading apostrophe, so spreadsheets show it as
text. Real numbers, and text that is just a number such as ``"-0.5"``, are left alone.

References
----------
OWASP. CSV Injection. https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "neutralise_formula", "to_excel_bytes", "to_safe_csv_bytes"]

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
#: Control characters that an .xlsx file cannot store.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_NAME_LENGTH = 31


def neutralise_formula(value: object) -> object:
    """Make a cell safe to open in a spreadsheet.

    Parameters
    ----------
    value : object
        Any cell value.

    Returns
    -------
    object
        ``"'" + value`` for text starting with ``= + - @``, tab or carriage return, unless
        the text is a plain number (``"-0.5"``, ``"+3"``, ``"-1e-3"``); every other value
        unchanged.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        if _PLAIN_NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


def _neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with text cells and column names neutralised (numbers untouched)."""
    safe = frame.copy()
    safe.columns = [neutralise_formula(str(column)) for column in frame.columns]
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            safe.isetitem(position, column.map(neutralise_formula, na_action="ignore"))
    return safe


def to_safe_csv_bytes(frame: pd.DataFrame) -> bytes:
    """A table as CSV bytes that spreadsheets open safely.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table; the index is not written.

    Returns
    -------
    bytes
        UTF-8 with a byte-order mark (so Excel detects the encoding), comma-separated,
        with formula-like text neutralised by :func:`neutralise_formula`.
    """
    text = _neutralised(frame).to_csv(index=False, lineterminator="\r\n")
    return text.encode("utf-8-sig")


def _xlsx_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Neutralised, without characters .xlsx cannot hold, datetimes without time zones."""
    safe = _neutralised(frame)
    safe.columns = [_ILLEGAL_XML.sub("", column) for column in safe.columns]
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if isinstance(column.dtype, pd.DatetimeTZDtype):
            safe.isetitem(position, column.dt.tz_localize(None))
        elif column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            safe.isetitem(
                position,
                column.map(
                    lambda v: _ILLEGAL_XML.sub("", v) if isinstance(v, str) else v,
                    na_action="ignore",
                ),
            )
    return safe


def _sheet_names(names: list[object]) -> list[str]:
    """Valid, unique worksheet names (at most 31 characters, no ``[]:*?/\\``)."""
    result: list[str] = []
    for name in names:
        base = _SHEET_NAME_FORBIDDEN.sub("_", _ILLEGAL_XML.sub("", str(name))).strip(" '")
        base = base[:_SHEET_NAME_LENGTH].strip(" '") or "Sheet"
        candidate, number = base, 1
        while candidate.casefold() in {taken.casefold() for taken in result}:
            number += 1
            suffix = f" ({number})"
            candidate = base[: _SHEET_NAME_LENGTH - len(suffix)] + suffix
        result.append(candidate)
    return result


def to_excel_bytes(frames: Mapping[str, pd.DataFrame]) -> bytes:
    """Tables as one .xlsx workbook, one worksheet per table.

    Parameters
    ----------
    frames : mapping of str to pandas.DataFrame
        Sheet name -> table, in sheet order. Names are made valid for Excel (31
        characters, no ``[]:*?/\\``, unique). An empty mapping gives one empty sheet.

    Returns
    -------
    bytes
        The workbook. Text cells are neutralised as in :func:`to_safe_csv_bytes`, so no
        cell is stored as a formula; numbers stay numbers.
    """
    buffer = io.BytesIO()
    items = list(frames.items()) or [("Sheet1", pd.DataFrame())]
    names = _sheet_names([name for name, _ in items])
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, (_, frame) in zip(names, items, strict=True):
            _xlsx_ready(frame).to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()
