"""Small reusable display blocks shared by the pages (no statistics here)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from igmeta.app.pipeline.analysis import AnalysisBundle
from igmeta.app.pipeline.coverage import left_out_rows, left_out_sentence
from igmeta.effects import measure_info
from igmeta.formatting import format_ci, format_number, format_percent, format_pvalue
from ui import state
from ui.text import plain


def provenance_banner(table: pd.DataFrame) -> None:
    """Say where the data come from; flag reconstructed rows of the bundled IG table."""
    source = state.get_source()
    if "provenance" in table:
        flags = table["provenance"].astype("string").str.lower()
        n_rec = int((flags == "reconstructed").sum())
        if n_rec:
            st.info(
                f"**Data:** {plain(source)}. {n_rec} of {len(table)} rows are *reconstructed* "
                "(marked \u2020): counts chosen to reproduce the published pooled results, "
                "not taken from the original papers. See *Methods & about* for provenance.",
                icon=":material/info:",
            )
            return
    st.caption(f"Data: {plain(source)}")


def engine_messages(bundle: AnalysisBundle, table: pd.DataFrame) -> None:
    """Engine warnings in plain words, the reason when there is no result, and which
    rows of the table are not in the analysis and why (no study leaves silently)."""
    if bundle.error:
        st.error(plain(bundle.error), icon=":material/error:")
    for message in bundle.warnings:
        st.warning(plain(message), icon=":material/warning:")
    sentence = left_out_sentence(left_out_rows(table, bundle), len(table))
    if sentence:
        st.info(plain(sentence), icon=":material/filter_list:")


def headline(bundle: AnalysisBundle) -> None:
    """The pooled estimate, its CI and p-value, heterogeneity, as large metrics."""
    res = bundle.result
    if res is None:
        return
    bt = res.back_transformed()
    label = measure_info(bundle.settings.measure).label
    # Widths in proportion to the longest values ("16.25 [1.04, 254.98]", "< 0.0001"), so
    # that none is cut in the 820 px main column of a 1280 px window.
    cols = st.columns([2.9, 1.45, 0.8, 1.15, 1.1])
    cols[0].metric(
        f"Pooled {label[:1].lower()}{label[1:]}",
        format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"]),
    )
    cols[1].metric("p-value", format_pvalue(res.pval).removeprefix("p ").removeprefix("= "))
    cols[2].metric("Studies", f"{res.k}")
    cols[3].metric("I\u00b2", format_percent(res.i2))
    cols[4].metric(
        "tau\u00b2", format_number(res.tau2, 3) if res.is_random_effects else "\u2014 (CE)"
    )


def live_result(bundle: AnalysisBundle) -> None:
    """The headline result under the sidebar's model, for the Data page: every edit of
    the table shows its effect at once, without leaving the table."""
    if bundle.result is None:
        reason = plain(bundle.error) if bundle.error else "no study can be analysed yet"
        st.caption(f"No pooled result for this table: {reason}")
        return
    st.caption("Live result of the table below, under the model chosen in the sidebar:")
    headline(bundle)
