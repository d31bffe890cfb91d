"""Refit a figure with side text columns (the forest plot) to another pixel width.

The forest plot lays out its label and text columns as fractions of the figure width it
was planned for. Drawn narrower than that width, the columns shrink with it and their text
overlaps; drawn wider, the columns grow and the plot keeps its share. :func:`fit_width`
keeps every side column at its planned width in pixels and gives the main plot axis
whatever is left, so the figure can be drawn at any width at which the columns fit.
"""

from __future__ import annotations

import plotly.graph_objects as go

__all__ = ["fit_width"]

_EPS = 1e-9


def fit_width(
    fig: go.Figure, width_px: int, *, min_plot_px: float = 220.0, main_axis: str = "xaxis"
) -> go.Figure | None:
    """A copy of ``fig`` laid out for ``width_px``, or None if its columns do not fit.

    Parameters
    ----------
    fig : plotly.graph_objects.Figure
        A figure with a fixed ``layout.width`` and x axes side by side (their domains do
        not overlap), such as :func:`igmeta.plots.forest_figure`.
    width_px : int
        The width the figure will be drawn at.
    min_plot_px : float, default 220
        The narrowest the main plot axis may become.
    main_axis : str, default "xaxis"
        The axis that absorbs the change of width; axes left of it keep their distance
        from the left edge in pixels, axes right of it their distance from the right edge.

    Returns
    -------
    plotly.graph_objects.Figure or None
        The refitted figure with ``layout.width = width_px``; None when the side columns
        leave less than ``min_plot_px`` to the main axis.
    """
    layout = fig.layout
    planned = float(layout.width or 0)
    if planned <= 0:
        raise ValueError("fit_width needs a figure with a fixed layout.width")
    margins = float(layout.margin.l or 0) + float(layout.margin.r or 0)
    old_inner = planned - margins
    new_inner = float(width_px) - margins
    if new_inner <= 0:
        return None
    low, high = layout[main_axis].domain or (0.0, 1.0)
    left_px = low * old_inner
    right_px = (1.0 - high) * old_inner
    if new_inner - left_px - right_px < min_plot_px:
        return None
    out = go.Figure(fig)
    for name in [n for n in out.layout if n.startswith("xaxis") and n != main_axis]:
        axis = out.layout[name]
        start, end = axis.domain or (0.0, 1.0)
        if end <= low + _EPS:
            axis.domain = [start * old_inner / new_inner, end * old_inner / new_inner]
        elif start >= high - _EPS:
            axis.domain = [
                max(0.0, 1.0 - (1.0 - start) * old_inner / new_inner),
                1.0 - (1.0 - end) * old_inner / new_inner,
            ]
        else:
            raise ValueError(f"{name} overlaps {main_axis}: cannot refit the width")
    out.layout[main_axis].domain = [left_px / new_inner, 1.0 - right_px / new_inner]
    out.layout.width = int(width_px)
    return out
