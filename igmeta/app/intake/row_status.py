"""The status text of each row of a study table (shown in the Data page's grid and preview)."""

from __future__ import annotations

from igmeta.app.intake.validation import ValidationReport

__all__ = ["STATUS_INVALID", "STATUS_OK", "STATUS_WARNING", "row_statuses"]

STATUS_OK = "\u2713 ok"
STATUS_INVALID = "\u26a0 invalid: "
STATUS_WARNING = "\u25b3 check: "
_REASON_CHARS = 90


def _reason(message: str, column: str) -> str:
    """The part of a validation message after ``Row n (name), column 'x': ``, shortened."""
    marker = f"column '{column}': "
    position = message.find(marker)
    text = message[position + len(marker) :] if position >= 0 else message
    text = f"{column}: {text}" if column and position >= 0 else text
    if len(text) > _REASON_CHARS:
        text = text[: _REASON_CHARS - 1] + "\u2026"
    return text


def row_statuses(report: ValidationReport, size: int) -> list[str]:
    """One short status text per row: ok, ``⚠ invalid: <reason>`` or ``△ check: <reason>``.

    Parameters
    ----------
    report : ValidationReport
        The checks of the table (:func:`igmeta.app.intake.validation.validate_table`).
    size : int
        Number of rows of the table.

    Returns
    -------
    list of str
        Rows with several problems show the first and how many more. A problem of the
        whole table (e.g. a missing column) marks every row.
    """
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
