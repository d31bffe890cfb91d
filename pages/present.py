"""Presenter mode: a projector-friendly walk from the published analysis to alternatives."""

from __future__ import annotations

import numpy as np
import streamlit as st

from igmeta.clinical import nnt_from_bundle, pooled_control_risk
from igmeta.exports import enlarge_figure, forest_for, funnel_for
from igmeta.formatting import format_number, format_percent, format_pvalue
from igmeta.methods_text import methods_paragraph
from igmeta.scenarios import (
    BUILTIN_PUBLISHED,
    BUILTIN_PUBLISHED_SINGLE_ARM,
    VARIATIONS,
    ScenarioError,
    applicable_variations,
    builtin_scenario,
    describe_changes,
    study_influence,
    summarise,
)
from ui import compute, share, state
from ui.bootstrap import require_app

require_app()

K = state.journal_key

# Constant stylesheets only: no user text is ever placed in them.
_LARGE_TYPE_CSS = """<style>
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stMarkdownContainer"] li {
  font-size: 1.5rem; line-height: 1.45; }
[data-testid="stMain"] h1 { font-size: 3rem; }
[data-testid="stMain"] h2 { font-size: 2.2rem; }
[data-testid="stMain"] h3 { font-size: 1.8rem; }
[data-testid="stMain"] [data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p {
  font-size: 2.9rem; font-weight: 700; line-height: 1.2; }
[data-testid="stMain"] [data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"] p {
  font-size: 1.35rem; }
[data-testid="stMain"] [data-testid="stMetric"] { border: 2px solid currentColor;
  border-radius: 10px; padding: 0.6rem 1rem; }
[data-testid="stMain"] button p { font-size: 1.35rem; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 1.15rem; }
</style>"""
_LIGHT_CSS = """<style>
.stApp, [data-testid="stMain"], [data-testid="stHeader"] { background-color: #FFFFFF; }
[data-testid="stMain"] { color: #000000; }
[data-testid="stMain"] [data-testid="stMetricValue"] { color: #000000; }
</style>"""
_DARK_CSS = """<style>
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"],
[data-testid="stHeader"] { background-color: #0B0B0B !important; }
[data-testid="stMain"], [data-testid="stMain"] p, [data-testid="stMain"] li,
[data-testid="stMain"] h1, [data-testid="stMain"] h2, [data-testid="stMain"] h3,
[data-testid="stMain"] label, [data-testid="stMain"] summary,
[data-testid="stMain"] [data-testid="stMetricValue"],
[data-testid="stMain"] [data-testid="stMetricLabel"],
[data-testid="stMain"] [data-testid="stCaptionContainer"] { color: #F5F5F5 !important; }
[data-testid="stMain"] [data-testid="stExpander"] details { background-color: #161616;
  border-color: #5A5A5A; }
[data-testid="stMain"] button { background-color: #1F1F1F; color: #F5F5F5;
  border-color: #8C8C8C; }
[data-testid="stMain"] button[kind="primary"] { background-color: #E69F00; color: #000000;
  border-color: #E69F00; }
[data-testid="stMain"] button[kind="primary"] p { color: #000000 !important; }
[data-testid="stMain"] [data-testid="stAlertContainer"] { background-color: #2B2100 !important;
  border: 1px solid #E69F00; }
[data-testid="stMain"] [data-testid="stAlertContainer"] p,
[data-testid="stMain"] [data-testid="stAlertContainer"] svg { color: #FFE7A8 !important; }
[data-testid="stMain"] [data-testid="stCode"] pre { background-color: #161616; }
[data-testid="stMain"] [data-testid="stCode"] code { color: #F5F5F5; }
</style>"""

STARTS = {
    BUILTIN_PUBLISHED: "Published: IG vs placebo (risk ratio)",
    BUILTIN_PUBLISHED_SINGLE_ARM: "Published: pooled share of responders",
    "current": "The current analysis",
}
MIN_FIGURE_HEIGHT = 480
TEXT_SIZES = (1.0, 1.1, 1.25, 1.4, 1.6)
DEFAULT_STEPS = (
    "Random effects (REML)",
    "Hartung-Knapp (REML)",
    "metafor zero cells (MH)",
    "Peto odds ratio",
    "Freeman-Tukey transform",
    "RCTs only",
)


def _bundle(table, settings):
    return compute.analysis_bundle(table, settings.to_dict())


def _projected(fig):
    """The figure with enlarged text, filling the page width."""
    big = enlarge_figure(fig, text_size)
    big.update_layout(
        width=None, autosize=True, height=max(int(big.layout.height or 0), MIN_FIGURE_HEIGHT)
    )
    return big


def _go(step: int) -> None:
    state.set_presenter_step(step)


table = state.get_table()
settings = state.get_settings()
db = share.store()

top = st.columns([3, 1.3])
top[0].title("Presenter mode")
theme = top[1].radio(
    "Theme",
    ["light", "dark"],
    horizontal=True,
    key=K("present_theme"),
    format_func={"light": "Light", "dark": "Dark (high contrast)"}.get,
)
st.markdown(_LARGE_TYPE_CSS, unsafe_allow_html=True)
st.markdown(_DARK_CSS if theme == "dark" else _LIGHT_CSS, unsafe_allow_html=True)

with st.expander("Set up the talk", expanded=False):
    default_start = (
        BUILTIN_PUBLISHED_SINGLE_ARM if settings.analysis == "single_arm" else BUILTIN_PUBLISHED
    )
    start = st.radio(
        "Start from",
        list(STARTS),
        index=list(STARTS).index(default_start),
        format_func=STARTS.get,
        key=K("present_start"),
        horizontal=True,
    )
    if start == "current":
        start_table, start_settings, start_name = table, settings, "Current analysis"
    else:
        builtin = builtin_scenario(start)
        start_table, start_settings, start_name = builtin.table, builtin.settings, builtin.name
    options = [f"var:{name}" for name in applicable_variations(start_settings, start_table)]
    saved = [
        item
        for item in (db.list(share.workspace(), include_builtin=False) if db is not None else [])
    ]
    options += [f"scn:{item.id}" for item in saved]
    saved_names = {f"scn:{item.id}": f"Scenario: {item.name}" for item in saved}

    def _label(option: str) -> str:
        return option[4:] if option.startswith("var:") else saved_names.get(option, option)

    defaults = [f"var:{name}" for name in DEFAULT_STEPS if f"var:{name}" in options]
    chosen = st.multiselect(
        "Then step through",
        options,
        default=defaults,
        format_func=_label,
        key=K(f"present_steps_{start}"),
    )
    c1, c2 = st.columns(2)
    labels = (
        [str(v) for v in start_table["study"].astype("string").fillna("")]
        if "study" in start_table
        else []
    )
    highlight_label = c1.selectbox(
        "Highlight a study",
        ["", *dict.fromkeys(labels)],
        format_func=lambda v: v or "(none)",
        key=K(f"present_highlight_{start}"),
    )
    baseline_pct = c2.number_input(
        "Control-group risk for the NNT (%)",
        min_value=0.1,
        max_value=99.9,
        value=None,
        step=1.0,
        key=K("present_baseline"),
        help="Leave empty to use the pooled control-group risk of the analysed studies "
        "(sum of control events / sum of control participants).",
    )
    event_is_good = c2.toggle(
        "The event is a good outcome (e.g. responder)", value=True, key=K("present_event_good")
    )
    show_funnel = c1.toggle("Show the funnel plot", value=True, key=K("present_funnel"))
    text_size = c1.select_slider(
        "Figure text size",
        options=TEXT_SIZES,
        value=1.25,
        format_func=lambda v: f"{v:.0%}",
        key=K("present_text_size"),
        help="Larger text for big rooms; reduce it if labels overlap on a narrow screen.",
    )

# Steps: the start, then each chosen variation (of the start) or saved scenario.
steps = [(f"Start \u2014 {start_name}", start_table, start_settings)]
for option in chosen:
    if option.startswith("var:"):
        variation = VARIATIONS[option[4:]]
        steps.append((variation.name, start_table, variation.apply(start_settings, start_table)))
    elif db is not None:
        try:
            scenario = db.load(option[4:])
        except ScenarioError:
            continue
        steps.append((f"Scenario \u2014 {scenario.name}", scenario.table, scenario.settings))

current = min(max(state.presenter_step(), 0), len(steps) - 1)
state.set_presenter_step(current)
label, step_table, step_settings = steps[current]
bundle = _bundle(step_table, step_settings)
previous = _bundle(*steps[current - 1][1:]) if current > 0 else None

nav = st.columns([1, 1, 5])
nav[0].button(
    "\u25c0 Previous",
    key=K("present_prev"),
    on_click=_go,
    args=(current - 1,),
    disabled=current == 0,
    width="stretch",
)
nav[1].button(
    "Next \u25b6",
    key=K("present_next"),
    on_click=_go,
    args=(current + 1,),
    disabled=current >= len(steps) - 1,
    type="primary",
    width="stretch",
)
nav[2].markdown(f"**Step {current + 1} of {len(steps)}: {share.plain(label)}**")

summary = summarise(bundle)
if bundle.result is None:
    st.error(share.plain(bundle.error or "No pooled result for this step."))
else:
    res = bundle.result
    cols = st.columns([2.4, 1, 1, 1, 1])
    cols[0].metric(f"{share.plain(summary['measure'])} ({res.level:.0%} CI)", summary["text"])
    cols[1].metric("p-value", format_pvalue(summary["pval"]).removeprefix("p ").removeprefix("= "))
    cols[2].metric("Studies", f"{summary['k']}")
    cols[3].metric("I\u00b2", format_percent(summary["i2"]))
    cols[4].metric(
        "tau\u00b2", format_number(summary["tau2"], 3) if np.isfinite(summary["tau2"]) else "\u2014"
    )
    if np.isfinite(summary["pi_lower"]) and step_settings.show_prediction:
        st.markdown(
            f"Prediction interval for a new study: **{format_number(summary['pi_lower'])}"
            f" to {format_number(summary['pi_upper'])}**"
        )
    if previous is not None:
        changes = describe_changes(previous, bundle)
        before = summarise(previous)
        st.markdown("**What changed since the previous step**")
        if changes:
            st.markdown("\n".join(f"- {share.plain(c)}" for c in changes))
        else:
            st.markdown("- Nothing that affects the result.")
        st.markdown(
            f"Result: {share.plain(before['text'])} \u2192 **{share.plain(summary['text'])}**"
        )

    highlight_row = None
    if highlight_label:
        matches = [
            i for i, lab in enumerate(bundle.validation.labels) if str(lab) == highlight_label
        ]
        highlight_row = matches[0] if matches else None
    fig = forest_for(
        bundle,
        step_table,
        theme=theme,
        highlight=str(highlight_row) if highlight_row is not None else None,
    )
    st.plotly_chart(
        _projected(fig),
        theme=None,
        width="stretch",
        config={"displaylogo": False},
        key=K(f"present_forest_{current}"),
    )

    if highlight_label:
        detail = (
            study_influence(bundle, step_table, highlight_row, run=_bundle)
            if highlight_row is not None
            else None
        )
        if detail is None:
            st.markdown(f"**{share.plain(highlight_label)}** is not part of this step's analysis.")
        else:
            without = detail["without"]
            change = f"{detail['change']:+.0%}" if detail["ratio"] else f"{detail['change']:+.3f}"
            lines = [
                f"**{share.plain(detail['label'])}**: weight {format_percent(detail['weight'])}.",
                f"Without it: {share.plain(without['text'])} ({change}).",
            ]
            if np.isfinite(detail["cook_d"]):
                flag = "influential" if detail["influential"] else "not flagged as influential"
                lines.append(
                    f"Cook's distance {format_number(detail['cook_d'], 3)}, "
                    f"DFFITS {format_number(detail['dffits'], 2)}: {flag}."
                )
            st.markdown(" ".join(lines))

    nnt = nnt_from_bundle(
        bundle, None if baseline_pct is None else baseline_pct / 100, event_is_good=event_is_good
    )
    if nnt is not None:
        where = "pooled control-group risk" if baseline_pct is None else "chosen control-group risk"
        st.markdown(
            f"**{share.plain(nnt.text())}** at a {where} of "
            f"{nnt.baseline_risk:.1%}. {share.plain(nnt.sentence())}"
        )
        for message in nnt.warnings:
            st.warning(message)
    elif step_settings.analysis == "comparison" and not np.isfinite(pooled_control_risk(bundle)):
        st.caption("No NNT: the control-group risk is not defined for these studies.")

    if show_funnel:
        funnel = funnel_for(bundle, theme=theme)
        if funnel is not None:
            st.plotly_chart(
                _projected(funnel),
                theme=None,
                width="stretch",
                config={"displaylogo": False},
                key=K(f"present_funnel_{current}"),
            )
            if res.k < 10:
                st.caption(
                    "Fewer than 10 studies: the funnel plot cannot show small-study "
                    "effects reliably."
                )

    with st.expander("Methods paragraph (copy)"):
        text, refs = methods_paragraph(bundle)
        st.code(text, language=None, wrap_lines=True)
        st.code(
            "\n".join(f"{i}. {ref}" for i, ref in enumerate(refs, start=1)),
            language=None,
            wrap_lines=True,
        )

    if bundle.warnings:
        with st.expander(f"Warnings ({len(bundle.warnings)})"):
            for message in bundle.warnings:
                st.markdown(share.plain(message))
