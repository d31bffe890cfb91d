"""Presenter mode: a projector-friendly walk from the published analysis to alternatives.

The steps, headline numbers and figure layouts come from :mod:`igmeta.app.outputs.presenter`; this
module draws them. Headline numbers are our own HTML cards (they wrap and scale with the
screen instead of being cut with an ellipsis); every piece of text in them is escaped with
:func:`html.escape`, and study or scenario names elsewhere go through
:func:`ui.text.plain`. Each figure is drawn once per screen band and CSS container
queries show the variant laid out for the current width (:mod:`ui.presenter_style`).
The arrow keys, PageUp/PageDown and space step through the talk (:mod:`ui.keyboard`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from igmeta.app.evidence.clinical import NNTResult, nnt_from_bundle, pooled_control_risk
from igmeta.app.outputs.methods_text import methods_paragraph
from igmeta.app.outputs.presenter import (
    DEFAULT_STEPS,
    SCENARIO_PREFIX,
    SCREEN_BANDS,
    VARIATION_PREFIX,
    HeadlineItem,
    PresenterStep,
    build_steps,
    clamp_step,
    headline_items,
    projected_forest,
    projected_funnel,
    step_indicator,
)
from igmeta.app.pipeline.analysis import AnalysisBundle, AnalysisSettings
from igmeta.app.store.records import (
    BUILTIN_PUBLISHED,
    BUILTIN_PUBLISHED_SINGLE_ARM,
    builtin_scenario,
)
from igmeta.app.store.scenarios import (
    applicable_variations,
    describe_changes,
    study_influence,
    summarise,
)
from igmeta.formatting import format_number, format_percent
from ui import compute, share, state
from ui.keyboard import step_keys
from ui.presenter_style import band_key, stylesheet
from ui.text import plain

__all__ = ["headline_html", "render_presenter"]

K = state.journal_key
STARTS = {
    BUILTIN_PUBLISHED: "Published: IG vs placebo (risk ratio)",
    BUILTIN_PUBLISHED_SINGLE_ARM: "Published: pooled share of responders",
    "current": "The current analysis",
}
TEXT_SIZES = (1.0, 1.1, 1.25, 1.4, 1.6)
PREVIOUS, NEXT = "present_prev", "present_next"
_CHART_CONFIG = {"displaylogo": False}


@dataclass(frozen=True, slots=True)
class TalkSetup:
    """What the presenter chose in *Set up the talk*."""

    steps: list[PresenterStep]
    highlight_label: str
    baseline_risk: float | None
    event_is_good: bool
    show_funnel: bool
    text_size: float


def _bundle(table: pd.DataFrame, settings: AnalysisSettings) -> AnalysisBundle:
    return compute.analysis_bundle(table, settings.to_dict())


def headline_html(items: list[HeadlineItem]) -> str:
    """The headline numbers as HTML cards; all text is escaped."""
    cards = []
    for item in items:
        detail = (
            f' <span class="igp-detail">{html.escape(item.detail)}</span>' if item.detail else ""
        )
        cards.append(
            f'<div class="igp-card igp-card-{html.escape(item.key)}" '
            f'data-headline="{html.escape(item.key)}">'
            f'<div class="igp-label">{html.escape(item.label)}</div>'
            f'<div class="igp-value"><span class="igp-main">{html.escape(item.value)}</span>'
            f"{detail}</div></div>"
        )
    return f'<div class="igp-headline">{"".join(cards)}</div>'


def _talk_setup(table: pd.DataFrame, settings: AnalysisSettings) -> TalkSetup:
    db = share.store()
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
        names = applicable_variations(start_settings, start_table)
        options = [f"{VARIATION_PREFIX}{name}" for name in names]
        saved = db.list(share.workspace(), include_builtin=False) if db is not None else []
        saved_names = {f"{SCENARIO_PREFIX}{item.id}": f"Scenario: {item.name}" for item in saved}
        options += list(saved_names)

        def _label(option: str) -> str:
            return saved_names.get(option, option.removeprefix(VARIATION_PREFIX))

        chosen = st.multiselect(
            "Then step through",
            options,
            default=[f"{VARIATION_PREFIX}{n}" for n in DEFAULT_STEPS if n in names],
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
            help="Larger text for big rooms; the figures also grow with the screen.",
        )
    load = db.load if db is not None else None
    return TalkSetup(
        build_steps(start_name, start_table, start_settings, chosen, load),
        highlight_label,
        None if baseline_pct is None else baseline_pct / 100,
        event_is_good,
        show_funnel,
        text_size,
    )


def _navigation(current: int, steps: list[PresenterStep]) -> None:
    with st.container(horizontal=True, vertical_alignment="center", key=K("present_nav")):
        st.button(
            "\u25c0 Previous",
            key=K(PREVIOUS),
            on_click=state.set_presenter_step,
            args=(current - 1,),
            disabled=current == 0,
            width="content",
        )
        st.button(
            "Next \u25b6",
            key=K(NEXT),
            on_click=state.set_presenter_step,
            args=(current + 1,),
            disabled=current >= len(steps) - 1,
            type="primary",
            width="content",
        )
        with st.container(key=K("present_indicator"), width="stretch"):
            st.markdown(f"**{step_indicator(current, len(steps))}: {plain(steps[current].label)}**")
    step_keys(K(PREVIOUS), K(NEXT))


def _changes(previous: AnalysisBundle, bundle: AnalysisBundle) -> None:
    changes = describe_changes(previous, bundle)
    st.markdown("**What changed since the previous step**")
    if changes:
        st.markdown("\n".join(f"- {plain(c)}" for c in changes))
    else:
        st.markdown("- Nothing that affects the result.")
    before, after = summarise(previous)["text"], summarise(bundle)["text"]
    st.markdown(f"Result: {plain(before)} \u2192 **{plain(after)}**")


def _highlight_row(bundle: AnalysisBundle, label: str) -> int | None:
    matches = [i for i, lab in enumerate(bundle.validation.labels) if str(lab) == label]
    return matches[0] if matches else None


def _highlight_detail(bundle: AnalysisBundle, table: pd.DataFrame, label: str, row) -> None:
    detail = study_influence(bundle, table, row, run=_bundle) if row is not None else None
    if detail is None:
        st.markdown(f"**{plain(label)}** is not part of this step's analysis.")
        return
    without = detail["without"]
    change = f"{detail['change']:+.0%}" if detail["ratio"] else f"{detail['change']:+.3f}"
    lines = [
        f"**{plain(detail['label'])}**: weight {format_percent(detail['weight'])}.",
        f"Without it: {plain(without['text'])} ({change}).",
    ]
    if np.isfinite(detail["cook_d"]):
        flag = "influential" if detail["influential"] else "not flagged as influential"
        lines.append(
            f"Cook's distance {format_number(detail['cook_d'], 3)}, "
            f"DFFITS {format_number(detail['dffits'], 2)}: {flag}."
        )
    st.markdown(" ".join(lines))


def _nnt_text(bundle: AnalysisBundle, nnt: NNTResult | None, baseline_risk) -> None:
    if nnt is not None:
        where = (
            "pooled control-group risk" if baseline_risk is None else "chosen control-group risk"
        )
        st.markdown(
            f"**{plain(nnt.text())}** at a {where} of "
            f"{nnt.baseline_risk:.1%}. {plain(nnt.sentence())}"
        )
        for message in nnt.warnings:
            st.warning(plain(message))
    elif bundle.settings.analysis == "comparison" and not np.isfinite(pooled_control_risk(bundle)):
        st.caption("No NNT: the control-group risk is not defined for these studies.")


def _banded(name: str, current: int, make) -> bool:
    """One chart per screen band, each in a keyed container (CSS shows one of them);
    False if there is no figure."""
    for band in SCREEN_BANDS:
        fig = make(band)
        if fig is None:
            return False
        with st.container(key=K(band_key(band, name))):
            st.plotly_chart(
                fig,
                theme=None,
                width="stretch",
                config=_CHART_CONFIG,
                key=K(f"present_{name}_{band.name}_{current}"),
            )
    return True


def _methods_and_warnings(bundle: AnalysisBundle) -> None:
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
                st.markdown(plain(message))


def render_presenter() -> None:
    """The whole presenter page."""
    table = state.get_table()
    settings = state.get_settings()
    top = st.columns([3, 1.3])
    top[0].title("Presenter mode")
    theme = top[1].radio(
        "Theme",
        ["light", "dark"],
        horizontal=True,
        key=K("present_theme"),
        format_func={"light": "Light", "dark": "Dark (high contrast)"}.get,
    )
    st.html(stylesheet(theme, K("")))
    setup = _talk_setup(table, settings)
    steps = setup.steps
    current = clamp_step(state.presenter_step(), len(steps))
    state.set_presenter_step(current)
    step = steps[current]
    bundle = _bundle(step.table, step.settings)
    _navigation(current, steps)

    if bundle.result is None:
        st.error(plain(bundle.error or "No pooled result for this step."))
        return
    nnt = nnt_from_bundle(bundle, setup.baseline_risk, event_is_good=setup.event_is_good)
    with st.container(key=K("present_headline")):
        st.html(headline_html(headline_items(bundle, nnt)))
    summary = summarise(bundle)
    if np.isfinite(summary["pi_lower"]) and step.settings.show_prediction:
        st.markdown(
            f"Prediction interval for a new study: **{format_number(summary['pi_lower'])}"
            f" to {format_number(summary['pi_upper'])}**"
        )
    if current > 0:
        _changes(_bundle(steps[current - 1].table, steps[current - 1].settings), bundle)

    row = _highlight_row(bundle, setup.highlight_label) if setup.highlight_label else None
    _banded(
        "forest",
        current,
        lambda band: projected_forest(
            bundle,
            step.table,
            band,
            text_size=setup.text_size,
            theme=theme,
            highlight=str(row) if row is not None else None,
            labels=state.forest_labels(),
        ),
    )
    if setup.highlight_label:
        _highlight_detail(bundle, step.table, setup.highlight_label, row)
    _nnt_text(bundle, nnt, setup.baseline_risk)
    if setup.show_funnel:
        drawn = _banded(
            "funnel",
            current,
            lambda band: projected_funnel(bundle, band, text_size=setup.text_size, theme=theme),
        )
        if drawn and bundle.result.k < 10:
            st.caption(
                "Fewer than 10 studies: the funnel plot cannot show small-study effects reliably."
            )
    _methods_and_warnings(bundle)
