"""Display blocks of the sensitivity page: leave-one-out, cumulative, influence, GOSH and
the permutation test.

Results come from :mod:`ui.compute_extra` (cached); this module lays out widgets, figures
and formatted tables. Study labels are shown only in dataframes (plain text) and in plots
(escaped); engine messages are escaped before they reach markdown.

Slow analyses (GOSH, permutation test) run only when their button is pressed, with a
progress bar and a Cancel button (:mod:`ui.long_task`); a finished result is shown again
(from the cache) until the data, the settings or the panel's options change. These two
panels are deliberately not ``st.fragment``s: a click inside a fragment does not
interrupt a running script, so Cancel could not stop the computation.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import streamlit as st

from igmeta.app.outputs.tables import display_scale
from igmeta.app.pipeline import diagnostics
from igmeta.app.pipeline.analysis import AnalysisBundle
from igmeta.app.pipeline.diagnostics import Outcome
from igmeta.estimators import ITERATIVE_METHODS
from igmeta.formatting import format_ci_column, format_number, format_percent, format_pvalue
from igmeta.plots import baujat_figure, cumulative_figure, gosh_figure, leave_one_out_figure
from ui import compute_extra, state
from ui.bias_page import measure_label, p_text
from ui.long_task import duration_text, run_with_progress, show_if_cancelled
from ui.text import plain

__all__ = [
    "cumulative_panel",
    "gosh_panel",
    "influence_panel",
    "leave_one_out_panel",
    "permutation_panel",
]

DIGITS = 3
#: With fewer subsets than this the GOSH density uses coarse bins (visible cells).
FEW_SUBSETS = 2_000
COARSE_BINS = (40, 30)
#: From this many subsets a GOSH analysis with an iterative tau^2 estimator is slow.
SLOW_GOSH_FITS = 2**16
TABLE_ORDER = ""
FLAG_COLOUR = "background-color: #FFE3B3; font-weight: 600"
PLOT_CONFIG = {"displaylogo": False}


def _inputs_key(bundle: AnalysisBundle, options: dict) -> str:
    """What a slow analysis depends on: the table's version, the settings, its options."""
    return json.dumps(
        [state.table_version(), bundle.settings.to_dict(), options], sort_keys=True, default=str
    )


def _shown_before(task: str, key: str) -> bool:
    """Whether ``task`` last finished for these very inputs (its result is in the cache):
    it is shown again, without pressing the button, after a tab switch or a rerun."""
    last = state.last_long_task(task)
    return last is not None and last[0] == key


def _remember(task: str, key: str, seconds: float, fresh: bool) -> float:
    """Record a finished run; returns the time of the run that computed the result."""
    last = state.last_long_task(task)
    if not fresh and last is not None and last[0] == key:
        return last[1]
    state.remember_long_task(task, key, seconds)
    return seconds


def _blocked(bundle: AnalysisBundle, what: str) -> bool:
    """Say so, before any button, when ``what`` cannot run on the current model."""
    blocked = diagnostics.method_blocked(bundle, what)
    if blocked is not None:
        st.info(plain(blocked.error), icon=":material/info:")
    return blocked is not None


def _messages(outcome: Outcome, what: str) -> None:
    if outcome.error:
        st.info(f"{what}: {plain(outcome.error)}", icon=":material/info:")
    for message in outcome.warnings:
        st.warning(f"{what}: {plain(message)}", icon=":material/warning:")


def _axes(bundle: AnalysisBundle) -> dict:
    _, log_axis, null = display_scale(bundle)
    return {
        "log_scale": log_axis,
        "null_value": float(null) if np.isfinite(null) else None,
        "x_label": measure_label(bundle),
    }


def _full_estimate(bundle: AnalysisBundle) -> float:
    return float(bundle.result.back_transformed()["estimate"])


def _refit_table(
    frame: pd.DataFrame, first: tuple[str, str], label: str, extra: tuple[tuple[str, str], ...] = ()
) -> pd.DataFrame:
    """A refit table (display scale) formatted as text, NaN written as not estimable."""
    column, header = first
    random = "tau2" in frame and frame["tau2"].notna().any()
    out = {header: frame[column].astype(str).to_list()}
    for name, title in extra:
        out[title] = [str(v) for v in frame[name]]
    out[f"{label} [CI]"] = format_ci_column(frame, DIGITS)
    out["p-value"] = [format_pvalue(p) for p in frame["pval"]]
    if random:
        out["tau\u00b2"] = [format_number(t, DIGITS) for t in frame["tau2"]]
    out["I\u00b2"] = [format_percent(v) for v in frame["i2"]]
    out["Q (p)"] = [
        f"{format_number(q, DIGITS)} ({format_pvalue(p)})"
        for q, p in zip(frame["q"], frame["q_pval"], strict=True)
    ]
    if random and frame[["pi_lower", "pi_upper"]].notna().all(axis=None):
        out["Prediction interval"] = [
            f"[{format_number(lo, DIGITS)}, {format_number(hi, DIGITS)}]"
            for lo, hi in zip(frame["pi_lower"], frame["pi_upper"], strict=True)
        ]
    return pd.DataFrame(out)


def _table(frame: pd.DataFrame, **kwargs) -> None:
    st.dataframe(frame, hide_index=True, width="stretch", **kwargs)


# --------------------------------------------------------------------- leave-one-out


def leave_one_out_panel(table: pd.DataFrame, bundle: AnalysisBundle) -> None:
    """Leave-one-out forest plot (reference line: all studies) and its table."""
    settings = bundle.settings.to_dict()
    outcome = compute_extra.leave_one_out_results(table, settings, {})
    st.subheader("Leave-one-out analysis")
    st.caption(
        "Each row is the pooled result with one study left out; the dashed line is "
        "the result with all studies."
    )
    _messages(outcome, "Leave-one-out")
    if not outcome.ok:
        return
    frame = outcome.value
    label = measure_label(bundle)
    fig = leave_one_out_figure(
        frame.rename(columns={"study": "label"}),
        full_estimate=_full_estimate(bundle),
        **_axes(bundle),
    )
    st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG, key="loo_plot")
    _table(_refit_table(frame, ("study", "Omitted study"), label))


# ------------------------------------------------------------------------ cumulative


def _order_columns(table: pd.DataFrame) -> dict[str, str]:
    skip = {"include"}
    options = {TABLE_ORDER: "Table order"}
    for column in table.columns:
        if column not in skip:
            options[str(column)] = str(column)
    return options


@st.fragment
def cumulative_panel(table: pd.DataFrame, bundle: AnalysisBundle) -> None:
    """Cumulative forest plot, studies added in the order of a column the user picks."""
    st.subheader("Cumulative meta-analysis")
    options = _order_columns(table)
    names = list(options)
    default = names.index("year") if "year" in options else 0
    left, right = st.columns([2, 1])
    column = left.selectbox(
        "Add studies in the order of",
        names,
        index=default,
        format_func=options.get,
        help="A stable sort: studies with equal values keep their table "
        "order; studies without a value come last.",
    )
    descending = right.toggle("Largest (latest) first", value=False, disabled=column == TABLE_ORDER)
    outcome = compute_extra.cumulative_results(
        table,
        bundle.settings.to_dict(),
        {"column": column or None, "descending": bool(descending and column)},
    )
    _messages(outcome, "Cumulative meta-analysis")
    if not outcome.ok:
        return
    frame = outcome.value
    label = measure_label(bundle)
    fig = cumulative_figure(
        frame.rename(columns={"study": "label"}),
        full_estimate=_full_estimate(bundle),
        **_axes(bundle),
    )
    st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG, key="cumulative_plot")
    st.caption(
        "Each row pools the studies down to and including the one named; the dashed "
        "line is the result with all studies."
    )
    extra = (("order_key", column),) if column and "order_key" in frame else ()
    _table(_refit_table(frame, ("study", "Study added"), label, extra=(("k", "k"), *extra)))


# ------------------------------------------------------------------------- influence

INFLUENCE_COLUMNS = (
    ("rstudent", "rstudent"),
    ("dffits", "DFFITS"),
    ("cook_d", "Cook's D"),
    ("cov_r", "Cov. ratio"),
    ("tau2_del", "tau\u00b2 (\u2212i)"),
    ("q_del", "Q (\u2212i)"),
    ("hat", "Hat"),
    ("weight", "Weight %"),
    ("dfbetas", "DFBETAS"),
)


def _influence_table(frame: pd.DataFrame):
    flagged = frame["inf"].to_numpy(dtype=bool)
    out = {
        "Study": frame["study"].astype(str).to_list(),
        "Influential": ["\u2691 yes" if f else "" for f in flagged],
    }
    for name, title in INFLUENCE_COLUMNS:
        if name in frame:
            out[title] = [format_number(v, DIGITS) for v in frame[name]]
    shown = pd.DataFrame(out)

    def colour(row):
        return [FLAG_COLOUR if flagged[row.name] else ""] * len(row)

    return shown.style.apply(colour, axis=1)


def influence_panel(table: pd.DataFrame, bundle: AnalysisBundle) -> None:
    """Influence diagnostics with flagged studies highlighted, and the Baujat plot."""
    outcome = compute_extra.influence_results(table, bundle.settings.to_dict(), {})
    st.subheader("Influence diagnostics")
    _messages(outcome, "Influence diagnostics")
    if not outcome.ok:
        return
    frame = outcome.value
    n_flagged = int(frame["inf"].sum())
    if n_flagged:
        st.warning(
            f"{n_flagged} of {len(frame)} studies meet at least one of metafor's "
            "criteria for an influential study (highlighted, \u2691).",
            icon=":material/flag:",
        )
    else:
        st.success(
            "No study meets metafor's criteria for an influential study.",
            icon=":material/check_circle:",
        )
    _table(_influence_table(frame))
    st.caption(
        "rstudent: studentised deleted residual; Cook's D: Cook's distance; Cov. ratio: "
        "covariance ratio; tau\u00b2 (\u2212i), Q (\u2212i): tau\u00b2 and Cochran's Q "
        "without the study; Hat: leverage. Flagged (metafor): |DFFITS| > 3\u221a(1/(k\u22121)), "
        "Cook's D above the median of \u03c7\u00b2(1), Hat > 3/k, or |DFBETAS| > 1."
    )
    st.subheader("Baujat plot")
    points = pd.DataFrame({"label": frame["study"], "x": frame["baujat_x"], "y": frame["baujat_y"]})
    st.plotly_chart(baujat_figure(points), width="stretch", config=PLOT_CONFIG, key="baujat_plot")
    st.caption(
        "Studies to the right add most to the heterogeneity; studies at the top move "
        "the pooled result most when left out."
    )


# ------------------------------------------------------------------------------ GOSH


def _gosh_size(k: int, subsets: int | None = None) -> str:
    if k <= diagnostics.GOSH_ALL_SUBSETS_MAX_K:
        return f"all {2**k - 1:,} subsets of the {k} studies"
    sample = f"{subsets:,} of " if subsets else ""
    return f"a random sample of {sample}the 2^{k} \u2212 1 subsets of the {k} studies"


def gosh_panel(table: pd.DataFrame, bundle: AnalysisBundle) -> None:
    """GOSH plot (estimate against I\u00b2 over subsets of studies), on demand."""
    st.subheader("GOSH plot")
    if _blocked(bundle, "The GOSH analysis"):
        return
    k = bundle.result.k
    st.caption(
        f"Fits the model to {_gosh_size(k)} and plots each subset's pooled estimate "
        "against its I\u00b2 (Olkin, Dahabreh and Trikalinos 2012). Clusters point to "
        "studies that drive heterogeneity."
    )
    sampled = k > diagnostics.GOSH_ALL_SUBSETS_MAX_K
    with st.form("gosh_form", border=False):
        seed, subsets = 0, diagnostics.GOSH_SAMPLED_SUBSETS
        if sampled:
            left, right = st.columns(2)
            subsets = left.number_input(
                "Random subsets to fit",
                min_value=1_000,
                max_value=diagnostics.GOSH_MAX_SUBSETS,
                value=diagnostics.GOSH_SAMPLED_SUBSETS,
                step=10_000,
                help=f"With more than {diagnostics.GOSH_ALL_SUBSETS_MAX_K} studies a random "
                "sample of subsets is fitted (metafor's default is 1,000,000).",
            )
            seed = right.number_input(
                "Random seed of the sample",
                min_value=0,
                max_value=2**31 - 1,
                value=20240601,
                step=1,
                help="The same seed gives the same subsets.",
            )
        run = st.form_submit_button(
            "Compute GOSH plot", type="primary", icon=":material/scatter_plot:"
        )
    fits = min(2**k - 1, int(subsets)) if sampled else 2**k - 1
    method = bundle.result.method
    if fits >= SLOW_GOSH_FITS and method in ITERATIVE_METHODS:
        st.warning(
            f"{fits:,} fits with the iterative {method} estimator take several seconds "
            "(DerSimonian-Laird or a common-effect model is about ten times faster); "
            "a progress bar shows how far it is and Cancel stops it.",
            icon=":material/hourglass_top:",
        )
    options = {"seed": int(seed), "subsets": int(subsets)} if sampled else {}
    key = _inputs_key(bundle, options)
    if not run and not _shown_before("gosh", key):
        show_if_cancelled("gosh", "The GOSH analysis")
        st.caption("Press the button to run the analysis (it can take a while with many studies).")
        return
    running = f"Fitting {_gosh_size(k, int(subsets))}\u2026"
    outcome, seconds = run_with_progress(
        "gosh", running, compute_extra.gosh_results, table, bundle.settings.to_dict(), options
    )
    _messages(outcome, "GOSH")
    if not outcome.ok:
        return
    seconds = _remember("gosh", key, seconds, run)
    st.caption(f"GOSH analysis finished: {len(outcome.value):,} fits {duration_text(seconds)}.")
    _, log_axis, _ = display_scale(bundle)
    label = measure_label(bundle)
    few = len(outcome.value) < FEW_SUBSETS
    fig = gosh_figure(
        outcome.value,
        log_scale=log_axis,
        x_label=f"{label} (log scale)" if log_axis else label,
        bins=COARSE_BINS if few else (90, 70),
    )
    st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG, key="gosh_plot")
    if not log_axis and display_scale(bundle)[0] != "none":
        st.caption("The estimates are on the analysis scale of the measure.")


# ----------------------------------------------------------------------- permutation


def permutation_panel(table: pd.DataFrame, bundle: AnalysisBundle) -> None:
    """Permutation test of the pooled effect, on demand."""
    st.subheader("Permutation test")
    if _blocked(bundle, "The permutation test"):
        return
    st.caption(
        "Flips the sign of the study effects at random (metafor's permutest) to get "
        "a p-value that does not rely on the normal approximation."
    )
    with st.form("permutation_form", border=False):
        left, right = st.columns(2)
        iterations = left.number_input(
            "Iterations", min_value=100, max_value=100_000, value=1000, step=100
        )
        seed = right.number_input("Random seed", min_value=0, max_value=2**31 - 1, value=1, step=1)
        run = st.form_submit_button(
            "Run permutation test", type="primary", icon=":material/shuffle:"
        )
    options = {"iterations": int(iterations), "seed": int(seed)}
    key = _inputs_key(bundle, options)
    if not run and not _shown_before("permutation", key):
        show_if_cancelled("permutation", "The permutation test")
        st.caption("Press the button to run the test.")
        return
    running = f"Running {int(iterations):,} permutations\u2026"
    outcome, seconds = run_with_progress(
        "permutation",
        running,
        compute_extra.permutation_results,
        table,
        bundle.settings.to_dict(),
        options,
    )
    _messages(outcome, "Permutation test")
    if not outcome.ok:
        return
    seconds = _remember("permutation", key, seconds, run)
    st.caption(f"Permutation test finished {duration_text(seconds)}.")
    perm = outcome.value
    res = bundle.result
    cols = st.columns(3)
    cols[0].metric("Permutation p-value", p_text(_first(perm.pval)))
    cols[1].metric(
        f"Model p-value ({'t' if res.test == 'knha' else 'z'}-test)",
        p_text(_first(perm.pval_model)),
    )
    cols[2].metric("Permutations", f"{int(perm.iterations):,}")
    if perm.exact:
        st.caption(
            f"Exact test: all {int(perm.iterations):,} sign flips of the {res.k} studies were "
            "used (fewer than the iterations asked for), so the seed plays no role."
        )
    else:
        st.caption(
            f"{int(perm.iterations):,} random sign flips (the observed data count as one) "
            f"with seed {int(seed)}; rerun with another seed to see the Monte Carlo "
            "variation."
        )


def _first(values) -> float:
    """The intercept's entry of a per-coefficient array."""
    return float(np.asarray(values, dtype=float).ravel()[0])
