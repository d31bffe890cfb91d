"""Cumulative Z by accumulated participants (trial-sequential style, not a formal TSA).

The series comes from :func:`igmeta.app.evidence.what_if_trial.cumulative_z` (refits by
:func:`igmeta.sensitivity.cumulative`); this module only draws it. The cumulative forest
plot of the Sensitivity page is :func:`igmeta.plots.cumulative_figure`; this figure puts
the same refits on a participants axis, with the conventional +/-z boundaries and the
optimal information size. No alpha-spending (O'Brien-Fleming) boundary is drawn: the
title says so.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from igmeta.formatting import format_ci, format_pvalue
from igmeta.plots._style import (
    FIGURE_WIDTH_PX,
    ColumnSpec,
    Theme,
    apply_theme,
    escape_text,
    get_theme,
    require_columns,
    wrap_text,
)

__all__ = ["CUMULATIVE_Z_FIGURE_COLUMNS", "cumulative_z_figure"]

#: The input contract of :func:`cumulative_z_figure`.
CUMULATIVE_Z_FIGURE_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("label", True, "str, the study added at this step (untrusted, escaped)"),
    ColumnSpec("participants", True, "int, participants accumulated so far"),
    ColumnSpec("z", True, "float, cumulative pooled test statistic"),
    ColumnSpec("estimate", True, "float, cumulative estimate (natural scale)"),
    ColumnSpec("ci_lower", True, "float, lower confidence limit (natural scale)"),
    ColumnSpec("ci_upper", True, "float, upper confidence limit (natural scale)"),
    ColumnSpec("pval", True, "float, p-value of the cumulative fit"),
    ColumnSpec("hypothetical", True, "bool, the step adds the hypothetical trial"),
)

TITLE = "Cumulative Z by participants (not a formal trial sequential analysis)"


def cumulative_z_figure(
    frame: pd.DataFrame,
    *,
    critical: float = 1.959963984540054,
    information_size: float | None = None,
    title: str | None = TITLE,
    theme: str | Theme = "light",
) -> go.Figure:
    """Line of the cumulative Z against accumulated participants.

    Parameters
    ----------
    frame : DataFrame
        See :data:`CUMULATIVE_Z_FIGURE_COLUMNS`, one row per step in order.
    critical : float
        The conventional boundary, drawn at +/- ``critical`` (1.96 for 95%).
    information_size : float, optional
        Optimal information size (participants), drawn as a vertical line.
    title : str or None
        Figure title (escaped).
    theme : {"light", "dark"} or Theme

    Returns
    -------
    plotly.graph_objects.Figure
    """
    require_columns(frame, CUMULATIVE_Z_FIGURE_COLUMNS, "cumulative_z_figure")
    colours = get_theme(theme)
    fig = go.Figure()
    apply_theme(fig, colours)
    x = [0, *frame["participants"].astype(float)]
    z = [0.0, *frame["z"].astype(float)]
    hover = [
        f"+ {wrap_text(label)}<br>{int(n):,} participants<br>Z = {zv:.2f}, "
        f"{escape_text(format_pvalue(p))}<br>Estimate {format_ci(e, lo, hi)}"
        for label, n, zv, p, e, lo, hi in zip(
            frame["label"],
            frame["participants"],
            frame["z"],
            frame["pval"],
            frame["estimate"],
            frame["ci_lower"],
            frame["ci_upper"],
            strict=True,
        )
    ]
    hypothetical = frame["hypothetical"].to_numpy(dtype=bool)
    fig.add_trace(
        go.Scatter(
            x=x,
            y=z,
            mode="lines",
            line={"color": colours.primary, "width": 3},
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            x=frame["participants"],
            y=frame["z"],
            mode="markers",
            name="Cumulative Z",
            hovertext=hover,
            hoverinfo="text",
            marker={
                "size": np.where(hypothetical, 16, 11),
                "symbol": np.where(hypothetical, "diamond", "circle"),
                "color": np.where(hypothetical, colours.accent, colours.primary),
            },
        )
    )
    top = max(
        [abs(v) for v in z if math.isfinite(v)] + [critical + 1.0],
    )
    right = max(x[-1], information_size or 0.0) * 1.08
    for sign in (1, -1):
        fig.add_shape(
            type="line",
            x0=0,
            x1=right,
            y0=sign * critical,
            y1=sign * critical,
            line={"color": colours.reference, "dash": "dash", "width": 2},
        )
    fig.add_annotation(
        x=right,
        y=critical,
        text=f"Z = \u00b1{critical:.2f} (conventional)",
        showarrow=False,
        xanchor="right",
        yanchor="bottom",
    )
    if information_size is not None and math.isfinite(information_size):
        fig.add_shape(
            type="line",
            x0=information_size,
            x1=information_size,
            y0=-top * 1.1,
            y1=top * 1.1,
            line={"color": colours.secondary, "dash": "dot", "width": 2},
        )
        fig.add_annotation(
            x=information_size,
            y=top * 1.1,
            text=f"OIS {int(information_size):,}",
            showarrow=False,
            xanchor="right",
            yanchor="top",
        )
    fig.update_layout(
        xaxis={"title": {"text": "Accumulated participants"}, "range": [0, right]},
        yaxis={"title": {"text": "Cumulative Z"}, "range": [-top * 1.15, top * 1.15]},
        height=520,
        width=FIGURE_WIDTH_PX,
        showlegend=False,
        hovermode="closest",
        margin={"l": 90, "r": 40, "t": 80 if title else 40, "b": 80},
        title={"text": escape_text(title), "x": 0.01, "xanchor": "left"} if title else None,
    )
    return fig
