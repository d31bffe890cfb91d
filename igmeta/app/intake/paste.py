"""Rows pasted as a block of text (from Excel, a CSV or another table) for the study table.

The dashboard's grid cannot take a pasted block that is wider than the grid: its frontend
drops the cells past the last column without telling the server. A block pasted as text
instead goes through :func:`rows_from_block`, which keeps every cell exactly as typed:

* with a header row (every filled cell of the first line names a column of the table,
  case-insensitively), cells go to the columns they name, and columns the table does not
  have are added with their names;
* without one, cells fill the ``columns`` in order, and cells past the last of them go to
  new columns ``"pasted column 1"``, ``"pasted column 2"``, ...

Either way the caller is told, in plain words, which columns were added, so nothing typed
is lost silently. Cells are strings; the table's own validation checks them afterwards.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

__all__ = ["PastedRows", "rows_from_block"]

#: Longest block accepted (characters); larger tables belong in an uploaded file.
MAX_BLOCK_CHARS = 1_000_000


@dataclass(frozen=True, slots=True)
class PastedRows:
    """The rows of a pasted block and what happened to its columns.

    Attributes
    ----------
    rows : DataFrame
        One row per pasted line, every cell a string (missing cells are None).
    added_columns : tuple of str
        Columns that were not in the table and were added to keep the cells.
    header : bool
        Whether the first line was read as a header row.
    messages : tuple of str
        Plain-English notes for the user (what was read, which columns were added).
    """

    rows: pd.DataFrame
    added_columns: tuple[str, ...]
    header: bool
    messages: tuple[str, ...]


def _delimiter(text: str) -> str:
    first = text.splitlines()[0] if text.strip() else ""
    if "\t" in first:
        return "\t"
    if ";" in first and "," not in first:
        return ";"
    return ","


def _records(text: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text))
    return [row for row in reader if any(cell.strip() for cell in row)]


def _header_map(first: list[str], columns: Sequence[str]) -> dict[int, str] | None:
    """Cell position -> column for a header row, or None when ``first`` is data: at least
    half of its filled cells must name a column of the table (case-insensitively)."""
    by_name = {str(c).strip().casefold(): str(c) for c in columns}
    filled = [(i, cell.strip()) for i, cell in enumerate(first) if cell.strip()]
    known = {i: by_name[name.casefold()] for i, name in filled if name.casefold() in by_name}
    if not known or 2 * len(known) < len(filled):
        return None
    return known


def rows_from_block(
    text: str, columns: Sequence[str], *, header_names: Sequence[str] = ()
) -> PastedRows:
    """Read a pasted block of rows.

    Parameters
    ----------
    text : str
        The block: lines of cells separated by tabs (as spreadsheets copy), semicolons or
        commas; CSV quoting is honoured.
    columns : sequence of str
        The columns cells fill, in order, when the block has no header row.
    header_names : sequence of str, optional
        Further column names a header row may use (e.g. every column of the table, not
        only those in ``columns``). With a header row, names outside both are new columns.

    Returns
    -------
    PastedRows

    Raises
    ------
    ValueError
        For an empty block or one over :data:`MAX_BLOCK_CHARS` characters, with a message
        for the user.
    """
    if len(text) > MAX_BLOCK_CHARS:
        raise ValueError(
            f"The pasted block has {len(text):,} characters; paste at most "
            f"{MAX_BLOCK_CHARS:,} or upload the table as a file."
        )
    records = _records(text)
    if not records:
        raise ValueError("Nothing to add: the pasted block is empty.")
    known = [*columns, *[c for c in header_names if c not in columns]]
    first = records[0]
    mapping = _header_map(first, known) if len(records) > 1 else None
    header = mapping is not None
    body = records[1:] if header else records
    width = max(len(r) for r in body)
    added: list[str] = []
    if header:
        targets = []
        for i in range(width):
            name = mapping.get(i) or (first[i].strip() if i < len(first) else "")
            if not name or name in targets:
                name = f"pasted column {len(added) + 1}"
            if i not in mapping or name.startswith("pasted column"):
                added.append(name)
            targets.append(name)
    else:
        added = [f"pasted column {i + 1}" for i in range(max(0, width - len(columns)))]
        targets = [*list(columns)[:width], *added]
    cells = [[(r[i] if i < len(r) and r[i] != "" else None) for i in range(width)] for r in body]
    rows = pd.DataFrame(cells, columns=targets, dtype=object)
    messages = [
        f"Read {len(rows)} row(s) of {width} cell(s)"
        + (" with a header row." if header else ", filling the columns in grid order.")
    ]
    if added:
        quoted = ", ".join(f"'{name}'" for name in added)
        messages.append(
            f"{len(added)} column(s) not in the table were kept as new columns: {quoted}."
        )
    return PastedRows(rows, tuple(added), header, tuple(messages))
