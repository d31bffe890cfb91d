"""Analysis page panel: the three-level model (studies within clusters), when the table has
a ``cluster`` column (metafor's ``rma.mv(yi, vi, random = ~ 1 | cluster/study)``), with
optional cluster-robust tests (metafor's ``robust()``, CR1 or CR2)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import streamlit as st

from igmeta.app.intake.schema import CLUSTER_COLUMN
from igmeta.app.outputs.codegen import r_three_level
from igmeta.app.pipeline.analysis import AnalysisBundle
from igmeta.formatting import format_ci, format_number, format_percent, format_pvalue
from igmeta.multilevel import predict_mv, rma_mv, sigma2_profile_ci, variance_components_frame
from igmeta.robust import robust
from igmeta.transforms import back_transform
from ui import compute, state
from ui.text import plain

ROBUST_OPTIONS = {
    "none": "None",
    "CR1": "CR1 (metafor robust(), adjust = TRUE)",
    "CR2": "CR2 small-sample correction (clubSandwich)",
}
_LEVEL_WORDS = {"cluster": "Between clusters", "cluster/study": "Between studies within a cluster"}


@st.cache_data(max_entries=compute.CACHE_ENTRIES, show_spinner=False)
def _fit(yi: tuple, vi: tuple, clusters: tuple, method: str, test: str, level: float):
    """The three-level fit, its PL CIs and prediction, or the reason it cannot be fitted."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = rma_mv(
                np.array(yi),
                np.array(vi),
                list(clusters),
                [str(i) for i in range(len(yi))],
                method=method,
                test=test,
                level=level,
            )
            ci = sigma2_profile_ci(res)
        except (ValueError, np.linalg.LinAlgError) as exc:
            return None, None, None, str(exc), ()
    messages = tuple(dict.fromkeys(str(w.message) for w in caught))
    return res, variance_components_frame(res, ci), predict_mv(res), None, messages


@st.cache_data(max_entries=compute.CACHE_ENTRIES, show_spinner=False)
def _robust(yi: tuple, vi: tuple, clusters: tuple, method: str, test: str, level: float, kind: str):
    """Cluster-robust tests of the cached three-level fit, or the reason they cannot run."""
    res = _fit(yi, vi, clusters, method, test, level)[0]
    try:
        return robust(res, list(clusters), clubsandwich=kind == "CR2"), None
    except (ValueError, np.linalg.LinAlgError) as exc:
        return None, str(exc)


def _store_choice(field: str) -> None:
    """Widget callback: keep the panel's choice in the settings (so scenarios save it)."""
    value = st.session_state[state.widget_key(field)]
    state.set_settings(state.get_settings().with_changes(**{field: value}))


def usable_clusters(clusters: tuple) -> bool:
    """Whether a cluster column can carry a three-level model: at least two clusters and
    at least one cluster with two or more estimates.

    Parameters
    ----------
    clusters : tuple of str
        Cluster label of each analysed estimate (rows without one left out).

    Returns
    -------
    bool
    """
    counts = pd.Series(list(clusters), dtype=object).value_counts()
    return counts.size >= 2 and bool((counts >= 2).any())


def _inputs(bundle: AnalysisBundle, table: pd.DataFrame):
    """(yi, vi, clusters) of the analysed rows with a cluster, and the rows left out."""
    rows = np.asarray(bundle.used_rows)
    yi = np.asarray(bundle.effects.yi, dtype=float)
    vi = np.asarray(bundle.effects.vi, dtype=float)
    cells = table[CLUSTER_COLUMN].iloc[rows]
    text = [("" if pd.isna(v) else str(v).strip()) for v in cells]
    has = np.array([t != "" for t in text]) & np.isfinite(yi) & np.isfinite(vi)
    missing = [int(r) + 1 for r, h, t in zip(rows, has, text, strict=True) if not h and t == ""]
    keep = np.flatnonzero(has)
    return (
        tuple(yi[keep]),
        tuple(vi[keep]),
        tuple(text[i] for i in keep),
        missing,
    )


def _note(frame: pd.DataFrame) -> str:
    shares = ", ".join(
        f"{format_percent(row.I2)} {_LEVEL_WORDS.get(row.level, row.level).lower()}"
        for row in frame.itertuples()
    )
    return (
        "Studies in the same cluster may resemble each other more than studies in "
        "different clusters. The three-level model splits the variation of the true "
        "effects into a part between clusters and a part between studies within a "
        f"cluster. Of the total variance, {shares}; the rest is sampling error. "
        "Intervals for the variances are profile-likelihood intervals."
    )


def multilevel_panel(bundle: AnalysisBundle, table: pd.DataFrame) -> None:
    """Offer and show the three-level model when the table has a ``cluster`` column.

    Parameters
    ----------
    bundle : AnalysisBundle
        The page's analysis (its per-study yi/vi and settings are used).
    table : DataFrame
        The study table (the ``cluster`` column is read, never changed).
    """
    if CLUSTER_COLUMN not in table.columns or bundle.effects is None:
        return
    settings = bundle.settings
    yi, vi, clusters, missing = _inputs(bundle, table)
    if not usable_clusters(clusters):
        st.caption(
            f"No three-level model: column '{CLUSTER_COLUMN}' needs at least two clusters, "
            "one of them with two or more studies."
        )
        return
    key = state.widget_key("three_level")
    st.session_state[key] = state.get_settings().three_level
    if not st.toggle(
        "Three-level model (studies within clusters)",
        key=key,
        on_change=_store_choice,
        args=("three_level",),
        help="metafor's rma.mv(yi, vi, random = ~ 1 | cluster/study), fitted by "
        "REML (ML when the sidebar's estimator is ML). On when the table has a cluster "
        "column with at least two clusters, one of them with two or more studies.",
    ):
        return
    method = "ML" if settings.tau2_method == "ML" else "REML"
    test = "t" if settings.test == "knha" else "z"
    if missing:
        st.warning(
            f"Row(s) {', '.join(map(str, missing))} have no value in column "
            f"'{CLUSTER_COLUMN}': they are left out of the three-level model only."
        )
    res, frame, pred, error, messages = _fit(yi, vi, clusters, method, test, settings.level)
    if res is None:
        st.error(f"The three-level model cannot be fitted: {plain(error)}")
        return
    for message in messages:
        st.info(plain(message))
    transform = bundle.result.transform if bundle.result is not None else "none"
    ni = None if bundle.result is None else bundle.result.transform_ni
    natural = back_transform(
        np.array([pred[key][0] for key in ("pred", "ci_lb", "ci_ub", "pi_lb", "pi_ub")]),
        transform,
        ni=ni,
    )
    est, lo, hi, pi_lo, pi_hi = (float(v) for v in natural)
    level = f"{settings.level * 100:g}%"
    st.metric(
        f"Pooled estimate, three-level {method} ({level} CI)",
        format_ci(est, lo, hi),
        help="Back-transformed like the main result." if transform != "none" else None,
    )
    st.caption(
        f"{format_pvalue(res.pval[0])}; prediction interval {format_ci(est, pi_lo, pi_hi)}; "
        f"k = {res.k} estimates in {res.n_levels[0]} clusters; "
        f"log-likelihood {format_number(res.ll, 3)}; "
        f"Q({res.k - res.p}) = {format_number(res.QE, 2)}, {format_pvalue(res.QEp)}."
    )
    shown = pd.DataFrame(
        {
            "level": [_LEVEL_WORDS.get(name, name) for name in frame["level"]],
            "units": frame["n_units"],
            "sigma\u00b2": [format_number(v, 4) for v in frame["sigma2"]],
            f"{level} PL CI": [
                f"[{format_number(a, 4)}, {'>' if lim else ''}{format_number(b, 4)}]"
                for a, b, lim in zip(
                    frame["ci_lb"], frame["ci_ub"], frame["ub_at_limit"], strict=True
                )
            ],
            "I\u00b2": [format_percent(v) for v in frame["I2"]],
        }
    )
    st.dataframe(shown, hide_index=True, width="stretch")
    st.caption(_note(frame))
    _robust_tests(res, (yi, vi, clusters, method, test, settings.level), transform, ni)
    with st.expander("R code of this model (metafor rma.mv)"):
        st.caption("Runs after the exported R script (Scenarios & sharing), which defines dat.")
        st.code("\n".join(r_three_level(bundle, table)), language="r")


def _robust_tests(res, key: tuple, transform: str, ni) -> None:
    """The cluster-robust option of the three-level model and its result."""
    rkey = state.widget_key("robust")
    current = state.get_settings().robust
    st.session_state[rkey] = current if current in ROBUST_OPTIONS else "none"
    kind = st.selectbox(
        "Cluster-robust tests",
        list(ROBUST_OPTIONS),
        format_func=ROBUST_OPTIONS.get,
        key=rkey,
        on_change=_store_choice,
        args=("robust",),
        help="Sandwich standard errors that only assume independence between clusters "
        "(metafor's robust(res, cluster)). CR2 adds the bias-reduced small-sample "
        "correction with Satterthwaite degrees of freedom (clubSandwich = TRUE).",
    )
    if kind == "none":
        return
    rob, error = _robust(*key, kind)
    if rob is None:
        st.warning(f"Cluster-robust tests cannot be computed: {plain(error)}")
        return
    est, lo, hi = (
        float(v)
        for v in back_transform(
            np.array([rob.beta[0], rob.ci_lb[0], rob.ci_ub[0]]), transform, ni=ni
        )
    )
    st.metric(
        f"Pooled estimate, cluster-robust {kind} ({res.level * 100:g}% CI)",
        format_ci(est, lo, hi),
    )
    st.caption(
        f"Robust SE {format_number(rob.se[0], 4)} on the analysis scale; "
        f"t({format_number(rob.ddf[0], 2)}) = {format_number(rob.tval[0], 2)}, "
        f"{format_pvalue(rob.pval[0])}; {rob.n_clusters} clusters. "
        + (
            "Degrees of freedom: Satterthwaite (CR2)."
            if kind == "CR2"
            else "Degrees of freedom: clusters minus coefficients (CR1)."
        )
    )
