"""The Data page: header, toolbar, row checks, upload with column mapping, templates.

The page script (``pages/data.py``) only calls the section functions here and the grid of
:mod:`ui.grid`. The pure parts (a computed row status for the upload preview, cleaning
what an editor returns, reading an upload and mapping its columns) are plain functions
that the tests call directly.

No user text (file names, column names, study names, cells) is rendered as Markdown
unescaped: tables go through ``st.dataframe``/``st.data_editor``, messages through
:func:`ui.text.plain`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from igmeta.app.intake.io import MAX_UPLOAD_BYTES, ReadResult, parse_numbers, read_table
from igmeta.app.intake.schema import (
    CANONICAL_COLUMNS,
    COLUMN_DESCRIPTIONS,
    COMMON_COLUMNS,
    DATA_TYPE_LABELS,
    DATA_TYPES,
    GROUP_COLUMN,
    INCLUDE_COLUMN,
    REQUIRED_COLUMN_SETS,
    STUDY_COLUMN,
    YEAR_COLUMN,
    apply_mapping,
    detect_data_type,
    guess_mapping,
    missing_required_columns,
    template_csv_bytes,
    template_frame,
)
from igmeta.app.intake.validation import ValidationReport, is_missing_cell, validate_table
from igmeta.app.outputs.safe_export import to_excel_bytes, to_safe_csv_bytes
from igmeta.datasets import is_reconstructed
from igmeta.risk_of_bias import ROB_COLUMNS
from ui import revman_import, state
from ui.text import plain

#: Name of the computed status column in the editor (never stored in the table).
STATUS_COLUMN = "__igmeta_row_status__"
PROVENANCE_COLUMN = "provenance"
STATUS_OK = "\u2713 ok"
STATUS_INVALID = "\u26a0 invalid: "
STATUS_WARNING = "\u25b3 check: "
UPLOAD_TYPES = ("csv", "tsv", "txt", "xlsx", "rm5")
NOT_IN_FILE = "(not in the file)"
PREVIEW_ROWS = 50
#: Tables with more cells than this are shown without cell colours (pandas' Styler limit).
MAX_STYLED_CELLS = 200_000
_REASON_CHARS = 90
_CACHE = {"max_entries": 16, "ttl": 1800, "show_spinner": False}

_COMMON_LABELS = {
    STUDY_COLUMN: "Study",
    INCLUDE_COLUMN: "Include",
    GROUP_COLUMN: "Subgroup (design)",
    YEAR_COLUMN: "Year",
}
#: Plain-English labels of the numeric canonical columns, per data type.
COLUMN_LABELS: dict[str, dict[str, str]] = {
    "binary": {
        "ai": "Events (treatment)",
        "n1i": "Total (treatment)",
        "ci": "Events (control)",
        "n2i": "Total (control)",
        "bi": "Non-events (treatment)",
        "di": "Non-events (control)",
    },
    "proportion": {"xi": "Events", "ni": "Total"},
    "continuous": {
        "m1i": "Mean (treatment)",
        "sd1i": "SD (treatment)",
        "n1i": "Total (treatment)",
        "m2i": "Mean (control)",
        "sd2i": "SD (control)",
        "n2i": "Total (control)",
    },
    "correlation": {"ri": "Correlation r", "ni": "Total (N)"},
    "generic": {
        "yi": "Effect size",
        "vi": "Variance",
        "sei": "Standard error",
        "estimate": "Estimate",
        "ci_lower": "CI lower",
        "ci_upper": "CI upper",
    },
}
_COUNT_COLUMNS = frozenset({"ai", "bi", "ci", "di", "n1i", "n2i", "xi", "ni"})
_SEVERITY_COLOURS = {"error": "#fde2e1", "warning": "#fff3cd", "info": "#e7f1fb"}
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


# --------------------------------------------------------------------------- text


def column_label(column: str, data_type: str) -> str:
    """The label the editor shows for a column, e.g. ``"Events (treatment) · ai"``."""
    if column in _COMMON_LABELS:
        return _COMMON_LABELS[column]
    label = COLUMN_LABELS.get(data_type, {}).get(column)
    if label is None:
        return column
    return label if label.casefold() == column.casefold() else f"{label} \u00b7 {column}"


def numeric_targets(data_type: str) -> tuple[str, ...]:
    """Canonical numeric columns of a data type, plus ``year``."""
    return (*CANONICAL_COLUMNS.get(data_type, ()), YEAR_COLUMN)


# --------------------------------------------------------------------------- row status


@st.cache_data(**_CACHE)
def validate_cached(table: pd.DataFrame, data_type: str) -> ValidationReport:
    """Cached :func:`igmeta.app.intake.validation.validate_table` (decimal point)."""
    return validate_table(table, data_type)


def _reason(message: str, column: str) -> str:
    """The part of a validation message after ``Row n (name), column 'x': ``, shortened."""
    marker = f"column '{column}': "
    position = message.find(marker)
    text = message[position + len(marker) :] if position >= 0 else message
    text = f"{column}: {text}" if column and position >= 0 else text
    if len(text) > _REASON_CHARS:
        text = text[: _REASON_CHARS - 1] + "\u2026"
    return text


def row_status(table: pd.DataFrame, data_type: str) -> list[str]:
    """One short status text per row: ok, ``⚠ invalid: <reason>`` or ``△ check: <reason>``.

    Computed from :func:`validate_table`; rows with several problems show the first and how
    many more. A problem of the whole table (e.g. a missing column) marks every row.
    """
    report = validate_cached(table, data_type)
    size = len(table)
    status = [STATUS_OK] * size
    issues = report.issues
    if issues.empty or size == 0:
        return status
    whole = issues[issues["row"].isna() & (issues["severity"] == "error")]
    if not whole.empty:
        first = whole.iloc[0]
        reason = _reason(str(first["message"]), "")
        more = f" (+{len(whole) - 1} more)" if len(whole) > 1 else ""
        return [f"{STATUS_INVALID}{reason}{more}"] * size
    rows = issues[issues["row"].notna() & issues["severity"].isin(("error", "warning"))]
    for row, group in rows.groupby(rows["row"].astype(int), sort=False):
        position = int(row) - 1
        if not 0 <= position < size:
            continue
        errors = group[group["severity"] == "error"]
        chosen, prefix = (errors, STATUS_INVALID) if len(errors) else (group, STATUS_WARNING)
        first = chosen.iloc[0]
        more = f" (+{len(chosen) - 1} more)" if len(chosen) > 1 else ""
        status[position] = f"{prefix}{_reason(str(first['message']), str(first['column']))}{more}"
    return status


def annotate(table: pd.DataFrame, data_type: str) -> pd.DataFrame:
    """The editor's input: the table with a status column first and 1-based row numbers."""
    shown = table.reset_index(drop=True).copy()
    if INCLUDE_COLUMN in shown.columns and pd.api.types.is_bool_dtype(shown[INCLUDE_COLUMN]):
        # Nullable, so that a row added in the grid (include still blank) fits the column.
        shown[INCLUDE_COLUMN] = shown[INCLUDE_COLUMN].astype("boolean")
    shown.insert(0, STATUS_COLUMN, pd.Series(row_status(table, data_type), dtype="str"))
    shown.index = pd.RangeIndex(1, len(shown) + 1)
    return shown


def _status_style(value: object) -> str:
    """Cell style of the status column: red for invalid rows, amber for warnings."""
    text = str(value)
    if text.startswith(STATUS_INVALID):
        return f"background-color: {_SEVERITY_COLOURS['error']}; color: #8a1c1c"
    if text.startswith(STATUS_WARNING):
        return f"background-color: {_SEVERITY_COLOURS['warning']}; color: #6b4e00"
    return "color: #2e7d32"


def _provenance_style(value: object) -> str:
    """Reconstructed rows of the bundled data stand out in the provenance column."""
    if str(value).strip().casefold() == "reconstructed":
        return f"background-color: {_SEVERITY_COLOURS['warning']}; font-style: italic"
    return ""


def styled(shown: pd.DataFrame) -> Styler | pd.DataFrame:
    """The editor's input with the read-only status (and provenance) cells coloured.

    Streamlit applies Styler colours to read-only columns only, which is what is wanted.
    """
    if shown.size > MAX_STYLED_CELLS:
        return shown  # colours are a nicety; very large tables are shown plain
    if STATUS_COLUMN not in shown.columns and PROVENANCE_COLUMN not in shown.columns:
        return shown  # nothing to colour: a Styler would only cost time on every run
    styler = shown.style
    if STATUS_COLUMN in shown.columns:
        styler = styler.map(_status_style, subset=[STATUS_COLUMN])
    if PROVENANCE_COLUMN in shown.columns:
        styler = styler.map(_provenance_style, subset=[PROVENANCE_COLUMN])
    return styler


# --------------------------------------------------------------------------- cleaning


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


def _is_count(column: object) -> bool:
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


def _include_column(values: pd.Series, included: np.ndarray | None = None) -> pd.Series:
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


def clean_table(
    frame: pd.DataFrame, data_type: str, numbers: Iterable[object] = ()
) -> pd.DataFrame:
    """What an editor returned, ready to store.

    Drops the computed status column, numbers rows from 0, reads the include flag as bool
    (a new row is included) and turns a text column of the data type's numbers (or of
    ``numbers``, e.g. extra columns stored as numbers) back into numbers once every cell
    in it is a number; a column with a cell that is not a number stays text, with the
    numbers written with a decimal point and the other cells exactly as typed.
    Idempotent.
    """
    table = frame.drop(columns=[STATUS_COLUMN], errors="ignore").reset_index(drop=True)
    targets = set(numeric_targets(data_type)) | set(numbers)
    for position, column in enumerate(table.columns):
        values = table.iloc[:, position]
        if column == INCLUDE_COLUMN:
            table.isetitem(position, _include_column(values))
        elif column in targets and not pd.api.types.is_numeric_dtype(values.dtype):
            table.isetitem(position, number_column(values, whole_as_int=_is_count(column))[0])
    return table


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


# --------------------------------------------------------------------------- header


def header(table: pd.DataFrame) -> None:
    """Where the table comes from, a one-off notice, and the reconstructed rows."""
    notice = state.pop_notice()
    if notice:
        st.success(plain(notice), icon=":material/check_circle:")
    data_type = state.get_data_type()
    st.caption(
        f"Source: {plain(state.get_source())} \u2014 "
        f"{len(table)} rows \u2014 {plain(DATA_TYPE_LABELS.get(data_type, data_type))}"
    )
    reconstructed = int(is_reconstructed(table).sum())
    if reconstructed:
        st.info(
            f"{reconstructed} of {len(table)} rows are marked *reconstructed* in the "
            "Provenance column: their counts were chosen to reproduce the published pooled "
            "results and are not taken from the original papers (see *Methods & about*).",
            icon=":material/info:",
        )


def toolbar(table: pd.DataFrame) -> None:
    """Undo, redo, reset (with confirmation) and downloads of the edited table."""
    with st.container(horizontal=True, vertical_alignment="center"):
        if st.button(
            "Undo",
            icon=":material/undo:",
            disabled=not state.can_undo(),
            help="Undo the last change to the table.",
        ):
            state.undo()
            st.rerun()
        if st.button(
            "Redo",
            icon=":material/redo:",
            disabled=not state.can_redo(),
            help="Re-apply the change you undid.",
        ):
            state.redo()
            st.rerun()
        with st.popover("Reset to the bundled IG data", icon=":material/restart_alt:"):
            st.warning(
                "This replaces the current table with the bundled immunoglobulin (IG) data. "
                "Your table is not lost: **Undo** brings it back.",
                icon=":material/warning:",
            )
            if st.button("Yes, replace my table", type="primary", icon=":material/restart_alt:"):
                state.reset_to_bundled()
                state.set_notice("The bundled IG data were restored. Undo brings back your table.")
                st.rerun()
        # Downloads sit left, next to the other actions: the grid's own toolbar appears
        # at its top right on hover and would cover buttons placed there.
        st.download_button(
            "Download CSV",
            data=lambda: to_safe_csv_bytes(table),
            file_name="igmeta_studies.csv",
            mime="text/csv",
            icon=":material/download:",
            on_click="ignore",
            help="The table as CSV (UTF-8). Cells that a spreadsheet would run as a formula "
            "are written as text.",
        )
        st.download_button(
            "Download Excel",
            data=lambda: to_excel_bytes({"studies": table}),
            file_name="igmeta_studies.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            icon=":material/download:",
            on_click="ignore",
            help="The table as an Excel workbook (.xlsx), formula-safe.",
        )


# --------------------------------------------------------------------------- checks


def _issue_frame(report: ValidationReport) -> pd.DataFrame:
    """The issues with readable column names, errors first within the table order.

    The study name is part of each message, so it has no column of its own; the column is
    named as in the grid's header too (``ai · Events (treatment)``).
    """
    issues = report.issues.copy()
    issues["_rank"] = issues["severity"].map(_SEVERITY_RANK).fillna(3)
    issues["_row"] = issues["row"].astype("Float64").fillna(0)
    issues = issues.sort_values(["_row", "_rank"], kind="stable")
    rows = ["table" if pd.isna(row) else str(int(row)) for row in issues["row"]]
    return pd.DataFrame(
        {
            "Row": rows,
            "Column": [column_title(c, report.data_type) for c in issues["column"]],
            "Severity": issues["severity"].to_numpy(),
            "Message": issues["message"].to_numpy(),
        }
    ).reset_index(drop=True)


def column_title(column: str, data_type: str) -> str:
    """``ai · Events (treatment)`` for a column with a label, else the column's name."""
    label = column_label(column, data_type)
    if not column or label == column:
        return column
    name = label.split(" \u00b7 ")[0]
    return f"{column} \u00b7 {name}"


def _colour_rows(row: pd.Series) -> list[str]:
    colour = _SEVERITY_COLOURS.get(str(row["Severity"]), "")
    return [f"background-color: {colour}" if colour else ""] * len(row)


def issues_table(report: ValidationReport, *, height: int | str = "auto") -> None:
    """Every issue with row, column and message, coloured by severity."""
    frame = _issue_frame(report)
    st.dataframe(
        frame.style.apply(_colour_rows, axis=1) if frame.size <= MAX_STYLED_CELLS else frame,
        hide_index=True,
        width="stretch",
        height=height,
        column_config={
            "Row": st.column_config.TextColumn(
                "Row", width=60, help="Row number in the table; 'table': the whole table."
            ),
            "Column": st.column_config.TextColumn("Column", width=170),
            "Severity": st.column_config.TextColumn("Severity", width=80),
            "Message": st.column_config.TextColumn("Message", width=700),
        },
    )


def check_summary(report: ValidationReport, size: int) -> None:
    """Counts of valid and invalid rows and the overall verdict."""
    valid = int(np.asarray(report.row_valid, bool).sum())
    invalid = size - valid
    cols = st.columns(4)
    cols[0].metric("Rows", size)
    cols[1].metric("Valid rows", valid)
    cols[2].metric("Invalid rows", invalid)
    cols[3].metric("Warnings", report.count("warning"))
    if invalid:
        st.error(
            f"{invalid} of {size} rows cannot be analysed and are left out of the analysis. "
            "They stay in the table as typed: fix the cells named below (row and column).",
            icon=":material/error:",
        )
    elif report.count("warning"):
        st.warning(
            "All rows can be analysed; some cells deserve a second look (below).",
            icon=":material/warning:",
        )
    else:
        st.success(f"All {size} rows are valid.", icon=":material/check_circle:")


def checks_section(table: pd.DataFrame) -> None:
    """The validation panel of the current table."""
    st.subheader("Checks")
    report = validate_cached(table, state.get_data_type())
    check_summary(report, len(table))
    if not report.issues.empty:
        issues_table(report)


# --------------------------------------------------------------------------- upload


@dataclass(frozen=True)
class UploadPlan:
    """An upload read and a first guess of its layout.

    Attributes
    ----------
    filename : str
    result : ReadResult
        The cells and the reading messages.
    data_type : str
        The detected data type (``"binary"`` when nothing fitted; see ``detected``).
    detected : bool
        Whether the data type was recognised from the column names.
    guess : dict
        Canonical column -> the file's column guessed for it (None when none fits).
    needs_mapping : bool
        True when some column names differ from the canonical ones.
    """

    filename: str
    result: ReadResult
    data_type: str
    detected: bool
    guess: dict[str, str | None] = field(default_factory=dict)
    needs_mapping: bool = True


def mapping_targets(data_type: str) -> tuple[str, ...]:
    """Canonical columns offered in the mapping step: common ones, then the type's."""
    return (*COMMON_COLUMNS, *CANONICAL_COLUMNS.get(data_type, ()))


def guess_columns(columns: list[str], data_type: str) -> dict[str, str | None]:
    """Canonical column -> guessed source column (None when nothing fits)."""
    guessed = {target: source for source, target in guess_mapping(columns, data_type).items()}
    return {target: guessed.get(target) for target in mapping_targets(data_type)}


@st.cache_data(**_CACHE)
def _read_cached(data: bytes, filename: str, sheet: str | None) -> ReadResult:
    return read_table(data, filename, sheet=sheet)


def prepare_upload(
    data: bytes, filename: str, *, sheet: str | None = None, data_type: str | None = None
) -> UploadPlan:
    """Read an uploaded file and guess its data type and column mapping.

    Parameters
    ----------
    data, filename : bytes, str
        The upload (``UploadedFile.getvalue()`` and ``.name``).
    sheet : str, optional
        Worksheet of an Excel workbook (default: the first with data).
    data_type : str, optional
        Use this data type instead of the detected one.

    Returns
    -------
    UploadPlan
        Never raises on user data: a file that cannot be read has an error message in
        ``result.messages`` and an empty frame.
    """
    result = _read_cached(bytes(data), str(filename), sheet)
    columns = [str(c) for c in result.frame.columns]
    detected = detect_data_type(columns) if columns else None
    chosen = data_type if data_type in DATA_TYPES else (detected or "binary")
    guess = guess_columns(columns, chosen)
    renamed = any(source is not None and source != target for target, source in guess.items())
    missing = bool(missing_required_columns([t for t, s in guess.items() if s], chosen))
    return UploadPlan(
        filename=str(filename),
        result=result,
        data_type=chosen,
        detected=detected is not None,
        guess=guess,
        needs_mapping=renamed or missing or detected is None,
    )


def mapping_problems(choice: dict[str, str | None], data_type: str) -> list[str]:
    """Why a column mapping cannot be used yet (empty list when it can)."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for target, source in choice.items():
        if source is None:
            continue
        if source in seen:
            problems.append(
                f"The column '{source}' is chosen for both '{seen[source]}' and '{target}'; "
                "each column of the file can be used once."
            )
        else:
            seen[source] = target
    chosen = [target for target, source in choice.items() if source is not None]
    missing = missing_required_columns(chosen, data_type)
    if missing:
        needed = ", ".join(f"'{m}' ({column_label(m, data_type)})" for m in missing)
        problems.append(f"Choose a column of the file for {needed}.")
    return problems


def mapped_raw(result: ReadResult, choice: dict[str, str | None]) -> pd.DataFrame:
    """The file's cells with the chosen columns renamed to canonical names."""
    mapping = {source: target for target, source in choice.items() if source is not None}
    # Risk-of-bias columns ("D1", "Overall", ...) are mapped without a step of their own.
    for source, target in guess_mapping(result.frame.columns, "").items():
        if target in ROB_COLUMNS and source not in mapping and target not in mapping.values():
            mapping[source] = target
    return apply_mapping(result.frame, mapping)


def tidy_upload(raw: pd.DataFrame, data_type: str, decimal: str) -> pd.DataFrame:
    """Typed columns for the editor: numbers as numbers where every cell is one.

    Columns of the data type's numbers (and ``year``) holding a cell that is not a number
    stay text, with that cell exactly as typed, so it is flagged and can be fixed.
    ``include`` becomes TRUE/FALSE as the checks read it; other columns become text, or
    numbers when every cell is a number.
    """
    report = validate_table(raw, data_type, decimal=decimal)
    table = raw.copy().reset_index(drop=True)
    targets = set(numeric_targets(data_type))
    for position, column in enumerate(table.columns):
        values = table.iloc[:, position]
        if column == INCLUDE_COLUMN:
            table.isetitem(position, _include_column(values, report.included))
        elif column in targets:
            converted = number_column(values, decimal, whole_as_int=_is_count(column))[0]
            table.isetitem(position, converted)
        elif column in (STUDY_COLUMN, GROUP_COLUMN, PROVENANCE_COLUMN):
            table.isetitem(position, text_column(values))
        else:
            converted, numeric = number_column(values, decimal)
            has_value = bool(values.map(lambda v: not is_missing_cell(v)).any())
            table.isetitem(position, converted if numeric and has_value else text_column(values))
    return table


def apply_upload(
    plan: UploadPlan, choice: dict[str, str | None] | None = None, data_type: str | None = None
) -> tuple[pd.DataFrame, ValidationReport]:
    """The table an upload gives with a mapping, and its checks (rows never dropped).

    Parameters
    ----------
    plan : UploadPlan
    choice : dict, optional
        Canonical column -> source column (None to leave it out); default ``plan.guess``.
    data_type : str, optional
        Default ``plan.data_type``.

    Returns
    -------
    table, report : DataFrame, ValidationReport
        The table to store with ``state.set_table`` and the checks of the file as typed.
    """
    data_type = data_type or plan.data_type
    choice = plan.guess if choice is None else choice
    raw = mapped_raw(plan.result, choice)
    report = validate_table(raw, data_type, decimal=plan.result.decimal)
    return tidy_upload(raw, data_type, plan.result.decimal), report


def use_table(table: pd.DataFrame, filename: str, data_type: str) -> None:
    """Make an uploaded table the study table (undoable) and clear the upload widgets."""
    state.set_table(table, source=f"Uploaded file '{filename}'", data_type=data_type)
    state.next_upload()
    state.set_notice(
        f"Loaded '{filename}': {len(table)} rows as "
        f"{DATA_TYPE_LABELS.get(data_type, data_type).lower()}. Undo brings back the "
        "previous table."
    )


def table_errors(report: ValidationReport) -> list[str]:
    """Messages of errors about the whole table (e.g. a missing column)."""
    issues = report.issues
    whole = issues[issues["row"].isna() & (issues["severity"] == "error")]
    return [str(message) for message in whole["message"]]


_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with BOM)",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "utf-32": "UTF-32",
    "cp1252": "Windows-1252",
    "latin-1": "Latin-1",
}


def read_summary(result: ReadResult) -> str:
    """How the file was read, e.g. ``"UTF-8 text, semicolon-separated, decimal comma"``."""
    if result.sheet is not None or result.sheet_names:
        parts = [f"Excel workbook, sheet '{result.sheet}'"]
    else:
        encoding = _ENCODING_NAMES.get(str(result.encoding), str(result.encoding))
        delimiter = _DELIMITER_NAMES.get(str(result.delimiter), repr(result.delimiter))
        parts = [f"{encoding} text", f"{delimiter}-separated"]
    parts.append("decimal comma" if result.decimal == "," else "decimal point")
    return ", ".join(parts)


def read_messages(result: ReadResult) -> None:
    """Messages from reading the file, by severity (file and column names escaped)."""
    if result.ok and not result.frame.empty:
        st.caption(f"Read as: {plain(read_summary(result))}.")
    show = {"error": st.error, "warning": st.warning, "info": st.info}
    icons = {"error": ":material/error:", "warning": ":material/warning:", "info": None}
    for severity, text in result.messages:
        show.get(severity, st.info)(plain(text), icon=icons.get(severity))


def _describe_choice(source: str | None) -> str:
    return NOT_IN_FILE if source is None else str(source)


def mapping_step(plan: UploadPlan, file_token: str) -> None:
    """Data type, one selectbox per canonical column, preview, then "Use this table"."""
    columns = [str(c) for c in plan.result.frame.columns]
    if not plan.detected:
        st.warning(
            "The data type could not be recognised from the column names. Choose it, then "
            "say which column of the file holds what.",
            icon=":material/help:",
        )
    data_type = st.selectbox(
        "Data type",
        DATA_TYPES,
        index=DATA_TYPES.index(plan.data_type),
        format_func=lambda t: DATA_TYPE_LABELS[t],
        key=state.upload_key(f"{file_token}_type"),
        help="Detected from the column names; change it if it is wrong.",
    )
    guess = guess_columns(columns, data_type)
    sets = [set(group) for group in REQUIRED_COLUMN_SETS.get(data_type, ())]
    required = set.intersection(*sets) if sets else set()
    with st.expander(
        "Column mapping" + ("" if plan.needs_mapping else " (all names recognised)"),
        expanded=plan.needs_mapping or data_type != plan.data_type,
        icon=":material/swap_horiz:",
    ):
        st.caption(
            "For each column igmeta uses, pick the column of your file that holds it. "
            f"Needed: {plain(_required_text(data_type))}. Columns you do not pick are "
            "kept as extra columns."
        )
        options = [None, *columns]
        choice: dict[str, str | None] = {}
        grid = st.columns(3)
        for number, target in enumerate(mapping_targets(data_type)):
            suffix = " (required)" if target in required else ""
            with grid[number % 3]:
                choice[target] = st.selectbox(
                    f"{column_label(target, data_type)}{suffix}",
                    options,
                    index=options.index(guess[target]),
                    format_func=_describe_choice,
                    key=state.upload_key(f"{file_token}_{data_type}_{target}"),
                    help=f"{target}: {COLUMN_DESCRIPTIONS.get(target, '')}",
                )
    problems = mapping_problems(choice, data_type)
    for problem in problems:
        st.error(plain(problem), icon=":material/error:")
    if problems:
        return
    table, report = apply_upload(plan, choice, data_type)
    st.markdown("**Preview** (the table as it will be loaded; nothing is dropped)")
    preview = annotate(table.head(PREVIEW_ROWS), data_type)
    preview[STATUS_COLUMN] = row_status(table, data_type)[:PREVIEW_ROWS]
    st.dataframe(
        styled(preview),
        width="stretch",
        column_config={
            STATUS_COLUMN: st.column_config.TextColumn("Check", width="medium"),
            **{c: column_label(c, data_type) for c in table.columns if isinstance(c, str)},
        },
    )
    if len(table) > PREVIEW_ROWS:
        st.caption(f"First {PREVIEW_ROWS} of {len(table)} rows.")
    check_summary(report, len(table))
    if not report.issues.empty:
        issues_table(report, height=min(400, 38 + 35 * len(report.issues)))
    blocking = table_errors(report)
    if blocking:
        st.error(
            "The table cannot be used yet: "
            + " ".join(plain(message) for message in blocking)
            + " Columns cannot be added in the editor, so fix this in the column mapping "
            "above (or in the file).",
            icon=":material/block:",
        )
        return
    if st.button("Use this table", type="primary", icon=":material/check:"):
        use_table(table, plan.filename, data_type)
        st.rerun()
    st.caption("The current table is replaced; Undo brings it back.")


def upload_section() -> None:
    """Upload a CSV/TSV/TXT or Excel file, map its columns and load it."""
    st.subheader("Load your own table")
    uploaded = st.file_uploader(
        "CSV, TSV, TXT, Excel (.xlsx) or RevMan 5 (.rm5) file",
        type=list(UPLOAD_TYPES),
        key=state.upload_key("file"),
        max_upload_size=MAX_UPLOAD_BYTES // 2**20,
        help="One row per study, column names in the first row. Comma, semicolon or tab "
        "separated; a decimal comma is recognised. Use a template below to start.",
    )
    if uploaded is None:
        return
    data = uploaded.getvalue()
    file_token = f"{uploaded.file_id}"
    if revman_import.is_revman(uploaded.name):
        revman_import.revman_section(data, uploaded.name, file_token)
        return
    plan = prepare_upload(data, uploaded.name)
    if len(plan.result.sheet_names) > 1:
        names = list(plan.result.sheet_names)
        sheet = st.selectbox(
            "Sheet",
            names,
            index=names.index(plan.result.sheet) if plan.result.sheet in names else 0,
            key=state.upload_key(f"{file_token}_sheet"),
            help="The workbook has several sheets; choose the one with the study table.",
        )
        if sheet != plan.result.sheet:
            plan = prepare_upload(data, uploaded.name, sheet=sheet)
        file_token = f"{file_token}_{names.index(sheet)}"
    read_messages(plan.result)
    if not plan.result.ok or plan.result.frame.empty:
        return
    mapping_step(plan, file_token)


# --------------------------------------------------------------------------- templates


def _column_docs(data_type: str) -> pd.DataFrame:
    """Column, label, meaning and whether it is required, for one data type."""
    required_sets = [set(group) for group in REQUIRED_COLUMN_SETS.get(data_type, ())]
    always = set.intersection(*required_sets) if required_sets else set()
    rows = []
    for column in (*COMMON_COLUMNS, *CANONICAL_COLUMNS.get(data_type, ()), *ROB_COLUMNS):
        if column in always:
            need = "required"
        elif any(column in group for group in required_sets):
            need = "required in one of the sets"
        elif column == STUDY_COLUMN:
            need = "recommended"
        else:
            need = "optional"
        rows.append(
            {
                "column": column,
                "shown as": column_label(column, data_type),
                "meaning": COLUMN_DESCRIPTIONS.get(column, ""),
                "needed": need,
            }
        )
    return pd.DataFrame(rows)


def _required_text(data_type: str) -> str:
    sets = REQUIRED_COLUMN_SETS.get(data_type, ())
    return " or ".join("(" + ", ".join(group) + ")" for group in sets)


@st.cache_data(max_entries=2 * len(DATA_TYPES), show_spinner=False)
def template_parts(data_type: str) -> tuple[pd.DataFrame, pd.DataFrame, bytes]:
    """Column docs, example table and CSV template of one data type (cached)."""
    return _column_docs(data_type), template_frame(data_type), template_csv_bytes(data_type)


def templates_section() -> None:
    """Downloadable CSV templates and the expected formats, built only while open."""
    box = st.expander(
        "Templates and expected formats",
        icon=":material/description:",
        key=state.TEMPLATES_OPEN,
        on_change="rerun",
    )
    if not box.open:
        return  # collapsed: no tables, no CSVs
    with box:
        st.markdown(
            "One row per study. Column names may differ from these: the upload lets you "
            "say which column is which. Empty cells are missing values; `include` accepts "
            "TRUE/FALSE, yes/no, 1/0 (blank means TRUE). Extra columns are kept."
        )
        tabs = st.tabs([t.capitalize() for t in DATA_TYPES])
        for tab, data_type in zip(tabs, DATA_TYPES, strict=True):
            docs, example, csv_bytes = template_parts(data_type)
            with tab:
                st.markdown(
                    f"**{DATA_TYPE_LABELS[data_type]}.** Needs the columns "
                    f"{plain(_required_text(data_type))}."
                )
                st.dataframe(docs, hide_index=True, width="stretch")
                st.caption("Example")
                st.dataframe(example, hide_index=True, width="stretch")
                st.download_button(
                    f"Download the {data_type} template (CSV)",
                    data=csv_bytes,
                    file_name=f"igmeta_template_{data_type}.csv",
                    mime="text/csv",
                    icon=":material/download:",
                    on_click="ignore",
                )
