"""Contour-enhanced funnel plot, drawn on the analysis scale from a tidy frame.

The funnel's geometry (pseudo confidence limits, significance contours, Egger line) is
linear on the analysis scale (e.g. log risk ratio against its standard error), so the
data stay on that scale; with ``log_scale=True`` only the tick labels show natural-scale
values (exp of the position).
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
    Theme,
    apply_theme,
    escape_text,
    get_theme,
    log_ticks,
    optional_ids,
    require_columns,
    with_defaults,
    wrap_text,
)

__all__ = ["CONTOUR_LEVELS", "FUNNEL_COLUMNS", "funnel_figure"]

#: The input contract of :func:`funnel_figure`.
FUNNEL_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("estimate", True, "float, effect on the analysis scale (e.g. log RR)"),
    ColumnSpec("se", True, "float, standard error of the estimate (> 0)"),
    ColumnSpec("label", False, "str, study label (untrusted, escaped; hover only)"),
    ColumnSpec("study_id", False, "str or None, returned as customdata on clicks"),
    ColumnSpec(
        "filled",
        False,
        "bool, True for trim-and-fill imputed studies (own trace and legend entry); default False",
    ),
    ColumnSpec("included", False, "bool, False draws the study grey and hollow; default True"),
)

#: Two-sided significance levels of the shaded contours and their z values.
CONTOUR_LEVELS: tuple[tuple[str, float], ...] = (
    ("0.05 < p < 0.10", 1.6448536269514722),
    ("0.01 < p < 0.05", 1.959963984540054),
    ("p < 0.01", 2.5758293035489004),
)
PSEUDO_CI_Z = 1.959963984540054
MARKER_PX = 12
DEFAULT_HEIGHT_PX = 640


def funnel_figure(
    points: pd.DataFrame,
    *,
    center: float,
    se_max: float | None = None,
    log_scale: bool = False,
    contours: bool = True,
    pseudo_ci: bool = True,
    egger_line: tuple[float, float] | None = None,
    theme: str | Theme = "light",
    x_label: str = "",
    title: str | None = None,
) -> go.Figure:
    """Draw a (contour-enhanced) funnel plot.

    Parameters
    ----------
    points : pandas.DataFrame
        One row per study; columns (see :data:`FUNNEL_COLUMNS`):

        - ``estimate`` (float, required): analysis scale (e.g. log risk ratio);
        - ``se`` (float, required): its standard error;
        - ``label`` (str, optional): untrusted, escaped, shown in the hover;
        - ``study_id`` (str or None, optional): ``customdata`` of the point;
        - ``filled`` (bool, optional, default False): trim-and-fill imputed studies,
          drawn hollow in their own colour and trace "Imputed (trim-and-fill)";
        - ``included`` (bool, optional, default True): excluded studies are grey, hollow.
    center : float
        Pooled estimate on the analysis scale: the funnel's vertical line and the centre
        of the pseudo confidence limits.
    se_max : float or None, default None
        Bottom of the y-axis; by default 10% beyond the largest standard error.
    log_scale : bool, default False
        Label the x-axis with natural-scale values exp(x) (for ratio measures); the data
        and geometry stay on the log scale.
    contours : bool, default True
        Shade the regions where a study would be statistically significant (two-sided,
        against 0 on the analysis scale) at p < 0.10, p < 0.05 and p < 0.01.
    pseudo_ci : bool, default True
        Draw the pseudo 95% confidence limits ``center ± 1.96 se`` and the line at
        ``center``.
    egger_line : (float, float) or None, default None
        ``(b0, b1)`` of the line ``estimate = b0 + b1 * se`` (the expected estimate as a
        function of its standard error), drawn from se = 0 to ``se_max``. The dashboard
        converts its small-study regression into this form.
    theme : {"light", "dark"} or Theme, default "light"
        Colour theme.
    x_label : str, default ""
        Title of the x-axis (escaped).
    title : str or None, default None
        Figure title (escaped).

    Returns
    -------
    plotly.graph_objects.Figure
        y-axis: standard error, 0 at the top. Study traces carry ``customdata`` equal to
        ``study_id``.

    Raises
    ------
    ValueError
        If required columns are missing.
    """
    require_columns(points, FUNNEL_COLUMNS, "funnel_figure")
    colours = get_theme(theme)
    studies = _prepare_points(points)
    se_bottom = _se_bottom(studies, se_max)
    low, high = _x_range(studies, center, se_bottom, contours, pseudo_ci)

    fig = go.Figure()
    apply_theme(fig, colours)
    if contours:
        _add_contours(fig, se_bottom, (low, high), colours)
    if pseudo_ci:
        z_se = PSEUDO_CI_Z * se_bottom
        fig.add_trace(
            go.Scatter(
                x=[center - z_se, center, center + z_se],
                y=[se_bottom, 0, se_bottom],
                mode="lines",
                name="Pseudo 95% CI",
                hoverinfo="skip",
                line={"color": colours.text, "width": 1.5, "dash": "dash"},
            )
        )
        fig.add_trace(
            go.Scatter(
                x=[center, center],
                y=[0, se_bottom],
                mode="lines",
                name="Pooled estimate",
                hoverinfo="skip",
                line={"color": colours.summary, "width": 2},
            )
        )
    if egger_line is not None:
        intercept, slope = egger_line
        fig.add_trace(
            go.Scatter(
                x=[intercept, intercept + slope * se_bottom],
                y=[0, se_bottom],
                mode="lines",
                name="Egger regression line",
                hoverinfo="skip",
                line={"color": colours.secondary, "width": 3, "dash": "dot"},
            )
        )
    _add_points(fig, studies, log_scale, colours)

    x_axis: dict = {"range": [low, high], "title": {"text": escape_text(x_label)}}
    if log_scale:
        values, labels = log_ticks(math.exp(low), math.exp(high))
        x_axis.update(tickmode="array", tickvals=list(np.log(values)), ticktext=labels)
    fig.update_layout(
        xaxis=x_axis,
        yaxis={"range": [se_bottom, 0], "title": {"text": "Standard error"}},
        height=DEFAULT_HEIGHT_PX,
        width=FIGURE_WIDTH_PX,
        margin={"l": 80, "r": 30, "t": 90 if title else 40, "b": 150},
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.16, "yanchor": "top"},
        hovermode="closest",
        title={"text": escape_text(title), "x": 0.01, "xanchor": "left"} if title else None,
    )
    return fig


def _prepare_points(points: pd.DataFrame) -> pd.DataFrame:
    studies = with_defaults(
        points, {"label": "", "study_id": None, "filled": False, "included": True}
    )
    for name in ("estimate", "se"):
        studies[name] = pd.to_numeric(studies[name], errors="coerce").astype(float)
    studies["filled"] = studies["filled"].fillna(False).astype(bool)
    studies["included"] = studies["included"].fillna(True).astype(bool)
    studies["study_id"] = optional_ids(studies["study_id"])
    return studies


def _se_bottom(studies: pd.DataFrame, se_max: float | None) -> float:
    if se_max is not None and se_max > 0:
        return float(se_max)
    se = studies["se"].to_numpy()
    se = se[np.isfinite(se) & (se > 0)]
    return float(se.max() * 1.1) if se.size else 1.0


def _x_range(studies, center, se_bottom, contours, pseudo_ci) -> tuple[float, float]:
    values = [studies["estimate"].to_numpy(), [center]]
    if pseudo_ci:
        values.append([center - PSEUDO_CI_Z * se_bottom, center + PSEUDO_CI_Z * se_bottom])
    if contours:
        z = CONTOUR_LEVELS[-1][1] * se_bottom
        values.append([-z, z])
    finite = np.concatenate([np.asarray(v, dtype=float) for v in values])
    finite = finite[np.isfinite(finite)]
    low, high = (finite.min(), finite.max()) if finite.size else (-1.0, 1.0)
    if high <= low:
        low, high = low - 1.0, high + 1.0
    pad = 0.05 * (high - low)
    return float(low - pad), float(high + pad)


def _add_contours(fig, se_bottom: float, limits: tuple[float, float], colours: Theme) -> None:
    """Shaded significance regions, each a pair of mirrored polygons (left and right)."""
    low, high = limits
    z_values = [z for _name, z in CONTOUR_LEVELS]
    for i, (name, z) in enumerate(CONTOUR_LEVELS):
        inner = z * se_bottom
        if i + 1 < len(z_values):  # band between this level and the next
            outer = z_values[i + 1] * se_bottom
            right = ([0, inner, outer, 0], [0, se_bottom, se_bottom, 0])
            left = ([0, -inner, -outer, 0], [0, se_bottom, se_bottom, 0])
        else:  # from the last level to the edges of the plot
            right = ([0, inner, high, high, 0], [0, se_bottom, se_bottom, 0, 0])
            left = ([0, -inner, low, low, 0], [0, se_bottom, se_bottom, 0, 0])
        fig.add_trace(
            go.Scatter(
                x=[*right[0], None, *left[0]],
                y=[*right[1], None, *left[1]],
                mode="lines",
                fill="toself",
                fillcolor=colours.contour_fills[i],
                line={"width": 0},
                name=escape_text(name),
                hoverinfo="skip",
            )
        )


def _add_points(fig, studies: pd.DataFrame, log_scale: bool, colours: Theme) -> None:
    groups = (
        ("Studies", ~studies["filled"] & studies["included"], "circle", colours.primary),
        (
            "Excluded studies",
            ~studies["filled"] & ~studies["included"],
            "circle-open",
            colours.muted,
        ),
        ("Imputed (trim-and-fill)", studies["filled"], "circle-open", colours.imputed),
    )
    for name, mask, symbol, colour in groups:
        chosen = studies[mask]
        if chosen.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=chosen["estimate"],
                y=chosen["se"],
                mode="markers",
                name=name,
                customdata=optional_ids(chosen["study_id"]),
                hovertext=[_hover(row, log_scale) for _, row in chosen.iterrows()],
                hoverinfo="text",
                marker={
                    "symbol": symbol,
                    "size": MARKER_PX,
                    "color": colour,
                    "line": {"color": colour, "width": 2},
                },
            )
        )


def _hover(row: pd.Series, log_scale: bool) -> str:
    label = wrap_text(row["label"]) or "(unlabelled)"
    if row["filled"]:
        label = f"{label} (imputed by trim-and-fill)"
    elif not row["included"]:
        label = f"{label} (excluded)"
    estimate = format_number(row["estimate"], 3)
    if log_scale and np.isfinite(row["estimate"]):
        estimate = f"{format_number(math.exp(row['estimate']), 2)} (log scale: {estimate})"
    return "<br>".join([label, f"Estimate: {estimate}", f"SE: {format_number(row['se'], 3)}"])
