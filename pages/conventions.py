"""Why tools disagree: the current analysis under metafor, RevMan 5, RevMan Web and R meta."""

from __future__ import annotations

from ui.bootstrap import require_app

require_app()

import math  # noqa: E402

import pandas as pd  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import streamlit as st  # noqa: E402

from igmeta.app.pipeline.conventions import (  # noqa: E402
    FT_N_RATIO,
    MATERIAL_DIFFERENCE_PP,
    PRESETS,
    RULE_LABELS,
    estimates_tau2,
)
from igmeta.effects import measure_info  # noqa: E402
from igmeta.formatting import format_ci, format_number, format_percent, format_pvalue  # noqa: E402
from ui import state  # noqa: E402
from ui.components import provenance_banner  # noqa: E402
from ui.conventions_compute import conventions_frame, proportions_view  # noqa: E402
from ui.text import plain  # noqa: E402

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
    return value is not None and isinstance(value, int | float) and math.isfinite(value)


def _interval(row: pd.Series, percent: bool) -> str:
    scale = 100.0 if percent else 1.0
    digits = 1 if percent else 2
    text = format_ci(row["estimate"] * scale, row["ci_lower"] * scale, row["ci_upper"] * scale,
                     digits)  # fmt: skip
    return f"{text} %" if percent and _finite(row["estimate"]) else text


def _prediction(row: pd.Series, percent: bool) -> str:
    if not _finite(row["pi_lower"]):
        return "\u2014"
    scale = 100.0 if percent else 1.0
    digits = 1 if percent else 2
    text = f"[{format_number(row['pi_lower'] * scale, digits)}, " \
           f"{format_number(row['pi_upper'] * scale, digits)}]"  # fmt: skip
    if percent:
        text += " %"
    return text if row["pi_shown"] else f"{text} ({NOT_SHOWN})"


def _display(frame: pd.DataFrame, percent: bool) -> pd.DataFrame:
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
            "Pooled [95% CI]": _interval(row, percent),
            "Prediction interval": _prediction(row, percent),
            "p": format_pvalue(row["pval"]).removeprefix("p ").removeprefix("= "),
            "tau\u00b2": format_number(row["tau2"], 3) if estimates_tau2(row["method"])
            else "\u2014 (CE)",
            "I\u00b2": format_percent(row["i2"]),
            "k": str(int(row["k"])),
            "Model": row["method"],
        })  # fmt: skip
    return pd.DataFrame(rows)


def _rules_table() -> pd.DataFrame:
    data = {"Rule": list(RULE_LABELS.values())}
    for name, conv in PRESETS.items():
        data[name] = [VALUE_TEXT[rule][getattr(conv, rule)] for rule in RULE_LABELS]
    return pd.DataFrame(data)


def _proportion_chart(frame: pd.DataFrame) -> go.Figure:
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


table = state.get_table()
settings = state.get_settings()

st.title("Why tools disagree")
provenance_banner(table)
st.markdown(
    "The same data give different numbers in different programs because each program "
    "follows its own rules for a few choices: the between-study variance estimator, the "
    "confidence and prediction intervals, how I\u00b2 is defined, and how zero cells are "
    "handled. Below, the current analysis is recomputed under each tool's default rules, "
    "and the list under the table names the rule(s) behind each difference."
)

percent = settings.analysis == "single_arm"
label = measure_info(settings.measure).label
frame = conventions_frame(table, settings)
st.subheader(f"Pooled {label.lower()} under each tool's rules")
errors = frame["error"].dropna() if not frame.empty else pd.Series(dtype=str)
if frame.empty or len(errors) == len(frame):
    message = errors.iloc[0] if len(errors) else "No study can be analysed with these settings."
    st.error(plain(message), icon=":material/error:")
else:
    st.dataframe(_display(frame, percent), hide_index=True, width="stretch")
    st.caption("Ratios and proportions are shown on their natural scale. 'Current settings' "
               "is this app's result for the sidebar choices. Pooling (inverse variance, "
               "Mantel-Haenszel, Peto), the effect measure, the model and the included "
               "studies are kept; each preset applies its own rules to them.")  # fmt: skip

    st.subheader("What makes the difference")
    reasons = frame[frame["preset"] != "metafor"]
    lines = []
    for _, row in reasons.iterrows():
        if isinstance(row["error"], str) and row["error"]:
            lines.append(f"- **{row['preset']}**: not estimable \u2014 {plain(row['error'])}")
        elif row["reasons"]:
            lines.append(f"- **{row['preset']}** differs from metafor: {plain(row['reasons'])}.")
        else:
            lines.append(f"- **{row['preset']}**: same numbers as metafor for this analysis.")
    st.markdown("\n".join(lines))

with st.expander("The rules of each preset, and where they come from"):
    st.dataframe(_rules_table(), hide_index=True, width="stretch")
    for name, conv in PRESETS.items():
        st.markdown(f"**{name}** \u2014 {conv.description}")
        st.markdown("\n".join(f"- {source}" for source in conv.sources))
        if conv.unverified:
            st.markdown("Not verified (assumed):\n" + "\n".join(
                f"- {item}" for item in conv.unverified))  # fmt: skip

st.subheader("The pooled share: GLMM, logit, arcsine, Freeman-Tukey, raw")
if settings.analysis != "single_arm":
    st.info(
        "This comparison is for the pooled proportion: choose *Pooled share of responders* "
        "(or the proportion data type) in the sidebar to see it.",
        icon=":material/info:",
    )
else:
    view = proportions_view(table, settings)
    if view.frame.empty:
        for message in view.warnings:
            st.error(plain(message), icon=":material/error:")
    else:
        for message in view.warnings:
            st.warning(plain(message), icon=":material/warning:")
        shown = pd.DataFrame({
            "Method": view.frame["method"],
            "Pooled share [95% CI]": [_interval(r, True) for _, r in view.frame.iterrows()],
            "Prediction interval": [
                "\u2014" if not _finite(r["pi_lower"]) else
                f"[{format_number(100 * r['pi_lower'], 1)}, "
                f"{format_number(100 * r['pi_upper'], 1)}] %"
                for _, r in view.frame.iterrows()],
            "Note": view.frame["note"].fillna(""),
        })  # fmt: skip
        st.dataframe(shown, hide_index=True, width="stretch")
        st.plotly_chart(_proportion_chart(view.frame), width="stretch",
                        config={"displaylogo": False})  # fmt: skip
        st.caption(
            f"Flagged when the five pooled shares span more than {MATERIAL_DIFFERENCE_PP:g} "
            "percentage points, or when the largest study is more than "
            f"{FT_N_RATIO:g} times the smallest (the Freeman-Tukey back-transform uses one "
            "n for all studies; Schwarzer et al. 2019, doi:10.1002/jrsm.1348). The GLMM "
            "uses the exact counts, the others metafor's escalc values."
        )
