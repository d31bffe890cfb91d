"""Result panels under the forest plot: heterogeneity, subgroups, zero-cell conventions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from igmeta.app.outputs.tables import result_summary_frame, subgroup_frame
from igmeta.app.pipeline.analysis import AnalysisBundle
from igmeta.formatting import (
    format_ci,
    format_ci_column,
    format_number,
    format_percent,
    format_pvalue,
)
from ui import compute, state
from ui.text import plain


@st.cache_data(max_entries=compute.CACHE_ENTRIES, show_spinner=False, hash_funcs=compute.HASH_FUNCS)
def _heterogeneity_ci(table: pd.DataFrame, settings: dict, refit: bool):
    """Q-profile CIs of the bundle's random-effects model, or (``refit=True``) of a REML
    random-effects refit to the same studies (for common-effect, MH and Peto models)."""
    import warnings

    from igmeta.heterogeneity import heterogeneity_ci
    from igmeta.pooling import meta_analysis

    bundle = compute.analysis_bundle(table, settings)
    res = bundle.result
    if res is None or res.k < 2 or res.is_random_effects == refit:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if refit:
                finite = np.isfinite(res.yi) & np.isfinite(res.vi)
                res = meta_analysis(
                    yi=res.yi[finite], vi=res.vi[finite], method="REML", level=res.level
                )
            return heterogeneity_ci(res)
        except ValueError:
            return None


def _ci_text(lower: float, upper: float, sign: str, digits: int) -> str:
    above = ">" if sign == ">" else ""
    return f"[{format_number(lower, digits)}, {above}{format_number(upper, digits)}]"


def _ci_rows(ci) -> list[dict[str, str]]:
    return [
        {
            "quantity": "tau\u00b2",
            "estimate": format_number(ci.tau2, 4),
            "CI": _ci_text(ci.tau2_lower, ci.tau2_upper, ci.ub_sign, 4),
        },
        {
            "quantity": "I\u00b2 (%)",
            "estimate": format_number(ci.i2, 1),
            "CI": _ci_text(ci.i2_lower, ci.i2_upper, ci.ub_sign, 1),
        },
        {
            "quantity": "H\u00b2",
            "estimate": format_number(ci.h2, 2),
            "CI": _ci_text(ci.h2_lower, ci.h2_upper, ci.ub_sign, 2),
        },
    ]


def _ci_notes(ci) -> None:
    st.caption(f"{ci.level:.0%} Q-profile confidence intervals (Viechtbauer 2007).")
    for message in ci.warnings:
        st.caption(plain(message))


def heterogeneity_panel(bundle: AnalysisBundle, table: pd.DataFrame) -> None:
    """Pooled result table, then Q, I\u00b2, H\u00b2 and tau\u00b2 of this analysis.

    Every number comes from the analysis' own result (for Mantel-Haenszel and Peto as
    metafor's ``rma.mh``/``rma.peto`` report them: Q, I\u00b2, H\u00b2, no tau\u00b2). A
    random-effects model gets Q-profile CIs; for a common-effect, MH or Peto model a REML
    refit can be opened below, labelled as a refit and kept apart from the model's numbers.
    """
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
    settings = bundle.settings.to_dict()
    if res.is_random_effects:
        ci = _heterogeneity_ci(table, settings, False)
        if ci is not None:
            st.dataframe(pd.DataFrame(_ci_rows(ci)), hide_index=True, width="stretch")
            _ci_notes(ci)
        return
    own = [
        {"quantity": "I\u00b2 (%)", "estimate": format_number(res.i2, 1)},
        {"quantity": "H\u00b2", "estimate": format_number(res.h2, 2)},
        {"quantity": "tau\u00b2", "estimate": "\u2014 (common-effect model: not estimated)"},
    ]
    st.dataframe(pd.DataFrame(own), hide_index=True, width="stretch")
    with st.expander("Between-study variance from a random-effects refit (REML)"):
        ci = _heterogeneity_ci(table, settings, True)
        if ci is None:
            st.caption("A random-effects refit is not possible for these studies.")
            return
        st.caption(
            "Not the model above: a REML random-effects model refitted to the same "
            "studies' effect sizes, to estimate tau\u00b2 with a confidence interval. "
            "Its I\u00b2 uses the REML tau\u00b2 and so differs from the model's I\u00b2."
        )
        st.dataframe(pd.DataFrame(_ci_rows(ci)), hide_index=True, width="stretch")
        _ci_notes(ci)


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
    from igmeta.app.evidence.clinical import nnt_from_bundle, pooled_control_risk

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
