"""Which rows of the study table are not in an analysis, and why.

A row can drop out of an analysis for four reasons, checked in this order: its data are
invalid (validation error), it has no control arm while the analysis compares two arms,
its subgroup is not selected, or the user excluded it. :func:`left_out_rows` lists every
such row with the reason in plain words, so that no study leaves an analysis silently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from igmeta.app.pipeline.analysis import AnalysisBundle

__all__ = ["LEFT_OUT_COLUMNS", "left_out_rows", "left_out_sentence"]

#: Columns of :func:`left_out_rows`.
LEFT_OUT_COLUMNS = ("row", "study", "reason")

_NO_CONTROL = "no control arm (single-arm study): a comparison needs both arms"
_EXCLUDED = "excluded by you ('include' unticked or clicked off in the forest plot)"


def _first_errors(bundle: AnalysisBundle) -> dict[int, str]:
    issues = bundle.validation.issues
    errors = issues[(issues["severity"] == "error") & issues["row"].notna()]
    out: dict[int, str] = {}
    for row, message in zip(errors["row"], errors["message"], strict=True):
        out.setdefault(int(row) - 1, str(message))
    return out


def left_out_rows(table: pd.DataFrame, bundle: AnalysisBundle) -> pd.DataFrame:
    """Rows of ``table`` that are not in the analysis of ``bundle``, with the reason.

    Parameters
    ----------
    table : DataFrame
        The study table the bundle was computed from.
    bundle : AnalysisBundle

    Returns
    -------
    DataFrame
        Columns :data:`LEFT_OUT_COLUMNS`: ``row`` (1-based, as on the Data page),
        ``study`` (display label) and ``reason``; one row per left-out table row, in
        table order. Empty when every row is in the analysis.
    """
    report = bundle.validation
    size = len(table)
    used = np.zeros(size, dtype=bool)
    used[np.asarray(bundle.used_rows, dtype=int)] = True
    valid = np.asarray(report.row_valid, dtype=bool)
    errors = _first_errors(bundle)
    s = bundle.settings
    groups = None
    if s.subgroup_column and s.subgroup_levels is not None and s.subgroup_column in table:
        groups = table[s.subgroup_column].astype("string").fillna("").str.strip().to_numpy()
    records = []
    for position in np.flatnonzero(~used):
        if not valid[position]:
            reason = "invalid data: " + errors.get(position, "see the checks on the Data page")
        elif s.analysis == "comparison" and not report.has_comparison[position]:
            reason = _NO_CONTROL
        elif groups is not None and groups[position] not in s.subgroup_levels:
            shown = groups[position] or "(blank)"
            reason = f"subgroup '{shown}' is not selected ({s.subgroup_column})"
        elif not report.included[position]:
            reason = _EXCLUDED
        else:
            reason = "not analysable with these settings"
        records.append((int(position) + 1, str(report.labels[position]), reason))
    return pd.DataFrame.from_records(records, columns=list(LEFT_OUT_COLUMNS))


def left_out_sentence(left_out: pd.DataFrame, total: int) -> str | None:
    """One plain sentence summing up :func:`left_out_rows` (None when nothing is left out).

    Rows that share a reason are named together: ``"2 of 5 studies are not in this
    analysis: Open-label 1 (row 4) and Open-label 2 (row 5): no control arm ..."``.
    """
    if left_out.empty:
        return None
    parts = []
    for reason, rows in left_out.groupby("reason", sort=False):
        names = [
            f"{study} (row {row})" for row, study in zip(rows["row"], rows["study"], strict=True)
        ]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        parts.append(f"{listed}: {reason}")
    count = len(left_out)
    noun = "study is" if count == 1 else "studies are"
    return f"{count} of {total} {noun} not in this analysis. " + "; ".join(parts) + "."
