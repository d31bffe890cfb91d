"""Tidy frames for figures and result tables, built from an analysis bundle.

The plot builders in :mod:`igmeta.plots` draw these frames and compute nothing; this
module decides what is shown (rows, display scale, text columns) and computes nothing
statistical either: every number comes from the bundle's results.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from igmeta.analysis import AnalysisBundle
from igmeta.effects import EffectSizes, measure_info
from igmeta.formatting import format_ci, format_percent
from igmeta.results import MetaResult
from igmeta.transforms import back_transform, ipft

__all__ = [
    "display_scale",
    "forest_frame",
    "result_summary_frame",
    "subgroup_frame",
    "to_display_scale",
]

RECONSTRUCTED = "reconstructed"


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


def _counts_text(table: pd.DataFrame, rows: np.ndarray, analysis: str) -> list[str]:
    def ints(name):
        col = pd.to_numeric(table[name].iloc[rows], errors="coerce") if name in table else None
        return [
            ("" if col is None or pd.isna(v) else f"{v:g}")
            for v in (col if col is not None else [np.nan] * len(rows))
        ]

    if analysis == "comparison":
        parts = zip(ints("ai"), ints("n1i"), ints("ci"), ints("n2i"), strict=True)
        return [f"{a}/{n1} | {c}/{n2}" for a, n1, c, n2 in parts]
    if analysis == "single_arm":
        x, n = ("xi", "ni") if "xi" in table else ("ai", "n1i")
        return [f"{a}/{b}" for a, b in zip(ints(x), ints(n), strict=True)]
    if analysis in ("continuous",):
        return [f"{a} | {b}" for a, b in zip(ints("n1i"), ints("n2i"), strict=True)]
    if analysis == "correlation":
        return [f"n = {n}" for n in ints("ni")]
    return [""] * len(rows)


def _fit_weights(bundle: AnalysisBundle) -> dict[int, float]:
    """Weight (%) of each used table row in the pooled fit."""
    res, es = bundle.result, bundle.effects
    rows = bundle.used_rows
    if len(res.weights) == len(rows):
        return dict(zip(rows.tolist(), res.weights, strict=True))
    finite = np.isfinite(es.yi) & np.isfinite(es.vi) & (es.vi > 0)  # as pooling keeps them
    return dict(zip(rows[finite].tolist(), res.weights, strict=True))


def _summary_row(
    row_type: str, label: str, fit: MetaResult, group, weight: float, show_pi: bool
) -> dict:
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
        "weight_text": format_percent(weight),
    }


def _model_label(bundle: AnalysisBundle) -> str:
    s = bundle.settings
    if bundle.result.method == "MH":
        return f"Mantel-Haenszel ({'RevMan' if s.zero_cells == 'revman' else 'metafor'} zeros)"
    if bundle.result.method == "PETO":
        return "Peto"
    if bundle.result.method == "GLMM":
        return f"GLMM ({bundle.result.extra.get('model', 'random-effects logistic')})"
    if bundle.result.method == "FE":
        return "Common effect"
    hk = ", Hartung-Knapp" if bundle.result.test == "knha" else ""
    return f"Random effects ({bundle.result.method}{hk})"


def forest_frame(bundle: AnalysisBundle, table: pd.DataFrame) -> pd.DataFrame:
    """Rows of the forest plot (see :data:`igmeta.plots.FOREST_COLUMNS`).

    Studies excluded by the user stay visible (``included`` False); reconstructed rows
    are flagged; estimates are on the display (natural) scale.
    """
    if bundle.result is None or bundle.display_effects is None:
        return pd.DataFrame()
    settings = bundle.settings
    transform, _, _ = display_scale(bundle)
    shown: EffectSizes = bundle.display_effects
    rows = bundle.display_rows
    lower, upper = shown.confidence_intervals(settings.level)
    ni = np.asarray(shown.data.get("ni"), dtype=float) if "ni" in shown.data else None
    est = _per_study(shown.yi, transform, ni)
    lo, hi = _per_study(lower, transform, ni), _per_study(upper, transform, ni)
    swap = lo > hi
    lo, hi = np.where(swap, hi, lo), np.where(swap, lo, hi)
    weights = _fit_weights(bundle)
    included = np.asarray(bundle.validation.included, bool)
    provenance = (
        table["provenance"].astype("string").fillna("").str.lower()
        if "provenance" in table
        else pd.Series([""] * len(table))
    )
    counts = _counts_text(table, rows, settings.analysis)
    study_rows = pd.DataFrame(
        {
            "row_type": "study",
            "label": list(shown.study),
            "study_id": [str(r) for r in rows],
            "group": None,
            "estimate": est,
            "ci_lower": lo,
            "ci_upper": hi,
            "pi_lower": np.nan,
            "pi_upper": np.nan,
            "weight": [weights.get(int(r), np.nan) for r in rows],
            "included": included[rows],
            "flag": [RECONSTRUCTED if provenance.iloc[r] == RECONSTRUCTED else "" for r in rows],
            "counts_text": counts,
            "estimate_text": [format_ci(e, a, b) for e, a, b in zip(est, lo, hi, strict=True)],
        }
    )
    study_rows["weight_text"] = [
        format_percent(w) if inc and np.isfinite(w) else ""
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
            parts.append(
                pd.DataFrame(
                    [
                        _summary_row(
                            "subgroup_summary", f"Subtotal: {level}", fit, level, weight, False
                        )
                    ]
                )
            )
    else:
        parts.append(study_rows)
    overall = _summary_row(
        "overall", f"Overall: {_model_label(bundle)}", bundle.result, None, 100.0, False
    )
    parts.append(pd.DataFrame([overall]))
    bt = bundle.result.back_transformed()
    if show_pi and np.isfinite(bt["pi_lower"]) and np.isfinite(bt["pi_upper"]):
        parts.append(
            pd.DataFrame(
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
        )
    frame = pd.concat(parts, ignore_index=True)
    for col in ("counts_text", "estimate_text", "weight_text", "flag"):
        frame[col] = frame[col].fillna("")
    frame["included"] = frame["included"].fillna(True).astype(bool)
    return frame


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
