"""The convention comparison as text and a figure (the "Why tools disagree" page).

Formatting only: the numbers are :mod:`igmeta.app.pipeline.conventions`'s.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from igmeta.app.pipeline.conventions import PRESETS, RULE_LABELS, estimates_tau2
from igmeta.formatting import format_ci, format_number, format_percent, format_pvalue

__all__ = [
    "NOT_SHOWN",
    "VALUE_TEXT",
    "conventions_display",
    "interval_text",
    "proportion_chart",
    "proportion_display",
    "rules_table",
]

NOT_SHOWN = "not reported by default"
VALUE_TEXT = {
    "tau2_method": {"REML": "REML", "DL": "DerSimonian-Laird"},
    "random_ci": {"z": "normal (Wald)", "HK": "Hartung-Knapp", "HK-adhoc": "HK, ad hoc"},
    "prediction": {"z": "normal", "t(k-1)": "t, k-1 df", "t(k-2)": "t, k-2 df", "none": "none"},
    "i2": {"Q": "from Q", "tau2": "from tau\u00b2", "tau2-if-random": "tau\u00b2 (RE) / Q (CE)"},
    "mh_zero_cells": {"metafor": "raw counts", "revman": "+0.5 per cell"},
    "rr_zero_cell_n": {"2*add": "+0.5 per cell", "1*add": "+0.5 to events and n"},
    "double_zero": {"keep": "kept", "drop": "left out"},
    "mh_random_tau2": {"IV": "from study effects", "MH-centred DL": "DL, Q around MH"},
    "logit_proportions": {"IV": "inverse variance", "GLMM": "GLMM"},
    "ft_backtransform": {"harmonic": "harmonic mean n"},
}


def _finite(value) -> bool:
    """A number that is not None, NaN or infinite."""
    return value is not None and isinstance(value, int | float) and math.isfinite(value)


def interval_text(row: pd.Series, percent: bool) -> str:
    """``estimate [lower, upper]`` of one row (percent for a pooled share)."""
    scale = 100.0 if percent else 1.0
    digits = 1 if percent else 2
    text = format_ci(row["estimate"] * scale, row["ci_lower"] * scale, row["ci_upper"] * scale,
                     digits)  # fmt: skip
    return f"{text} %" if percent and _finite(row["estimate"]) else text


def _prediction(row: pd.Series, percent: bool) -> str:
    """The prediction interval of one row, saying when the preset does not report it."""
    if not _finite(row["pi_lower"]):
        return "\u2014"
    scale = 100.0 if percent else 1.0
    digits = 1 if percent else 2
    text = f"[{format_number(row['pi_lower'] * scale, digits)}, " \
           f"{format_number(row['pi_upper'] * scale, digits)}]"  # fmt: skip
    if percent:
        text += " %"
    return text if row["pi_shown"] else f"{text} ({NOT_SHOWN})"


def conventions_display(frame: pd.DataFrame, percent: bool) -> pd.DataFrame:
    """The side-by-side table of :func:`~igmeta.app.pipeline.conventions.compare_conventions`
    as text: one row per preset (percent for a pooled share)."""
    rows = []
    for _, row in frame.iterrows():
        if isinstance(row["error"], str) and row["error"]:
            rows.append({"Tool / preset": row["preset"], "Pooled [95% CI]": "not estimable",
                         "Prediction interval": "\u2014", "p": "\u2014", "tau\u00b2": "\u2014",
                         "I\u00b2": "\u2014", "k": "\u2014",
                         "Model": row["error"]})  # fmt: skip
            continue
        rows.append({
            "Tool / preset": row["preset"],
            "Pooled [95% CI]": interval_text(row, percent),
            "Prediction interval": _prediction(row, percent),
            "p": format_pvalue(row["pval"]).removeprefix("p ").removeprefix("= "),
            "tau\u00b2": format_number(row["tau2"], 3) if estimates_tau2(row["method"])
            else "\u2014 (CE)",
            "I\u00b2": format_percent(row["i2"]),
            "k": str(int(row["k"])),
            "Model": row["method"],
        })  # fmt: skip
    return pd.DataFrame(rows)


def rules_table() -> pd.DataFrame:
    """The rules of each preset in words: one row per rule, one column per preset."""
    data = {"Rule": list(RULE_LABELS.values())}
    for name, conv in PRESETS.items():
        data[name] = [VALUE_TEXT[rule][getattr(conv, rule)] for rule in RULE_LABELS]
    return pd.DataFrame(data)


def proportion_chart(frame: pd.DataFrame) -> go.Figure:
    """The pooled shares (%) of each proportion method with their 95% CIs."""
    shown = frame[frame["estimate"].notna()].iloc[::-1]
    fig = go.Figure(
        go.Scatter(
            x=100 * shown["estimate"],
            y=shown["method"],
            mode="markers",
            marker={"size": 10, "color": "#1f4e79"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": 100 * (shown["ci_upper"] - shown["estimate"]),
                "arrayminus": 100 * (shown["estimate"] - shown["ci_lower"]),
            },
            hovertemplate="%{y}: %{x:.1f}%<extra></extra>",
        )  # fmt: skip
    )
    fig.update_layout(height=60 + 42 * len(shown), margin={"l": 10, "r": 10, "t": 10, "b": 40},
                      xaxis_title="Pooled share (%) with 95% CI", showlegend=False)  # fmt: skip
    return fig


def proportion_display(frame: pd.DataFrame) -> pd.DataFrame:
    """The pooled-share comparison (:func:`~igmeta.app.pipeline.conventions.proportion_comparison`)
    as text: method, pooled share [95% CI] and prediction interval in percent, note."""
    return pd.DataFrame({
        "Method": frame["method"],
        "Pooled share [95% CI]": [interval_text(r, True) for _, r in frame.iterrows()],
        "Prediction interval": [
            "\u2014" if not _finite(r["pi_lower"]) else
            f"[{format_number(100 * r['pi_lower'], 1)}, "
            f"{format_number(100 * r['pi_upper'], 1)}] %"
            for _, r in frame.iterrows()],
        "Note": frame["note"].fillna(""),
    })  # fmt: skip
