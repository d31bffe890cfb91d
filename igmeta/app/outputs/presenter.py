"""Presenter mode without the screen: the steps of a talk, its headline numbers, and its
figures sized for a given width of screen.

A talk starts from one analysis and steps through variations of it (see
:data:`igmeta.app.store.scenarios.VARIATIONS`) or saved scenarios. Everything here is a pure
function of (study table, settings); the dashboard (``ui.presenter``) only draws it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from igmeta.app.evidence.clinical import NNTResult
from igmeta.app.outputs.exports import enlarge_figure, forest_for, funnel_for
from igmeta.app.outputs.tables import ForestLabels
from igmeta.app.pipeline.analysis import AnalysisBundle, AnalysisSettings
from igmeta.app.store.scenarios import VARIATIONS, Scenario, ScenarioError, summarise
from igmeta.formatting import format_number, format_percent, format_pvalue
from igmeta.plots import DEFAULT_TEXT_COLUMNS
from igmeta.plots.fit import fit_width
from igmeta.plots.forest import TextColumn

__all__ = [
    "DEFAULT_STEPS",
    "SCREEN_BANDS",
    "HeadlineItem",
    "PresenterStep",
    "ScreenBand",
    "build_steps",
    "clamp_step",
    "headline_items",
    "projected_forest",
    "projected_funnel",
    "step_indicator",
]

#: The variations a talk steps through unless the presenter chooses others.
DEFAULT_STEPS = (
    "Random effects (REML)",
    "Hartung-Knapp (REML)",
    "metafor zero cells (MH)",
    "Peto odds ratio",
    "Freeman-Tukey transform",
    "RCTs only",
)
#: Option prefixes: a variation of the start (``var:<name>``) or a saved scenario
#: (``scn:<id>``).
VARIATION_PREFIX = "var:"
SCENARIO_PREFIX = "scn:"
MIN_FIGURE_HEIGHT_PX = 480
#: Label of the forest plot's overall row where the full one (naming the model) is too wide.
SHORT_OVERALL_LABEL = "Overall"
DASH = "\u2014"


@dataclass(frozen=True, slots=True)
class PresenterStep:
    """One step of a talk: a label and the analysis (study table, settings) it shows."""

    label: str
    table: pd.DataFrame
    settings: AnalysisSettings


def build_steps(
    start_name: str,
    start_table: pd.DataFrame,
    start_settings: AnalysisSettings,
    chosen: Sequence[str],
    load: Callable[[str], Scenario] | None = None,
) -> list[PresenterStep]:
    """The steps of a talk: the start, then each chosen variation or saved scenario.

    Parameters
    ----------
    start_name : str
        Name of the starting analysis.
    start_table, start_settings
        The starting analysis.
    chosen : sequence of str
        ``"var:<variation name>"`` (applied to the start) or ``"scn:<scenario id>"``.
    load : callable, optional
        Loads a saved scenario by id (e.g. ``ScenarioStore.load``); without it, and for
        scenarios that cannot be loaded (:class:`ScenarioError`), scenario steps are left out.

    Returns
    -------
    list of PresenterStep
        Never empty: the start is always the first step.
    """
    steps = [PresenterStep(f"Start {DASH} {start_name}", start_table, start_settings)]
    for option in chosen:
        if option.startswith(VARIATION_PREFIX):
            variation = VARIATIONS.get(option.removeprefix(VARIATION_PREFIX))
            if variation is not None:
                settings = variation.apply(start_settings, start_table)
                steps.append(PresenterStep(variation.name, start_table, settings))
        elif option.startswith(SCENARIO_PREFIX) and load is not None:
            try:
                scenario = load(option.removeprefix(SCENARIO_PREFIX))
            except ScenarioError:
                continue
            label = f"Scenario {DASH} {scenario.name}"
            steps.append(PresenterStep(label, scenario.table, scenario.settings))
    return steps


def clamp_step(step: int, n_steps: int) -> int:
    """``step`` moved into ``0 .. n_steps - 1``."""
    return min(max(int(step), 0), max(n_steps - 1, 0))


def step_indicator(current: int, n_steps: int) -> str:
    """``"Step 2 of 7"`` for the 0-based step ``current``."""
    return f"Step {current + 1} of {n_steps}"


# --------------------------------------------------------------------------- headline


@dataclass(frozen=True, slots=True)
class HeadlineItem:
    """One headline number: a stable ``key``, a label, the value and an optional second
    line (the confidence interval); ``text`` is how it reads in one line."""

    key: str
    label: str
    value: str
    detail: str = ""

    @property
    def text(self) -> str:
        return f"{self.value} {self.detail}" if self.detail else self.value


def _split(text: str, separator: str) -> tuple[str, str]:
    head, found, tail = text.partition(separator)
    return (head, f"{separator.strip()}{tail}") if found else (text, "")


def headline_items(bundle: AnalysisBundle, nnt: NNTResult | None = None) -> list[HeadlineItem]:
    """The headline numbers of an analysis, formatted as everywhere else in igmeta.

    Estimate with CI (the CI as its own line), p-value, number of studies, I², tau²
    (a dash for a common-effect model) and, when given, the NNT with its CI. Empty
    without a pooled result.
    """
    if bundle.result is None:
        return []
    summary = summarise(bundle)
    level = f"{bundle.result.level:.0%}"
    estimate, ci = (
        _split(summary["text"], " [") if np.isfinite(summary["estimate"]) else (summary["text"], "")
    )
    tau2 = summary["tau2"]
    items = [
        HeadlineItem("estimate", f"{summary['measure']} ({level} CI)", estimate, ci),
        HeadlineItem(
            "pval", "p-value", format_pvalue(summary["pval"]).removeprefix("p ").removeprefix("= ")
        ),
        HeadlineItem("k", "Studies", str(summary["k"])),
        HeadlineItem("i2", "I\u00b2", format_percent(summary["i2"])),
        HeadlineItem("tau2", "tau\u00b2", format_number(tau2, 3) if np.isfinite(tau2) else DASH),
    ]
    if nnt is not None:
        value, detail = _split(nnt.text(), " (")
        items.append(HeadlineItem("nnt", "Number needed to treat", value, detail))
    return items


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True, slots=True)
class ScreenBand:
    """A range of content widths (from ``min_width_px``) whose figures share one layout:
    figure text is ``type_scale`` times the presenter's text size, and the figure is
    planned for the narrowest width of the band (``design_width_px``)."""

    name: str
    min_width_px: int
    design_width_px: int
    type_scale: float


#: Content widths of the presenter's main column: a small projector with the sidebar
#: open, 1280-1600 px screens, full HD, and 4K (where type must grow with the screen).
SCREEN_BANDS = (
    ScreenBand("xs", 0, 340, 0.7),
    ScreenBand("s", 640, 640, 0.85),
    ScreenBand("m", 900, 900, 1.0),
    ScreenBand("l", 1600, 1600, 1.3),
    ScreenBand("xl", 2400, 2400, 2.0),
)


def _column_choices() -> list[tuple[TextColumn, ...]]:
    """Text columns of the forest plot, from all of them to none (the plot alone)."""
    columns = tuple(DEFAULT_TEXT_COLUMNS)
    by_name = {column.column: column for column in columns}
    return [
        columns,
        tuple(by_name[n] for n in ("weight_text", "estimate_text")),
        (by_name["estimate_text"],),
        (),
    ]


def _enlarged(fig: go.Figure, factor: float) -> go.Figure:
    big = enlarge_figure(fig, factor)
    height = max(int(big.layout.height or 0), int(MIN_FIGURE_HEIGHT_PX * factor))
    big.update_layout(height=height)
    return big


def projected_forest(
    bundle: AnalysisBundle,
    table: pd.DataFrame,
    band: ScreenBand,
    *,
    text_size: float = 1.0,
    theme: str = "light",
    highlight: str | None = None,
    labels: ForestLabels | None = None,
) -> go.Figure | None:
    """The forest plot for a screen band: enlarged type, laid out for the band's width.

    ``labels`` are the arm names and "Favours" labels (as on the Analysis page; default:
    the generic ones of :class:`igmeta.app.outputs.tables.ForestLabels`).

    The text columns are dropped (counts, then weights) until the rest fits the band's
    width next to a plot of at least a third of it; then the overall row is labelled just
    "Overall" (the step's title names the model) and the estimates go too (the headline
    and the hover show them), the plot taking at least a fifth. If nothing fits, the
    smallest figure is returned at its own planned width. None without a pooled result.
    """
    factor = text_size * band.type_scale
    attempts = [(columns, None) for columns in _column_choices()[:-1]]
    attempts += [(columns, SHORT_OVERALL_LABEL) for columns in _column_choices()]
    fig = None
    for columns, overall in attempts:
        fig = forest_for(
            bundle,
            table,
            theme=theme,
            highlight=highlight,
            labels=labels,
            text_columns=columns,
            overall_label=overall,
        )
        if fig is None:
            return None
        fig = _enlarged(fig, factor)
        share = 5 if not columns else 3
        fitted = fit_width(fig, band.design_width_px, min_plot_px=band.design_width_px / share)
        if fitted is not None:
            return fitted
    return fig


def projected_funnel(
    bundle: AnalysisBundle, band: ScreenBand, *, text_size: float = 1.0, theme: str = "light"
) -> go.Figure | None:
    """The funnel plot for a screen band (enlarged type, filling the width); None without
    a funnel."""
    fig = funnel_for(bundle, theme=theme)
    if fig is None:
        return None
    fig = _enlarged(fig, text_size * band.type_scale)
    fig.update_layout(width=None, autosize=True)
    return fig
