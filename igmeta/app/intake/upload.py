"""An uploaded file turned into a study table: data type, column mapping, typed columns.

The steps of the Data page's upload without the widgets: :func:`plan_upload` guesses the
data type and which column of the file holds what, :func:`mapping_problems` says why a
mapping cannot be used yet, :func:`apply_upload` gives the table and its checks (no row is
ever dropped). The column labels the page shows (:func:`column_label`) live here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from igmeta.app.intake.cells import include_column, is_count, number_column, text_column
from igmeta.app.intake.io import ReadResult
from igmeta.app.intake.schema import (
    CANONICAL_COLUMNS,
    COMMON_COLUMNS,
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
)
from igmeta.app.intake.validation import ValidationReport, is_missing_cell, validate_table
from igmeta.risk_of_bias import ROB_COLUMNS

__all__ = [
    "COLUMN_LABELS",
    "PROVENANCE_COLUMN",
    "UploadPlan",
    "apply_upload",
    "column_label",
    "guess_columns",
    "mapped_raw",
    "mapping_problems",
    "mapping_targets",
    "numeric_targets",
    "plan_upload",
    "read_summary",
    "required_columns_text",
    "table_errors",
    "tidy_upload",
]

PROVENANCE_COLUMN = "provenance"
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


def plan_upload(result: ReadResult, filename: str, data_type: str | None = None) -> UploadPlan:
    """Guess the data type and column mapping of a file as read.

    Parameters
    ----------
    result : ReadResult
        The file as read (:func:`igmeta.app.intake.io.read_table`).
    filename : str
        The file's name.
    data_type : str, optional
        Use this data type instead of the detected one.

    Returns
    -------
    UploadPlan
        Never raises on user data: a file that cannot be read keeps its error message in
        ``result.messages`` and an empty frame.
    """
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


def required_columns_text(data_type: str) -> str:
    """The required columns of a data type in words: ``"(ai, n1i, ci, n2i) or (yi, vi)"``."""
    sets = REQUIRED_COLUMN_SETS.get(data_type, ())
    return " or ".join("(" + ", ".join(group) + ")" for group in sets)


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
            table.isetitem(position, include_column(values, report.included))
        elif column in targets:
            converted = number_column(values, decimal, whole_as_int=is_count(column))[0]
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
