"""The "Published vs reproduced" strip at the top of the Analysis page.

For the bundled IG table it puts the paper's two numbers beside the app's live values
(the published method rerun on the current, possibly edited, table) with a tick or the
difference, says whether the page shows the published analysis or an alternative, and
offers the alternatives as one click each. The buttons use ``on_click`` callbacks, so the
sidebar shows the new settings in the same script run (no second rerun).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from igmeta.app.pipeline.analysis import AnalysisBundle, AnalysisSettings
from igmeta.app.pipeline.published import PUBLISHED_RESULTS, Reproduction, reproduce
from igmeta.app.store.scenarios import VARIATIONS, settings_changes
from ui import compute, state
from ui.text import plain

__all__ = ["ALTERNATIVES", "published_strip"]

#: One-click alternatives to the published comparison (names of scenarios.VARIATIONS).
ALTERNATIVES = (
    "Random effects (REML)",
    "Hartung-Knapp (REML)",
    "metafor zero cells (MH)",
    "Peto odds ratio",
)


def _run(table: pd.DataFrame, settings: AnalysisSettings) -> AnalysisBundle:
    return compute.analysis_bundle(table, settings.to_dict())


def _published_for(settings: AnalysisSettings) -> AnalysisSettings | None:
    """The published settings of the analysis on screen (None for other analyses)."""
    for published in PUBLISHED_RESULTS:
        if published.analysis == settings.analysis:
            return published.settings
    return None


def _line(reproduction: Reproduction) -> str:
    pub = reproduction.published
    verdict = (
        "\u2714 agrees at the paper's precision"
        if reproduction.agrees
        else "\u2716 differs: " + "; ".join(reproduction.differences)
    )
    return (
        f"**{pub.quantity}**  \n"
        f"Paper: {pub.text()} \u00b7 app (published method): {reproduction.text()}  \n"
        f"{verdict}"
    )


def _changes(settings: AnalysisSettings, published: AnalysisSettings) -> list[str]:
    return [f"{key}: {now or 'n/a'}" for key, _, now in settings_changes(published, settings)]


def published_strip(table: pd.DataFrame, settings: AnalysisSettings) -> None:
    """Draw the strip (only for the bundled IG table, edited or not)."""
    if state.get_source() != state.BUNDLED_SOURCE:
        return
    reproductions = reproduce(table, _run)
    with st.container(border=True, key="published_strip"):
        published = _published_for(settings)
        if published is not None and published == settings.with_changes(
            data_type=published.data_type
        ):
            on_screen = (
                "the published analysis (Mantel-Haenszel risk ratio, RevMan's zero-cell "
                "rule, common effect)"
                if settings.analysis == "comparison"
                else "the published pooled share (common effect, raw proportions)"
            )
        else:
            changed = _changes(settings, published) if published is not None else []
            on_screen = "an alternative to the published analysis" + (
                " \u2014 " + plain("; ".join(changed)) if changed else ""
            )
        st.markdown(f"**Published vs reproduced** \u00b7 On screen: {on_screen}.")
        columns = st.columns(len(reproductions))
        for column, reproduction in zip(columns, reproductions, strict=True):
            column.markdown(_line(reproduction))  # numbers and our own words only
        _alternative_buttons(settings)


def _alternative_buttons(settings: AnalysisSettings) -> None:
    comparison, share = (p.settings for p in PUBLISHED_RESULTS)
    choices: list[tuple[str, AnalysisSettings]] = [
        ("Published: IG vs placebo", comparison),
        ("Published: pooled share", share),
    ]
    for name in ALTERNATIVES:
        choices.append((name, VARIATIONS[name].apply(comparison, state.get_table())))
    with st.container(horizontal=True, gap="small", key="published_strip_choices"):
        for name, target in choices:
            target = target.with_changes(data_type=settings.data_type)
            st.button(
                name,
                key=f"published_strip_{name}",
                type="primary" if target == settings else "secondary",
                width="content",
                on_click=state.request_settings,
                args=(target,),
            )
