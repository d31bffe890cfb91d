"""The Certainty (GRADE) page: domain ratings with suggestions, the summary of findings,
exports, and the "what would it take" panel. Statistics come from :mod:`igmeta.app.evidence.grade`
and
:mod:`igmeta.app.evidence.what_if_trial`; this module only draws widgets, caches and results."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from igmeta.app.evidence.clinical import pooled_control_risk
from igmeta.app.evidence.grade import (
    DOMAIN_LABELS,
    DOMAINS,
    STARTS,
    certainty,
    domain_levels,
    grade_suggestions,
    sof_table,
    summary_of_findings,
)
from igmeta.app.evidence.what_if_trial import (
    HypotheticalTrial,
    critical_z,
    cumulative_z,
    extended_table,
    information_size_for,
    smallest_trial,
    what_if,
    what_if_available,
)
from igmeta.app.outputs.report import report_html
from igmeta.app.outputs.safe_export import to_safe_csv_bytes
from igmeta.app.pipeline.analysis import AnalysisBundle, AnalysisSettings
from igmeta.formatting import format_ci, format_pvalue
from igmeta.plots.cumulative_z import cumulative_z_figure
from igmeta.risk_of_bias import overall_for_grade
from ui import compute, state
from ui.text import plain

__all__ = ["GradeInputs", "grade_inputs", "render_grade", "render_what_if"]

PLOT_CONFIG = {"displaylogo": False}


@dataclass(frozen=True, slots=True)
class GradeInputs:
    """The page's inputs: outcome name, study design, baseline risk, threshold, OIS change."""

    outcome: str
    start: str
    baseline_risk: float | None
    threshold: float | None
    relative_change: float


def _on_change(name: str):
    return lambda: state.remember_grade(name)


def _widget(kind, label: str, name: str, default, **options):
    """A widget bound to the user's GRADE choice ``name`` (kept across pages)."""
    state.restore_grade_widget(name, default)
    return kind(label, key=state.grade_widget_key(name), on_change=_on_change(name), **options)


# --------------------------------------------------------------------------- cached engine


@st.cache_data(max_entries=compute.CACHE_ENTRIES, show_spinner=False, hash_funcs=compute.HASH_FUNCS)
def _suggestions(table: pd.DataFrame, settings: dict, options: dict) -> dict:
    bundle = compute.analysis_bundle(table, settings)
    return grade_suggestions(bundle, rob_overall=overall_for_grade(table), **options)


@st.cache_data(max_entries=compute.CACHE_ENTRIES, show_spinner=False, hash_funcs=compute.HASH_FUNCS)
def _what_if(table: pd.DataFrame, settings: dict, trial: tuple, options: dict) -> dict:
    """Summary, imprecision before/after, cumulative Z series and OIS (or an error)."""
    s = AnalysisSettings.from_dict(settings)
    hypothetical = HypotheticalTrial(*trial)
    before = compute.analysis_bundle(table, settings)
    try:
        result = what_if(table, s, hypothetical, before=before, **options)
    except ValueError as exc:
        return {"error": str(exc)}
    extended = extended_table(table, s, hypothetical)
    series, series_error = None, None
    if result.after.result is not None:
        try:
            series = cumulative_z(result.after, extended, hypothetical_last=True)
        except ValueError as exc:
            series_error = str(exc)
    return {
        "error": None,
        "counts": result.counts,
        "summary": result.summary(),
        "before": result.imprecision_before,
        "after": result.imprecision_after,
        "series": series,
        "series_error": series_error,
        "ois": information_size_for(
            before, options.get("control_risk"), options["relative_change"]
        ),
    }


@st.cache_data(max_entries=compute.CACHE_ENTRIES, show_spinner=False, hash_funcs=compute.HASH_FUNCS)
def _smallest(table: pd.DataFrame, settings: dict, control_risk: float, effect: float) -> str:
    try:
        return smallest_trial(
            table, AnalysisSettings.from_dict(settings), control_risk, effect
        ).message
    except ValueError as exc:
        return f"Not available: {exc}"


# --------------------------------------------------------------------------- GRADE panel


def grade_inputs(bundle: AnalysisBundle) -> GradeInputs:
    """Outcome, design, baseline risk, decision threshold and OIS inputs."""
    bundled = state.get_source() == state.BUNDLED_SOURCE
    c1, c2, c3, c4 = st.columns([2, 1.4, 1.2, 1.2])
    outcome = _widget(
        c1.text_input,
        "Outcome",
        "outcome",
        "Pain relief (responders)" if bundled else "Outcome",
        max_chars=200,
    )
    designs = list(STARTS)
    stored = state.grade_value("start")
    if stored is not None and stored not in STARTS:
        designs.append(str(stored))  # kept as typed; certainty() flags it
    start = _widget(
        c2.radio,
        "Study design (starting certainty)",
        "start",
        "randomised",
        options=designs,
        format_func=lambda code: (
            f"{STARTS[code][0]} (start {'High' if code == 'randomised' else 'Low'})"
            if code in STARTS
            else f"{code} (not a GRADE design)"
        ),
        help="The IG comparison pools the randomised trials; single-arm open-label studies "
        "would start at Low.",
    )
    default_risk = pooled_control_risk(bundle)
    baseline = None
    if math.isfinite(default_risk) and 0 < default_risk < 1:
        baseline = _widget(
            c3.number_input,
            "Baseline (control) risk",
            "baseline",
            round(default_risk, 3),
            min_value=0.001,
            max_value=0.999,
            step=0.01,
            format="%.3f",
            help=f"Default: pooled control-arm risk of the analysed studies ({default_risk:.1%}).",
        )
    threshold = _widget(
        c4.number_input,
        "Decision threshold (empty: the null)",
        "threshold",
        None,
        step=0.05,
        format="%.2f",
        help="A clinical threshold on the effect scale, e.g. RR 1.25; empty uses no effect.",
    )
    change = _widget(
        st.slider,
        "Relative effect the optimal information size should detect (%)",
        "ois_change",
        25,
        min_value=5,
        max_value=60,
        step=5,
        help="Relative risk reduction (or increase) of the OIS: alpha 0.05, power 80%.",
    )
    if state.grade_value("baseline") is None:
        baseline = None  # not changed by the user: the pooled control-arm risk, unrounded
    return GradeInputs(
        str(outcome or "Outcome"),
        str(start),
        None if baseline is None else float(baseline),
        None if threshold is None else float(threshold),
        float(change) / 100.0,
    )


def _domain_rows(suggestions: dict) -> dict[str, str]:
    """One select box per domain, with the suggestion and its reason beside it."""
    judgements: dict[str, str] = {}
    for domain in DOMAINS:
        suggestion = suggestions[domain]
        allowed = list(domain_levels(domain))
        default = suggestion.level or allowed[0]
        stored = state.grade_value(domain)
        options = list(allowed)
        if stored is not None and stored not in allowed:
            options.append(str(stored))  # kept as typed (e.g. from an old scenario), flagged
        left, middle, right = st.columns([1.1, 1.3, 4])
        left.markdown(f"**{DOMAIN_LABELS[domain]}**")
        level = _widget(
            middle.selectbox,
            DOMAIN_LABELS[domain],
            domain,
            default,
            options=options,
            label_visibility="collapsed",
        )
        said = f"Suggested: **{suggestion.level}**. " if suggestion.level else ""
        mine = "" if stored is None or stored == suggestion.level else " (your rating)"
        right.markdown(said + plain(suggestion.reason) + mine)
        judgements[domain] = level
    return judgements


def render_grade(table: pd.DataFrame, bundle: AnalysisBundle) -> GradeInputs:
    """The GRADE assessment and summary of findings of the current analysis."""
    inputs = grade_inputs(bundle)
    options = {
        "threshold": inputs.threshold,
        "control_risk": inputs.baseline_risk,
        "relative_change": inputs.relative_change,
    }
    suggestions = _suggestions(table, bundle.settings.to_dict(), options)
    st.subheader("Downgrading domains")
    judgements = _domain_rows(suggestions)
    grade = certainty(judgements, inputs.start)
    for problem in grade.problems:
        st.warning(plain(problem), icon=":material/warning:")
    frame, notes = summary_of_findings(
        bundle,
        judgements,
        outcome=inputs.outcome,
        start=inputs.start,
        baseline_risk=inputs.baseline_risk,
        suggestions=suggestions,
    )
    st.subheader("Summary of findings")
    st.metric("Certainty of evidence", grade.text(), border=True)
    shown = pd.DataFrame({"Summary of findings": frame.columns, "": frame.iloc[0].to_numpy()})
    st.dataframe(shown, hide_index=True, width="stretch", key="grade_sof")
    st.markdown("\n".join(f"{i}. {plain(note)}" for i, note in enumerate(notes, 1)))
    c1, c2 = st.columns(2)
    c1.download_button(
        "Summary of findings (CSV)",
        to_safe_csv_bytes(sof_table(frame, notes)),
        file_name="igmeta_grade_sof.csv",
        mime="text/csv",
        key="grade_dl_csv",
        on_click="ignore",
        icon=":material/download:",
    )

    # Read the session now: the download's callable runs later, outside the script run,
    # where st.session_state cannot be read.
    source = state.get_source()

    def _report() -> str:
        return report_html(
            table,
            bundle.settings,
            bundle=bundle,
            source=source,
            baseline_risk=inputs.baseline_risk,
            grade=(frame, notes),
        )

    c2.download_button(
        "HTML report with this assessment",
        _report,
        file_name="igmeta_report.html",
        mime="text/html",
        key="grade_dl_report",
        on_click="ignore",
        icon=":material/description:",
    )
    return inputs


# --------------------------------------------------------------------------- what if


def _result_metric(column, label: str, row: pd.Series, alpha: float) -> None:
    column.metric(label, format_ci(row["estimate"], row["ci_lower"], row["ci_upper"]), border=True)
    verdict = "significant" if row["pval"] < alpha else "not significant"
    column.caption(f"{format_pvalue(row['pval'])} ({verdict} at {alpha:g}), k = {int(row['k'])}")


def render_what_if(table: pd.DataFrame, bundle: AnalysisBundle, inputs: GradeInputs) -> None:
    """Sliders for a hypothetical new trial and where the result would move."""
    st.subheader("What would it take? A hypothetical new trial")
    s = bundle.settings
    reason = what_if_available(s)
    if reason:
        st.info(reason, icon=":material/info:")
        return
    default_risk = pooled_control_risk(bundle)
    default_risk = default_risk if 0 < default_risk < 1 else 0.2
    ratio = s.measure != "RD"
    c1, c2, c3 = st.columns(3)
    n = _widget(c1.slider, "Participants per arm", "wi_n", 100, min_value=5, max_value=3000, step=5)
    p0 = _widget(
        c2.slider,
        "Control risk of the new trial",
        "wi_p0",
        float(min(max(round(default_risk, 2), 0.01), 0.95)),
        min_value=0.01,
        max_value=0.95,
        step=0.01,
    )
    effect = _widget(
        c3.slider,
        f"True effect in the new trial ({s.measure})",
        "wi_effect",
        1.0 if ratio else 0.0,
        min_value=0.2 if ratio else -0.5,
        max_value=5.0 if ratio else 0.5,
        step=0.05 if ratio else 0.01,
    )
    options = {
        "threshold": inputs.threshold,
        "relative_change": inputs.relative_change,
        "control_risk": inputs.baseline_risk,
    }
    out = _what_if(table, s.to_dict(), (int(n), float(p0), float(effect)), options)
    if out["error"]:
        st.warning(plain(out["error"]), icon=":material/warning:")
        return
    ai, n1i, ci, n2i = out["counts"]
    summary = out["summary"]
    st.caption(
        f"The new trial: {ai}/{n1i} events with treatment, {ci}/{n2i} with control, added to "
        "the table and analysed with the current settings."
    )
    m1, m2 = st.columns(2)
    alpha = round(1.0 - s.level, 10)
    _result_metric(m1, "Pooled now", summary.loc["current"], alpha)
    _result_metric(m2, "With the new trial", summary.loc["with new trial"], alpha)
    before, after = out["before"], out["after"]
    if before is not None and after is not None:
        st.markdown(
            f"GRADE imprecision (suggested): **{before.level or 'not assessable'}** now "
            f"\u2192 **{after.level or 'not assessable'}** with the new trial. "
            + plain(after.reason)
        )
    st.markdown(
        "**Smallest trial that flips significance** (at this effect and control risk): "
        + plain(_smallest(table, s.to_dict(), float(p0), float(effect)))
    )
    series = out["series"]
    if out["series_error"]:
        st.info(f"No cumulative plot: {plain(out['series_error'])}", icon=":material/info:")
    if series is not None:
        fig = cumulative_z_figure(series, critical=critical_z(s), information_size=out["ois"])
        st.plotly_chart(fig, width="stretch", config=PLOT_CONFIG, key="grade_cumulative_z")
        st.caption(
            "Cumulative Z of the current analysis as studies are added by year (the new "
            "trial last, \u25c6), with the conventional boundaries and the optimal "
            "information size. Not a formal trial sequential analysis: no alpha-spending "
            "boundaries and no heterogeneity correction."
        )
