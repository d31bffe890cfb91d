"""Draw a figure's text columns as images: the same picture, a fraction of the browser's work.

Plotly.js draws every point of a ``mode="text"`` trace as its own SVG ``<text>``: it parses
the text for markup, sets its font properties one by one and measures it to place it.
For the forest plot, whose table is made of such traces (labels, counts, weights,
estimates: about seven texts per row), that is most of the time a browser needs to draw
the figure -- about 250 ms of 350 ms at k = 50 and 0.9 s of 1.1 s at k = 500 on the
machine of ``benchmarks/browser_floor.py`` -- and it is paid again on every change,
because a changed figure is drawn anew.

:func:`text_columns_as_images` moves those texts into one SVG image per column (a
``layout.images`` entry), which the browser renders natively in a few milliseconds. The
picture is unchanged: each text keeps its position (row and column anchor), font, size,
colour and weight. The column headers placed on the header rows (annotations with
``yref="y"``) go into one more image over the plotting area. Each image is stretched over
its column (``sizing="stretch"``, an SVG without a view box, texts at per cents of its
box), so rows and column edges follow the figure's size; the font keeps its planned pixel
size on a figure drawn wider than planned and shrinks in proportion on a narrower one
(``font-size: min(<px>, <vw>)``, ``vw`` being a per cent of the image's own width), so a
forest squeezed into a narrow window never has its columns run into each other -- which
text traces, whose size is fixed, do. The transparent click targets over the study
names (one square marker per few pixels of the label column) become one transparent bar
per row that carries the study's hover text and ``customdata``, so a click or hover on a
name works as before.

Only the dashboard's live chart uses this. Exported figures (PNG, SVG, PDF, the HTML
report) keep real text, so text stays selectable and editable there.

Safety: every text is un-escaped from plotly's entity form and XML-escaped again; the
SVG is an image (``<image href="data:...">``), in which browsers run no script and load
nothing, so user text can only ever be shown as text.
"""

from __future__ import annotations

import copy
import html
import re
from typing import Any
from urllib.parse import quote, unquote
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

__all__ = ["LABEL_TARGETS", "text_columns_as_images", "image_texts"]

#: Name of the forest's click-target trace over the study names (see igmeta.plots.forest).
LABEL_TARGETS = "label targets"
#: Name of the forest's label column trace.
LABEL_COLUMN = "label column"
#: Extra width (px) on the side a text flows to, so text wider than its column still shows
#: (text traces are drawn with ``cliponaxis=False``).
OVERFLOW_PX = 400
#: Bar thickness in rows (rows are 1 apart on the y axis).
TARGET_ROW_FRACTION = 0.9
_TAG = re.compile(r"<[^>]*>")
_DATA_URI = "data:image/svg+xml;charset=utf-8,"


def text_columns_as_images(spec: dict) -> dict:
    """The spec with its text traces drawn as SVG images and its name targets as bars.

    Parameters
    ----------
    spec : dict
        A finished plotly spec (``{"data": [...], "layout": {...}}``) with an explicit
        ``layout.width``, ``layout.height`` and ``layout.margin`` and a fixed ``range``
        on the y axis and on each text trace's x axis, as the forest plot has. It is
        not changed.

    Returns
    -------
    dict
        A new spec: each ``mode="text"`` scatter trace is replaced by an image in
        ``layout.images`` (and an empty trace of the same name on its axes); the
        annotations placed on a row of the plotting area (the column headers) by one more
        image, named "headers"; the forest's "label targets" markers by a bar trace
        carrying the label column's hover text. A spec without a fixed geometry is
        returned as a copy, unchanged.
    """
    layout = spec.get("layout", {})
    geometry = _Geometry.of(layout)
    if geometry is None:
        return copy.copy(spec)
    traces = spec.get("data", [])
    labels = next((t for t in traces if t.get("name") == LABEL_COLUMN), None)
    data: list[dict] = []
    images = list(layout.get("images", ()))
    for trace in traces:
        if trace.get("name") == LABEL_TARGETS and labels is not None:
            data.append(_target_bars(trace, labels))
        elif trace.get("mode") == "text" and geometry.places(trace, layout):
            images.append(_column_image(trace, layout, geometry))
            data.append(_axis_holder(trace))
        else:
            data.append(trace)
    headers, annotations = _row_headers(layout, geometry)
    header_image = _header_image(headers, layout, geometry)
    if header_image is None:
        return {**spec, "data": data, "layout": {**layout, "images": images}}
    images.append(header_image)
    return {
        **spec,
        "data": data,
        "layout": {**layout, "images": images, "annotations": annotations},
    }


def image_texts(spec: dict) -> list[list[str]]:
    """The texts drawn in each image of ``spec`` (for tests and accessibility text).

    Parameters
    ----------
    spec : dict
        A spec returned by :func:`text_columns_as_images`.

    Returns
    -------
    list of list of str
        Per image, the shown texts in drawing order.
    """
    found = []
    for image in spec.get("layout", {}).get("images", ()):
        source = image.get("source", "")
        if not source.startswith(_DATA_URI):
            continue
        root = ElementTree.fromstring(unquote(source[len(_DATA_URI) :]))
        found.append([node.text or "" for node in root.iter("{http://www.w3.org/2000/svg}text")])
    return found


class _Geometry:
    """Pixel size of the plotting area and the y axis' fixed range."""

    def __init__(self, width: float, height: float, y_range: tuple[float, float]):
        self.width = width
        self.height = height
        self.y_range = y_range

    @classmethod
    def of(cls, layout: dict) -> _Geometry | None:
        margin = layout.get("margin") or {}
        y_range = (layout.get("yaxis") or {}).get("range")
        try:
            width = float(layout["width"]) - float(margin["l"]) - float(margin["r"])
            height = float(layout["height"]) - float(margin["t"]) - float(margin["b"])
            low, high = (float(v) for v in y_range)
        except (KeyError, TypeError, ValueError):
            return None
        if width <= 0 or height <= 0 or low == high:
            return None
        return cls(width, height, (low, high))

    def row_px(self, y: float) -> float:
        """Distance (px) of ``y`` from the top of the plotting area."""
        bottom, top = self.y_range
        return (y - top) / (bottom - top) * self.height

    def places(self, trace: dict, layout: dict) -> bool:
        """Whether the trace's texts have fixed positions (fixed x range, plain y axis)."""
        axis = _x_axis(trace, layout)
        return (
            trace.get("yaxis", "y") == "y"
            and isinstance(axis.get("range"), list | tuple)
            and len(axis.get("domain") or ()) == 2
            and str(trace.get("textposition", "middle center")).startswith("middle")
        )


def _x_axis(trace: dict, layout: dict) -> dict:
    name = trace.get("xaxis", "x")
    return layout.get("xaxis" + name[1:]) or {}


def _per_point(value: Any, index: int, default: Any) -> Any:
    if isinstance(value, list | tuple):
        return value[index] if index < len(value) and value[index] is not None else default
    return default if value is None else value


def _shown(text: object) -> str:
    """What plotly would show for a (plotly-escaped) text: tags dropped, entities read."""
    return html.unescape(_TAG.sub("", str(text)))


def _column_image(trace: dict, layout: dict, geometry: _Geometry) -> dict:
    axis = _x_axis(trace, layout)
    low, high = (float(v) for v in axis["range"])
    left, right = (float(v) for v in axis["domain"])
    column_px = (right - left) * geometry.width
    position = str(trace.get("textposition", "middle center"))
    anchor = {"middle right": "start", "middle left": "end"}.get(position, "middle")
    # The image spans the column and OVERFLOW_PX more on the side the text flows to.
    shift = {"start": 0.0, "end": OVERFLOW_PX, "middle": OVERFLOW_PX / 2}[anchor]
    width_px = column_px + OVERFLOW_PX
    font = trace.get("textfont") or {}
    base = layout.get("font") or {}
    family = font.get("family") or base.get("family") or "sans-serif"
    texts = []
    for index, (text, x, y) in enumerate(
        zip(trace.get("text", ()), trace.get("x", ()), trace.get("y", ()), strict=False)
    ):
        shown = _shown(text)
        if not shown.strip() or x is None or y is None:
            continue
        x_px = shift + (float(x) - low) / (high - low) * column_px
        texts.append(
            _text_element(
                shown,
                x_px / width_px,
                geometry.row_px(y) / geometry.height,
                colour=_per_point(font.get("color"), index, base.get("color", "#000")),
                weight=_per_point(font.get("weight"), index, "normal"),
                size=_per_point(font.get("size"), index, base.get("size", 12)),
                planned_px=width_px,
            )
        )
    return _image(
        texts,
        family=family,
        anchor=anchor,
        name=str(trace.get("name", "text")),
        x0=left - shift / geometry.width,
        width=width_px / geometry.width,
    )


def _header_image(annotations: list[dict], layout: dict, geometry: _Geometry) -> dict | None:
    """One image over the plotting area with the row-placed headers (``yref="y"``)."""
    base = layout.get("font") or {}
    texts = []
    for annotation in annotations:
        x = _paper_x(annotation, layout)
        anchor = {"left": "start", "right": "end"}.get(annotation.get("xanchor"), "middle")
        font = annotation.get("font") or {}
        texts.append(
            _text_element(
                _shown(annotation.get("text", "")),
                x,
                geometry.row_px(float(annotation["y"])) / geometry.height,
                colour=font.get("color", base.get("color", "#000")),
                weight=font.get("weight", "normal"),
                size=font.get("size", base.get("size", 12)),
                planned_px=geometry.width,
                anchor=anchor,
            )
        )
    if not texts:
        return None
    family = (annotations[0].get("font") or {}).get("family") or base.get("family")
    return _image(
        texts, family=family or "sans-serif", anchor="start", name="headers", x0=0.0, width=1.0
    )


def _text_element(
    shown: str,
    x: float,
    y: float,
    *,
    colour: object,
    weight: object,
    size: object,
    planned_px: float,
    anchor: str | None = None,
) -> str:
    """An SVG ``<text>`` at fractions ``x``, ``y`` of its image, its size as planned.

    The font is ``size`` px on a figure drawn at least as wide as planned, and shrinks in
    proportion on a narrower one (``vw`` is a per cent of the image's width, which
    follows the figure's width), so the columns never run into each other.
    """
    per_vw = float(size) * 100.0 / planned_px
    anchor_attribute = "" if anchor is None else f" text-anchor={quoteattr(anchor)}"
    return (
        f"<text x={quoteattr(f'{100 * x:.3f}%')} y={quoteattr(f'{100 * y:.3f}%')}"
        f" fill={quoteattr(str(colour))} font-weight={quoteattr(str(weight))}"
        f"{anchor_attribute}"
        f" style={quoteattr(f'font-size:min({float(size):g}px,{per_vw:.4f}vw)')}"
        f">{escape(shown)}</text>"
    )


def _image(texts: list[str], *, family: str, anchor: str, name: str, x0: float, width: float):
    """A ``layout.images`` entry: an SVG of ``texts`` stretched over a box of the figure.

    The box spans ``x0`` .. ``x0 + width`` of the plotting area's width (paper units) and
    its whole height; the SVG has no view box, so its texts sit at per cents of the box
    and keep their font size (see :func:`_text_element`).
    """
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="100%">'
        f"<g font-family={quoteattr(str(family))} text-anchor={quoteattr(anchor)} "
        f'dominant-baseline="central" style="white-space:pre">{"".join(texts)}</g></svg>'
    )
    return {
        "source": _DATA_URI + quote(svg, safe="/=:;,.'\"-()"),
        "name": name,
        "xref": "paper",
        "yref": "paper",
        "x": x0,
        "y": 1.0,
        "xanchor": "left",
        "yanchor": "top",
        "sizex": width,
        "sizey": 1.0,
        "sizing": "stretch",
        "layer": "above",
    }


def _paper_x(annotation: dict, layout: dict) -> float | None:
    """The annotation's x as a fraction of the plotting area's width (None: unknown)."""
    ref = str(annotation.get("xref", "paper"))
    x = annotation.get("x", 0.0)
    if ref == "paper":
        return float(x)
    name, _, domain = ref.partition(" ")
    axis = layout.get("xaxis" + name[1:]) or {}
    left, right = (float(v) for v in axis.get("domain", (0.0, 1.0)))
    if domain == "domain":
        return left + float(x) * (right - left)
    span = axis.get("range")
    if not isinstance(span, list | tuple) or len(span) != 2 or span[0] == span[1]:
        return None
    low, high = (float(v) for v in span)
    return left + (float(x) - low) / (high - low) * (right - left)


def _row_headers(layout: dict, geometry: _Geometry) -> tuple[list[dict], list[dict]]:
    """Split the annotations: (headers placed on a row inside the plotting area, others)."""
    headers, others = [], []
    for annotation in layout.get("annotations", ()):
        inside = (
            annotation.get("yref") == "y"
            and not annotation.get("showarrow", False)
            and _paper_x(annotation, layout) is not None
            and 0.0 <= geometry.row_px(float(annotation.get("y", 0.0))) <= geometry.height
        )
        (headers if inside else others).append(annotation)
    return headers, others


def _axis_holder(trace: dict) -> dict:
    """An empty trace that keeps the text trace's axes in the figure.

    Plotly draws only the axes that some trace uses, and annotations placed relative to
    an axis (the column headers use ``"x3 domain"``) vanish with it.
    """
    return {
        "type": "scatter",
        "mode": "markers",
        "name": str(trace.get("name", "text")),
        "showlegend": False,
        "x": [],
        "y": [],
        "xaxis": trace.get("xaxis", "x"),
        "yaxis": trace.get("yaxis", "y"),
        "hoverinfo": "skip",
    }


def _target_bars(targets: dict, labels: dict) -> dict:
    """One transparent bar per clickable row over the label column (hover + click)."""
    rows: dict[float, Any] = {}
    for y, data in zip(targets.get("y", ()), targets.get("customdata", ()), strict=False):
        rows.setdefault(float(y), data)
    hover_by_row = {
        float(y): text
        for y, text in zip(labels.get("y", ()), labels.get("hovertext") or (), strict=False)
    }
    ys = list(rows)
    return {
        "type": "bar",
        "orientation": "h",
        "name": LABEL_TARGETS,
        "showlegend": False,
        "xaxis": targets.get("xaxis", "x2"),
        "x": [1.0] * len(ys),
        "base": [0.0] * len(ys),
        "y": ys,
        "width": TARGET_ROW_FRACTION,
        "customdata": [rows[y] for y in ys],
        "hovertext": [hover_by_row.get(y, "") for y in ys],
        "hoverinfo": "text" if hover_by_row else "none",
        "marker": {"color": "rgba(0,0,0,0)", "line": {"width": 0}},
        "selected": {"marker": {"opacity": 0}},
        "unselected": {"marker": {"opacity": 0}},
    }
