"""Cells of a study table as typed or read: text, numbers, the include flag, equality.

A column is stored as numbers only when every filled cell is one; otherwise it stays
text, with numbers rewritten with a decimal point and other cells exactly as typed, so
that the row checks flag them and the user can fix them. Used when an upload is tidied
(:mod:`igmeta.app.intake.upload`) and when the Data page's editor returns a table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from igmeta.app.intake.io import parse_numbers
from igmeta.app.intake.schema import YEAR_COLUMN
from igmeta.app.intake.validation import is_missing_cell

__all__ = ["include_column", "is_count", "number_column", "same_table", "text_column"]

_COUNT_COLUMNS = frozenset({"ai", "bi", "ci", "di", "n1i", "n2i", "xi", "ni"})


def _number_text(value: float) -> str:
    """A parsed number written back as text with a decimal point (``12``, ``12.5``)."""
    if np.isfinite(value) and float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _cell_text(value: object) -> str:
    """A cell as text; ``2001.0`` from Excel becomes ``2001``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def is_count(column: object) -> bool:
    """Columns stored as whole numbers when they are: counts and the year."""
    return column in _COUNT_COLUMNS or column == YEAR_COLUMN


def text_column(values: pd.Series) -> pd.Series:
    """Cells as text (``str`` dtype), blanks as missing."""
    cells = [None if is_missing_cell(v) else _cell_text(v) for v in values.to_numpy(dtype=object)]
    return pd.Series(cells, index=values.index, dtype="str", name=values.name)


def number_column(
    values: pd.Series, decimal: str = ".", *, whole_as_int: bool = True
) -> tuple[pd.Series, bool]:
    """Read a column of cells as numbers, keeping cells that are not numbers.

    Parameters
    ----------
    values : Series
        Cells as read or typed.
    decimal : {".", ","}
        Decimal mark of text cells.
    whole_as_int : bool
        Store whole numbers as ``Int64`` (counts, years); otherwise always ``Float64``
        (means, SDs, effects), so that decimals can be typed later.

    Returns
    -------
    column : Series
        ``Int64`` or ``Float64`` when every filled cell is a number;
        otherwise text, with the numbers rewritten with a decimal point and the other cells
        exactly as typed, so that validation can flag them and the user can fix them.
    numeric : bool
        Whether the column could be read as numbers.
    """
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return values, True
    raw = values.to_numpy(dtype=object)
    numbers, missing, not_numeric = parse_numbers(raw, decimal)
    if not not_numeric.any():
        finite = np.isfinite(numbers)
        whole = whole_as_int and bool(
            np.all(np.equal(np.mod(numbers[finite], 1), 0))
            and np.all(np.abs(numbers[finite]) < 2**53)
            and finite.sum() == (~np.isnan(numbers)).sum()
        )
        array = pd.array(numbers, dtype="Float64")
        array[np.isnan(numbers)] = pd.NA
        column = pd.Series(array, index=values.index, name=values.name)
        return (column.astype("Int64") if whole else column), True
    cells: list[str | None] = []
    for value, number, gap, text in zip(raw, numbers, missing, not_numeric, strict=True):
        if gap:
            cells.append(None)
        elif text:
            cells.append(_cell_text(value))
        else:
            cells.append(_number_text(number))
    return pd.Series(cells, index=values.index, dtype="str", name=values.name), False


def include_column(values: pd.Series, included: np.ndarray | None = None) -> pd.Series:
    """The include flag as bool; blank (e.g. a row just added) means included."""
    if pd.api.types.is_bool_dtype(values.dtype) and not values.isna().any():
        return values.astype(bool)
    if included is not None:
        return pd.Series(included, index=values.index, dtype=bool, name=values.name)
    cells = values.to_numpy(dtype=object)
    if all(isinstance(v, bool | np.bool_) or is_missing_cell(v) for v in cells):
        flags = [True if is_missing_cell(v) else bool(v) for v in cells]
        return pd.Series(flags, index=values.index, dtype=bool, name=values.name)
    return values


def _same_cell(x: object, y: object) -> bool:
    """Numbers by value (``12 == 12.0``), anything else as the grid shows it (text)."""
    if isinstance(x, bool | np.bool_) or isinstance(y, bool | np.bool_):
        return bool(x == y) and type(x) is not str and type(y) is not str
    if isinstance(x, int | float | np.number) and isinstance(y, int | float | np.number):
        return bool(x == y)
    return str(x) == str(y)


def same_table(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Same columns, rows and cell values (``12 == 12.0 == "12"``; missing equals missing)."""
    if list(a.columns) != list(b.columns) or a.shape != b.shape:
        return False
    for position in range(a.shape[1]):
        x, y = a.iloc[:, position], b.iloc[:, position]
        x_gap, y_gap = x.isna().to_numpy(dtype=bool), y.isna().to_numpy(dtype=bool)
        if not np.array_equal(x_gap, y_gap):
            return False
        if _plain_numeric(x) and _plain_numeric(y):
            x_numbers = x.to_numpy(dtype=float, na_value=np.nan)[~x_gap]
            if not np.array_equal(x_numbers, y.to_numpy(dtype=float, na_value=np.nan)[~y_gap]):
                return False
            continue
        x_values = x.to_numpy(dtype=object)[~x_gap]
        y_values = y.to_numpy(dtype=object)[~y_gap]
        if any(not _same_cell(u, v) for u, v in zip(x_values, y_values, strict=True)):
            return False
    return True


def _plain_numeric(column: pd.Series) -> bool:
    """A numeric column that is not boolean (compared as floats, vectorised)."""
    return pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(
        column.dtype
    )
