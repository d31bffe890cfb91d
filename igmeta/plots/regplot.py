"""Bubble plot of a meta-regression (metafor's ``regplot``), from tidy frames.

Observed effects (analysis scale) against one numeric moderator, each study a circle whose
area is proportional to its weight in the model, with the fitted line, its confidence band
and the prediction-interval limits (:func:`igmeta.app.pipeline.metareg.regression_band`). With
``log_scale=True`` the y tick labels show natural-scale values (exp of the position).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from igmeta.formatting import format_number
from igmeta.plots._style import (
    FIGURE_WIDTH_PX,
    ColumnSpec,
    apply_theme,
    escape_text,
    get_theme,
    log_ticks,
    require_columns,
    wrap_text,
)

__all__ = ["REGPLOT_BAND_COLUMNS", "REGPLOT_POINT_COLUMNS", "regplot_figure"]

REGPLOT_POINT_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("x", True, "float, moderator value of the study"),
    ColumnSpec("estimate", True, "float, observed effect on the analysis scale"),
    ColumnSpec("weight", True, "float, weight of the study in the model (any scale)"),
    ColumnSpec("label", False, "str, study label (untrusted, escaped; hover only)"),
)
REGPLOT_BAND_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("x", True, "float, moderator value, increasing"),
    ColumnSpec("pred", True, "float, fitted value"),
    ColumnSpec("ci_lower", True, "float, lower confidence limit of the fitted value"),
    ColumnSpec("ci_upper", True, "float, upper confidence limit"),
    ColumnSpec("pi_lower", False, "float, lower prediction limit (drawn dotted)"),
    ColumnSpec("pi_upper", False, "float, upper prediction limit"),
)
HEIGHT_PX = 600
#: Marker diameters (px) of the lightest and heaviest study.
SMALLEST_PX, LARGEST_PX = 8.0, 44.0


def _sizes(weights: np.ndarray) -> np.ndarray:
    """Diameters with the area proportional to the weight."""
    w = np.where(np.isfinite(weights) & (weights > 0), weights, 0.0)
    top = w.max() if w.size and w.max() > 0 else 1.0
    return np.maximum(SMALLEST_PX, LARGEST_PX * np.sqrt(w / top))


def regplot_figure(
    points: pd.DataFrame,
    band: pd.DataFrame,
    *,
    log_scale: bool = False,
    x_label: str = "",
    y_label: str = "",
    level: float = 0.95,
    theme: str = "light",
    title: str | None = None,
) -> go.Figure:
    """The bubble plot of a meta-regression on one moderator.

    Parameters
    ----------
    points : DataFrame
        One row per study (:data:`REGPLOT_POINT_COLUMNS`).
    band : DataFrame
        The fitted line over the moderator (:data:`REGPLOT_BAND_COLUMNS`).
    log_scale : bool
        The y axis is a log scale (ratio measures): ticks show natural-scale values.
    x_label, y_label, title : str
        Axis titles and figure title (escaped).
    level : float
        Confidence level, for the legend.
    theme : {"light", "dark"}

    Returns
    -------
    plotly.graph_objects.Figure
    """
    require_columns(points, REGPLOT_POINT_COLUMNS, "regplot_figure")
    require_columns(band, REGPLOT_BAND_COLUMNS, "regplot_figure")
    colours = get_theme(theme)
    fig = go.Figure()
    apply_theme(fig, colours)
    x = band["x"].to_numpy(dtype=float)
    percent = f"{100 * level:g}%"
    fig.add_trace(
        go.Scatter(
            x=np.concatenate([x, x[::-1]]),
            y=np.concatenate([band["ci_upper"], band["ci_lower"].to_numpy()[::-1]]),
            fill="toself",
            fillcolor=colours.contour_fills[0],
            line={"width": 0},
            name=f"{percent} confidence band",
            hoverinfo="skip",
        )
    )
    if {"pi_lower", "pi_upper"} <= set(band.columns):
        for column, shown in (("pi_lower", True), ("pi_upper", False)):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=band[column],
                    mode="lines",
                    name=f"{percent} prediction interval",
                    showlegend=shown,
                    legendgroup="pi",
                    hoverinfo="skip",
                    line={"color": colours.prediction, "width": 2, "dash": "dot"},
                )
            )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=band["pred"],
            mode="lines",
            name="Fitted line",
            hoverinfo="skip",
            line={"color": colours.summary, "width": 3},
        )
    )
    labels = points["label"] if "label" in points else [""] * len(points)
    fig.add_trace(
        go.Scatter(
            x=points["x"],
            y=points["estimate"],
            mode="markers",
            name="Studies (area \u221d weight)",
            hovertext=[
                _hover(label, xv, est, log_scale)
                for label, xv, est in zip(labels, points["x"], points["estimate"], strict=True)
            ],
            hoverinfo="text",
            marker={
                "size": _sizes(points["weight"].to_numpy(dtype=float)),
                "color": colours.primary,
                "opacity": 0.55,
                "line": {"color": colours.text, "width": 1},
            },
        )
    )
    y_axis: dict = {"title": {"text": escape_text(y_label)}}
    if log_scale:
        values = np.concatenate(
            [
                points["estimate"].to_numpy(dtype=float),
                band[["ci_lower", "ci_upper"]].to_numpy().ravel(),
            ]
        )
        values = values[np.isfinite(values)]
        if values.size:
            ticks, text = log_ticks(math.exp(values.min()), math.exp(values.max()))
            y_axis.update(tickmode="array", tickvals=list(np.log(ticks)), ticktext=text)
    fig.update_layout(
        xaxis={"title": {"text": escape_text(x_label)}},
        yaxis=y_axis,
        width=FIGURE_WIDTH_PX,
        height=HEIGHT_PX,
        margin={"l": 80, "r": 30, "t": 90 if title else 40, "b": 130},
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.16, "yanchor": "top"},
        hovermode="closest",
        title={"text": escape_text(title), "x": 0.01, "xanchor": "left"} if title else None,
    )
    return fig


def _hover(label: object, x: float, estimate: float, log_scale: bool) -> str:
    shown = format_number(estimate, 3)
    if log_scale and np.isfinite(estimate):
        shown = f"{format_number(math.exp(estimate), 2)} (log scale: {shown})"
    return "<br>".join(
        [
            wrap_text(label) or "(unlabelled)",
            f"Moderator: {format_number(x, 3)}",
            f"Estimate: {shown}",
        ]
    )
