"""Risk-of-bias figures: the block beside the forest plot, the traffic light, the summary.

Judgements are drawn as a coloured circle with a symbol inside (see
:mod:`igmeta.risk_of_bias`): the symbol carries the judgement on its own (greyscale print,
colour-blind readers), and the colours (Okabe-Ito based) also differ clearly in lightness.
An empty cell, or a value outside the tool's vocabulary, is a hollow grey circle: "not
assessed" (the hover says which value was flagged). All user text is escaped.

References
----------
McGuinness LA, Higgins JPT (2021). Risk-of-bias VISualization (robvis). Res Synth Methods
12(1):55-61. doi:10.1002/jrsm.1411
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from igmeta.plots._style import (
    BODY_FONT_SIZE,
    Theme,
    escape_text,
    footnote_annotations,
    get_theme,
    is_missing,
    themed_layout,
    truncate_text,
)
from igmeta.plots.forest import (
    COLUMN_GAP_PX,
    COMPACT_PLOT_PX,
    FOOTER_TOP_PX,
    NOTE_LINE_PX,
)
from igmeta.risk_of_bias import NOT_ASSESSED, ROB2, RobTool, normalise_judgement

__all__ = [
    "DOMAIN_COLUMN_PX",
    "OVERALL_COLUMN_PX",
    "add_rob_block",
    "block_px",
    "legend_lines",
    "relative_luminance",
    "rob_summary_figure",
    "traffic_light_figure",
]

#: Width of one domain column of the forest's risk-of-bias block, and of "Overall".
DOMAIN_COLUMN_PX = 30
OVERALL_COLUMN_PX = 66
MARKER_PX = 22
SYMBOL_FONT_PX = 14
_LEGEND_CHARS = 110
#: Traffic light: marker size, row height and column width in px.
TRAFFIC_MARKER_PX = 30
TRAFFIC_ROW_PX = 38
TRAFFIC_COLUMN_PX = 56
_DARK_TEXT = "#1A1A1A"
_LIGHT_TEXT = "#FFFFFF"


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of a ``#RRGGBB`` colour (0 black .. 1 white).

    Parameters
    ----------
    colour : str
        Hex colour, e.g. ``"#5AAE61"``.

    Returns
    -------
    float
        ``0.2126 R + 0.7152 G + 0.0722 B`` of the linearised sRGB channels.
    """
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _symbol_colour(fill: str) -> str:
    """Dark symbols on light fills, white on dark ones."""
    return _DARK_TEXT if relative_luminance(fill) > 0.3 else _LIGHT_TEXT


def _cell(value: object, tool: RobTool) -> tuple[str, str]:
    """Judgement (or NOT_ASSESSED) and the hover text of one cell."""
    judgement = normalise_judgement(value, tool)
    if judgement is not None:
        return judgement, judgement
    if is_missing(value) or not str(value).strip():
        return NOT_ASSESSED, "not assessed"
    shown = truncate_text(value, 40)  # escaped
    return NOT_ASSESSED, f"'{shown}' is not a {tool.name} judgement (flagged; not assessed)"


def _symbol_traces(
    xs, ys, cells, tool, hovers, axis: str, colours: Theme, size: float = MARKER_PX
) -> list[dict]:
    """One marker+symbol trace per judgement (and one for not assessed)."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    cells = np.asarray(cells, dtype=object)
    hovers = np.asarray(hovers, dtype=object)
    traces = []
    for judgement in (*tool.judgements, NOT_ASSESSED):
        chosen = cells == judgement
        if not chosen.any():
            continue
        if judgement == NOT_ASSESSED:
            marker = {
                "symbol": "circle-open",
                "size": size - 4,
                "color": colours.muted,
                "line": {"width": 1.5, "color": colours.muted},
            }
            text, font_colour = "", colours.muted
        else:
            fill = tool.colours[judgement]
            marker = {
                "symbol": "circle",
                "size": size,
                "color": fill,
                "line": {"width": 1, "color": colours.text},
            }
            text, font_colour = tool.symbols[judgement], _symbol_colour(fill)
        traces.append(
            {
                "type": "scatter",
                "x": xs[chosen].tolist(),
                "y": ys[chosen].tolist(),
                "mode": "markers+text",
                "name": f"risk of bias: {judgement}",
                "text": [text] * int(chosen.sum()),
                "textposition": "middle center",
                "textfont": {
                    "size": round(SYMBOL_FONT_PX * size / MARKER_PX),
                    "color": font_colour,
                    "weight": "bold",
                },
                "marker": marker,
                "hovertext": hovers[chosen].tolist(),
                "hoverinfo": "text",
                "xaxis": axis,
                "showlegend": False,
                "cliponaxis": False,
            }
        )
    return traces


def legend_lines(tool: RobTool, max_chars: int = _LEGEND_CHARS) -> list[str]:
    """Escaped legend lines: the judgements with their symbols, then the domains.

    Parameters
    ----------
    tool : RobTool
    max_chars : int, default 110
        Domains are joined on one line up to about this many characters.

    Returns
    -------
    list of str
        E.g. ``["Risk of bias (RoB 2): + Low · ! Some concerns · × High · ○ not assessed",
        "D1 Bias arising from the randomisation process · D2 ...", ...]``.
    """
    marks = " \u00b7 ".join(f"{tool.symbols[j]} {j}" for j in tool.judgements)
    lines = [f"Risk of bias ({tool.name}): {marks} \u00b7 \u25cb not assessed"]
    current = ""
    for short, name in zip(tool.short_names[:-1], tool.domain_names, strict=True):
        part = f"{short} {name}"
        if current and len(current) + 3 + len(part) > max_chars:
            lines.append(current)
            current = part
        else:
            current = f"{current} \u00b7 {part}" if current else part
    lines.append(current)
    return [escape_text(line) for line in lines]


# --------------------------------------------------------------------------- forest block


def block_px(tool: RobTool, scale: float = 1.0) -> float:
    """Width in px that :func:`add_rob_block` adds for ``tool`` (columns and a gap).

    ``scale`` is the forest's font size over the body font size (the block shrinks with
    the text when the forest had to shrink its font to fit a narrow page).
    """
    columns = DOMAIN_COLUMN_PX * len(tool.domain_columns) + OVERALL_COLUMN_PX
    return columns * scale + COLUMN_GAP_PX


def _axis_number(name: str) -> int:
    match = re.fullmatch(r"xaxis(\d*)", name)
    return int(match.group(1) or 1) if match else 0


def add_rob_block(
    spec: dict,
    judgements: pd.DataFrame,
    tool: RobTool = ROB2,
    *,
    labels: pd.Series | None = None,
    min_plot_px: float = COMPACT_PLOT_PX,
    theme: str | Theme = "light",
) -> dict:
    """Add a risk-of-bias block right of a forest plot spec (in place; returned).

    One small column per domain and one for the overall judgement, a symbol per study
    row aligned with the study (rows are found from the ``customdata`` of the forest's
    label column, i.e. the ``study_id``), headers ``D1`` .. ``Overall`` and a legend
    naming the judgements and domains under the plot. Room is taken from the plotting area
    down to ``min_plot_px``; beyond that the figure grows wider. Text columns keep their
    pixel widths; the block is scaled with the forest's font (a forest planned for a narrow
    page has a smaller font, and a narrower block).

    Parameters
    ----------
    spec : dict
        A spec of :func:`igmeta.plots.forest_spec`.
    judgements : pandas.DataFrame
        Indexed by ``study_id`` (str); the tool's columns (``tool.columns``) as typed.
        Missing columns or rows are not assessed.
    tool : RobTool, default ROB2
    labels : pandas.Series, optional
        Study name per ``study_id`` for the hover (escaped); default the id.
    min_plot_px : float, default COMPACT_PLOT_PX
        Narrowest plotting area the block may leave; ``math.inf`` never narrows it (the
        figure grows by :func:`block_px`, e.g. when the forest was planned that much
        narrower than the page).
    theme : {"light", "dark"} or Theme, default "light"

    Returns
    -------
    dict
        ``spec``, changed.
    """
    colours = get_theme(theme)
    layout = spec["layout"]
    label_trace = next((t for t in spec["data"] if t.get("name") == "label column"), None)
    if label_trace is None:
        return spec
    font_px = float(label_trace.get("textfont", {}).get("size", BODY_FONT_SIZE))
    scale = min(1.0, font_px / BODY_FONT_SIZE)
    widths = [DOMAIN_COLUMN_PX * scale] * len(tool.domain_columns) + [OVERALL_COLUMN_PX * scale]
    columns_px = float(sum(widths))
    margin = layout.get("margin", {})
    inner = float(layout["width"]) - margin.get("l", 0) - margin.get("r", 0)
    p0, p1 = (d * inner for d in layout["xaxis"]["domain"])
    need = block_px(tool, scale)
    shift = min(need, max(0.0, (p1 - p0) - min_plot_px))
    new_inner = inner + (need - shift)

    def moved(fraction: float) -> float:
        px = fraction * inner
        return (px - shift if px >= p1 - 0.5 else px) / new_inner

    for name, axis in layout.items():
        if _axis_number(name) >= 2 and "domain" in axis:
            axis["domain"] = [moved(axis["domain"][0]), moved(axis["domain"][1])]
    layout["xaxis"]["domain"] = [p0 / new_inner, (p1 - shift) / new_inner]
    for annotation in layout.get("annotations", []):
        if annotation.get("xref") == "paper" and annotation.get("x", 0) > 0:
            annotation["x"] = moved(annotation["x"])
    for shape in layout.get("shapes", []):
        if shape.get("xref") == "paper":
            x0, x1 = shape["x0"], shape["x1"]
            shape["x0"] = moved(x0)
            shape["x1"] = 1.0 if x1 >= 1.0 else moved(x1)

    number = 1 + max(_axis_number(name) for name in layout)
    axis = f"x{number}"
    layout[f"xaxis{number}"] = {
        "visible": False,
        "range": [0.0, columns_px],
        "fixedrange": True,
        "anchor": "y",
        "domain": [(new_inner - columns_px) / new_inner, 1.0],
    }
    centres = np.cumsum([0, *widths[:-1]]) + np.asarray(widths) / 2

    ids = list(label_trace.get("customdata") or [])
    row_y = list(label_trace["y"])
    xs, ys, cells, hovers = [], [], [], []
    for study_id, y in zip(ids, row_y, strict=True):
        if study_id is None:
            continue
        row = judgements.loc[study_id] if study_id in judgements.index else None
        name = study_id if labels is None else labels.get(study_id, study_id)
        for column, short, long, x in zip(
            tool.columns, tool.short_names, tool.long_names, centres, strict=True
        ):
            value = row[column] if row is not None and column in row.index else None
            judgement, said = _cell(value, tool)
            xs.append(x)
            ys.append(y)
            cells.append(judgement)
            hovers.append(f"{escape_text(name)}<br>{short} {escape_text(long)}: {said}")
    size = max(14.0, MARKER_PX * scale)
    spec["data"].extend(_symbol_traces(xs, ys, cells, tool, hovers, axis, colours, size))

    font = {"size": BODY_FONT_SIZE, "weight": "bold", "color": colours.text}
    header_font = next(
        (a["font"] for a in layout.get("annotations", []) if a.get("yref") == "y"), font
    )
    for short, x in zip(tool.short_names, centres, strict=True):
        layout.setdefault("annotations", []).append(
            {
                "text": short,
                "x": float(x),
                "xref": axis,
                "xanchor": "center",
                "y": 0,
                "yref": "y",
                "showarrow": False,
                "font": header_font,
            }
        )
    bottom = float(margin.get("b", FOOTER_TOP_PX))
    existing = max(0, round((bottom - FOOTER_TOP_PX - 10) / NOTE_LINE_PX))
    lines = legend_lines(tool)
    layout["annotations"] += footnote_annotations(
        lines, top_px=FOOTER_TOP_PX + NOTE_LINE_PX * existing, line_px=NOTE_LINE_PX
    )
    extra = NOTE_LINE_PX * len(lines)
    margin["b"] = bottom + extra
    layout["margin"] = margin
    layout["height"] = layout["height"] + extra
    layout["width"] = int(np.ceil(new_inner + margin.get("l", 0) + margin.get("r", 0)))
    return spec


# --------------------------------------------------------------------------- traffic light


def traffic_light_figure(
    frame: pd.DataFrame,
    tool: RobTool = ROB2,
    *,
    theme: str | Theme = "light",
    max_label_chars: int = 40,
) -> go.Figure:
    """Traffic-light plot: one row per study, one column per domain and overall.

    Parameters
    ----------
    frame : pandas.DataFrame
        Column ``study`` (labels, untrusted) and the tool's columns as typed (absent
        columns are not assessed). Rows are drawn top to bottom in frame order.
    tool : RobTool, default ROB2
    theme : {"light", "dark"} or Theme, default "light"
    max_label_chars : int, default 40
        Longer study names are shortened with "…" (the hover shows them in full).

    Returns
    -------
    plotly.graph_objects.Figure
        Fixed width (about 56 px per column plus the labels), 38 px per study.
    """
    colours = get_theme(theme)
    studies = [
        "" if is_missing(s) else str(s) for s in frame.get("study", pd.Series([""] * len(frame)))
    ]
    studies = [s or f"Row {i + 1}" for i, s in enumerate(studies)]
    columns = tool.columns
    # Overall a little apart from the domains, as robvis.
    x_of = {
        c: float(i + 1) + (0.4 if c == tool.overall_column else 0.0) for i, c in enumerate(columns)
    }
    xs, ys, cells, hovers = [], [], [], []
    for position, study in enumerate(studies):
        for column, short, long in zip(columns, tool.short_names, tool.long_names, strict=True):
            value = frame[column].iloc[position] if column in frame.columns else None
            judgement, said = _cell(value, tool)
            xs.append(x_of[column])
            ys.append(position + 1)
            cells.append(judgement)
            hovers.append(f"{escape_text(study)}<br>{short} {escape_text(long)}: {said}")
    traces = _symbol_traces(xs, ys, cells, tool, hovers, "x", colours, size=TRAFFIC_MARKER_PX)
    lines = legend_lines(tool, max_chars=70)
    k = len(studies)
    top, bottom = 70, 30 + NOTE_LINE_PX * len(lines)
    shown = [truncate_text(s, max_label_chars) for s in studies]
    label_px = max((len(s) for s in shown), default=4) * 0.6 * BODY_FONT_SIZE
    width = max(640, int(label_px + TRAFFIC_COLUMN_PX * (len(columns) + 0.5) + 60))
    layout = themed_layout(colours)
    layout.update(
        {
            "showlegend": False,
            "hovermode": "closest",
            "height": TRAFFIC_ROW_PX * max(k, 1) + top + bottom,
            "width": width,
            "margin": {"l": 20, "r": 20, "t": top, "b": bottom},
            "annotations": footnote_annotations(lines, top_px=20, line_px=NOTE_LINE_PX),
        }
    )
    layout["xaxis"] = {
        **layout.get("xaxis", {}),
        "side": "top",
        "range": [0.4, len(columns) + 0.9],
        "tickmode": "array",
        "tickvals": [x_of[c] for c in columns],
        "ticktext": list(tool.short_names),
        "showgrid": False,
        "zeroline": False,
        "fixedrange": True,
        "showline": False,
        "ticks": "",
    }
    layout["yaxis"] = {
        **layout.get("yaxis", {}),
        "range": [k + 0.7, 0.3],
        "tickmode": "array",
        "tickvals": list(range(1, k + 1)),
        "ticktext": shown,
        "automargin": True,
        "showgrid": False,
        "zeroline": False,
        "fixedrange": True,
        "showline": False,
        "ticks": "",
    }
    layout["title"] = {"text": f"Risk of bias ({tool.name}) by study", "x": 0.01}
    return go.Figure({"data": traces, "layout": layout})


# --------------------------------------------------------------------------- summary bars

_PATTERNS = ("", "/", "x", "+", ".")


def rob_summary_figure(
    summary: pd.DataFrame, tool: RobTool = ROB2, *, theme: str | Theme = "light"
) -> go.Figure:
    """Weighted summary: horizontal stacked bars, percent of weight per judgement per domain.

    Parameters
    ----------
    summary : pandas.DataFrame
        The frame of :func:`igmeta.risk_of_bias.weighted_summary` for ``tool``.
    tool : RobTool, default ROB2
    theme : {"light", "dark"} or Theme, default "light"

    Returns
    -------
    plotly.graph_objects.Figure
        One bar trace per judgement (legend "+ Low", ...), each with its colour and a fill
        pattern of its own, so the bars read in greyscale too; the domains top to bottom
        (overall last), percentages inside bars of at least 8 %.
    """
    colours = get_theme(theme)
    pairs = zip(tool.short_names[:-1], tool.domain_names, strict=True)
    names = [*(f"{short} {name}" for short, name in pairs), "Overall"]
    by_column = {c: n for c, n in zip(tool.columns, names, strict=True)}
    traces = []
    categories = (*tool.judgements, NOT_ASSESSED)
    for number, judgement in enumerate(categories):
        part = summary[summary["judgement"] == judgement]
        percent = [
            float(part.loc[part["column"] == c, "percent"].sum()) if len(part) else 0.0
            for c in tool.columns
        ]
        if judgement == NOT_ASSESSED:
            fill, symbol = colours.muted, "\u25cb"
        else:
            fill, symbol = tool.colours[judgement], tool.symbols[judgement]
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": f"{symbol} {judgement}",
                "x": percent,
                "y": [by_column[c] for c in tool.columns],
                "marker": {
                    "color": fill,
                    "line": {"color": colours.text, "width": 0.5},
                    "pattern": {
                        "shape": _PATTERNS[number % len(_PATTERNS)],
                        "fgcolor": _symbol_colour(fill),
                        "fgopacity": 0.35,
                    },
                },
                "text": [f"{symbol} {p:.0f}%" if p >= 8 else "" for p in percent],
                "textposition": "inside",
                "insidetextanchor": "middle",
                "textfont": {"color": _symbol_colour(fill)},
                "hovertemplate": f"%{{y}}<br>{judgement}: %{{x:.1f}}% of the weight<extra></extra>",
            }
        )
    layout = themed_layout(colours)
    layout.update(
        {
            "barmode": "stack",
            "height": 110 + 44 * len(tool.columns) + 70,
            "margin": {"l": 20, "r": 40, "t": 110, "b": 70},
            "legend": {
                "orientation": "h",
                "y": 1.02,
                "yanchor": "bottom",
                "x": 0,
                "traceorder": "normal",
            },
            "title": {"text": f"Risk of bias ({tool.name}), weighted by study weight", "x": 0.01},
        }
    )
    layout["xaxis"] = {
        **layout.get("xaxis", {}),
        "range": [0, 100],
        "title": {"text": "Percent of the total weight of the analysis"},
        "ticksuffix": "%",
        "fixedrange": True,
    }
    layout["yaxis"] = {
        **layout.get("yaxis", {}),
        "autorange": "reversed",
        "automargin": True,
        "fixedrange": True,
    }
    return go.Figure({"data": traces, "layout": layout})
