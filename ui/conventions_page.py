"""The "Why tools disagree" page: the current analysis under each tool's rules.

The numbers come from :mod:`ui.conventions_compute` (cached), the text from
:mod:`igmeta.app.outputs.convention_tables`; this module lays them out.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from igmeta.app.outputs.convention_tables import (
    conventions_display,
    proportion_chart,
    proportion_display,
    rules_table,
)
from igmeta.app.pipeline.analysis import AnalysisSettings
from igmeta.app.pipeline.conventions import FT_N_RATIO, MATERIAL_DIFFERENCE_PP, PRESETS
from igmeta.effects import measure_info
from ui.components import provenance_banner
from ui.conventions_compute import conventions_frame, proportions_view
from ui.text import plain

__all__ = ["render_conventions"]


def render_conventions(table: pd.DataFrame, settings: AnalysisSettings) -> None:
    """The whole page for ``table`` and ``settings``."""
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
        st.dataframe(conventions_display(frame, percent), hide_index=True, width="stretch")
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
                lines.append(
                    f"- **{row['preset']}** differs from metafor: {plain(row['reasons'])}."
                )
            else:
                lines.append(f"- **{row['preset']}**: same numbers as metafor for this analysis.")
        st.markdown("\n".join(lines))

    with st.expander("The rules of each preset, and where they come from"):
        st.dataframe(rules_table(), hide_index=True, width="stretch")
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
            shown = proportion_display(view.frame)
            st.dataframe(shown, hide_index=True, width="stretch")
            st.plotly_chart(proportion_chart(view.frame), width="stretch",
                            config={"displaylogo": False})  # fmt: skip
            st.caption(
                f"Flagged when the five pooled shares span more than {MATERIAL_DIFFERENCE_PP:g} "
                "percentage points, or when the largest study is more than "
                f"{FT_N_RATIO:g} times the smallest (the Freeman-Tukey back-transform uses one "
                "n for all studies; Schwarzer et al. 2019, doi:10.1002/jrsm.1348). The GLMM "
                "uses the exact counts, the others metafor's escalc values."
            )
