"""Forest plot: one row per study, subgroup and summary, drawn from a tidy frame.

The frame is built by the analysis layer; this module only draws it. Every number is
already on the display scale (risk ratios, not log risk ratios) and every text column is
already formatted. Study rows carry their ``study_id`` as ``customdata`` so that a click
in the dashboard can be mapped back to the study (e.g. to exclude or re-include it).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from igmeta.formatting import format_ci, format_number, format_percent
from igmeta.plots._style import (
    BODY_FONT_SIZE,
    TITLE_FONT_SIZE,
    ColumnSpec,
    Theme,
    add_footnotes,
    apply_theme,
    escape_text,
    get_theme,
    is_missing,
    log_ticks,
    optional_ids,
    require_columns,
    truncate_text,
    with_defaults,
    wrap_text,
)

__all__ = ["DEFAULT_TEXT_COLUMNS", "FOREST_COLUMNS", "ROW_TYPES", "forest_figure"]

ROW_TYPES = ("study", "subgroup_header", "subgroup_summary", "overall", "prediction")

#: The input contract of :func:`forest_figure`.
FOREST_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec(
        "row_type",
        True,
        f"str, one of {', '.join(ROW_TYPES)}; rows are drawn top to bottom in frame order",
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
    ColumnSpec("counts_text", False, "str, e.g. '7/11 | 0/12' (text column)"),
    ColumnSpec("estimate_text", False, "str, e.g. '2.90 [1.62, 5.19]' (text column)"),
    ColumnSpec("weight_text", False, "str, e.g. '35.2%' (text column)"),
)

#: Text columns drawn to the right of the plot, in order, with their headers. Columns
#: absent from the frame, or whose values are all empty, are not drawn.
DEFAULT_TEXT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("counts_text", "Events / total"),
    ("estimate_text", "Estimate [95% CI]"),
    ("weight_text", "Weight"),
)

ROW_HEIGHT_PX = 30
MIN_MARKER_PX = 7
MAX_MARKER_PX = 24
EQUAL_MARKER_PX = 12
DIAMOND_HALF_HEIGHT = 0.36  # in rows
FLAG_SYMBOLS = ("\u2020", "\u2021", "\u00a7", "\u00b6")  # † ‡ § ¶
INDENT = "\u00a0\u00a0\u00a0"  # non-breaking spaces survive SVG whitespace collapsing
# Horizontal plan: column widths are estimated from their text (about CHAR_WIDTH_PX per
# character at the body font size); the figure is at least MIN_WIDTH_PX wide and the
# plotting area at least MIN_PLOT_PX. Text columns show at most MAX_TEXT_COLUMN_CHARS.
MIN_WIDTH_PX = 1200
MIN_PLOT_PX = 460
CHAR_WIDTH_PX = 9.0
COLUMN_GAP_PX = 18
SIDE_MARGIN_PX = 20
MAX_TEXT_COLUMN_CHARS = 30
# Confidence intervals may reach this many widths of the "core" range (estimates,
# summaries, prediction interval, null value) beyond it before they are clipped.
MAX_OVERHANG = 1.0
NOTE_LINE_PX = 24


def forest_figure(
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
    text_columns: Sequence[tuple[str, str]] | None = None,
    label_header: str = "Study",
    max_label_chars: int = 40,
) -> go.Figure:
    """Draw a forest plot from a tidy frame of rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per line of the plot, drawn top to bottom in frame order. Columns (see
        :data:`FOREST_COLUMNS`); required: ``row_type``, ``label``, ``estimate``,
        ``ci_lower``, ``ci_upper``.

        - ``row_type`` (str): ``"study"`` (square and CI line), ``"subgroup_header"``
          (bold label only), ``"subgroup_summary"`` and ``"overall"`` (filled diamonds),
          ``"prediction"`` (prediction interval bar, usually right under the overall
          diamond).
        - ``label`` (str): untrusted text, escaped; labels longer than
          ``max_label_chars`` are shortened with "…" (the hover shows them in full).
        - ``study_id`` (str or None, optional): sent back as ``customdata`` on clicks.
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
        - text columns (str, optional): ``counts_text``, ``estimate_text``,
          ``weight_text`` by default (see ``text_columns``).
    log_scale : bool, default False
        Logarithmic x-axis with natural-scale tick labels (0.1, 0.2, 0.5, 1, 2, ...),
        for ratio measures. Values must then be positive; non-positive CI limits are
        drawn as clipped (arrow at the axis edge).
    null_value : float or None, default None
        Position of the solid vertical "no effect" line (1 for ratios, 0 for
        differences); None draws no line.
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
    text_columns : sequence of (column, header) or None, default None
        Text columns drawn right of the plot, in order; default
        :data:`DEFAULT_TEXT_COLUMNS`. Absent or all-empty columns are skipped.
    label_header : str, default "Study"
        Header of the label column.
    max_label_chars : int, default 40
        Longest label shown in full in the label column.

    Returns
    -------
    plotly.graph_objects.Figure
        The forest plot; its height grows with the number of rows (30 px per row) and
        its width (at least 1200 px, used by static exports) with the text columns.
        Study traces (squares, CI lines and the label column) carry ``customdata`` equal
        to ``study_id`` (None on other rows).

    Raises
    ------
    ValueError
        If required columns are missing or ``row_type`` holds an unknown value.
    """
    colours = get_theme(theme)
    columns = tuple(DEFAULT_TEXT_COLUMNS if text_columns is None else text_columns)
    rows = _prepare_rows(frame, show_prediction, columns)
    scale = _Scale(log_scale)
    low, high = _axis_range(rows, scale, null_value, x_range)
    shown_columns = [(name, header) for name, header in columns if _has_text(rows, name)]
    layout = _ColumnLayout.plan(rows, shown_columns, label_header, max_label_chars)
    row_y = np.arange(1, len(rows) + 1, dtype=float)
    flag_symbols = _flag_symbols(rows)
    highlighted = (rows["row_type"] == "study") & rows["study_id"].map(
        lambda study_id: highlight is not None and study_id == highlight
    ).astype(bool)
    hover = _hover_texts(rows, shown_columns, flag_symbols)

    fig = go.Figure()
    apply_theme(fig, colours)
    span = (0.5, len(rows) + 0.5)
    if null_value is not None:
        fig.add_trace(_vertical_line(null_value, span, colours.reference, "solid", "null line"))
    reference = _reference_value(rows, reference_value)
    if reference is not None:
        fig.add_trace(_vertical_line(reference, span, colours.summary, "dash", "reference line"))
    _add_study_traces(fig, rows, row_y, scale, (low, high), highlighted, hover, colours)
    _add_summary_traces(fig, rows, row_y, hover, colours)
    _add_prediction_traces(fig, rows, row_y, scale, (low, high), hover, colours)
    _add_text_columns(fig, rows, row_y, layout, highlighted, flag_symbols, hover, colours)
    for y in row_y[highlighted.to_numpy()]:
        _add_row_band(fig, y, colours.highlight_band)
    notes = _footnotes(rows, flag_symbols)
    _layout_axes(fig, rows, scale, (low, high), layout, x_label, colours)
    add_footnotes(fig, notes, top_px=62, line_px=NOTE_LINE_PX)
    top = 40 + (50 if title else 0)
    bottom = 80 + NOTE_LINE_PX * len(notes)
    fig.update_layout(
        height=ROW_HEIGHT_PX * (len(rows) + 1) + top + bottom,
        width=layout.width_px,
        margin={"l": SIDE_MARGIN_PX, "r": SIDE_MARGIN_PX, "t": top, "b": bottom},
        showlegend=False,
        hovermode="closest",
        title={"text": escape_text(title), "x": 0.01, "xanchor": "left"} if title else None,
    )
    return fig


# --------------------------------------------------------------------------- input


def _prepare_rows(
    frame: pd.DataFrame, show_prediction: bool, text_columns: Sequence[tuple[str, str]]
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
    for name, _header in text_columns:
        if name in rows:
            rows[name] = ["" if is_missing(text) else str(text) for text in rows[name]]
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
        xs += [start, end, None]
        yy += [y, y, None]
    return xs, yy


def _vertical_line(x: float, span: tuple[float, float], colour: str, dash: str, name: str):
    return go.Scatter(
        x=[x, x],
        y=list(span),
        mode="lines",
        name=name,
        hoverinfo="skip",
        line={"color": colour, "width": 1.5, "dash": dash},
        showlegend=False,
    )


def _marker_sizes(rows: pd.DataFrame) -> np.ndarray:
    """Square sizes in px: area proportional to weight, or all equal without weights."""
    weight = rows["weight"].to_numpy(dtype=float)
    positive = np.where(weight > 0, weight, 0.0)
    if not positive.any():
        return np.full(len(rows), float(EQUAL_MARKER_PX))
    size = MAX_MARKER_PX * np.sqrt(positive / positive.max())
    return np.clip(size, MIN_MARKER_PX, MAX_MARKER_PX)


def _add_study_traces(fig, rows, row_y, scale, limits, highlighted, hover, colours) -> None:
    studies = rows["row_type"] == "study"
    sizes = _marker_sizes(rows)
    start, end, left, right = _clip(rows["ci_lower"], rows["ci_upper"], scale, limits)
    groups = (
        ("included", studies & rows["included"] & ~highlighted, colours.primary, 2.0),
        ("excluded", studies & ~rows["included"] & ~highlighted, colours.muted, 2.0),
        ("highlighted", highlighted, colours.accent, 4.0),
    )
    for name, mask, colour, width in groups:
        chosen = mask.to_numpy()
        if not chosen.any():
            continue
        xs, ys = _segments(start[chosen], end[chosen], row_y[chosen])
        ids = [s for s in optional_ids(rows.loc[chosen, "study_id"]) for s in (s, s, None)]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=f"CI {name}",
                customdata=ids,
                hoverinfo="skip",
                line={"color": colour, "width": width},
                showlegend=False,
            )
        )
        filled = rows.loc[chosen, "included"].to_numpy()
        fig.add_trace(
            go.Scatter(
                x=rows.loc[chosen, "estimate"],
                y=row_y[chosen],
                mode="markers",
                name=f"studies {name}",
                customdata=optional_ids(rows.loc[chosen, "study_id"]),
                hovertext=list(np.asarray(hover)[chosen]),
                hoverinfo="text",
                showlegend=False,
                marker={
                    "symbol": ["square" if f else "square-open" for f in filled],
                    "size": sizes[chosen],
                    "color": colour,
                    "opacity": 1,
                    "line": {"color": colour, "width": 2 if name != "highlighted" else 3},
                },
                unselected={"marker": {"opacity": 1}},
            )
        )
    arrows_x, arrows_y, arrows_symbol, arrows_colour = [], [], [], []
    for i in np.flatnonzero(studies.to_numpy() & (left | right)):
        colour = (
            colours.accent
            if highlighted.iloc[i]
            else colours.primary
            if rows["included"].iloc[i]
            else colours.muted
        )
        for clipped, x, symbol in (
            (left[i], start[i], "triangle-left"),
            (right[i], end[i], "triangle-right"),
        ):
            if clipped:
                arrows_x.append(x)
                arrows_y.append(row_y[i])
                arrows_symbol.append(symbol)
                arrows_colour.append(colour)
    if arrows_x:
        fig.add_trace(
            go.Scatter(
                x=arrows_x,
                y=arrows_y,
                mode="markers",
                name="CI clipped",
                hoverinfo="skip",
                showlegend=False,
                cliponaxis=False,
                marker={"symbol": arrows_symbol, "size": 11, "color": arrows_colour},
            )
        )


def _add_summary_traces(fig, rows, row_y, hover, colours) -> None:
    for i in np.flatnonzero(rows["row_type"].isin(["subgroup_summary", "overall"]).to_numpy()):
        estimate, lower, upper = rows.loc[i, ["estimate", "ci_lower", "ci_upper"]]
        if not all(np.isfinite([estimate, lower, upper])):
            continue
        overall = rows.loc[i, "row_type"] == "overall"
        colour = colours.summary if overall else colours.primary
        y = row_y[i]
        h = DIAMOND_HALF_HEIGHT
        fig.add_trace(
            go.Scatter(
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
                showlegend=False,
            )
        )


def _add_prediction_traces(fig, rows, row_y, scale, limits, hover, colours) -> None:
    chosen = (
        (rows["row_type"] == "prediction").to_numpy()
        & np.isfinite(rows["pi_lower"].to_numpy())
        & np.isfinite(rows["pi_upper"].to_numpy())
    )
    if not chosen.any():
        return
    start, end, _left, _right = _clip(
        rows.loc[chosen, "pi_lower"], rows.loc[chosen, "pi_upper"], scale, limits
    )
    xs, ys = _segments(start, end, row_y[chosen])
    texts = [t for t in np.asarray(hover)[chosen] for t in (t, t, None)]
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines+markers",
            name="prediction interval",
            hovertext=texts,
            hoverinfo="text",
            showlegend=False,
            line={"color": colours.prediction, "width": 5},
            marker={
                "symbol": "line-ns",
                "size": 16,
                "color": colours.prediction,
                "line": {"color": colours.prediction, "width": 3},
            },
        )
    )


# --------------------------------------------------------------------------- text


def _flag_symbols(rows: pd.DataFrame) -> dict[str, str]:
    flags = [f for f in dict.fromkeys(rows["flag"]) if f]
    return {
        flag: FLAG_SYMBOLS[i % len(FLAG_SYMBOLS)] * (1 + i // len(FLAG_SYMBOLS))
        for i, flag in enumerate(flags)
    }


def _hover_texts(rows, text_columns, flag_symbols) -> list[str]:
    texts = []
    for _, row in rows.iterrows():
        kind = row["row_type"]
        lines = [wrap_text(row["label"])]
        if kind == "study" and not row["included"]:
            lines[0] += " (excluded)"
        if kind == "prediction":
            lines.append(
                "Prediction interval: "
                f"[{format_number(row['pi_lower'])}, {format_number(row['pi_upper'])}]"
            )
        elif kind != "subgroup_header":
            if not is_missing(row["group"]) and kind == "study":
                lines.append(wrap_text(f"Subgroup: {row['group']}"))
            shown = {column for column, _header in text_columns if row[column].strip()}
            if "estimate_text" not in shown:
                ci = format_ci(row["estimate"], row["ci_lower"], row["ci_upper"])
                lines.append(escape_text(ci))
            lines += [
                wrap_text(f"{header}: {row[column]}")
                for column, header in text_columns
                if column in shown
            ]
            if kind == "study" and "weight_text" not in shown and np.isfinite(row["weight"]):
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


@dataclass(frozen=True)
class _ColumnLayout:
    """Horizontal plan of the figure: label column, plot, then text columns."""

    width_px: int
    label_domain: tuple[float, float]
    plot_domain: tuple[float, float]
    text_domains: tuple[tuple[str, str, tuple[float, float]], ...]
    label_header: str
    max_label_chars: int
    indent: bool

    @classmethod
    def plan(cls, rows, text_columns, label_header, max_label_chars) -> _ColumnLayout:
        indent = bool((rows["row_type"] == "subgroup_header").any())
        labels = [truncate_text(label, max_label_chars) for label in rows["label"]]
        label_chars = max(
            len(label_header),
            *(_shown_length(label) + 2 + len(INDENT) * indent for label in labels),
        )
        text_chars = [
            max(len(header), *map(_shown_length, _column_texts(rows, name))) + 1
            for name, header in text_columns
        ]
        widths_px = CHAR_WIDTH_PX * np.array([label_chars, *text_chars], dtype=float)
        gaps_px = COLUMN_GAP_PX * (len(text_columns) + 1)
        inner_px = max(MIN_WIDTH_PX - 2 * SIDE_MARGIN_PX, widths_px.sum() + gaps_px + MIN_PLOT_PX)
        fractions = widths_px / inner_px
        gap = COLUMN_GAP_PX / inner_px
        label_domain = (0.0, float(fractions[0]))
        plot_domain = (
            label_domain[1] + gap,
            1.0 - float(fractions[1:].sum()) - gap * len(text_columns),
        )
        domains = []
        start = plot_domain[1]
        for (name, header), width in zip(text_columns, fractions[1:], strict=True):
            start += gap
            domains.append((name, header, (start, min(start + float(width), 1.0))))
            start += float(width)
        return cls(
            int(math.ceil(inner_px + 2 * SIDE_MARGIN_PX)),
            label_domain,
            plot_domain,
            tuple(domains),
            label_header,
            max_label_chars,
            indent,
        )


def _shown_length(escaped: str) -> int:
    """Number of characters plotly displays for escaped text."""
    return len(html.unescape(escaped))


def _add_text_columns(fig, rows, row_y, layout, highlighted, flag_symbols, hover, colours) -> None:
    kinds = rows["row_type"].to_numpy()
    studies = kinds == "study"
    excluded = studies & ~rows["included"].to_numpy()
    accent = highlighted.to_numpy()
    bold = ((kinds != "study") & (kinds != "prediction")) | accent
    colour = np.where(accent, colours.accent, np.where(excluded, colours.muted, colours.text))
    colour = np.where(kinds == "prediction", colours.prediction, colour)
    weight = np.where(bold, "bold", "normal")

    labels = []
    for kind, label, flag in zip(kinds, rows["label"], rows["flag"], strict=True):
        text = truncate_text(label, layout.max_label_chars)
        if layout.indent and kind in ("study", "subgroup_summary"):
            text = INDENT + text
        labels.append(f"{text} {flag_symbols[flag]}" if flag else text)
    fig.add_trace(
        go.Scatter(
            x=np.zeros(len(rows)),
            y=row_y,
            mode="text",
            text=labels,
            textposition="middle right",
            name="label column",
            xaxis="x2",
            customdata=optional_ids(rows["study_id"]),
            hovertext=hover,
            hoverinfo="text",
            showlegend=False,
            cliponaxis=False,
            textfont={"size": BODY_FONT_SIZE, "color": list(colour), "weight": list(weight)},
        )
    )
    headers = [("x2", 0.0, "left", layout.label_header)]
    for offset, (name, header, _domain) in enumerate(layout.text_domains):
        axis = f"x{offset + 3}"
        fig.add_trace(
            go.Scatter(
                x=np.ones(len(rows)),
                y=row_y,
                mode="text",
                text=_column_texts(rows, name),
                textposition="middle left",
                name=f"{name} column",
                xaxis=axis,
                hoverinfo="skip",
                showlegend=False,
                cliponaxis=False,
                textfont={"size": BODY_FONT_SIZE, "color": list(colour), "weight": list(weight)},
            )
        )
        headers.append((axis, 1.0, "right", header))
    for axis, x, anchor, header in headers:
        fig.add_annotation(
            text=escape_text(header),
            x=x,
            xref=f"{axis} domain",
            xanchor=anchor,
            y=0,
            yref="y",
            showarrow=False,
            font={"size": BODY_FONT_SIZE, "weight": "bold", "color": colours.text},
        )
    fig.add_shape(
        type="line",
        xref="paper",
        x0=0,
        x1=1,
        yref="y",
        y0=0.5,
        y1=0.5,
        line={"color": colours.text, "width": 1},
    )


def _add_row_band(fig: go.Figure, y: float, colour: str) -> None:
    """Tinted band across the whole width behind row ``y`` (presenter highlight)."""
    fig.add_shape(
        type="rect",
        xref="paper",
        x0=0,
        x1=1,
        yref="y",
        y0=y - 0.5,
        y1=y + 0.5,
        fillcolor=colour,
        line_width=0,
        layer="below",
    )


def _reference_value(rows: pd.DataFrame, reference_value: float | None) -> float | None:
    if reference_value is not None:
        return reference_value
    overall = rows.loc[rows["row_type"] == "overall", "estimate"].to_numpy(dtype=float)
    overall = overall[np.isfinite(overall)]
    return float(overall[0]) if overall.size else None


# --------------------------------------------------------------------------- axes


def _layout_axes(fig, rows, scale, limits, layout, x_label, colours) -> None:
    low, high = limits
    main_axis = {
        "domain": list(layout.plot_domain),
        "range": [low, high],
        "title": {"text": escape_text(x_label), "font": {"size": TITLE_FONT_SIZE}},
        "anchor": "y",
    }
    if scale.log:
        values, labels = log_ticks(10.0**low, 10.0**high)
        main_axis.update(type="log", tickmode="array", tickvals=values, ticktext=labels)
    hidden = {"visible": False, "range": [0, 1], "fixedrange": True, "anchor": "y"}
    axes = {"xaxis": main_axis, "xaxis2": {**hidden, "domain": list(layout.label_domain)}}
    for offset, (_name, _header, domain) in enumerate(layout.text_domains):
        axes[f"xaxis{offset + 3}"] = {**hidden, "domain": list(domain)}
    fig.update_layout(
        **axes,
        yaxis={"range": [len(rows) + 0.7, -0.6], "visible": False, "fixedrange": True},
    )
