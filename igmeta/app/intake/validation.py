"""Checking a canonical study table before analysis, row by row, in plain English.

:func:`validate_table` never drops or changes a row: every problem becomes an issue that
names the row, the study, the column and what is wrong, and :attr:`ValidationReport.row_valid`
says which rows can be analysed. All checks are vectorised over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from igmeta.app.intake.io import parse_numbers
from igmeta.app.intake.schema import (
    CANONICAL_COLUMNS,
    COLUMN_DESCRIPTIONS,
    DATA_TYPES,
    INCLUDE_COLUMN,
    STUDY_COLUMN,
    YEAR_COLUMN,
    missing_required_columns,
)
from igmeta.risk_of_bias import invalid_judgements

__all__ = [
    "FAILURE_MESSAGE",
    "ISSUE_COLUMNS",
    "LONG_NAME_LIMIT",
    "MAX_COUNT",
    "SEVERITIES",
    "ValidationReport",
    "is_missing_cell",
    "validate_table",
]

#: Columns of :attr:`ValidationReport.issues`, in order.
ISSUE_COLUMNS = ("row", "study", "column", "severity", "message")
SEVERITIES = ("error", "warning", "info")
#: Study names longer than this many characters get a warning (they are kept).
LONG_NAME_LIMIT = 200
#: Start of the message of the one issue reported when validation itself fails.
FAILURE_MESSAGE = "The table could not be checked because of an unexpected problem"
#: Largest count accepted (more than the world's population is a typing error).
MAX_COUNT = 10**10
_LABEL_IN_MESSAGE = 60
_VALUE_IN_MESSAGE = 40
_EXCLUDED = "the study is excluded (include is FALSE), so it is left out of the analysis."
_TRUE_TEXTS = frozenset({"true", "t", "yes", "y", "1", "1.0", "x", "include", "included"})
_FALSE_TEXTS = frozenset({"false", "f", "no", "n", "0", "0.0", "exclude", "excluded"})


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Everything :func:`validate_table` found, plus the numbers it read.

    Attributes
    ----------
    data_type : str
        The data type the table was checked as.
    issues : pandas.DataFrame
        One row per problem, columns :data:`ISSUE_COLUMNS`: ``row`` (1-based position in
        the table, ``<NA>`` for a problem of the whole table), ``study`` (display label),
        ``column``, ``severity`` (``"error"``, ``"warning"`` or ``"info"``) and ``message``
        (a sentence naming the row, the column and the problem). Whole-table issues come
        first, then rows in order.
    row_valid : ndarray of bool
        True where the row's data can be analysed (no error in the row or the table).
        Independent of ``include``; see :attr:`analysable`.
    has_comparison : ndarray of bool
        True where a valid row supports the two-group comparison: for binary data the
        control arm is present; for continuous and generic data every valid row; for
        proportions and correlations none.
    included : ndarray of bool
        The ``include`` flag read leniently (TRUE/yes/1/x; blank means included).
    labels : ndarray of object
        Display label per row: the study name, or ``"Row n"`` when it is empty.
    numeric : pandas.DataFrame
        The input with the data type's canonical columns (and ``year``) as float, NaN
        where a cell is missing or not a number, ``include`` as bool, and ``n1i``/``n2i``
        added from ``ai + bi``/``ci + di`` when only non-event counts were given. Other
        columns are untouched; rows and index are those of the input.
    """

    data_type: str
    issues: pd.DataFrame
    row_valid: np.ndarray
    has_comparison: np.ndarray
    included: np.ndarray
    labels: np.ndarray
    numeric: pd.DataFrame

    @property
    def analysable(self) -> np.ndarray:
        """Rows that are both valid and included."""
        return self.row_valid & self.included

    @property
    def has_errors(self) -> bool:
        """True when any issue has severity ``"error"``."""
        return bool((self.issues["severity"] == "error").any())

    def count(self, severity: str) -> int:
        """Number of issues of one severity.

        Parameters
        ----------
        severity : {"error", "warning", "info"}
            The severity to count.

        Returns
        -------
        int
            How many issues have that severity.
        """
        return int((self.issues["severity"] == severity).sum())


def _format_number(value: float) -> str:
    """A number as a user would type it: ``12`` not ``12.0``, at most 6 significant digits."""
    if np.isfinite(value) and float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _format_text(value: object) -> str:
    """A raw cell quoted and shortened for a message (a number cell in full: ``'30.5'``)."""
    if isinstance(value, float | np.floating) and np.isfinite(value):
        whole = float(value).is_integer() and abs(value) < 1e15
        text = str(int(value)) if whole else repr(float(value))
    else:
        text = " ".join(str(value).split())
    if len(text) > _VALUE_IN_MESSAGE:
        text = text[: _VALUE_IN_MESSAGE - 1] + "\u2026"
    return f"'{text}'"


class _IssueLog:
    """Collects issues chunk by chunk and marks rows with errors."""

    def __init__(self, labels: np.ndarray, named: np.ndarray) -> None:
        self.labels = labels
        self.prefixes = np.array(
            [
                f"Row {position + 1} ({_shorten(label)})" if has_name else f"Row {position + 1}"
                for position, (label, has_name) in enumerate(zip(labels, named, strict=True))
            ],
            dtype=object,
        )
        self.row_error = np.zeros(len(labels), dtype=bool)
        self.table_error = False
        self._chunks: list[pd.DataFrame] = []

    def rows(
        self,
        mask: np.ndarray,
        column: str,
        severity: str,
        text: str,
        **values: np.ndarray,
    ) -> None:
        """Add one issue per True in ``mask``; ``{name}`` in ``text`` shows ``values[name]``.

        Float arrays are shown as numbers, anything else as quoted text.
        """
        positions = np.flatnonzero(mask)
        if not positions.size:
            return
        if severity == "error":
            self.row_error[positions] = True
        shown = {
            name: [
                _format_number(v) if array.dtype.kind == "f" else _format_text(v)
                for v in array[positions]
            ]
            for name, array in values.items()
        }
        messages = [
            f"{self.prefixes[position]}, column '{column}': "
            + text.format(**{name: shown[name][k] for name in shown})
            for k, position in enumerate(positions)
        ]
        self._chunks.append(
            pd.DataFrame(
                {
                    "row": positions + 1,
                    "study": self.labels[positions],
                    "column": column,
                    "severity": severity,
                    "message": messages,
                }
            )
        )

    def table(self, column: str, severity: str, message: str) -> None:
        """Add one issue about the whole table."""
        if severity == "error":
            self.table_error = True
        self._chunks.append(
            pd.DataFrame(
                {
                    "row": [0],
                    "study": [""],
                    "column": [column],
                    "severity": [severity],
                    "message": [message],
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        """All issues: whole-table ones first, then by row, in the order found."""
        if not self._chunks:
            issues = pd.DataFrame({name: [] for name in ISSUE_COLUMNS})
        else:
            issues = pd.concat(self._chunks, ignore_index=True)
            issues = issues.iloc[np.argsort(issues["row"].to_numpy(), kind="stable")]
        rows = pd.array(issues["row"].to_numpy(dtype=np.int64), dtype="Int64")
        rows[rows == 0] = pd.NA
        return pd.DataFrame(
            {
                "row": rows,
                **{name: issues[name].astype(str).to_numpy() for name in ISSUE_COLUMNS[1:]},
            }
        ).reset_index(drop=True)


def _shorten(label: str) -> str:
    """A label cut to a readable length for messages."""
    if len(label) <= _LABEL_IN_MESSAGE:
        return label
    return label[: _LABEL_IN_MESSAGE - 1] + "\u2026"


def _first_column(frame: pd.DataFrame, name: str) -> pd.Series | None:
    """The first column called ``name`` (names may repeat), or None."""
    positions = np.flatnonzero(frame.columns == name)
    return frame.iloc[:, positions[0]] if positions.size else None


def _study_labels(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw names (stripped), whether each is non-empty, and display labels."""
    size = len(frame)
    column = _first_column(frame, STUDY_COLUMN)
    if column is None:
        names = np.full(size, "", dtype=object)
    else:
        names = np.array(
            [
                "" if is_missing_cell(value) else " ".join(_label_text(value).split())
                for value in column.to_numpy(dtype=object)
            ],
            dtype=object,
        )
    named = names != ""
    labels = names.copy()
    labels[~named] = [f"Row {position + 1}" for position in np.flatnonzero(~named)]
    return names, named, labels


def is_missing_cell(value: object) -> bool:
    """None, NaN, pd.NA or whitespace-only text."""
    if isinstance(value, str):
        return not value.strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _label_text(value: object) -> str:
    """A study name as text; ``2001.0`` becomes ``2001``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _check_names(log: _IssueLog, frame: pd.DataFrame, names: np.ndarray, named: np.ndarray) -> None:
    """Empty, very long and repeated study names (warnings; names are kept)."""
    if STUDY_COLUMN not in frame.columns:
        log.table(
            STUDY_COLUMN,
            "warning",
            "There is no 'study' column, so studies are labelled 'Row 1', 'Row 2', and so on. "
            "Map the column holding study names to 'study'.",
        )
    else:
        log.rows(
            ~named,
            STUDY_COLUMN,
            "warning",
            "the study name is empty, so the study is shown as {label}.",
            label=log.labels,
        )
    lengths = np.fromiter((len(name) for name in names), dtype=np.int64, count=len(names))
    log.rows(
        lengths > LONG_NAME_LIMIT,
        STUDY_COLUMN,
        "warning",
        f"the study name is {{length}} characters long (more than {LONG_NAME_LIMIT}); "
        "it is kept, but plots will be hard to read.",
        length=lengths.astype(float),
    )
    keys = pd.Series([name.casefold() for name in names], dtype=object)
    repeated = keys.duplicated(keep="first").to_numpy() & named
    if repeated.any():
        first = pd.Series(np.arange(len(keys))).groupby(keys.to_numpy()).transform("min")
        log.rows(
            repeated,
            STUDY_COLUMN,
            "warning",
            "the study name {name} is the same as in row {first}; check that the study is "
            "not entered twice, or make the names distinct.",
            name=names,
            first=first.to_numpy(dtype=float) + 1,
        )


def _read_include(log: _IssueLog, frame: pd.DataFrame) -> np.ndarray:
    """The include flag per row: booleans, TRUE/FALSE, yes/no, 1/0, x; blank means True."""
    column = _first_column(frame, INCLUDE_COLUMN)
    size = len(frame)
    if column is None:
        return np.ones(size, dtype=bool)
    if pd.api.types.is_bool_dtype(column.dtype) and not column.isna().any():
        included = column.to_numpy(dtype=bool)
        log.rows(~included, INCLUDE_COLUMN, "info", _EXCLUDED)
        return included
    included = np.ones(size, dtype=bool)
    unknown = np.zeros(size, dtype=bool)
    for position, value in enumerate(column.to_numpy(dtype=object)):
        if isinstance(value, bool | np.bool_):
            included[position] = bool(value)
        elif is_missing_cell(value):
            continue
        else:
            text = _label_text(value).strip().casefold()
            if text in _FALSE_TEXTS:
                included[position] = False
            elif text not in _TRUE_TEXTS:
                unknown[position] = True
    log.rows(
        unknown,
        INCLUDE_COLUMN,
        "warning",
        "{value} is not TRUE or FALSE, so the study is included.",
        value=column.to_numpy(dtype=object),
    )
    log.rows(~included, INCLUDE_COLUMN, "info", _EXCLUDED)
    return included


@dataclass(frozen=True, slots=True)
class _Cells:
    """One numeric column read from the table."""

    name: str
    present: bool
    raw: np.ndarray
    values: np.ndarray
    missing: np.ndarray
    not_numeric: np.ndarray

    @property
    def filled(self) -> np.ndarray:
        """Cells that hold something (a number or text)."""
        return self.present & ~self.missing


class _Table:
    """Numeric columns of the frame, read once, with the issue log."""

    def __init__(self, frame: pd.DataFrame, log: _IssueLog, decimal: str) -> None:
        self.frame = frame
        self.log = log
        self.decimal = decimal
        self.cells: dict[str, _Cells] = {}

    def read(self, name: str) -> _Cells:
        """Parse column ``name`` once, reporting non-numeric cells as errors."""
        if name in self.cells:
            return self.cells[name]
        column = _first_column(self.frame, name)
        size = len(self.frame)
        if column is None:
            empty = np.zeros(size, dtype=bool)
            cells = _Cells(name, False, np.full(size, None), np.full(size, np.nan), ~empty, empty)
        else:
            raw = column.to_numpy(dtype=object)
            values, missing, not_numeric = parse_numbers(raw, self.decimal)
            cells = _Cells(name, True, raw, values, missing, not_numeric)
            self._report_text(cells)
        self.cells[name] = cells
        return cells

    def _report_text(self, cells: _Cells) -> None:
        """One error per cell that holds something other than a number."""
        if not cells.not_numeric.any():
            return
        hint = np.zeros(len(cells.raw), dtype=bool)
        overflow = np.zeros(len(cells.raw), dtype=bool)
        for position in np.flatnonzero(cells.not_numeric):
            raw = cells.raw[position]
            overflow[position] = _overflows(raw)
            hint[position] = self.decimal == "." and _looks_like_decimal_comma(raw)
        plain = cells.not_numeric & ~hint & ~overflow
        severity = "error" if cells.name != YEAR_COLUMN else "warning"
        consequence = "" if severity == "error" else " It is ignored."
        self.log.rows(
            plain,
            cells.name,
            severity,
            "{value} is not a number." + consequence,
            value=cells.raw,
        )
        self.log.rows(
            cells.not_numeric & hint,
            cells.name,
            severity,
            "{value} is not a number; if it uses a decimal comma, write it with a point "
            "(e.g. 12.5)." + consequence,
            value=cells.raw,
        )
        self.log.rows(
            overflow,
            cells.name,
            severity,
            "{value} is too large to be stored as a number (the limit is about 1.8e308)."
            + consequence,
            value=cells.raw,
        )

    def require(self, cells: _Cells, where: np.ndarray | None = None) -> None:
        """An error for each missing cell of a present column (optionally only ``where``)."""
        if not cells.present:
            return
        mask = cells.missing if where is None else cells.missing & where
        self.log.rows(mask, cells.name, "error", f"the value is missing ({_describe(cells.name)}).")

    def counts(self, cells: _Cells) -> None:
        """Counts must be whole, non-negative and at most :data:`MAX_COUNT` (errors).

        A fraction such as ``30.5`` is an error, not a guess: the row is kept as typed and
        left out of the analysis until the count is fixed. The value in the message is the
        cell as typed (``'30.5'``), never a rounded number.
        """
        values = cells.values
        with np.errstate(invalid="ignore"):
            negative = values < 0
            too_large = values > MAX_COUNT
            fractional = np.isfinite(values) & ~too_large & (np.floor(values) != values)
        self.log.rows(
            negative, cells.name, "error", "a count cannot be negative ({value}).", value=values
        )
        self.log.rows(
            too_large,
            cells.name,
            "error",
            "{value} is too large for a count of people (at most 10,000,000,000).",
            value=cells.raw,
        )
        self.log.rows(
            fractional,
            cells.name,
            "error",
            "{value} is not a whole number; a count of people must be one, so the row is "
            "left out of the analysis until it is fixed.",
            value=cells.raw,
        )


def _check_risk_of_bias(log: _IssueLog, frame: pd.DataFrame) -> None:
    """Risk-of-bias cells outside their tool's vocabulary (warnings; the cell is kept)."""
    for column, bad, raw, allowed in invalid_judgements(frame):
        log.rows(
            bad,
            column,
            "warning",
            f"{{value}} is not a risk-of-bias judgement (use {allowed}); it is kept as typed "
            "and shown as not assessed.",
            value=raw,
        )


def _describe(column: str) -> str:
    """The first clause of a column's description, starting in lower case."""
    text = COLUMN_DESCRIPTIONS[column].split(";")[0].rstrip(".")
    return text[:1].lower() + text[1:]


def _overflows(value: object) -> bool:
    """Text of a finite number too large for a float, e.g. ``'1e400'`` (not ``'inf'``)."""
    if not isinstance(value, str) or "inf" in value.casefold() or "nan" in value.casefold():
        return False
    try:
        return bool(np.isinf(float(value.strip().replace("\u2212", "-"))))
    except ValueError:
        return False


def _looks_like_decimal_comma(value: object) -> bool:
    """``'12,5'``-like text."""
    if not isinstance(value, str):
        return False
    stripped = value.strip()
    head, sep, tail = stripped.partition(",")
    return bool(sep) and head.lstrip("+-").isdigit() and tail.isdigit()


def _check_arm(
    table: _Table,
    events: str,
    total: str,
    non_events: str | None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Events and total of one group: missing, negative, fractional, events > total, 0.

    ``rows`` limits the missing-value errors (for an optional arm). Returns the total per
    row (from the total column, else events + non-events).
    """
    log = table.log
    event_cells = table.read(events)
    total_cells = table.read(total)
    use_non_events = not total_cells.present and non_events is not None
    source = table.read(non_events) if use_non_events else total_cells
    for cells in (event_cells, source):
        table.require(cells, rows)
        table.counts(cells)
    totals = event_cells.values + source.values if use_non_events else source.values
    with np.errstate(invalid="ignore"):
        too_many = event_cells.values > totals
        empty_group = totals == 0
    if not use_non_events:
        log.rows(
            too_many,
            events,
            "error",
            "events ({events}) exceed the total ({total}).",
            events=event_cells.values,
            total=totals,
        )
    log.rows(
        empty_group & ~too_many,
        source.name,
        "error",
        "the group has 0 participants; a group needs at least one.",
    )
    return totals


def _derives_total(table: _Table, total: str, non_events: str) -> bool:
    """True when a group's total comes from events + non-events (no total column)."""
    return not table.read(total).present and table.read(non_events).present


def _note_derived_total(log, derived: dict, total: str, formula: str) -> None:
    """An info issue recording that ``total`` was computed, not read (its provenance)."""
    if total in derived:
        log.table(
            total,
            "info",
            f"'{total}' ({_describe(total)}) is not in the table: it is computed as "
            f"{formula} (events + non-events).",
        )


def _check_binary(table: _Table) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """2x2 tables; an empty control arm makes a single-arm row (info, not an error)."""
    log = table.log
    size = len(table.frame)
    total_one = _check_arm(table, "ai", "n1i", "bi")
    control_events = table.read("ci")
    control_total = table.read("n2i") if table.read("n2i").present else table.read("di")
    derived = {"n1i": total_one} if _derives_total(table, "n1i", "bi") else {}
    _note_derived_total(log, derived, "n1i", "ai + bi")
    if not control_events.present and not control_total.present:
        log.table(
            "ci",
            "info",
            "There are no control-arm columns ('ci' and 'n2i'), so every study is single-arm: "
            "the pooled proportion can be computed, the comparison cannot.",
        )
        return np.zeros(size, dtype=bool), derived
    single_arm = ~control_events.filled & ~control_total.filled
    errors_before = log.row_error.copy()
    total_two = _check_arm(table, "ci", "n2i", "di", rows=~single_arm)
    if _derives_total(table, "n2i", "di"):
        derived["n2i"] = total_two
        _note_derived_total(log, derived, "n2i", "ci + di")
    log.rows(
        single_arm,
        "ci",
        "info",
        "no control arm (ci and n2i are empty): a single-arm study, used for the pooled "
        "proportion only, not for the comparison.",
    )
    if not (control_events.present and control_total.present):
        missing = "ci" if not control_events.present else "n2i"
        log.table(
            missing,
            "error",
            f"The table has no column '{missing}' ({_describe(missing)}) "
            "while the other control-arm column is present; map a column to it.",
        )
    control_errors = log.row_error & ~errors_before
    return ~single_arm & ~control_errors, derived


def _check_proportion(table: _Table) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Single proportions: events and total."""
    _check_arm(table, "xi", "ni", None)
    return np.zeros(len(table.frame), dtype=bool), {}


def _check_continuous(table: _Table) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Means, standard deviations (> 0) and group sizes (>= 2) of two groups."""
    for mean, sd, size in (("m1i", "sd1i", "n1i"), ("m2i", "sd2i", "n2i")):
        mean_cells, sd_cells, size_cells = (table.read(name) for name in (mean, sd, size))
        for cells in (mean_cells, sd_cells, size_cells):
            table.require(cells)
        table.counts(size_cells)
        with np.errstate(invalid="ignore"):
            bad_sd = sd_cells.values <= 0
            small = (size_cells.values < 2) & (size_cells.values >= 0)
        table.log.rows(
            bad_sd,
            sd,
            "error",
            "the standard deviation must be greater than 0 (it is {value}).",
            value=sd_cells.values,
        )
        table.log.rows(
            small,
            size,
            "error",
            "the group size must be at least 2 (it is {value}).",
            value=size_cells.values,
        )
    return np.ones(len(table.frame), dtype=bool), {}


def _check_correlation(table: _Table) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Correlations strictly inside (-1, 1) with more than 3 participants."""
    r_cells, n_cells = table.read("ri"), table.read("ni")
    table.require(r_cells)
    table.require(n_cells)
    table.counts(n_cells)
    with np.errstate(invalid="ignore"):
        outside = np.abs(r_cells.values) >= 1
        too_few = (n_cells.values <= 3) & (n_cells.values >= 0)
    table.log.rows(
        outside,
        "ri",
        "error",
        "a correlation must lie strictly between -1 and 1 (it is {value}).",
        value=r_cells.values,
    )
    table.log.rows(
        too_few,
        "ni",
        "error",
        "the sample size must be greater than 3 (it is {value}), because the variance "
        "1/(ni - 3) is otherwise undefined.",
        value=n_cells.values,
    )
    return np.zeros(len(table.frame), dtype=bool), {}


def _check_generic(table: _Table) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """yi with vi or sei, or an estimate with its confidence limits."""
    log = table.log
    yi, vi, sei, estimate, lower, upper = (
        table.read(name) for name in CANONICAL_COLUMNS["generic"]
    )
    with np.errstate(invalid="ignore"):
        for cells, what in ((vi, "variance"), (sei, "standard error")):
            log.rows(
                cells.values <= 0,
                cells.name,
                "error",
                f"the {what} must be greater than 0 (it is {{value}}).",
                value=cells.values,
            )
        reversed_limits = lower.values > upper.values
        equal_limits = lower.values == upper.values
        outside = (estimate.values < lower.values) | (estimate.values > upper.values)
    log.rows(
        reversed_limits,
        "ci_lower",
        "error",
        "the lower limit ({lower}) is above the upper limit ({upper}).",
        lower=lower.values,
        upper=upper.values,
    )
    log.rows(
        equal_limits,
        "ci_lower",
        "error",
        "the lower and upper limits are equal ({lower}), so the variance would be 0.",
        lower=lower.values,
    )
    log.rows(
        outside & ~reversed_limits,
        "estimate",
        "warning",
        "the estimate ({value}) lies outside its confidence interval ({lower} to {upper}).",
        value=estimate.values,
        lower=lower.values,
        upper=upper.values,
    )
    from_variance = yi.filled & (vi.filled | sei.filled)
    from_interval = estimate.filled & lower.filled & upper.filled
    unusable = ~from_variance & ~from_interval
    variance_name = "vi" if vi.present or not sei.present else "sei"
    effect_name = "estimate" if estimate.present and not yi.present else "yi"
    without_effect = ~yi.filled & ~estimate.filled
    for mask, column in (
        (yi.filled, variance_name),
        (~yi.filled & estimate.filled & ~lower.filled, "ci_lower"),
        (~yi.filled & estimate.filled & lower.filled, "ci_upper"),
        (without_effect, effect_name),
    ):
        log.rows(
            unusable & mask,
            column,
            "error",
            "there is no usable effect: give yi with vi or sei, or an estimate with ci_lower "
            "and ci_upper.",
        )
    return np.ones(len(table.frame), dtype=bool), {}


_CHECKS = {
    "binary": _check_binary,
    "proportion": _check_proportion,
    "continuous": _check_continuous,
    "correlation": _check_correlation,
    "generic": _check_generic,
}


def validate_table(
    frame: pd.DataFrame,
    data_type: str,
    *,
    decimal: str = ".",
    weights_column: str | None = None,
    weights_comparison_only: bool = False,
) -> ValidationReport:
    """Check a canonical study table and read its numbers.

    Parameters
    ----------
    frame : pandas.DataFrame
        A table in canonical column names (see :func:`igmeta.app.intake.schema.apply_mapping`),
        cells as read or already numeric.
    data_type : str
        One of :data:`igmeta.app.intake.schema.DATA_TYPES`.
    decimal : {".", ","}
        Decimal mark of text cells, usually :attr:`igmeta.app.intake.io.ReadResult.decimal`.
    weights_column : str, optional
        A column of user weights (the GENQ estimator's ``weights``): read as numbers,
        and a missing, non-numeric or negative weight is an error of its row.
    weights_comparison_only : bool
        Check the weights only in rows with a two-group comparison (a two-group analysis
        does not use the single-arm rows, so their weights do not matter).

    Returns
    -------
    ValidationReport
        Issues, per-row validity and the numeric table. Never raises on user data and
        never drops a row.

    Notes
    -----
    Errors (the row cannot be analysed): a missing required column, a missing or
    non-numeric value, a negative count, events above the total, a total of 0, a standard
    deviation <= 0, a group size below 2, a correlation with ``|r| >= 1`` or ``ni <= 3``,
    ``vi <= 0`` or ``sei <= 0``, confidence limits reversed or equal, an incomplete
    control arm, a count that is not a whole number or above :data:`MAX_COUNT`, a number
    too large to store (``1e400``). Warnings (the row is kept): empty, very long or
    repeated study names, an estimate outside its interval, an unreadable ``include`` or
    ``year``, a risk-of-bias judgement outside its vocabulary. Information: excluded rows
    and single-arm rows of binary data.
    """
    frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(frame)
    try:
        return _validate(frame, data_type, decimal, weights_column, weights_comparison_only)
    except Exception as exc:  # the last line of defence: user data must never crash the app
        return _failed_report(frame, data_type, exc)


def _failed_report(frame: pd.DataFrame, data_type: str, exc: Exception) -> ValidationReport:
    """A report marking every row invalid after an unexpected failure."""
    size = len(frame)
    labels = np.array([f"Row {position + 1}" for position in range(size)], dtype=object)
    log = _IssueLog(labels, np.zeros(size, dtype=bool))
    log.table("", "error", f"{FAILURE_MESSAGE} ({type(exc).__name__}: {exc}).")
    return ValidationReport(
        data_type=data_type,
        issues=log.frame(),
        row_valid=np.zeros(size, dtype=bool),
        has_comparison=np.zeros(size, dtype=bool),
        included=np.ones(size, dtype=bool),
        labels=labels,
        numeric=frame.copy(),
    )


def _check_weights(log: _IssueLog, table: _Table, name: str, where: np.ndarray) -> None:
    """User weights: present, numbers, not missing, not negative (errors of the rows
    ``where``)."""
    if _first_column(table.frame, name) is None:
        log.table(
            name,
            "error",
            f"The weights column '{name}' chosen for the GENQ estimator is not in the table; "
            "choose another column or another tau\u00b2 estimator.",
        )
        return
    cells = table.read(name)
    log.rows(
        cells.missing & where,
        name,
        "error",
        "the weight is missing (the GENQ estimator needs a weight for every study).",
    )
    with np.errstate(invalid="ignore"):
        negative = (cells.values < 0) & where
    log.rows(
        negative,
        name,
        "error",
        "a weight cannot be negative ({value}); the GENQ estimator needs weights >= 0.",
        value=cells.values,
    )


def _validate(
    frame: pd.DataFrame,
    data_type: str,
    decimal: str,
    weights_column: str | None = None,
    weights_comparison_only: bool = False,
) -> ValidationReport:
    """:func:`validate_table` without the safety net."""
    names, named, labels = _study_labels(frame)
    log = _IssueLog(labels, named)
    numeric = frame.copy()
    size = len(frame)
    comparison = np.zeros(size, dtype=bool)
    if data_type not in _CHECKS:
        known = ", ".join(DATA_TYPES)
        log.table("", "error", f"Unknown data type '{data_type}'; choose one of: {known}.")
    else:
        if size == 0:
            log.table("", "error", "The table has no rows.")
        repeated = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        for name in repeated:
            log.table(
                name, "warning", f"Column '{name}' appears more than once; the first is used."
            )
        for name in missing_required_columns(frame.columns, data_type):
            log.table(
                name,
                "error",
                f"The table has no column '{name}' ({_describe(name)}). "
                "Map one of your columns to it.",
            )
        if size:
            _check_names(log, frame, names, named)
        table = _Table(frame, log, decimal)
        comparison, derived = _CHECKS[data_type](table) if size else (comparison, {})
        table.read(YEAR_COLUMN)
        if weights_column and size:
            where = comparison if weights_comparison_only else np.ones(size, dtype=bool)
            _check_weights(log, table, weights_column, where)
        _check_risk_of_bias(log, frame)
        for name, cells in table.cells.items():
            if cells.present:
                numeric.isetitem(int(np.flatnonzero(frame.columns == name)[0]), cells.values)
        for name, values in derived.items():
            numeric[name] = values
    included = _read_include(log, frame)
    numeric[INCLUDE_COLUMN] = included
    row_valid = ~log.row_error & (not log.table_error)
    return ValidationReport(
        data_type=data_type,
        issues=log.frame(),
        row_valid=row_valid,
        has_comparison=comparison & row_valid,
        included=included,
        labels=labels,
        numeric=numeric,
    )
