"""Forest plot: one row per study, subgroup and summary, drawn from a tidy frame.

The frame is built by the analysis layer; this module only draws it. Every number is
already on the display scale (risk ratios, not log risk ratios) and every text column is
already formatted. Study rows carry their ``study_id`` as ``customdata`` so that a click
in the dashboard (on the square, the CI line or the study's name) can be mapped back to
the study (e.g. to exclude or re-include it).

The look follows RevMan and metafor: per-arm data columns under group headers left of the
plot (Events | Total, or Mean | SD | Total), weight and estimate with CI right of it,
"Favours ..." labels under the axis on each side of the null line, and a footer with the
heterogeneity statistics and the test for the overall effect.

The figure is assembled as plain dicts (traces and layout) and wrapped in a
``go.Figure`` without plotly's per-property validation, which cost most of the build
time (about 0.25 s at 50 studies, 2 s at 2,000). The dicts are exactly what the validated
constructor would store; ``tests/test_plots_forest.py`` checks that both give the same JSON.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from igmeta.formatting import format_ci, format_number, format_percent
from igmeta.plots._style import (
    BODY_FONT_SIZE,
    TITLE_FONT_SIZE,
    ColumnSpec,
    Theme,
    escape_text,
    footnote_annotations,
    get_theme,
    is_missing,
    log_ticks,
    optional_ids,
    require_columns,
    themed_layout,
    truncate_text,
    with_defaults,
    wrap_text,
)

__all__ = [
    "DEFAULT_TEXT_COLUMNS",
    "FOREST_COLUMNS",
    "ROW_TYPES",
    "TextColumn",
    "forest_figure",
    "forest_spec",
]

ROW_TYPES = ("study", "subgroup_header", "subgroup_summary", "overall", "prediction", "total")


class TextColumn(NamedTuple):
    """One text column of the forest plot.

    Attributes
    ----------
    column : str
        Frame column holding the (already formatted) text.
    header : str
        Column header, e.g. ``"Events"``.
    group : str, default ""
        Group header drawn above consecutive columns of the same group: ``"arm1"`` and
        ``"arm2"`` stand for the two arm names (``arm_names`` of :func:`forest_figure`),
        any other text is shown as it is; ``""`` for none.
    side : {"right", "left"}, default "right"
        Drawn right of the plot, or left of it (between the study names and the plot).
    """

    column: str
    header: str
    group: str = ""
    side: str = "right"


#: The input contract of :func:`forest_figure`.
FOREST_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(
        "row_type",
        True,
        f"str, one of {', '.join(ROW_TYPES)}; rows are drawn top to bottom in frame order "
        "('total' rows are text only, e.g. 'Total events')",
    ),
    ColumnSpec("label", True, "str, text in the label column (untrusted, escaped)"),
    ColumnSpec(
        "estimate",
        True,
        "float, point estimate on the display scale; NaN for headers and prediction rows",
    ),
    ColumnSpec("ci_lower", True, "float, lower confidence limit (display scale) or NaN"),
    ColumnSpec("ci_upper", True, "float, upper confidence limit (display scale) or NaN"),
    ColumnSpec(
        "study_id",
        False,
        "str or None, returned as customdata when a study is clicked; default None (not clickable)",
    ),
    ColumnSpec("group", False, "str or None, subgroup of the row (shown in the hover)"),
    ColumnSpec("pi_lower", False, "float, lower prediction limit on 'prediction' rows"),
    ColumnSpec("pi_upper", False, "float, upper prediction limit on 'prediction' rows"),
    ColumnSpec(
        "weight",
        False,
        "float, percent weight of a study; square area is proportional to it; "
        "no positive weight (e.g. column absent) = equal squares",
    ),
    ColumnSpec(
        "included",
        False,
        "bool, False draws the study grey and hollow, marked "
        "'(excluded)' in the hover; default True",
    ),
    ColumnSpec(
        "flag",
        False,
        "str, e.g. 'reconstructed'; non-empty flags add a dagger to "
        "the label and a footnote '† reconstructed data'; default ''",
    ),
    ColumnSpec("events1_text", False, "str, events in arm 1 (treatment), e.g. '7' (text column)"),
    ColumnSpec("mean1_text", False, "str, mean in arm 1 (text column)"),
    ColumnSpec("sd1_text", False, "str, standard deviation in arm 1 (text column)"),
    ColumnSpec("total1_text", False, "str, participants in arm 1, e.g. '11' (text column)"),
    ColumnSpec("events2_text", False, "str, events in arm 2 (control) (text column)"),
    ColumnSpec("mean2_text", False, "str, mean in arm 2 (text column)"),
    ColumnSpec("sd2_text", False, "str, standard deviation in arm 2 (text column)"),
    ColumnSpec("total2_text", False, "str, participants in arm 2 (text column)"),
    ColumnSpec("n_text", False, "str, participants of a one-sample study, e.g. 'n = 40'"),
    ColumnSpec("weight_text", False, "str, e.g. '35.2%' (text column)"),
    ColumnSpec("estimate_text", False, "str, e.g. '2.90 [1.62, 5.19]' (text column)"),
)


def _arm_columns(arm: str) -> tuple[TextColumn, ...]:
    n = arm[-1]
    return tuple(
        TextColumn(f"{name}{n}_text", header, arm, "left")
        for name, header in (
            ("events", "Events"),
            ("mean", "Mean"),
            ("sd", "SD"),
            ("total", "Total"),
        )
    )


#: Text columns drawn by default, in order. Columns absent from the frame, or whose
#: values are all empty, are not drawn: 2x2 data show Events | Total per arm, means
#: Mean | SD | Total per arm, generic effects only Weight and Estimate [95% CI].
DEFAULT_TEXT_COLUMNS: tuple[TextColumn, ...] = (
    *_arm_columns("arm1"),
    *_arm_columns("arm2"),
    TextColumn("n_text", "N", "", "left"),
    TextColumn("weight_text", "Weight", "", "right"),
    TextColumn("estimate_text", "Estimate [95% CI]", "", "right"),
)

ROW_HEIGHT_PX = 30
MIN_MARKER_PX = 7
MAX_MARKER_PX = 24
EQUAL_MARKER_PX = 12
DIAMOND_HALF_HEIGHT = 0.36  # in rows
FLAG_SYMBOLS = ("\u2020", "\u2021", "\u00a7", "\u00b6")  # † ‡ § ¶
INDENT = "\u00a0\u00a0\u00a0"  # non-breaking spaces survive SVG whitespace collapsing
# Horizontal plan: column widths are estimated from their text (Arial advance widths in
# em at the body font size, BOLD_FACTOR more in bold, plus SAFETY); the figure is at least
# MIN_WIDTH_PX wide and the plotting area at least MIN_PLOT_PX (COMPACT_PLOT_PX when the
# figure must fit a given width). Text columns show at most MAX_TEXT_COLUMN_CHARS; study
# names at most max_label_chars (summary labels in full).
MIN_WIDTH_PX = 1200
MIN_PLOT_PX = 460
COMPACT_PLOT_PX = 220
MIN_FONT_PX = 11
BOLD_FACTOR = 1.1
SAFETY = 1.06
COLUMN_GAP_PX = 12
_EM_WIDTHS = {
    **dict.fromkeys("ijl.,;:!|' ", 0.278),
    **dict.fromkeys("ft()[]-/", 0.333),
    **dict.fromkeys("r", 0.333),
    **dict.fromkeys("0123456789$#_?", 0.556),
    **dict.fromkeys("mMW%", 0.889),
    **dict.fromkeys("w", 0.722),
}
SIDE_MARGIN_PX = 20
MAX_TEXT_COLUMN_CHARS = 30
# Confidence intervals may reach this many widths of the "core" range (estimates,
# summaries, prediction interval, null value) beyond it before they are clipped.
MAX_OVERHANG = 1.0
NOTE_LINE_PX = 24
# Under the plot: tick labels, then the "Favours" labels, then the axis title, then the
# footer (heterogeneity, overall effect) and the footnotes.
FAVOURS_TOP_PX = 38
AXIS_TITLE_STANDOFF_PX = 40
FOOTER_TOP_PX = 108
# Clickable targets over a study's name: one transparent marker every TARGET_PX.
TARGET_PX = 22


def forest_spec(
    frame: pd.DataFrame,
    *,
    log_scale: bool = False,
    null_value: float | None = None,
    x_label: str = "",
    title: str | None = None,
    show_prediction: bool = True,
    theme: str | Theme = "light",
    highlight: str | None = None,
    x_range: tuple[float, float] | None = None,
    reference_value: float | None = None,
    text_columns: Sequence[TextColumn | tuple[str, str]] | None = None,
    label_header: str = "Study",
    max_label_chars: int = 40,
    arm_names: tuple[str, str] = ("Treatment", "Control"),
    estimate_header: str | None = None,
    favours_left: str = "Favours control",
    favours_right: str = "Favours treatment",
    footer: Sequence[str] = (),
    notes: Sequence[str] = (),
    width_px: int | None = None,
) -> go.Figure:
    """The plotly spec (``{"data": [...], "layout": {...}}``) of a forest plot of a tidy
    frame of rows, built from plain dicts (no plotly objects, no validation).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per line of the plot, drawn top to bottom in frame order. Columns (see
        :data:`FOREST_COLUMNS`); required: ``row_type``, ``label``, ``estimate``,
        ``ci_lower``, ``ci_upper``.

        - ``row_type`` (str): ``"study"`` (square and CI line), ``"subgroup_header"``
          (bold label only), ``"subgroup_summary"`` and ``"overall"`` (filled diamonds),
          ``"prediction"`` (prediction interval bar, usually right under the overall
          diamond), ``"total"`` (bold text only, e.g. "Total events" with the sums).
        - ``label`` (str): untrusted text, escaped; study labels longer than
          ``max_label_chars`` are shortened with "…" (the hover shows them in full);
          summary labels are never shortened.
        - ``study_id`` (str or None, optional): sent back as ``customdata`` on clicks on
          the square, the CI line and the study's name.
        - ``group`` (str or None, optional): subgroup, shown in the hover; when the frame
          has subgroup headers, study and subgroup-summary labels are indented.
        - ``estimate``, ``ci_lower``, ``ci_upper`` (float): display scale; NaN allowed.
        - ``pi_lower``, ``pi_upper`` (float, optional): on ``"prediction"`` rows.
        - ``weight`` (float, optional): percent; square area proportional to weight
          (7-24 px); without positive weights (e.g. no column) squares are all equal.
        - ``included`` (bool, optional, default True): excluded studies are drawn light
          grey and hollow, still clickable.
        - ``flag`` (str, optional): e.g. ``"reconstructed"``; adds "†" (then "‡", "§",
          "¶") after the label and a footnote "† reconstructed data".
        - text columns (str, optional): see ``text_columns``.
    log_scale : bool, default False
        Logarithmic x-axis with natural-scale tick labels (0.1, 0.2, 0.5, 1, 2, ...),
        for ratio measures. Values must then be positive; non-positive CI limits are
        drawn as clipped (arrow at the axis edge).
    null_value : float or None, default None
        Position of the solid vertical "no effect" line (1 for ratios, 0 for
        differences); None draws no line and no "Favours" labels.
    x_label : str, default ""
        Title of the x-axis (escaped).
    title : str or None, default None
        Figure title (escaped).
    show_prediction : bool, default True
        Whether ``"prediction"`` rows are drawn at all (hidden rows take no space).
    theme : {"light", "dark"} or Theme, default "light"
        Colour theme (see :func:`igmeta.plots.apply_theme`).
    highlight : str or None, default None
        ``study_id`` of a study to emphasise (presenter mode): accent colour, thicker
        line, bold label and a tinted row band.
    x_range : (float, float) or None, default None
        Display-scale x-axis limits. By default the axis spans the estimates, summary
        intervals, prediction interval and null value, plus study CIs up to one such
        width beyond; longer CIs are clipped with an arrow at the axis edge.
    reference_value : float or None, default None
        Position of the dashed vertical reference line; by default the estimate of the
        first ``"overall"`` row (no line if there is none).
    text_columns : sequence of TextColumn or (column, header), or None, default None
        Text columns, in order; default :data:`DEFAULT_TEXT_COLUMNS`. A plain
        ``(column, header)`` pair is a column right of the plot without group header.
        Absent or all-empty columns are skipped.
    label_header : str, default "Study"
        Header of the label column.
    max_label_chars : int, default 40
        Longest study label shown in full in the label column.
    arm_names : (str, str), default ("Treatment", "Control")
        Group headers of the ``"arm1"`` and ``"arm2"`` columns (escaped).
    estimate_header : str or None, default None
        Header of the ``estimate_text`` column instead of its default, e.g.
        ``"Risk ratio [95% CI]"`` (escaped).
    favours_left, favours_right : str, default "Favours control", "Favours treatment"
        Labels under the x-axis left and right of the null line (escaped); an empty
        string draws none. Nothing is drawn without a ``null_value``.
    footer : sequence of str, default ()
        Lines under the axis, e.g. the heterogeneity statistics and the test for the
        overall effect (escaped).
    notes : sequence of str, default ()
        Further footnotes after the automatic ones (escaped).
    width_px : int or None, default None
        Width to plan for, e.g. the dashboard's column (the figure is stretched to the
        page; text keeps its size, so the plan must not be wider than the page). None
        plans at least 1200 px with a plotting area of at least 460 px (static exports);
        a given width allows a plotting area down to 300 px and is exceeded only when
        the text columns need more.

    Returns
    -------
    dict
        The forest plot's spec; its height grows with the number of rows (30 px per row) and
        its width (at least 1200 px, used by static exports) with the text columns.
        Study traces (squares, CI lines, the label column and the transparent click
        targets over the labels) carry ``customdata`` equal to ``study_id`` (None on
        other rows).

    Raises
    ------
    ValueError
        If required columns are missing or ``row_type`` holds an unknown value.
    """
    colours = get_theme(theme)
    columns = _text_columns(text_columns, arm_names, estimate_header)
    rows = _prepare_rows(frame, show_prediction, columns)
    scale = _Scale(log_scale)
    limits = _axis_range(rows, scale, null_value, x_range)
    shown_columns = tuple(column for column in columns if _has_text(rows, column.column))
    layout = _ColumnLayout.plan(rows, shown_columns, label_header, max_label_chars, width_px)
    row_y = np.arange(1, len(rows) + 1, dtype=float)
    flag_symbols = _flag_symbols(rows)
    highlighted = (rows["row_type"] == "study").to_numpy() & np.array(
        [highlight is not None and study_id == highlight for study_id in rows["study_id"]],
        dtype=bool,
    )
    hover = _hover_texts(rows, shown_columns, flag_symbols)

    traces: list[dict] = []
    annotations: list[dict] = []
    shapes: list[dict] = []
    span = (0.5, len(rows) + 0.5)
    if null_value is not None:
        traces.append(_vertical_line(null_value, span, colours.reference, "solid", "null line"))
    reference = _reference_value(rows, reference_value)
    if reference is not None:
        traces.append(_vertical_line(reference, span, colours.summary, "dash", "reference line"))
    traces += _study_traces(rows, row_y, scale, limits, highlighted, hover, colours)
    traces += _summary_traces(rows, row_y, hover, colours)
    traces += _prediction_traces(rows, row_y, scale, limits, hover, colours)
    text_traces, header_annotations, header_shapes = _text_columns_drawn(
        rows, row_y, layout, highlighted, flag_symbols, hover, colours
    )
    traces += text_traces
    annotations += header_annotations
    shapes += header_shapes
    shapes += [_row_band(y, colours.highlight_band) for y in row_y[highlighted]]
    if null_value is not None:
        annotations += _favours_annotations(
            favours_left, favours_right, float(scale.to_axis(null_value)), colours, layout.font_px
        )
    lines = [escape_text(line) for line in footer]
    lines += _footnotes(rows, flag_symbols) + [escape_text(note) for note in notes]
    annotations += footnote_annotations(lines, top_px=FOOTER_TOP_PX, line_px=NOTE_LINE_PX)

    figure_layout = themed_layout(colours)
    _merge(figure_layout, _axes_layout(rows, scale, limits, layout, x_label))
    top = 40 + (50 if title else 0) + (ROW_HEIGHT_PX if layout.has_groups else 0)
    bottom = FOOTER_TOP_PX + NOTE_LINE_PX * len(lines) + 10
    _merge(
        figure_layout,
        {
            "annotations": annotations,
            "shapes": shapes,
            "height": ROW_HEIGHT_PX * (len(rows) + 1 + layout.has_groups) + top + bottom,
            "width": layout.width_px,
            "margin": {"l": SIDE_MARGIN_PX, "r": SIDE_MARGIN_PX, "t": top, "b": bottom},
            "showlegend": False,
            "hovermode": "closest",
        },
    )
    if title:
        _merge(figure_layout, {"title": {"text": escape_text(title), "x": 0.01, "xanchor": "left"}})
    return {"data": traces, "layout": figure_layout}


def forest_figure(frame: pd.DataFrame, **options) -> go.Figure:
    """The forest plot of :func:`forest_spec` (same arguments) as a plotly Figure.

    The spec is built from plain dicts, so it is not validated again here.
    """
    return go.Figure(forest_spec(frame, **options), _validate=False)


def _merge(target: dict, update: dict) -> dict:
    """Merge ``update`` into ``target`` recursively (as ``update_layout`` does)."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value
    return target


# --------------------------------------------------------------------------- input


def _text_columns(
    text_columns: Sequence[TextColumn | tuple[str, str]] | None,
    arm_names: tuple[str, str],
    estimate_header: str | None,
) -> tuple[TextColumn, ...]:
    """Text columns with arm group names and the estimate header filled in."""
    arms = {"arm1": str(arm_names[0]), "arm2": str(arm_names[1])}
    columns = []
    for spec in DEFAULT_TEXT_COLUMNS if text_columns is None else text_columns:
        column = TextColumn(*spec)
        header = column.header
        if column.column == "estimate_text" and estimate_header is not None:
            header = estimate_header
        columns.append(column._replace(header=header, group=arms.get(column.group, column.group)))
    return tuple(columns)


def _prepare_rows(
    frame: pd.DataFrame, show_prediction: bool, text_columns: Sequence[TextColumn]
) -> pd.DataFrame:
    require_columns(frame, FOREST_COLUMNS, "forest_figure")
    unknown = sorted(set(frame["row_type"].astype(str)) - set(ROW_TYPES))
    if unknown:
        raise ValueError(f"forest_figure: unknown row_type value(s) {unknown}; use {ROW_TYPES}")
    rows = with_defaults(
        frame,
        {
            "study_id": None,
            "group": None,
            "pi_lower": np.nan,
            "pi_upper": np.nan,
            "weight": np.nan,
            "included": True,
            "flag": "",
        },
    )
    for name in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "weight"):
        rows[name] = pd.to_numeric(rows[name], errors="coerce").astype(float)
    rows["included"] = rows["included"].fillna(True).astype(bool)
    rows["flag"] = [truncate_text(flag, MAX_TEXT_COLUMN_CHARS) for flag in rows["flag"]]
    rows["study_id"] = optional_ids(rows["study_id"])
    for column in text_columns:
        if column.column in rows:
            rows[column.column] = [
                "" if is_missing(text) else str(text) for text in rows[column.column]
            ]
    if not show_prediction:
        rows = rows[rows["row_type"] != "prediction"]
    return rows.reset_index(drop=True)


def _has_text(rows: pd.DataFrame, column: str) -> bool:
    return column in rows and any(text.strip() for text in rows[column])


def _column_texts(rows: pd.DataFrame, column: str) -> list[str]:
    """Escaped (and if need be shortened) cells of a text column, as drawn."""
    return [truncate_text(text, MAX_TEXT_COLUMN_CHARS) for text in rows[column]]


# --------------------------------------------------------------------------- x-axis


@dataclass(frozen=True)
class _Scale:
    """Conversion between display values and axis units (log10 on a log axis)."""

    log: bool

    def to_axis(self, values) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        if not self.log:
            return values
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), -np.inf)

    def to_display(self, values) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        return np.power(10.0, values) if self.log else values


def _finite(values) -> np.ndarray:
    values = np.asarray(values, dtype=float).ravel()
    return values[np.isfinite(values)]


def _axis_range(
    rows: pd.DataFrame,
    scale: _Scale,
    null_value: float | None,
    x_range: tuple[float, float] | None,
) -> tuple[float, float]:
    """Axis limits in axis units (log10 on a log axis)."""
    if x_range is not None:
        limits = _finite(scale.to_axis(sorted(x_range)))
        if limits.size != 2 or not limits[0] < limits[1]:
            raise ValueError("x_range must hold two distinct finite (positive on log scale) values")
        return float(limits[0]), float(limits[1])
    kind = rows["row_type"]
    summary = kind.isin(["subgroup_summary", "overall"])
    core_parts = (
        rows.loc[kind == "study", "estimate"],
        rows.loc[summary, ["estimate", "ci_lower", "ci_upper"]],
        rows.loc[kind == "prediction", ["pi_lower", "pi_upper"]],
        [np.nan if null_value is None else null_value],
    )
    core = np.concatenate([_finite(scale.to_axis(part)) for part in core_parts])
    if core.size == 0:
        core = np.array([-0.3, 0.3]) if scale.log else np.array([-1.0, 1.0])
    core_low, core_high = float(core.min()), float(core.max())
    width = core_high - core_low
    if width <= 0:
        width = math.log10(2.0) if scale.log else max(abs(core_low), 1.0) * 0.5
    study_limits = _finite(
        scale.to_axis(rows.loc[kind == "study", ["ci_lower", "ci_upper"]].to_numpy())
    )
    low = max(min(core_low, *study_limits, core_low), core_low - MAX_OVERHANG * width)
    high = min(max(core_high, *study_limits, core_high), core_high + MAX_OVERHANG * width)
    if high - low <= 0:
        low, high = low - width / 2, high + width / 2
    pad = 0.04 * (high - low)
    return low - pad, high + pad


def _clip(lower, upper, scale: _Scale, limits: tuple[float, float]):
    """Clip intervals to the axis; returns display-scale ends and clipped-side masks."""
    low, high = limits
    lower_u, upper_u = scale.to_axis(lower), scale.to_axis(upper)
    clipped_left = lower_u < low
    clipped_right = upper_u > high
    start = np.where(clipped_left, scale.to_display(low), np.asarray(lower, dtype=float))
    end = np.where(clipped_right, scale.to_display(high), np.asarray(upper, dtype=float))
    return start, end, clipped_left, clipped_right


# --------------------------------------------------------------------------- traces


def _segments(starts, ends, ys) -> tuple[list, list]:
    """Horizontal segments as one polyline separated by gaps (None)."""
    xs: list = []
    yy: list = []
    for start, end, y in zip(starts, ends, ys, strict=True):
        xs += [float(start), float(end), None]
        yy += [float(y), float(y), None]
    return xs, yy


def _scatter(**properties) -> dict:
    return {"type": "scatter", "showlegend": False, **properties}


def _vertical_line(x: float, span: tuple[float, float], colour: str, dash: str, name: str):
    return _scatter(
        x=[x, x],
        y=list(span),
        mode="lines",
        name=name,
        hoverinfo="skip",
        line={"color": colour, "width": 1.5, "dash": dash},
    )


def _marker_sizes(rows: pd.DataFrame) -> np.ndarray:
    """Square sizes in px: area proportional to weight, or all equal without weights."""
    weight = rows["weight"].to_numpy(dtype=float)
    positive = np.where(weight > 0, weight, 0.0)
    if not positive.any():
        return np.full(len(rows), float(EQUAL_MARKER_PX))
    size = MAX_MARKER_PX * np.sqrt(positive / positive.max())
    return np.clip(size, MIN_MARKER_PX, MAX_MARKER_PX)


def _study_traces(rows, row_y, scale, limits, highlighted, hover, colours) -> list[dict]:
    studies = (rows["row_type"] == "study").to_numpy()
    included = rows["included"].to_numpy()
    ids = np.array(rows["study_id"], dtype=object)
    hover = np.asarray(hover, dtype=object)
    sizes = _marker_sizes(rows)
    estimates = rows["estimate"].to_numpy(dtype=float)
    start, end, left, right = _clip(rows["ci_lower"], rows["ci_upper"], scale, limits)
    groups = (
        ("included", studies & included & ~highlighted, colours.primary, 2.0),
        ("excluded", studies & ~included & ~highlighted, colours.muted, 2.0),
        ("highlighted", highlighted, colours.accent, 4.0),
    )
    traces = []
    for name, chosen, colour, width in groups:
        if not chosen.any():
            continue
        xs, ys = _segments(start[chosen], end[chosen], row_y[chosen])
        traces.append(
            _scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=f"CI {name}",
                customdata=[s for s in ids[chosen] for s in (s, s, None)],
                hoverinfo="skip",
                line={"color": colour, "width": width},
            )
        )
        traces.append(
            _scatter(
                x=estimates[chosen],
                y=row_y[chosen],
                mode="markers",
                name=f"studies {name}",
                customdata=list(ids[chosen]),
                hovertext=list(hover[chosen]),
                hoverinfo="text",
                marker={
                    "symbol": ["square" if f else "square-open" for f in included[chosen]],
                    "size": sizes[chosen],
                    "color": colour,
                    "opacity": 1,
                    "line": {"color": colour, "width": 2 if name != "highlighted" else 3},
                },
                unselected={"marker": {"opacity": 1}},
            )
        )
    arrows_x, arrows_y, arrows_symbol, arrows_colour = [], [], [], []
    for i in np.flatnonzero(studies & (left | right)):
        colour = (
            colours.accent if highlighted[i] else colours.primary if included[i] else colours.muted
        )
        for clipped, x, symbol in (
            (left[i], start[i], "triangle-left"),
            (right[i], end[i], "triangle-right"),
        ):
            if clipped:
                arrows_x.append(float(x))
                arrows_y.append(float(row_y[i]))
                arrows_symbol.append(symbol)
                arrows_colour.append(colour)
    if arrows_x:
        traces.append(
            _scatter(
                x=arrows_x,
                y=arrows_y,
                mode="markers",
                name="CI clipped",
                hoverinfo="skip",
                cliponaxis=False,
                marker={"symbol": arrows_symbol, "size": 11, "color": arrows_colour},
            )
        )
    return traces


def _summary_traces(rows, row_y, hover, colours) -> list[dict]:
    traces = []
    for i in np.flatnonzero(rows["row_type"].isin(["subgroup_summary", "overall"]).to_numpy()):
        estimate, lower, upper = (
            float(v) for v in rows.loc[i, ["estimate", "ci_lower", "ci_upper"]]
        )
        if not all(np.isfinite([estimate, lower, upper])):
            continue
        overall = rows.loc[i, "row_type"] == "overall"
        colour = colours.summary if overall else colours.primary
        y = float(row_y[i])
        h = DIAMOND_HALF_HEIGHT
        traces.append(
            _scatter(
                x=[lower, estimate, upper, estimate, lower],
                y=[y, y - h, y, y + h, y],
                mode="lines",
                fill="toself",
                fillcolor=colour,
                name="overall diamond" if overall else "subgroup diamond",
                line={"color": colour, "width": 1.5},
                hovertext=[hover[i]] * 5,
                hoverinfo="text",
                hoveron="fills+points",
            )
        )
    return traces


def _prediction_traces(rows, row_y, scale, limits, hover, colours) -> list[dict]:
    chosen = (
        (rows["row_type"] == "prediction").to_numpy()
        & np.isfinite(rows["pi_lower"].to_numpy())
        & np.isfinite(rows["pi_upper"].to_numpy())
    )
    if not chosen.any():
        return []
    start, end, _left, _right = _clip(
        rows.loc[chosen, "pi_lower"], rows.loc[chosen, "pi_upper"], scale, limits
    )
    xs, ys = _segments(start, end, row_y[chosen])
    texts = [t for t in np.asarray(hover, dtype=object)[chosen] for t in (t, t, None)]
    return [
        _scatter(
            x=xs,
            y=ys,
            mode="lines+markers",
            name="prediction interval",
            hovertext=texts,
            hoverinfo="text",
            line={"color": colours.prediction, "width": 5},
            marker={
                "symbol": "line-ns",
                "size": 16,
                "color": colours.prediction,
                "line": {"color": colours.prediction, "width": 3},
            },
        )
    ]


# --------------------------------------------------------------------------- text


def _flag_symbols(rows: pd.DataFrame) -> dict[str, str]:
    flags = [f for f in dict.fromkeys(rows["flag"]) if f]
    return {
        flag: FLAG_SYMBOLS[i % len(FLAG_SYMBOLS)] * (1 + i // len(FLAG_SYMBOLS))
        for i, flag in enumerate(flags)
    }


def _hover_texts(rows, text_columns: Sequence[TextColumn], flag_symbols) -> list[str]:
    texts = []
    names = {column.column for column in text_columns}
    for row in rows.to_dict("records"):
        kind = row["row_type"]
        lines = [wrap_text(row["label"])]
        if kind == "study" and not row["included"]:
            lines[0] += " (excluded)"
        if kind == "prediction":
            lines.append(
                "Prediction interval: "
                f"[{format_number(row['pi_lower'])}, {format_number(row['pi_upper'])}]"
            )
        elif kind not in ("subgroup_header", "total"):
            if not is_missing(row["group"]) and kind == "study":
                lines.append(wrap_text(f"Subgroup: {row['group']}"))
            shown = [c for c in text_columns if row[c.column].strip()]
            if "estimate_text" not in {c.column for c in shown}:
                ci = format_ci(row["estimate"], row["ci_lower"], row["ci_upper"])
                lines.append(escape_text(ci))
            lines += [wrap_text(f"{c.group} {c.header}: {row[c.column]}".strip()) for c in shown]
            weight_shown = "weight_text" in names and row["weight_text"].strip()
            if kind == "study" and not weight_shown and np.isfinite(row["weight"]):
                lines.append(f"Weight: {escape_text(format_percent(row['weight']))}")
        if row["flag"]:
            lines.append(f"{flag_symbols[row['flag']]} {row['flag']} data")
        texts.append("<br>".join(lines))
    return texts


def _footnotes(rows: pd.DataFrame, flag_symbols: dict[str, str]) -> list[str]:
    notes = [f"{symbol} {flag} data" for flag, symbol in flag_symbols.items()]
    if (~rows.loc[rows["row_type"] == "study", "included"]).any():
        notes.append("Hollow grey squares: studies excluded from this analysis")
    return notes


def _text_px(escaped: str, bold: bool = False) -> float:
    """Estimated width in px of escaped text at the body font size."""
    em = 0.0
    for char in html.unescape(escaped):
        em += _EM_WIDTHS.get(char, 0.667 if char.isupper() else 0.556)
    return em * BODY_FONT_SIZE * SAFETY * (BOLD_FACTOR if bold else 1.0)


def _bold_rows(rows: pd.DataFrame) -> np.ndarray:
    kinds = rows["row_type"].to_numpy()
    return (kinds != "study") & (kinds != "prediction")


def _labels(rows: pd.DataFrame, max_label_chars: int, indent: bool, flag_symbols) -> list[str]:
    """Escaped label column: study names shortened, summary labels in full."""
    labels = []
    for kind, label, flag in zip(rows["row_type"], rows["label"], rows["flag"], strict=True):
        text = truncate_text(label, max_label_chars) if kind == "study" else escape_text(label)
        if indent and kind in ("study", "subgroup_summary"):
            text = INDENT + text
        labels.append(f"{text} {flag_symbols[flag]}" if flag else text)
    return labels


@dataclass(frozen=True)
class _ColumnLayout:
    """Horizontal plan: label column, left text columns, plot, right text columns."""

    width_px: int
    label_domain: tuple[float, float]
    label_px: float
    plot_domain: tuple[float, float]
    columns: tuple[tuple[TextColumn, tuple[float, float]], ...]
    label_header: str
    max_label_chars: int
    indent: bool
    font_px: float = BODY_FONT_SIZE

    @property
    def has_groups(self) -> bool:
        return any(column.group for column, _domain in self.columns)

    @classmethod
    def plan(cls, rows, text_columns, label_header, max_label_chars, width_px) -> _ColumnLayout:
        indent = bool((rows["row_type"] == "subgroup_header").any())
        bold = _bold_rows(rows)
        labels = _labels(rows, max_label_chars, indent, _flag_symbols(rows))
        label_px = max(
            _text_px(label_header, True),
            *(_text_px(label + "\u00a0", b) for b, label in zip(bold, labels, strict=True)),
        )
        left = [c for c in text_columns if c.side == "left"]
        right = [c for c in text_columns if c.side != "left"]
        ordered = left + right

        def column_px(column: TextColumn) -> float:
            texts = _column_texts(rows, column.column)
            return max(
                _text_px(column.header, True),
                *(_text_px(t, b) for b, t in zip(bold, texts, strict=True)),
            )

        widths = [column_px(c) for c in ordered]
        # A group header must fit over its columns: widen the last column of the group.
        for group in dict.fromkeys(c.group for c in ordered if c.group):
            members = [i for i, c in enumerate(ordered) if c.group == group]
            needed = _text_px(group, True) + COLUMN_GAP_PX
            span = sum(widths[i] for i in members) + COLUMN_GAP_PX * (len(members) - 1)
            if span < needed:
                widths[members[-1]] += needed - span
        gaps_px = COLUMN_GAP_PX * (len(ordered) + 1)
        target = MIN_WIDTH_PX if width_px is None else width_px
        least_plot = MIN_PLOT_PX if width_px is None else COMPACT_PLOT_PX
        font_px = float(BODY_FONT_SIZE)
        text_px = label_px + sum(widths)
        room = target - 2 * SIDE_MARGIN_PX - gaps_px - least_plot
        if width_px is not None and text_px > room:
            # Text keeps its size when the page stretches the figure: shrink the font so
            # that the columns fit the width planned for (down to MIN_FONT_PX).
            scale = max(MIN_FONT_PX / BODY_FONT_SIZE, room / text_px)
            font_px = BODY_FONT_SIZE * scale
            label_px *= scale
            widths = [w * scale for w in widths]
        inner_px = max(target - 2 * SIDE_MARGIN_PX, label_px + sum(widths) + gaps_px + least_plot)
        plot_px = inner_px - label_px - sum(widths) - gaps_px
        position = label_px + COLUMN_GAP_PX
        domains = []
        plot_domain = (0.0, 1.0)
        for i, (column, width) in enumerate(zip(ordered, widths, strict=True)):
            if i == len(left):
                plot_domain = (position / inner_px, (position + plot_px) / inner_px)
                position += plot_px + COLUMN_GAP_PX
            domains.append((column, (position / inner_px, min((position + width) / inner_px, 1.0))))
            position += width + COLUMN_GAP_PX
        if not right:
            plot_domain = (position / inner_px, min((position + plot_px) / inner_px, 1.0))
        return cls(
            int(math.ceil(inner_px + 2 * SIDE_MARGIN_PX)),
            (0.0, label_px / inner_px),
            label_px,
            plot_domain,
            tuple(domains),
            label_header,
            max_label_chars,
            indent,
            round(font_px, 1),
        )


def _text_columns_drawn(rows, row_y, layout, highlighted, flag_symbols, hover, colours):
    """Label column, click targets over study names, text columns and their headers."""
    kinds = rows["row_type"].to_numpy()
    studies = kinds == "study"
    excluded = studies & ~rows["included"].to_numpy()
    bold = _bold_rows(rows) | highlighted
    colour = np.where(highlighted, colours.accent, np.where(excluded, colours.muted, colours.text))
    colour = np.where(kinds == "prediction", colours.prediction, colour)
    font = {
        "size": layout.font_px,
        "color": list(colour),
        "weight": list(np.where(bold, "bold", "normal")),
    }
    ids = optional_ids(rows["study_id"])
    traces = [
        _scatter(
            x=np.zeros(len(rows)),
            y=row_y,
            mode="text",
            text=_labels(rows, layout.max_label_chars, layout.indent, flag_symbols),
            textposition="middle right",
            name="label column",
            xaxis="x2",
            customdata=ids,
            hovertext=hover,
            hoverinfo="text",
            cliponaxis=False,
            textfont=font,
        )
    ]
    clickable = studies & np.array([i is not None for i in ids], dtype=bool)
    if clickable.any():
        count = max(1, math.ceil(layout.label_px / TARGET_PX))
        xs = (np.arange(count) + 0.5) / count
        chosen = np.flatnonzero(clickable)
        traces.append(
            _scatter(
                x=np.tile(xs, chosen.size),
                y=np.repeat(row_y[chosen], count),
                mode="markers",
                name="label targets",
                xaxis="x2",
                customdata=[ids[i] for i in chosen for _ in range(count)],
                # "none": no label of its own (the name's hover shows it) but clicks count.
                hoverinfo="none",
                marker={"symbol": "square", "size": TARGET_PX, "color": "rgba(0,0,0,0)"},
                selected={"marker": {"opacity": 0}},
                unselected={"marker": {"opacity": 0}},
            )
        )
    header_font = {"size": layout.font_px, "weight": "bold", "color": colours.text}
    annotations = [_header(layout.label_header, "x2", 0.0, "left", 0, header_font)]
    for offset, (column, _domain) in enumerate(layout.columns):
        axis = f"x{offset + 3}"
        traces.append(
            _scatter(
                x=np.ones(len(rows)),
                y=row_y,
                mode="text",
                text=_column_texts(rows, column.column),
                textposition="middle left",
                name=f"{column.column} column",
                xaxis=axis,
                hoverinfo="skip",
                cliponaxis=False,
                textfont=font,
            )
        )
        annotations.append(_header(column.header, axis, 1.0, "right", 0, header_font))
    shapes = [_rule(0.0, 1.0, 0.5, colours)]
    for group in dict.fromkeys(c.group for c, _d in layout.columns if c.group):
        domains = [d for c, d in layout.columns if c.group == group]
        low, high = domains[0][0], domains[-1][1]
        annotations.append(_header(group, "paper", (low + high) / 2, "center", -1, header_font))
        shapes.append(_rule(low, high, -0.5, colours))
    return traces, annotations, shapes


def _header(text: str, axis: str, x: float, anchor: str, y: float, font: dict) -> dict:
    return {
        "text": escape_text(text),
        "x": x,
        "xref": axis if axis == "paper" else f"{axis} domain",
        "xanchor": anchor,
        "y": y,
        "yref": "y",
        "showarrow": False,
        "font": font,
    }


def _rule(x0: float, x1: float, y: float, colours: Theme) -> dict:
    return {
        "type": "line",
        "xref": "paper",
        "x0": x0,
        "x1": x1,
        "yref": "y",
        "y0": y,
        "y1": y,
        "line": {"color": colours.text, "width": 1},
    }


def _favours_annotations(
    left: str, right: str, null_axis: float, colours: Theme, font_px: float
) -> list[dict]:
    """'Favours ...' under the axis, ending (left) and starting (right) at the null line."""
    annotations = []
    for text, anchor, shift, arrow in (
        (left, "right", -8, "\u25c0 {}"),
        (right, "left", 8, "{} \u25b6"),
    ):
        if not str(text).strip():
            continue
        annotations.append(
            {
                "text": arrow.format(escape_text(text)),
                "x": null_axis,
                "xref": "x",
                "xanchor": anchor,
                "xshift": shift,
                "y": 0,
                "yref": "paper",
                "yanchor": "top",
                "yshift": -FAVOURS_TOP_PX,
                "showarrow": False,
                "font": {"size": font_px, "color": colours.text},
            }
        )
    return annotations


def _row_band(y: float, colour: str) -> dict:
    """Tinted band across the whole width behind row ``y`` (presenter highlight)."""
    return {
        "type": "rect",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": float(y) - 0.5,
        "y1": float(y) + 0.5,
        "fillcolor": colour,
        "line": {"width": 0},
        "layer": "below",
    }


def _reference_value(rows: pd.DataFrame, reference_value: float | None) -> float | None:
    if reference_value is not None:
        return reference_value
    overall = rows.loc[rows["row_type"] == "overall", "estimate"].to_numpy(dtype=float)
    overall = overall[np.isfinite(overall)]
    return float(overall[0]) if overall.size else None


# --------------------------------------------------------------------------- axes


def _axes_layout(rows, scale, limits, layout, x_label) -> dict:
    low, high = limits
    main_axis = {
        "domain": list(layout.plot_domain),
        "range": [low, high],
        "title": {
            "text": escape_text(x_label),
            "font": {"size": TITLE_FONT_SIZE},
            "standoff": AXIS_TITLE_STANDOFF_PX,
        },
        "anchor": "y",
    }
    plot_px = (layout.plot_domain[1] - layout.plot_domain[0]) * (layout.width_px - 40)
    main_axis["tickfont"] = {"size": layout.font_px}
    main_axis["tickangle"] = 0
    if scale.log:
        max_ticks = int(min(9, max(3, plot_px // (2.6 * layout.font_px))))
        values, labels = log_ticks(10.0**low, 10.0**high, max_ticks)
        main_axis.update(type="log", tickmode="array", tickvals=values, ticktext=labels)
    else:
        main_axis["nticks"] = int(min(9, max(3, plot_px // (4 * layout.font_px))))
    hidden = {"visible": False, "range": [0, 1], "fixedrange": True, "anchor": "y"}
    axes = {"xaxis": main_axis, "xaxis2": {**hidden, "domain": list(layout.label_domain)}}
    for offset, (_column, domain) in enumerate(layout.columns):
        axes[f"xaxis{offset + 3}"] = {**hidden, "domain": list(domain)}
    top = -1.6 if layout.has_groups else -0.6
    axes["yaxis"] = {"range": [len(rows) + 0.7, top], "visible": False, "fixedrange": True}
    return axes
