"""Result panels under the forest plot: heterogeneity, subgroups, zero-cell conventions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from igmeta.analysis import AnalysisBundle
from igmeta.formatting import (
    format_ci,
    format_ci_column,
    format_number,
    format_percent,
    format_pvalue,
)
from igmeta.tables import result_summary_frame, subgroup_frame
from ui import compute, state
from ui.text import plain


@st.cache_data(max_entries=compute.CACHE_ENTRIES, show_spinner=False, hash_funcs=compute.HASH_FUNCS)
def _heterogeneity_ci(table: pd.DataFrame, settings: dict):
    """Q-profile CIs for the bundle's model (a random-effects refit for CE/MH/Peto)."""
    import warnings

    from igmeta.heterogeneity import heterogeneity_ci
    from igmeta.pooling import meta_analysis

    bundle = compute.analysis_bundle(table, settings)
    res = bundle.result
    if res is None or res.k < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if not res.is_random_effects:
                finite = np.isfinite(res.yi) & np.isfinite(res.vi)
                res = meta_analysis(
                    yi=res.yi[finite], vi=res.vi[finite], method="REML", level=res.level
                )
            return heterogeneity_ci(res)
        except ValueError:
            return None


def heterogeneity_panel(bundle: AnalysisBundle) -> None:
    """Pooled result table plus Q, tau^2 and I^2 with Q-profile confidence intervals."""
    res = bundle.result
    st.subheader("Pooled result")
    st.dataframe(result_summary_frame(bundle), hide_index=True, width="stretch")
    st.subheader("Heterogeneity")
    if res.k < 2:
        st.info("Heterogeneity needs at least two studies.")
        return
    st.markdown(
        f"Cochran's Q = {format_number(res.q)} on {res.q_df:g} df, {format_pvalue(res.q_pval)}"
    )
    from ui.state import get_table

    ci = _heterogeneity_ci(get_table(), bundle.settings.to_dict())
    if ci is None:
        return
    upper = ">" if ci.ub_sign == ">" else ""
    rows = [
        {
            "quantity": "tau\u00b2",
            "estimate": format_number(ci.tau2, 4),
            "CI": f"[{format_number(ci.tau2_lower, 4)}, {upper}{format_number(ci.tau2_upper, 4)}]",
        },
        {
            "quantity": "I\u00b2 (%)",
            "estimate": format_number(ci.i2, 1),
            "CI": f"[{format_number(ci.i2_lower, 1)}, {upper}{format_number(ci.i2_upper, 1)}]",
        },
        {
            "quantity": "H\u00b2",
            "estimate": format_number(ci.h2, 2),
            "CI": f"[{format_number(ci.h2_lower, 2)}, {upper}{format_number(ci.h2_upper, 2)}]",
        },
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    st.caption(f"{ci.level:.0%} Q-profile confidence intervals (Viechtbauer 2007).")
    for message in ci.warnings:
        st.caption(plain(message))
    if not bundle.result.is_random_effects:
        st.caption(
            "The pooled result is a common-effect model; tau\u00b2 and I\u00b2 with "
            "their intervals here come from a REML random-effects fit to the same "
            "studies."
        )


def subgroup_panel(bundle: AnalysisBundle) -> None:
    """Per-subgroup estimates and the test for subgroup differences."""
    groups = bundle.subgroups
    if groups is None:
        return
    st.subheader(f"Subgroups by {plain(groups.column)}")
    fits = subgroup_frame(bundle)
    shown = pd.DataFrame(
        {
            "subgroup": fits["subgroup"],
            "k": fits["k"],
            "estimate [CI]": format_ci_column(fits),
            "I\u00b2": [format_percent(v) for v in fits["i2"]],
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch")
    test = groups.test
    kind = {
        "fixed": "common-effect Q-between",
        "separate_tau2": "random effects, separate tau\u00b2 per subgroup (RevMan)",
        "common_tau2": "mixed-effects model, one common tau\u00b2",
    }[test.name]
    st.markdown(
        f"**Test for subgroup differences** ({kind}): "
        f"Q = {format_number(test.statistic)}, df = {test.df[0]:g}, "
        f"{format_pvalue(test.pval)}"
    )
    if groups.full is not None and groups.full.test_common_tau2 is not None:
        other = groups.full.test_common_tau2
        st.caption(
            f"With one common tau\u00b2 (metafor's moderator model): "
            f"Q = {format_number(other.statistic)}, {format_pvalue(other.pval)}."
        )


def zero_cell_panel(bundle: AnalysisBundle, table: pd.DataFrame) -> None:
    """For MH/Peto: say which zero-cell convention is in force and what the other gives."""
    s = bundle.settings
    if s.analysis != "comparison" or s.pooling not in ("MH", "PETO"):
        return
    other = "metafor" if s.zero_cells == "revman" else "revman"
    alt = compute.analysis_bundle(table, s.with_changes(zero_cells=other).to_dict())
    if alt.result is None:
        return
    names = {
        "metafor": "metafor's default (raw counts inside MH)",
        "revman": "RevMan's convention (0.5 added to zero-cell tables)",
    }
    now, then = bundle.result.back_transformed(), alt.result.back_transformed()
    differs = not np.isclose(now["estimate"], then["estimate"], rtol=1e-9)
    st.subheader("Zero cells")
    st.markdown(
        f"In force: **{names[s.zero_cells]}** \u2192 "
        f"{format_ci(now['estimate'], now['ci_lower'], now['ci_upper'])}.  \n"
        f"Under {names[other]}: {format_ci(then['estimate'], then['ci_lower'], then['ci_upper'])}"
        + ("." if differs else " (no zero cells: identical).")
    )


def nnt_panel(bundle: AnalysisBundle) -> None:
    """Number needed to treat at a baseline risk the user chooses (ratio measures and RD)."""
    from igmeta.clinical import nnt_from_bundle, pooled_control_risk

    if bundle.result is None or bundle.settings.analysis != "comparison":
        return
    default = pooled_control_risk(bundle)
    if not (default is not None and 0 < default < 1):
        return
    with st.expander("Number needed to treat (clinical framing)"):
        baseline = st.slider(
            "Control-group risk (default: pooled control-arm risk of the analysed studies)",
            min_value=0.01,
            max_value=0.99,
            value=float(round(default, 2)),
            step=0.01,
            key=state.journal_key("nnt_baseline"),
        )
        nnt = nnt_from_bundle(bundle, baseline_risk=baseline, event_is_good=True)
        if nnt is None:
            st.info("The number needed to treat is not defined for this result.")
            return
        st.metric("Number needed to treat", nnt.text())
        st.caption(plain(nnt.sentence()))
        for message in nnt.warnings:
            st.caption(plain(message))
