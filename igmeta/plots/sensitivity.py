"""Sensitivity figures: leave-one-out, cumulative meta-analysis and the Baujat plot.

Leave-one-out and cumulative results are drawn as forest plots (via
:func:`igmeta.plots.forest_figure`), one row per refit; the Baujat plot is a labelled
scatter. The refits themselves are computed by the engine, never here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from igmeta.formatting import format_ci_column, format_number, format_percent
from igmeta.plots._style import (
    FIGURE_WIDTH_PX,
    ColumnSpec,
    Theme,
    apply_theme,
    escape_text,
    get_theme,
    optional_ids,
    require_columns,
    truncate_text,
    with_defaults,
    wrap_text,
)
from igmeta.plots.forest import forest_figure

__all__ = [
    "BAUJAT_COLUMNS",
    "CUMULATIVE_COLUMNS",
    "LEAVE_ONE_OUT_COLUMNS",
    "baujat_figure",
    "cumulative_figure",
    "leave_one_out_figure",
]

_INTERVAL_COLUMNS = (
    ColumnSpec("estimate", True, "float, pooled estimate of the refit (display scale)"),
    ColumnSpec("ci_lower", True, "float, lower confidence limit (display scale)"),
    ColumnSpec("ci_upper", True, "float, upper confidence limit (display scale)"),
    ColumnSpec("study_id", False, "str or None, the study of the row; customdata on clicks"),
)

#: The input contract of :func:`leave_one_out_figure`.
LEAVE_ONE_OUT_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("label", True, "str, the omitted study (untrusted, escaped)"),
    *_INTERVAL_COLUMNS,
    ColumnSpec("i2", True, "float, I² of the refit in percent (0-100)"),
)

#: The input contract of :func:`cumulative_figure`.
CUMULATIVE_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("label", True, "str, the study added at this step (untrusted, escaped)"),
    *_INTERVAL_COLUMNS,
    ColumnSpec("k", True, "int, number of studies pooled at this step"),
)

#: The input contract of :func:`baujat_figure`.
BAUJAT_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("label", True, "str, study label (untrusted, escaped)"),
    ColumnSpec("x", True, "float, the study's contribution to the heterogeneity statistic Q"),
    ColumnSpec("y", True, "float, the study's influence on the pooled result"),
    ColumnSpec("study_id", False, "str or None, customdata on clicks"),
)

BAUJAT_LABEL_CHARS = 20


def leave_one_out_figure(
    frame: pd.DataFrame,
    *,
    full_estimate: float | None = None,
    log_scale: bool = False,
    null_value: float | None = None,
    x_label: str = "",
    title: str | None = None,
    theme: str | Theme = "light",
    highlight: str | None = None,
    digits: int = 2,
) -> go.Figure:
    """Forest plot of leave-one-out refits, one row per omitted study.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per refit (see :data:`LEAVE_ONE_OUT_COLUMNS`): ``label`` (str, the
        omitted study), ``estimate``, ``ci_lower``, ``ci_upper`` (float, display scale),
        ``i2`` (float, percent) and optionally ``study_id`` (customdata on clicks).
    full_estimate : float or None, default None
        Pooled estimate with all studies (display scale): dashed reference line.
    log_scale : bool, default False
        Logarithmic x-axis with natural-scale ticks (ratio measures).
    null_value : float or None, default None
        Position of the "no effect" line (1 for ratios, 0 otherwise); None: no line.
    x_label : str, default ""
        Title of the x-axis (escaped).
    title : str or None, default None
        Figure title (escaped).
    theme : {"light", "dark"} or Theme, default "light"
        Colour theme.
    highlight : str or None, default None
        ``study_id`` of the row to emphasise.
    digits : int, default 2
        Decimals of the estimate column.

    Returns
    -------
    plotly.graph_objects.Figure
        A forest plot with columns "Estimate [95% CI]" and "I²".
    """
    require_columns(frame, LEAVE_ONE_OUT_COLUMNS, "leave_one_out_figure")
    rows = _refit_rows(frame, digits)
    rows["i2_text"] = [format_percent(value, 0) for value in frame["i2"]]
    return forest_figure(
        rows,
        log_scale=log_scale,
        null_value=null_value,
        x_label=x_label,
        title=title,
        theme=theme,
        highlight=highlight,
        reference_value=full_estimate,
        text_columns=(("estimate_text", "Estimate [95% CI]"), ("i2_text", "I\u00b2")),
        label_header="Omitted study",
    )


def cumulative_figure(
    frame: pd.DataFrame,
    *,
    full_estimate: float | None = None,
    log_scale: bool = False,
    null_value: float | None = None,
    x_label: str = "",
    title: str | None = None,
    theme: str | Theme = "light",
    highlight: str | None = None,
    digits: int = 2,
) -> go.Figure:
    """Forest plot of a cumulative meta-analysis, one row per added study.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per step, in the order studies were added (see
        :data:`CUMULATIVE_COLUMNS`): ``label`` (str, the study added), ``estimate``,
        ``ci_lower``, ``ci_upper`` (float, display scale), ``k`` (int, studies pooled so
        far) and optionally ``study_id`` (customdata on clicks).
    full_estimate : float or None, default None
        Optional dashed reference line, e.g. at the final pooled estimate.
    log_scale : bool, default False
        Logarithmic x-axis with natural-scale ticks (ratio measures).
    null_value : float or None, default None
        Position of the "no effect" line (1 for ratios, 0 otherwise); None: no line.
    x_label : str, default ""
        Title of the x-axis (escaped).
    title : str or None, default None
        Figure title (escaped).
    theme : {"light", "dark"} or Theme, default "light"
        Colour theme.
    highlight : str or None, default None
        ``study_id`` of the row to emphasise.
    digits : int, default 2
        Decimals of the estimate column.

    Returns
    -------
    plotly.graph_objects.Figure
        A forest plot with columns "Estimate [95% CI]" and "k".
    """
    require_columns(frame, CUMULATIVE_COLUMNS, "cumulative_figure")
    rows = _refit_rows(frame, digits)
    rows["label"] = ["+ " + str(label) for label in frame["label"]]
    rows["k_text"] = [format_number(k, 0) for k in frame["k"]]
    return forest_figure(
        rows,
        log_scale=log_scale,
        null_value=null_value,
        x_label=x_label,
        title=title,
        theme=theme,
        highlight=highlight,
        reference_value=full_estimate,
        text_columns=(("estimate_text", "Estimate [95% CI]"), ("k_text", "k")),
        label_header="Study added",
    )


def _refit_rows(frame: pd.DataFrame, digits: int) -> pd.DataFrame:
    """Forest-plot rows (all of type "study", equal squares) for a table of refits."""
    refits = with_defaults(frame, {"study_id": None})
    return pd.DataFrame(
        {
            "row_type": "study",
            "label": refits["label"].to_numpy(),
            "study_id": optional_ids(refits["study_id"]),
            "estimate": refits["estimate"].to_numpy(),
            "ci_lower": refits["ci_lower"].to_numpy(),
            "ci_upper": refits["ci_upper"].to_numpy(),
            "estimate_text": format_ci_column(refits, digits),
        }
    )


def baujat_figure(
    frame: pd.DataFrame,
    *,
    x_label: str = "Contribution to overall heterogeneity (Q)",
    y_label: str = "Influence on the pooled result",
    title: str | None = None,
    theme: str | Theme = "light",
    highlight: str | None = None,
    label_points: bool = True,
) -> go.Figure:
    """Baujat plot: each study's contribution to heterogeneity against its influence.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per study (see :data:`BAUJAT_COLUMNS`): ``label`` (str), ``x`` (float,
        contribution to Q), ``y`` (float, influence on the pooled result) and optionally
        ``study_id`` (customdata on clicks).
    x_label, y_label : str
        Axis titles (escaped).
    title : str or None, default None
        Figure title (escaped).
    theme : {"light", "dark"} or Theme, default "light"
        Colour theme.
    highlight : str or None, default None
        ``study_id`` of a study drawn in the accent colour.
    label_points : bool, default True
        Write each study's (shortened) label next to its point.

    Returns
    -------
    plotly.graph_objects.Figure
        A scatter; points carry ``customdata`` equal to ``study_id``; the hover shows
        the full label and both coordinates.
    """
    require_columns(frame, BAUJAT_COLUMNS, "baujat_figure")
    colours = get_theme(theme)
    studies = with_defaults(frame, {"study_id": None})
    ids = optional_ids(studies["study_id"])
    emphasised = np.array([highlight is not None and s == highlight for s in ids], dtype=bool)
    fig = go.Figure()
    apply_theme(fig, colours)
    fig.add_trace(
        go.Scatter(
            x=studies["x"],
            y=studies["y"],
            mode="markers+text" if label_points else "markers",
            name="Studies",
            customdata=ids,
            text=[truncate_text(label, BAUJAT_LABEL_CHARS) for label in studies["label"]],
            textposition="top center",
            textfont={"color": colours.text},
            hovertext=[
                f"{wrap_text(label)}<br>Contribution to Q: {format_number(x, 3)}"
                f"<br>Influence: {format_number(y, 3)}"
                for label, x, y in zip(studies["label"], studies["x"], studies["y"], strict=True)
            ],
            hoverinfo="text",
            marker={
                "size": np.where(emphasised, 16, 12),
                "color": np.where(emphasised, colours.accent, colours.primary),
                "opacity": 1,
                "line": {"color": colours.background, "width": 1},
            },
            cliponaxis=False,
        )
    )
    fig.update_layout(
        xaxis={"title": {"text": escape_text(x_label)}, "rangemode": "tozero"},
        yaxis={"title": {"text": escape_text(y_label)}, "rangemode": "tozero"},
        height=620,
        width=FIGURE_WIDTH_PX,
        showlegend=False,
        hovermode="closest",
        margin={"l": 90, "r": 40, "t": 90 if title else 50, "b": 80},
        title={"text": escape_text(title), "x": 0.01, "xanchor": "left"} if title else None,
    )
    return fig
