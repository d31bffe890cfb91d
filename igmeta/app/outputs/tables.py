"""Tidy frames for figures and result tables, built from an analysis bundle.

The plot builders in :mod:`igmeta.plots` draw these frames and compute nothing; this
module decides what is shown (rows, display scale, text columns) and computes nothing
statistical either: every number comes from the bundle's results.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from igmeta.app.pipeline.analysis import AnalysisBundle
from igmeta.effects import EffectSizes, measure_info
from igmeta.formatting import format_ci, format_number, format_percent, format_pvalue
from igmeta.result_frames import (
    model_label,
    prediction_row,
    result_footer,
    study_columns,
    study_intervals,
    summary_row,
    weight_text,
)

__all__ = [
    "MAX_DRAWN_STUDIES",
    "ForestLabels",
    "display_scale",
    "drawn_forest_rows",
    "forest_footer",
    "forest_frame",
    "result_summary_frame",
    "subgroup_frame",
]

RECONSTRUCTED = "reconstructed"
#: Above this many studies the forest plot draws only the largest-weight studies.
MAX_DRAWN_STUDIES = 200
#: Per analysis: (text column, numeric table column) of the arm columns of the forest plot;
#: a proportion's events may come as ``xi``/``ni`` or ``ai``/``n1i``.
_ARM_COLUMNS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "comparison": (
        ("events1_text", ("ai",)),
        ("total1_text", ("n1i",)),
        ("events2_text", ("ci",)),
        ("total2_text", ("n2i",)),
    ),
    "single_arm": (("events1_text", ("xi", "ai")), ("total1_text", ("ni", "n1i"))),
    "continuous": (
        ("mean1_text", ("m1i",)),
        ("sd1_text", ("sd1i",)),
        ("total1_text", ("n1i",)),
        ("mean2_text", ("m2i",)),
        ("sd2_text", ("sd2i",)),
        ("total2_text", ("n2i",)),
    ),
    "correlation": (("n_text", ("ni",)),),
}
#: Text columns whose sums make the totals rows (RevMan's "Total (95% CI)" and "Total events").
_SUMMED_TOTALS = ("total1_text", "total2_text", "n_text")
_SUMMED_EVENTS = ("events1_text", "events2_text")


@dataclass(frozen=True, slots=True)
class ForestLabels:
    """Names the user may give the forest plot's arms and "Favours" sides.

    Attributes
    ----------
    treatment, control : str
        Group headers over the arm columns, e.g. "IG (treatment)", "Placebo (control)".
    favours_left, favours_right : str
        Labels under the axis left and right of the null line. Values right of the null
        mean more events (or a higher mean) with treatment, so for a beneficial outcome
        (responders) the right side favours treatment; swap them for a harmful one.
    """

    treatment: str = "Treatment"
    control: str = "Control"
    favours_left: str = "Favours control"
    favours_right: str = "Favours treatment"


def display_scale(bundle: AnalysisBundle) -> tuple[str, bool, float]:
    """(back-transform, log axis?, null value on the display scale) for the bundle."""
    settings = bundle.settings
    info = measure_info(settings.measure)
    transform = bundle.result.transform if bundle.result is not None else info.transform
    log_axis = transform == "exp"
    null = 1.0 if log_axis else (np.nan if settings.analysis == "single_arm" else 0.0)
    if settings.analysis == "correlation":
        null = 0.0
    return transform, log_axis, null


def _plain_number(value: float) -> str:
    """A count or measurement as written: ``7``, ``87886``, ``4.2``; "" when missing."""
    value = float(value)
    if not math.isfinite(value):
        return ""
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return np.format_float_positional(float(f"{value:.6g}"), trim="-")


def _arm_values(numeric: pd.DataFrame, rows: np.ndarray, analysis: str) -> dict[str, np.ndarray]:
    """Numbers of the forest plot's arm columns (text column -> values of the rows)."""
    values = {}
    for text_column, sources in _ARM_COLUMNS.get(analysis, ()):
        source = next((name for name in sources if name in numeric), None)
        if source is None:
            continue
        column = pd.to_numeric(numeric[source].iloc[rows], errors="coerce")
        values[text_column] = column.to_numpy(dtype=float)
    return values


def _counts_text(values: dict[str, np.ndarray], size: int, analysis: str) -> list[str]:
    """One-cell summary of a study's data for tables: ``"7/11 | 0/12"``, ``"40 | 38"``."""

    def texts(name):
        column = values.get(name, np.full(size, np.nan))
        return list(map(_plain_number, column.tolist()))

    if analysis == "comparison":
        parts = zip(
            texts("events1_text"),
            texts("total1_text"),
            texts("events2_text"),
            texts("total2_text"),
            strict=True,
        )
        return [f"{a}/{n1} | {c}/{n2}" for a, n1, c, n2 in parts]
    if analysis == "single_arm":
        return [
            f"{a}/{b}" for a, b in zip(texts("events1_text"), texts("total1_text"), strict=True)
        ]
    if analysis == "continuous":
        return [
            f"{a} | {b}" for a, b in zip(texts("total1_text"), texts("total2_text"), strict=True)
        ]
    if analysis == "correlation":
        return [f"n = {n}" for n in texts("n_text")]
    return [""] * size


def _sums(members: pd.DataFrame, values: dict[str, np.ndarray], names) -> dict[str, str]:
    """Column sums over the included studies of ``members`` (as text)."""
    used = members["included"].to_numpy(dtype=bool) & np.isfinite(members["weight"].to_numpy())
    out = {}
    for name in names:
        if name in values:
            column = values[name][members["position"].to_numpy(dtype=int)]
            out[name] = _plain_number(float(np.nansum(column[used])))
    return out


def _fit_weights(bundle: AnalysisBundle) -> dict[int, float]:
    """Weight (%) of each used table row in the pooled fit."""
    res, es = bundle.result, bundle.effects
    rows = bundle.used_rows
    if len(res.weights) == len(rows):
        return dict(zip(rows.tolist(), res.weights, strict=True))
    finite = np.isfinite(es.yi) & np.isfinite(es.vi) & (es.vi > 0)  # as pooling keeps them
    return dict(zip(rows[finite].tolist(), res.weights, strict=True))


def _model_label(bundle: AnalysisBundle) -> str:
    return model_label(bundle.result, bundle.settings.zero_cells)


def forest_frame(bundle: AnalysisBundle, table: pd.DataFrame) -> pd.DataFrame:
    """Rows of the forest plot (see :data:`igmeta.plots.FOREST_COLUMNS`).

    Studies excluded by the user stay visible (``included`` False); reconstructed rows
    are flagged; estimates are on the display (natural) scale. The arm columns hold the
    data of each arm as validated (totals derived from events + non-events included);
    summary rows carry the sums over the included studies, and after the overall row a
    "Total events" row sums the events per arm (as RevMan). ``counts_text`` is a one-cell
    summary of the data for tables and exports.
    """
    if bundle.result is None or bundle.display_effects is None:
        return pd.DataFrame()
    settings = bundle.settings
    transform, _, _ = display_scale(bundle)
    shown: EffectSizes = bundle.display_effects
    rows = bundle.display_rows
    ni = np.asarray(shown.data.get("ni"), dtype=float) if "ni" in shown.data else None
    est, lo, hi = study_intervals(shown.yi, shown.vi, settings.level, transform, ni)
    weights = _fit_weights(bundle)
    included = np.asarray(bundle.validation.included, bool)
    provenance = (
        table["provenance"].astype("string").fillna("").str.lower().to_numpy(dtype=object)
        if "provenance" in table
        else np.full(len(table), "", dtype=object)
    )
    values = _arm_values(bundle.validation.numeric, rows, settings.analysis)
    study_rows = pd.DataFrame(
        {
            **study_columns(
                list(shown.study),
                [str(r) for r in rows],
                (est, lo, hi),
                [weights.get(int(r), np.nan) for r in rows],
                included=included[rows],
                flag=np.where(provenance[rows] == RECONSTRUCTED, RECONSTRUCTED, ""),
                counts_text=_counts_text(values, len(rows), settings.analysis),
            ),
            **{name: list(map(_plain_number, column.tolist())) for name, column in values.items()},
            "position": np.arange(len(rows)),
        }
    )
    study_rows["weight_text"] = [
        weight_text(w) if inc else ""
        for w, inc in zip(study_rows["weight"], study_rows["included"], strict=True)
    ]
    parts = []
    groups = bundle.subgroups
    show_pi = settings.show_prediction
    if groups is not None:
        column = table[groups.column].astype("string").fillna("").str.strip()
        group_of_row = column.iloc[rows].to_numpy()
        for level, fit in zip(groups.levels, groups.fits, strict=True):
            members = study_rows[group_of_row == level].assign(group=level)
            parts.append(
                pd.DataFrame(
                    [
                        {
                            "row_type": "subgroup_header",
                            "label": level,
                            "group": level,
                            "included": True,
                            "flag": "",
                        }
                    ]
                )
            )
            parts.append(members)
            weight = float(np.nansum(members["weight"].where(members["included"])))
            summary = summary_row(
                "subgroup_summary", f"Subtotal: {level}", fit, level, weight, False
            )
            parts.append(pd.DataFrame([{**summary, **_sums(members, values, _SUMMED_TOTALS)}]))
    else:
        parts.append(study_rows)
    overall = summary_row(
        "overall", f"Overall: {_model_label(bundle)}", bundle.result, None, 100.0, False
    )
    parts.append(pd.DataFrame([{**overall, **_sums(study_rows, values, _SUMMED_TOTALS)}]))
    prediction = prediction_row(bundle.result) if show_pi else None
    if prediction is not None:
        parts.append(prediction)
    events = _sums(study_rows, values, _SUMMED_EVENTS)
    if events:
        parts.append(
            pd.DataFrame(
                [{"row_type": "total", "label": "Total events", "included": True, **events}]
            )
        )
    frame = pd.concat(parts, ignore_index=True).drop(columns="position")
    text_columns = ["counts_text", "estimate_text", "weight_text", "flag", *values]
    for col in text_columns:
        frame[col] = frame[col].fillna("")
    frame["included"] = frame["included"].fillna(True).astype(bool)
    return frame


def drawn_forest_rows(
    frame: pd.DataFrame, max_studies: int = MAX_DRAWN_STUDIES
) -> tuple[pd.DataFrame, list[str]]:
    """The rows of a forest frame worth drawing, with a note on what was left out.

    With more than ``max_studies`` study rows only the ``max_studies`` largest-weight
    studies are drawn (excluded studies, without a weight, go first), in their original
    order; subgroup, summary and total rows all stay. Nothing changes in the analysis:
    the note says so.

    Parameters
    ----------
    frame : pandas.DataFrame
        A frame from :func:`forest_frame`.
    max_studies : int, default :data:`MAX_DRAWN_STUDIES`
        Most study rows drawn.

    Returns
    -------
    frame : pandas.DataFrame
        The rows to draw (``frame`` itself when nothing is left out).
    notes : list of str
        Empty, or one footnote such as "9,800 of 10,000 studies (the smallest weights)
        are not drawn; every included study is in the pooled result and the tables."
    """
    studies = (frame["row_type"] == "study").to_numpy() if len(frame) else np.array([], bool)
    k = int(studies.sum())
    if k <= max_studies:
        return frame, []
    weight = pd.to_numeric(frame["weight"], errors="coerce").to_numpy(dtype=float)
    weight = np.where(studies & np.isfinite(weight), weight, -np.inf)
    positions = np.flatnonzero(studies)
    order = np.argsort(-weight[positions], kind="stable")
    keep = np.ones(len(frame), dtype=bool)
    keep[positions[order[max_studies:]]] = False
    left_out = k - max_studies
    note = (
        f"{left_out:,} of {k:,} studies (the smallest weights) are not drawn; "
        "every included study is in the pooled result and the tables."
    )
    return frame[keep].reset_index(drop=True), [note]


def forest_footer(bundle: AnalysisBundle) -> list[str]:
    """The forest plot's footer lines, as RevMan prints them under the plot.

    ``"Heterogeneity: tau² = 0.31; Q = 152.23 (df = 12, p < 0.0001); I² = 92%"`` (no tau²
    for common-effect, Mantel-Haenszel and Peto fits, as metafor's ``rma.mh`` and
    ``rma.peto`` print), ``"Test for overall effect: Z = -3.97 (p < 0.0001)"`` (``t`` with
    its df for Hartung-Knapp) and, with subgroups, the test for subgroup differences. All
    numbers come from the bundle's own result objects.
    """
    res = bundle.result
    if res is None:
        return []
    lines = result_footer(res)
    groups = bundle.subgroups
    if groups is not None and np.isfinite(groups.test.statistic):
        test = groups.test
        lines.append(
            f"Test for subgroup differences: Q = {format_number(test.statistic)} "
            f"(df = {test.df[0]:g}, {format_pvalue(test.pval)})"
        )
    return lines


def result_summary_frame(bundle: AnalysisBundle) -> pd.DataFrame:
    """The pooled result as a two-column table (quantity, value) on the display scale."""
    from igmeta.formatting import format_number, format_pvalue

    res = bundle.result
    if res is None:
        return pd.DataFrame(columns=["quantity", "value"])
    bt = res.back_transformed()
    info = measure_info(bundle.settings.measure)
    rows = [
        ("Model", _model_label(bundle)),
        ("Studies (k)", str(res.k)),
        (info.label, format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"])),
        (
            "Test of overall effect",
            f"{'t' if res.test == 'knha' else 'z'} = "
            f"{format_number(res.statistic)}, {format_pvalue(res.pval)}",
        ),
    ]
    if res.is_random_effects and np.isfinite(bt["pi_lower"]):
        rows.append(
            (
                "Prediction interval",
                f"[{format_number(bt['pi_lower'])}, {format_number(bt['pi_upper'])}]",
            )
        )
    rows += [
        (
            "Heterogeneity Q",
            f"{format_number(res.q)} (df = {res.q_df:g}), {format_pvalue(res.q_pval)}",
        ),
        ("I\u00b2", format_percent(res.i2)),
        (
            "tau\u00b2",
            format_number(res.tau2, 4)
            if res.is_random_effects
            else "\u2014 (not a random-effects model)",
        ),
    ]
    return pd.DataFrame(rows, columns=["quantity", "value"])


def subgroup_frame(bundle: AnalysisBundle) -> pd.DataFrame:
    """One row per subgroup fit, on the display scale.

    Columns ``subgroup``, ``k``, ``estimate``, ``ci_lower``, ``ci_upper`` (back-
    transformed), ``pval``, ``i2`` (%), ``tau2`` (NaN for common-effect fits). Empty
    without subgroups. The pages, the HTML report and the exports format this one table.
    """
    groups = bundle.subgroups
    if groups is None:
        return pd.DataFrame()
    rows = []
    for level, fit in zip(groups.levels, groups.fits, strict=True):
        bt = fit.back_transformed()
        rows.append(
            {
                "subgroup": level,
                "k": fit.k,
                "estimate": bt["estimate"],
                "ci_lower": bt["ci_lower"],
                "ci_upper": bt["ci_upper"],
                "pval": fit.pval,
                "i2": fit.i2,
                "tau2": fit.tau2 if fit.is_random_effects else np.nan,
            }
        )
    return pd.DataFrame(rows)
