"""A forest plot straight from a fitted result, for use of igmeta as a library.

The dashboard draws its forest plot from an analysis bundle and the study table
(:func:`igmeta.app.outputs.tables.forest_frame`); a script that has only a :class:`MetaResult` uses
:func:`forest_from_result`, which builds the rows with
:func:`igmeta.result_frames.result_forest_frame` and draws them with
:func:`igmeta.plots.forest.forest_figure`.
"""

from __future__ import annotations

import plotly.graph_objects as go

from igmeta.plots.forest import TextColumn, forest_figure
from igmeta.result_frames import result_display_scale, result_footer, result_forest_frame

__all__ = ["forest_from_result"]


def forest_from_result(
    res,
    *,
    show_prediction: bool = True,
    x_label: str | None = None,
    **options,
) -> go.Figure:
    """Forest plot of a fitted result alone (no table, no analysis bundle).

    Parameters
    ----------
    res : MetaResult
        Any pooled fit (inverse variance, Mantel-Haenszel, Peto, GLMM).
    show_prediction : bool, default True
        Draw the prediction interval of random-effects fits.
    x_label : str, optional
        Axis title; default the measure code, with "(log scale)" for ratios.
    **options
        Further arguments of :func:`igmeta.plots.forest.forest_figure` (``title``,
        ``theme``, ``favours_left``, ...).

    Returns
    -------
    plotly.graph_objects.Figure
        One row per study of the fit (result's labels, weights and Wald CIs at the
        result's level, on the natural scale) and the overall diamond, with "Weight"
        and "Estimate [CI]" text columns and the heterogeneity footer.

    Examples
    --------
    >>> import igmeta as im
    >>> res = im.meta_analysis(yi=[0.1, 0.3], vi=[0.01, 0.02], study=["A", "B"])
    >>> fig = forest_from_result(res)
    >>> fig.data[0].type
    'scatter'
    """
    frame = result_forest_frame(res, show_prediction=show_prediction)
    _, log_axis, null = result_display_scale(res)
    level = f"{100 * res.level:g}% CI"
    defaults = {
        "log_scale": log_axis,
        "null_value": null,
        "x_label": x_label if x_label is not None else _axis_label(res.measure, log_axis),
        "show_prediction": show_prediction,
        "text_columns": (
            TextColumn("weight_text", "Weight"),
            TextColumn("estimate_text", f"{res.measure} [{level}]"),
        ),
        "footer": result_footer(res),
    }
    return forest_figure(frame, **{**defaults, **options})


def _axis_label(measure: str, log_axis: bool) -> str:
    return f"{measure} (log scale)" if log_axis else measure
