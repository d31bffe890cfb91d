"""Display blocks of the Risk of bias page: checks, traffic light, weighted summary, the
"low risk of bias only" sensitivity analysis and the illustrative demo.

Statistics come from :mod:`igmeta.risk_of_bias` and the cached analysis
(:mod:`ui.compute`); figures from :mod:`igmeta.plots.risk_of_bias`. Study names are shown
only in dataframes (plain text) and in plots (escaped); messages pass through
:func:`ui.text.plain` before they reach markdown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from igmeta.app.outputs.tables import forest_frame
from igmeta.app.pipeline.analysis import AnalysisBundle
from igmeta.datasets import ROB_DEMO_SOURCE, load_rob_demo
from igmeta.effects import measure_info
from igmeta.formatting import format_ci
from igmeta.plots.risk_of_bias import rob_summary_figure, traffic_light_figure
from igmeta.risk_of_bias import (
    NOT_ASSESSED,
    TOOLS,
    RobTool,
    overall_judgements,
    restrict_to_low_risk,
    table_tools,
    weighted_summary,
)
from ui import compute, state
from ui.text import plain

__all__ = [
    "checks_block",
    "demo_block",
    "low_risk_block",
    "pick_tool",
    "study_weights",
    "suggestions_block",
    "summary_block",
    "traffic_light_block",
]

PLOT_CONFIG = {"displaylogo": False}


def study_weights(bundle: AnalysisBundle, table: pd.DataFrame) -> np.ndarray:
    """Percent weight of each table row in the current analysis (NaN if not in it)."""
    weights = np.full(len(table), np.nan)
    frame = forest_frame(bundle, table)
    if frame.empty:
        return weights
    studies = frame[(frame["row_type"] == "study") & frame["study_id"].notna()]
    for study_id, weight in zip(studies["study_id"], studies["weight"], strict=True):
        position = int(study_id)
        if 0 <= position < len(table):
            weights[position] = weight
    return weights


def pick_tool(table: pd.DataFrame) -> RobTool | None:
    """The tool to show: the table's only one, or the user's choice when it has both."""
    tools = table_tools(table)
    if len(tools) < 2:
        return tools[0] if tools else None
    names = [tool.name for tool in tools]
    chosen = st.radio("Tool", names, horizontal=True, key=state.ROB_TOOL)
    return tools[names.index(chosen)]


def checks_block(bundle: AnalysisBundle, tool: RobTool) -> None:
    """Cells outside the tool's vocabulary, with row and column (kept, shown as not assessed)."""
    issues = bundle.validation.issues
    flagged = issues[issues["column"].isin(tool.columns)]
    if flagged.empty:
        return
    st.warning(
        f"{len(flagged)} {tool.name} cell(s) hold a value that is not a judgement. They are "
        "kept as typed and shown as not assessed; fix them on the Data page.",
        icon=":material/warning:",
    )
    st.dataframe(flagged[["row", "study", "column", "message"]], hide_index=True, width="stretch")


def traffic_light_block(table: pd.DataFrame, tool: RobTool) -> None:
    """The traffic-light plot of every study in the table."""
    st.subheader("Traffic-light plot")
    st.plotly_chart(
        traffic_light_figure(table, tool), width="content", config=PLOT_CONFIG, theme=None
    )


def suggestions_block(table: pd.DataFrame, tool: RobTool) -> None:
    """Where the tool's algorithm suggests another overall judgement than the one given."""
    overall = overall_judgements(table, tool)
    missing = (overall["given"] == NOT_ASSESSED) & (overall["suggested"] != NOT_ASSESSED)
    shown = overall["differs"] | missing
    if not shown.any():
        return
    rule = (
        "any domain high \u2192 High; all low \u2192 Low; otherwise Some concerns"
        if tool.key == "rob2"
        else "the worst domain judgement"
    )
    with st.expander(
        f"Suggested overall judgements ({int(shown.sum())})", icon=":material/lightbulb:"
    ):
        st.caption(
            f"Suggestions from the domains by the {tool.name} algorithm ({rule}). They are "
            "suggestions only: an overall judgement you entered is always the one used; an "
            "empty one is filled by the suggestion for the figures and the sensitivity analysis."
        )
        labels = pd.Series(table.get("study", pd.Series(index=table.index)), index=table.index)
        frame = pd.DataFrame(
            {
                "row": np.flatnonzero(shown.to_numpy()) + 1,
                "study": labels[shown].astype("string").fillna("").to_numpy(),
                "your overall": overall.loc[shown, "given"].to_numpy(),
                "suggested": overall.loc[shown, "suggested"].to_numpy(),
            }
        )
        st.dataframe(frame, hide_index=True, width="stretch")


def summary_block(bundle: AnalysisBundle, table: pd.DataFrame, tool: RobTool) -> None:
    """The weighted summary bar chart (robvis ``rob_summary(weighted = TRUE)``)."""
    st.subheader("Summary, weighted by study weight")
    if bundle.result is None:
        st.info(
            "The summary is weighted by the studies' weights in the analysis, and there is "
            "no analysis result yet (see the Analysis page).",
            icon=":material/info:",
        )
        return
    summary = weighted_summary(table, tool, study_weights(bundle, table))
    if summary.empty:
        st.info("No study carries weight in the current analysis.", icon=":material/info:")
        return
    st.plotly_chart(
        rob_summary_figure(summary, tool), width="stretch", config=PLOT_CONFIG, theme=None
    )
    st.caption(
        "Each bar splits the total weight of the current analysis (studies excluded or "
        "left out carry none) by the judgement in that domain."
    )


def _result_text(bundle: AnalysisBundle) -> str:
    res = bundle.result
    if res is None:
        return "not estimable"
    bt = res.back_transformed()
    return format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"])


def low_risk_block(bundle: AnalysisBundle, table: pd.DataFrame) -> None:
    """Sensitivity analysis: the current analysis on studies at low risk of bias overall.

    The session's table, include/exclude choices and settings are not changed: the
    analysis is re-run on a copy in which only studies at low risk stay included.
    """
    st.subheader("Sensitivity: low risk of bias only")
    on = st.toggle(
        "Low risk of bias only",
        key=state.ROB_LOW_ONLY,
        help="Re-run the current analysis on the studies judged at low risk of bias overall "
        "(RoB 2 or ROBINS-I 'Low'); your own include/exclude choices are kept.",
    )
    if not on:
        st.caption("Switch on to compare the analysis with and without the studies at risk.")
        return
    if bundle.result is None:
        st.info("There is no analysis result to compare with.", icon=":material/info:")
        return
    restricted = restrict_to_low_risk(table)
    low = compute.current_bundle(restricted, bundle.settings)
    used = set(bundle.used_rows.tolist())
    kept = set(low.used_rows.tolist()) if low.result is not None else set()
    left_out = sorted(used - kept)
    labels = bundle.validation.labels
    label = measure_info(bundle.settings.measure).label
    full_k = len(used)
    low_k = len(kept)
    cols = st.columns(2)
    cols[0].metric(f"All studies (k = {full_k})", _result_text(bundle))
    cols[1].metric(
        f"Low risk of bias only (k = {low_k})",
        _result_text(low) if low.result is not None else "no result",
    )
    st.caption(f"{label}, current model and settings.")
    if left_out:
        judged = {tool.key: overall_judgements(table, tool)["used"] for tool in table_tools(table)}
        reasons = [
            "; ".join(f"{t.name}: {judged[t.key].iloc[row]}" for t in TOOLS if t.key in judged)
            for row in left_out
        ]
        st.markdown(
            plain(
                f"{len(left_out)} of {full_k} studies of the analysis are left out because they "
                "are not at low risk of bias overall:"
            )
        )
        st.dataframe(
            pd.DataFrame(
                {
                    "row": [row + 1 for row in left_out],
                    "study": [labels[row] for row in left_out],
                    "overall risk of bias": reasons,
                }
            ),
            hide_index=True,
            width="stretch",
        )
    if low.result is None:
        reason = low.error or "no study is left"
        st.warning(
            plain(
                "The analysis cannot be run on the studies at low risk of bias only: "
                f"{low_k} of {full_k} studies are judged at low risk overall ({reason}). "
                "At least one study at low risk is needed."
            ),
            icon=":material/warning:",
        )


def demo_block() -> None:
    """Load the illustrative demo (undoable; the user's table stays in the undo history)."""
    with st.expander("Demo data with risk of bias (illustrative)", icon=":material/science:"):
        st.markdown(
            "The BCG vaccine trials (metafor's `dat.bcg`) with **made-up** RoB 2 judgements, "
            "to show the features. They are not an assessment of these trials. Loading "
            "replaces the study table; **Undo** on the Data page brings yours back."
        )
        if st.button("Load the risk-of-bias demo", icon=":material/upload:"):
            state.set_table(load_rob_demo(), source=ROB_DEMO_SOURCE, data_type="binary")
            st.rerun()
