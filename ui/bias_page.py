"""Display blocks of the publication-bias page (funnel plot, Egger, Begg, trim-and-fill,
PET-PEESE, selection model).

Everything shown comes from :func:`ui.compute_extra.bias_results`; this module only lays
out widgets, figures and formatted numbers. No user text is rendered as HTML or markdown:
study labels only reach the plot, which escapes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from igmeta.app.outputs.tables import display_scale
from igmeta.app.pipeline.analysis import AnalysisBundle
from igmeta.app.pipeline.diagnostics import BiasResults, Outcome
from igmeta.effects import measure_info
from igmeta.formatting import format_ci, format_number, format_pvalue
from igmeta.plots import funnel_figure
from ui.text import plain

__all__ = ["BiasOptions", "bias_controls", "measure_label", "p_text", "render_bias"]

#: Below this many studies the asymmetry tests have too little power (Cochrane Handbook).
LOW_POWER_K = 10
FUNNEL_HEIGHT_PX = 760
ESTIMATORS = {"L0": "L0 (default)", "R0": "R0"}
SIDES = {"left": "left", "right": "right"}
_DIRECTIONS = {"greater": "above", "less": "below"}
#: Characters with a meaning in Streamlit markdown (CommonMark, LaTeX, emoji shortcodes,
#: coloured text, directives): escaped with a backslash in engine messages, which can
#: contain study labels.


@dataclass(frozen=True, slots=True)
class BiasOptions:
    """The display choices of the page."""

    show_filled: bool = True
    estimator: str = "L0"
    contours: bool = True
    egger_line: bool = True


def p_text(value) -> str:
    """A p-value for a metric: ``"0.017"``, ``"< 0.0001"`` or ``"not estimable"``."""
    return format_pvalue(value).removeprefix("p ").removeprefix("= ")


def measure_label(bundle: AnalysisBundle) -> str:
    """Name of the effect measure of the fitted model (natural scale)."""
    code = bundle.result.measure if bundle.result is not None else None
    return measure_info(code or bundle.settings.measure).label


def _has_null(bundle: AnalysisBundle) -> bool:
    null = display_scale(bundle)[2]
    return bool(np.isfinite(null))


def bias_controls(bundle: AnalysisBundle) -> BiasOptions:
    """The funnel-plot options above the plot."""
    cols = st.columns([1.2, 1.2, 1.2, 1.4])
    show_filled = cols[0].toggle(
        "Show trim-and-fill studies",
        value=True,
        help="Draw the studies that trim-and-fill imputes as missing (hollow orange circles).",
    )
    egger_line = cols[1].toggle(
        "Egger's regression line",
        value=True,
        help="The fitted line of Egger's test: the expected effect "
        "as a function of the standard error.",
    )
    contours = False
    if _has_null(bundle):
        contours = cols[2].toggle(
            "Significance contours",
            value=True,
            help="Shaded regions where a single study would be "
            "statistically significant at p < 0.10, 0.05 and 0.01.",
        )
    estimator = cols[3].radio(
        "Trim-and-fill estimator",
        list(ESTIMATORS),
        format_func=ESTIMATORS.get,
        horizontal=True,
        help="Duval and Tweedie's estimators of the number of missing "
        "studies; L0 is metafor's default.",
    )
    return BiasOptions(
        show_filled=show_filled, estimator=estimator, contours=contours, egger_line=egger_line
    )


def _power_notes(k: int) -> None:
    if k < 3:
        st.info(
            f"This analysis has {k} stud{'y' if k == 1 else 'ies'} with a defined "
            "effect. Egger's test and trim-and-fill need at least 3 studies, so there "
            "is no funnel asymmetry to assess; the funnel below only shows the "
            "studies.",
            icon=":material/block:",
        )
    elif k < LOW_POWER_K:
        st.warning(
            f"Only {k} studies. With fewer than {LOW_POWER_K} studies the tests for "
            "funnel-plot asymmetry have very low power: a non-significant result does "
            "not rule out small-study effects or publication bias, and a significant "
            "one can be chance (Cochrane Handbook, 13.3.5.4). Read these results as "
            "descriptive.",
            icon=":material/warning:",
        )


def _funnel(bundle: AnalysisBundle, results: BiasResults, options: BiasOptions) -> None:
    _, log_axis, _ = display_scale(bundle)
    points = results.funnel
    if not options.show_filled:
        points = points[~points["filled"]]
    line, line_name = None, ""
    if options.egger_line:
        for outcome, name in (
            (results.egger_rma, "the regression test on the model"),
            (results.egger_lm, "the classical weighted regression"),
        ):
            if outcome.ok and np.isfinite(outcome.value.b0) and np.isfinite(outcome.value.b1):
                line, line_name = (outcome.value.b0, outcome.value.b1), name
                break
    label = measure_label(bundle)
    x_label = f"{label} (log scale)" if log_axis else label
    fig = funnel_figure(
        points,
        center=results.center,
        log_scale=log_axis,
        contours=options.contours,
        egger_line=line,
        x_label=x_label,
    )
    fig.update_layout(height=FUNNEL_HEIGHT_PX)
    st.plotly_chart(fig, width="stretch", config={"displaylogo": False}, key="funnel_plot")
    notes = ["Dashed lines: pseudo 95% confidence limits around the pooled estimate (solid line)."]
    if options.contours:
        notes.append(
            "Grey shading: where a study would be significant against no effect "
            "(darker = smaller p)."
        )
    if line is not None:
        notes.append(f"Dotted line: Egger's line from {line_name}.")
    elif options.egger_line:
        notes.append("Egger's line is not drawn: the test is undefined here.")
    if not _has_null(bundle):
        notes.append("No significance contours: a single proportion has no 'no effect' value.")
    if log_axis:
        notes.append("The axis is logarithmic; tick labels are on the natural scale.")
    st.caption(" ".join(notes))


def _undefined(outcome: Outcome) -> None:
    st.info(plain(outcome.error or "Not estimable."), icon=":material/info:")


def _stat_text(test: str, value: float, dfs: float) -> str:
    if test in ("knha", "t"):
        return f"t = {format_number(value)} (df = {format_number(dfs, 0)})"
    return f"z = {format_number(value)}"


def _interval_text(values: dict) -> str:
    return format_ci(values["estimate"], values["ci_lower"], values["ci_upper"])


def _egger(results: BiasResults, label: str) -> None:
    st.subheader("Egger's test")
    left, right = st.columns(2)
    forms = (
        (
            left,
            results.egger_rma,
            "rma",
            "On the model",
            "Regression test on the model (metafor regtest): meta-regression of the effects on "
            "their standard errors with the model's own tau\u00b2 estimator and test.",
        ),
        (
            right,
            results.egger_lm,
            "lm",
            "Classical",
            "Classical Egger test (Egger et al. 1997): weighted least-squares regression on the "
            "standard errors with an estimated residual variance and a t-test.",
        ),
    )
    for col, outcome, name, title, detail in forms:
        with col:
            if not outcome.ok:
                st.markdown(f"**{title}**")
                _undefined(outcome)
                continue
            egger = outcome.value
            st.metric(f"{title}: p", p_text(egger.pval), help=detail)
            limit = results.limits.get(name)
            st.caption(
                f"{_stat_text(egger.test, egger.zval, egger.dfs)}; "
                f"limit estimate (standard error 0): {label.lower()} "
                f"{_interval_text(limit) if limit else 'not estimable'}"
            )


def _begg(results: BiasResults) -> None:
    st.subheader("Begg's test")
    outcome = results.begg
    if not outcome.ok:
        _undefined(outcome)
        return
    begg = outcome.value
    left, right = st.columns(2)
    left.metric("Kendall's tau", format_number(begg.tau, 3))
    right.metric(
        "Begg: p",
        p_text(begg.pval),
        help="Exact permutation p-value"
        if begg.exact
        else "Normal approximation (ties or many studies)",
    )
    st.caption(
        "Exact p-value (no ties)."
        if begg.exact
        else "Normal approximation of the p-value (tied values)."
    )


def _trimfill(results: BiasResults, label: str) -> None:
    st.subheader("Trim and fill")
    outcome = results.trimfill
    if not outcome.ok:
        _undefined(outcome)
        return
    tf = outcome.value
    left, right = st.columns(2)
    left.metric(
        "Missing studies",
        f"{tf.k0}",
        help=f"Estimated number of missing studies ({tf.estimator} estimator; "
        f"standard error {format_number(tf.se_k0)}).",
    )
    adjusted = results.adjusted
    if adjusted is not None:
        right.metric(
            "Adjusted estimate",
            format_number(adjusted["estimate"]),
            help=f"The {label.lower()} pooled over the observed and imputed studies.",
        )
        level = format_number(100 * adjusted["level"], 0)
        st.caption(
            f"Adjusted {label.lower()} with {tf.k0} "
            f"stud{'y' if tf.k0 == 1 else 'ies'} imputed on the {SIDES[tf.side]} side: "
            f"{_interval_text(adjusted)} ({level}% CI"
            f"{', z-test as in metafor' if tf.k0 else ''}); observed: "
            f"{_interval_text(results.observed)}."
        )
    if tf.estimator == "R0" and np.isfinite(tf.p_k0):
        st.caption(f"R0 test of no missing studies: {format_pvalue(tf.p_k0)}.")
    if tf.k0 == 0:
        st.caption(
            "Trim-and-fill finds no missing studies: the adjusted estimate equals the observed one."
        )


def _adjusted_sentence(label: str, interval: dict, how: str) -> str:
    """The plain-words reading of a bias-adjusted estimate."""
    level = format_number(100 * interval["level"], 0)
    return (
        f"If small studies with non-significant results are missing, the {label.lower()} "
        f"adjusted for that would be {_interval_text(interval)} ({level}% CI; {how})."
    )


def _panel(title: str, outcome: Outcome):
    """A panel heading; the engine's result, or None after explaining why there is none."""
    st.subheader(title)
    if not outcome.ok:
        _undefined(outcome)
        return None
    return outcome.value


def _caution(k: int, what: str) -> None:
    if k < LOW_POWER_K:
        st.caption(f"Caution: with {k} studies (fewer than {LOW_POWER_K}) {what}.")


def _pet_peese(results: BiasResults, label: str, k: int) -> None:
    """PET and PEESE estimates with the conditional one highlighted."""
    pp = _panel("PET-PEESE", results.petpeese)
    if pp is None:
        return
    limits = results.pet_peese_limits
    chosen = limits[pp.chosen_name]
    st.metric(
        f"{pp.chosen_name} estimate",
        format_number(chosen["estimate"]),
        help="Stanley and Doucouliagos (2014): weighted least-squares regression of the "
        "effects on their standard errors (PET) or variances (PEESE), weights 1/variance, "
        "multiplicative dispersion, t-test. PEESE is reported when PET's estimate differs "
        "from no effect at two-sided p < 0.10 (one-sided 5%).",
    )
    st.caption(_adjusted_sentence(label, chosen, f"{pp.chosen_name}, conditional rule"))
    st.caption(
        f"PET: {_interval_text(limits['PET'])} (test of no effect "
        f"{format_pvalue(pp.pet_pval)}); PEESE: {_interval_text(limits['PEESE'])}. "
        f"{pp.chosen_name} is used because PET's p is "
        f"{'below' if pp.use_peese else 'not below'} {format_number(pp.alpha)}."
    )
    _caution(k, "these regressions are very imprecise and can over-correct")


def _selection_model(results: BiasResults, label: str, k: int) -> None:
    """The step-function and beta selection models' adjusted estimates."""
    sel = _panel("Selection model", results.selection)
    if sel is not None:
        _step_selection_model(results, sel, label)
    _beta_selection_model(results, label)
    if sel is not None or results.selection_beta.ok:
        _caution(k, "the selection model is barely identified")


def _step_selection_model(results: BiasResults, sel, label: str) -> None:
    interval = results.selection_interval
    st.metric(
        "Selection-adjusted estimate",
        format_number(interval["estimate"]),
        help="Step-function selection model (Vevea and Hedges 1995; metafor selmodel, "
        "type 'stepfun', steps 0.025 and 1), fitted by maximum likelihood: studies with a "
        "one-sided p-value above 0.025 may be published with a different probability.",
    )
    st.caption(_adjusted_sentence(label, interval, "step-function selection model"))
    st.caption(
        f"Relative publication probability of non-significant studies: "
        f"{format_number(sel.delta[1])} (1 = no selection; {sel.k_per_interval[0]} "
        f"significant, {sel.k_per_interval[1]} non-significant studies; significant = "
        f"one-sided p \u2264 0.025 for an effect {_DIRECTIONS[sel.alternative]} no effect, "
        "the direction of the pooled estimate). "
        f"Likelihood-ratio test of no selection: {format_pvalue(sel.lrt_pval)}."
    )


def _beta_selection_model(results: BiasResults, label: str) -> None:
    """The beta selection model's adjusted estimate, below the step function's."""
    outcome = results.selection_beta
    if not outcome.ok:
        if outcome.error != results.selection.error:  # the same reason is shown once
            st.caption(f"Beta selection model: {plain(outcome.error or 'not estimable.')}")
        return
    sel, interval = outcome.value, results.selection_beta_interval
    st.metric(
        "Beta-model adjusted estimate",
        format_number(interval["estimate"]),
        help="Beta selection model (Citkowicz and Vevea 2017; metafor selmodel, type "
        "'beta'): the publication probability varies smoothly with the one-sided p-value "
        "as p^(delta1-1) (1-p)^(delta2-1).",
    )
    st.caption(_adjusted_sentence(label, interval, "beta selection model"))
    st.caption(
        f"Beta weight function: delta1 = {format_number(sel.delta[0])}, delta2 = "
        f"{format_number(sel.delta[1])} (both 1 = no selection; delta1 below 1 = studies "
        "with small p-values are more likely to be published). "
        f"Likelihood-ratio test of no selection (2 df): {format_pvalue(sel.lrt_pval)}."
    )


def _test_warnings(results: BiasResults) -> None:
    """Each test's warnings once, naming every test that gave the same message."""
    by_message: dict[str, list[str]] = {}
    for name, outcome in (
        ("Egger's test on the model", results.egger_rma),
        ("Classical Egger test", results.egger_lm),
        ("Begg's test", results.begg),
        ("Trim-and-fill", results.trimfill),
        ("PET-PEESE", results.petpeese),
        ("Selection model", results.selection),
        ("Beta selection model", results.selection_beta),
    ):
        for message in outcome.warnings:
            names = by_message.setdefault(message, [])
            if name not in names:
                names.append(name)
    for message, names in by_message.items():
        st.warning(f"{' and '.join(names)}: {plain(message)}", icon=":material/warning:")


def render_bias(bundle: AnalysisBundle, results: BiasResults, options: BiasOptions) -> None:
    """The funnel plot with the tests beside it, then the tests' warnings."""
    _power_notes(results.k)
    label = measure_label(bundle)
    plot_col, tests_col = st.columns([2.2, 1], gap="medium")
    with plot_col:
        _funnel(bundle, results, options)
    with tests_col:
        _egger(results, label)
        _begg(results)
        _trimfill(results, label)
        _pet_peese(results, label, results.k)
        _selection_model(results, label, results.k)
    _test_warnings(results)
    st.caption(
        "Funnel-plot asymmetry (small-study effects) can come from publication bias, "
        "but also from true heterogeneity, chance or poorer quality of small studies."
    )
