"""Tidy frames of one fitted result: forest rows, footer lines, display scale.

Library-level and table-free: everything here needs only a :class:`~igmeta.results.MetaResult`
(its studies, weights, level and back-transform). :func:`igmeta.plots.forest_from_result`
draws :func:`result_forest_frame`; the dashboard's bundle frames
(:mod:`igmeta.app.outputs.tables`) build on the same rows. Nothing statistical is computed:
every number comes from the result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from igmeta.effects import measure_info
from igmeta.formatting import format_ci, format_number, format_percent, format_pvalue
from igmeta.results import MetaResult
from igmeta.transforms import back_transform, ipft

__all__ = [
    "model_label",
    "prediction_row",
    "result_display_scale",
    "result_footer",
    "result_forest_frame",
    "study_columns",
    "study_intervals",
    "summary_row",
    "to_display_scale",
    "weight_text",
]


def _per_study(values: np.ndarray, transform: str, ni: np.ndarray | None) -> np.ndarray:
    """Back-transform per-study values; Freeman-Tukey uses each study's own n."""
    if transform == "ipft.hm":
        return ipft(values, ni)
    return back_transform(values, transform)


def to_display_scale(
    frame: pd.DataFrame, transform: str, ni=None, columns=("estimate", "ci_lower", "ci_upper")
) -> pd.DataFrame:
    """Copy of ``frame`` with ``columns`` back-transformed (bounds re-ordered).

    For ``ipft.hm`` the harmonic mean of ``ni`` is used, as for any pooled value.
    """
    out = frame.copy()
    for col in columns:
        if col in out:
            out[col] = back_transform(out[col].to_numpy(dtype=float), transform, ni)
    for lo, hi in (("ci_lower", "ci_upper"), ("pi_lower", "pi_upper")):
        if lo in out and hi in out:
            a, b = out[lo].to_numpy(dtype=float), out[hi].to_numpy(dtype=float)
            swap = a > b
            out[lo], out[hi] = np.where(swap, b, a), np.where(swap, a, b)
    return out


def weight_text(weight: float) -> str:
    """Percent weight with enough digits: ``35.2%``, ``0.012%`` (never "0.0%" for w > 0)."""
    if not np.isfinite(weight):
        return ""
    if weight == 0:
        return "0%"
    if abs(weight) >= 1:
        return format_percent(weight)
    return f"{weight:.2g}%"


def summary_row(
    row_type: str, label: str, fit: MetaResult, group, weight: float, show_pi: bool
) -> dict:
    """A pooled row (overall or subgroup) of a forest frame, on the display scale.

    Parameters
    ----------
    row_type : str
        ``"overall"`` or ``"subgroup"``.
    label : str
        The row's label.
    fit : MetaResult
        The pooled fit the row shows.
    group : object
        The subgroup level (None for the overall row).
    weight : float
        The row's weight in percent (100 for the overall row).
    show_pi : bool
        Whether the row carries the fit's prediction interval.
    """
    bt = fit.back_transformed()
    return {
        "row_type": row_type,
        "label": label,
        "study_id": None,
        "group": group,
        "estimate": bt["estimate"],
        "ci_lower": bt["ci_lower"],
        "ci_upper": bt["ci_upper"],
        "pi_lower": bt["pi_lower"] if show_pi else np.nan,
        "pi_upper": bt["pi_upper"] if show_pi else np.nan,
        "weight": np.nan,
        "included": True,
        "flag": "",
        "counts_text": f"k = {fit.k}",
        "estimate_text": format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"]),
        "weight_text": weight_text(weight),
    }


def model_label(res: MetaResult, zero_cells: str | None = None) -> str:
    """Short model name for the overall row: "Random effects (REML)", "Peto"...

    ``zero_cells`` names the Mantel-Haenszel zero-cell convention (default: the one the
    result records in ``extra["zero_cells"]``).
    """
    if res.method == "MH":
        zeros = zero_cells or res.extra.get("zero_cells", "metafor")
        return f"Mantel-Haenszel ({'RevMan' if zeros == 'revman' else 'metafor'} zeros)"
    if res.method == "PETO":
        return "Peto"
    if res.method == "GLMM":
        return f"GLMM ({res.extra.get('model', 'random-effects logistic')})"
    if res.method == "FE":
        return "Common effect"
    hk = ", Hartung-Knapp" if res.test == "knha" else ""
    return f"Random effects ({res.method}{hk})"


def study_intervals(yi, vi, level: float, transform: str, ni) -> tuple[np.ndarray, ...]:
    """Per-study estimate and Wald CI on the display scale (bounds in increasing order)."""
    z = stats.norm.ppf(0.5 + level / 2)
    half = z * np.sqrt(np.asarray(vi, dtype=float))
    yi = np.asarray(yi, dtype=float)
    est = _per_study(yi, transform, ni)
    lo, hi = _per_study(yi - half, transform, ni), _per_study(yi + half, transform, ni)
    swap = lo > hi
    return est, np.where(swap, hi, lo), np.where(swap, lo, hi)


def study_columns(labels, ids, intervals, weights, *, included, flag, counts_text) -> dict:
    """The columns of the forest plot's study rows (display-scale ``intervals``)."""
    est, lo, hi = intervals
    return {
        "row_type": "study",
        "label": labels,
        "study_id": ids,
        "group": None,
        "estimate": est,
        "ci_lower": lo,
        "ci_upper": hi,
        "pi_lower": np.nan,
        "pi_upper": np.nan,
        "weight": weights,
        "included": included,
        "flag": flag,
        "counts_text": counts_text,
        "estimate_text": list(map(format_ci, est.tolist(), lo.tolist(), hi.tolist())),
    }


def prediction_row(res: MetaResult) -> pd.DataFrame | None:
    """The prediction-interval row under the overall diamond (None without a PI)."""
    bt = res.back_transformed()
    if not (np.isfinite(bt["pi_lower"]) and np.isfinite(bt["pi_upper"])):
        return None
    return pd.DataFrame(
        [
            {
                "row_type": "prediction",
                "label": "Prediction interval",
                "group": None,
                "estimate": bt["estimate"],
                "ci_lower": np.nan,
                "ci_upper": np.nan,
                "pi_lower": bt["pi_lower"],
                "pi_upper": bt["pi_upper"],
                "included": True,
                "flag": "",
                "estimate_text": f"[{bt['pi_lower']:.2f}, {bt['pi_upper']:.2f}]",
            }
        ]
    )


def result_display_scale(res: MetaResult) -> tuple[str, bool, float]:
    """(back-transform, log axis?, null value on the display scale) of a bare result."""
    log_axis = res.transform == "exp"
    try:
        null = measure_info(res.measure).null_value
    except (KeyError, ValueError):
        null = 0.0
    return res.transform, log_axis, 1.0 if log_axis else null


def result_forest_frame(res: MetaResult, show_prediction: bool = True) -> pd.DataFrame:
    """Forest-plot rows (see :data:`igmeta.plots.FOREST_COLUMNS`) from a result alone.

    One row per study of the fit (label, display-scale estimate and Wald CI at the
    result's level, weight) and the overall row, plus the prediction row for random
    effects when ``show_prediction``. Studies without an estimate (e.g. double-zero
    tables of a Mantel-Haenszel fit) are drawn with no square and an empty estimate.
    """
    transform = res.transform
    yi = np.asarray(res.yi, dtype=float)
    ni = res.transform_ni
    if ni is not None and np.size(ni) != yi.size:
        ni = None
    est, lo, hi = study_intervals(yi, res.vi, res.level, transform, ni)
    weights = np.asarray(res.weights, dtype=float)
    if weights.size != yi.size:
        weights = np.full(yi.size, np.nan)
    studies = pd.DataFrame(
        study_columns(
            [str(name) for name in res.study],
            [str(i) for i in range(yi.size)],
            (est, lo, hi),
            weights,
            included=True,
            flag="",
            counts_text="",
        )
    )
    studies["weight_text"] = [weight_text(w) for w in weights]
    overall = summary_row("overall", f"Overall: {model_label(res)}", res, None, 100.0, False)
    parts = [studies, pd.DataFrame([overall])]
    prediction = prediction_row(res) if show_prediction else None
    if prediction is not None:
        parts.append(prediction)
    frame = pd.concat(parts, ignore_index=True)
    for col in ("counts_text", "estimate_text", "weight_text", "flag"):
        frame[col] = frame[col].fillna("")
    frame["included"] = frame["included"].fillna(True).astype(bool)
    return frame


def result_footer(res: MetaResult) -> list[str]:
    """Heterogeneity and overall-effect footer lines of one result.

    The bundle's :func:`igmeta.app.outputs.tables.forest_footer` adds the subgroup test.
    """
    parts = []
    if res.is_random_effects and np.isfinite(res.tau2):
        parts.append(f"tau\u00b2 = {format_number(res.tau2, 4 if res.tau2 < 1 else 2)}")
    if np.isfinite(res.q):
        parts.append(f"Q = {format_number(res.q)} (df = {res.q_df:g}, {format_pvalue(res.q_pval)})")
    if np.isfinite(res.i2):
        parts.append(f"I\u00b2 = {format_percent(res.i2, 0)}")
    lines = [f"Heterogeneity: {'; '.join(parts)}"] if parts else []
    if res.test == "knha":
        statistic = (
            f"t = {format_number(res.statistic)} (df = {res.ddf:g}, {format_pvalue(res.pval)})"
        )
    else:
        statistic = f"Z = {format_number(res.statistic)} ({format_pvalue(res.pval)})"
    lines.append(f"Test for overall effect: {statistic}")
    return lines
