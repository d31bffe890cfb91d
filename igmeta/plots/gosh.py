"""GOSH plot: pooled estimate against I² over many subsets of studies, as a density.

A GOSH analysis easily yields a million subsets, far too many points for a browser or
an SVG export. The subsets are therefore binned with :func:`numpy.histogram2d` and drawn
as a heatmap (log-scaled counts) with marginal histograms; the figure's size does not
depend on the number of subsets.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from igmeta.plots._style import (
    BODY_FONT_SIZE,
    FIGURE_WIDTH_PX,
    ColumnSpec,
    Theme,
    add_footnotes,
    apply_theme,
    escape_text,
    get_theme,
    log_ticks,
    require_columns,
)

__all__ = ["GOSH_COLUMNS", "gosh_figure"]

#: The input contract of :func:`gosh_figure`.
GOSH_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(
        "estimate",
        True,
        "float, pooled estimate of the subset (analysis scale when log_scale is used, e.g. log OR)",
    ),
    ColumnSpec("i2", True, "float, I² of the subset in percent (0-100)"),
    ColumnSpec("k", False, "int, number of studies in the subset (accepted, not drawn)"),
)

SAMPLE_SEED = 20240601
DEFAULT_HEIGHT_PX = 680


def gosh_figure(
    frame: pd.DataFrame,
    *,
    max_points: int | None = 200_000,
    bins: tuple[int, int] = (90, 70),
    log_scale: bool = False,
    x_label: str = "Pooled estimate",
    title: str | None = None,
    theme: str | Theme = "light",
) -> go.Figure:
    """Draw a GOSH plot as a 2-D density with marginal histograms.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per subset (see :data:`GOSH_COLUMNS`): ``estimate`` (float), ``i2``
        (float, percent) and optionally ``k``. Rows with a non-finite value are ignored.
    max_points : int or None, default 200_000
        Frames with more rows are thinned to this many rows by a reproducible random
        sample (fixed seed) before binning, and a note says so; None bins every row.
        Binning itself takes well under a second for a million rows.
    bins : (int, int), default (90, 70)
        Number of bins along the estimate and I² axes.
    log_scale : bool, default False
        The estimates are on a log (analysis) scale: label the x-axis with exp(x).
    x_label : str, default "Pooled estimate"
        Title of the x-axis (escaped).
    title : str or None, default None
        Figure title (escaped).
    theme : {"light", "dark"} or Theme, default "light"
        Colour theme.

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0 is a ``go.Heatmap`` of log10 subset counts (empty bins transparent);
        traces 1 and 2 are the marginal ``go.Bar`` histograms of the estimate (top) and
        of I² (right).
    """
    require_columns(frame, GOSH_COLUMNS, "gosh_figure")
    colours = get_theme(theme)
    estimate = pd.to_numeric(frame["estimate"], errors="coerce").to_numpy(dtype=float)
    i2 = pd.to_numeric(frame["i2"], errors="coerce").to_numpy(dtype=float)
    keep = np.isfinite(estimate) & np.isfinite(i2)
    estimate, i2 = estimate[keep], i2[keep]
    total = estimate.size
    if max_points is not None and total > max_points:
        chosen = np.random.default_rng(SAMPLE_SEED).choice(total, max_points, replace=False)
        estimate, i2 = estimate[chosen], i2[chosen]

    x_edges = _edges(estimate, bins[0])
    y_edges = _edges(i2, bins[1], default=(0.0, 100.0))
    counts, _, _ = np.histogram2d(estimate, i2, bins=(x_edges, y_edges))
    x_mid, y_mid = _centres(x_edges), _centres(y_edges)
    x_counts, y_counts = counts.sum(axis=1), counts.sum(axis=0)

    fig = make_subplots(
        rows=2,
        cols=2,
        shared_xaxes=True,
        shared_yaxes=True,
        column_widths=[0.82, 0.18],
        row_heights=[0.2, 0.8],
        horizontal_spacing=0.015,
        vertical_spacing=0.02,
    )
    apply_theme(fig, colours)
    grid = counts.T  # rows: I² bins, columns: estimate bins
    with np.errstate(divide="ignore"):
        shade = np.where(grid > 0, np.log10(np.maximum(grid, 1.0)), np.nan)
    top = max(1.0, math.ceil(np.nanmax(shade))) if np.any(grid > 0) else 1.0
    fig.add_trace(
        go.Heatmap(
            x=x_mid,
            y=y_mid,
            z=shade,
            customdata=grid.astype(np.int64),
            zmin=0,
            zmax=top,
            colorscale=colours.colorscale,
            name="subsets",
            hoverongaps=False,
            hovertemplate=(
                "Estimate %{x:.3g}<br>I² %{y:.1f}%<br>Subsets: %{customdata}<extra></extra>"
            ),
            colorbar={
                "title": {"text": "Subsets"},
                "tickvals": list(range(int(top) + 1)),
                "ticktext": [f"{10**p:,}" for p in range(int(top) + 1)],
                "tickcolor": colours.text,
                "outlinewidth": 0,
                "x": 1.02,
                "tickfont": {"size": BODY_FONT_SIZE, "color": colours.text},
            },
        ),
        row=2,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=x_mid,
            y=x_counts,
            marker_color=colours.primary,
            marker_line_width=0,
            name="estimate histogram",
            hovertemplate="%{y:,} subsets<extra></extra>",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=y_counts,
            y=y_mid,
            orientation="h",
            marker_color=colours.primary,
            marker_line_width=0,
            name="I² histogram",
            hovertemplate="%{x:,} subsets<extra></extra>",
        ),
        row=2,
        col=2,
    )

    x_axis: dict = {"title": {"text": escape_text(x_label)}}
    if log_scale and total:
        values, labels = log_ticks(math.exp(x_edges[0]), math.exp(x_edges[-1]))
        x_axis.update(tickmode="array", tickvals=list(np.log(values)), ticktext=labels)
    fig.update_xaxes(**x_axis, row=2, col=1)
    fig.update_yaxes(title={"text": "I² (%)"}, row=2, col=1)
    fig.update_xaxes(showticklabels=False, ticks="", row=1, col=1)
    fig.update_yaxes(showticklabels=False, ticks="", showline=False, row=1, col=1)
    fig.update_xaxes(showticklabels=False, ticks="", showline=False, row=2, col=2)
    fig.update_yaxes(showticklabels=False, ticks="", row=2, col=2)
    fig.update_layout(
        bargap=0,
        showlegend=False,
        height=DEFAULT_HEIGHT_PX,
        width=FIGURE_WIDTH_PX,
        margin={"l": 90, "r": 40, "t": 90 if title else 40, "b": 110},
        title={"text": escape_text(title), "x": 0.01, "xanchor": "left"} if title else None,
    )
    shown = estimate.size
    note = (
        f"{shown:,} subsets"
        if shown == total
        else (f"Showing a random sample of {shown:,} of {total:,} subsets")
    )
    add_footnotes(fig, [note], top_px=70, line_px=0)
    return fig


def _edges(values: np.ndarray, count: int, default: tuple[float, float] = (-1.0, 1.0)):
    """``count`` equal-width bins spanning ``values`` (or ``default`` if there are none)."""
    low, high = (float(values.min()), float(values.max())) if values.size else default
    if high <= low:
        low, high = low - 0.5, high + 0.5
    return np.linspace(low, high, count + 1)


def _centres(edges: np.ndarray) -> np.ndarray:
    return (edges[:-1] + edges[1:]) / 2
