"""The dashboard's forest draws its text columns as SVG images: same texts, same places."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import unquote
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pytest
from plotly.utils import PlotlyJSONEncoder

from igmeta.app.outputs.exports import forest_for
from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.plots.text_images import (
    LABEL_TARGETS,
    OVERFLOW_PX,
    image_texts,
    text_columns_as_images,
)

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = ["<script>alert(1)</script>", "A & B \u201cquoted\u201d 50%", '=HYPERLINK("x")']


def _spec(table: pd.DataFrame) -> dict:
    bundle = run_analysis(table, AnalysisSettings())
    return forest_for(bundle, table, width_px=960, as_spec=True)


def _svg(image: dict) -> ElementTree.Element:
    source = image["source"]
    assert source.startswith("data:image/svg+xml;charset=utf-8,")
    return ElementTree.fromstring(unquote(source[source.index(",") + 1 :]))


def _trials(names: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    k = len(names)
    return pd.DataFrame(
        {
            "study": names,
            "ai": rng.integers(5, 30, k),
            "n1i": rng.integers(40, 80, k),
            "ci": rng.integers(5, 30, k),
            "n2i": rng.integers(40, 80, k),
        }
    )


@pytest.fixture(scope="module")
def spec() -> dict:
    return _spec(_trials([f"Trial {i}" for i in range(1, 9)] + HOSTILE))


@pytest.fixture(scope="module")
def drawn(spec) -> dict:
    return text_columns_as_images(spec)


def _font_px(node: ElementTree.Element, drawn_px: float) -> float:
    """Font size (px) of an image text when its image is ``drawn_px`` wide."""
    style = node.get("style")
    match = re.fullmatch(r"font-size:min\(([\d.]+)px,([\d.]+)vw\)", style)
    assert match, style
    return min(float(match.group(1)), float(match.group(2)) * drawn_px / 100)


def _header_annotations(spec: dict) -> list[dict]:
    return [a for a in spec["layout"]["annotations"] if a.get("yref") == "y"]


def test_every_text_trace_becomes_one_image_with_the_same_texts(spec, drawn):
    traces = [t for t in spec["data"] if t.get("mode") == "text"]
    assert len(traces) >= 7  # label, 2 x (events, total), weight, estimate
    assert not [t for t in drawn["data"] if t.get("mode") == "text"]
    assert len(drawn["layout"]["images"]) == len(traces) + 1  # + the headers
    assert drawn["layout"]["images"][-1]["name"] == "headers"
    for trace, texts in zip(traces, image_texts(drawn), strict=False):
        expected = [html.unescape(t) for t in trace["text"] if html.unescape(t).strip()]
        assert texts == expected, trace["name"]
    labels = image_texts(drawn)[0]
    for name in HOSTILE:  # user text arrives literally, never as markup
        assert name in labels


def test_images_hold_nothing_but_text(drawn):
    for image in drawn["layout"]["images"]:
        tags = {node.tag for node in _svg(image).iter()}
        assert tags == {f"{SVG}svg", f"{SVG}g", f"{SVG}text"}


def test_each_text_keeps_its_row_column_anchor_and_font(spec, drawn):
    layout = spec["layout"]
    margin = layout["margin"]
    plot_width = layout["width"] - margin["l"] - margin["r"]
    plot_height = layout["height"] - margin["t"] - margin["b"]
    bottom, top = layout["yaxis"]["range"]
    traces = [t for t in spec["data"] if t.get("mode") == "text"]
    for trace, image in zip(traces, drawn["layout"]["images"], strict=False):
        axis = layout["xaxis" + trace["xaxis"][1:]]
        left, right = axis["domain"]
        column_px = (right - left) * plot_width
        root = _svg(image)
        group = root.find(f"{SVG}g")
        right_aligned = trace["textposition"] == "middle left"
        assert group.get("text-anchor") == ("end" if right_aligned else "start")
        # The box: the column and the overflow on the side the text flows to, over the
        # whole plotting height, stretched with the figure (no view box: per cents).
        box_px = column_px + OVERFLOW_PX
        assert image["xanchor"] == "left" and image["yanchor"] == "top"
        assert image["sizex"] * plot_width == pytest.approx(box_px)
        box_left = left * plot_width - (OVERFLOW_PX if right_aligned else 0.0)
        assert image["x"] * plot_width == pytest.approx(box_left)
        assert (image["y"], image["sizey"], image["sizing"]) == (1.0, 1.0, "stretch")
        assert root.get("width") == root.get("height") == "100%"
        assert root.get("viewBox") is None
        shown = [(i, t) for i, t in enumerate(trace["text"]) if html.unescape(t).strip()]
        nodes = list(root.iter(f"{SVG}text"))
        for (index, _text), node in zip(shown, nodes, strict=True):
            y_px = float(node.get("y").rstrip("%")) / 100 * plot_height
            expected_y = (trace["y"][index] - top) / (bottom - top) * plot_height
            assert y_px == pytest.approx(expected_y, abs=0.01)
            x_px = box_left + float(node.get("x").rstrip("%")) / 100 * box_px
            expected_x = left * plot_width + trace["x"][index] * column_px
            assert x_px == pytest.approx(expected_x, abs=0.01)
            assert node.get("fill") == trace["textfont"]["color"][index]
            assert node.get("font-weight") == trace["textfont"]["weight"][index]
            size = trace["textfont"]["size"]
            # Planned size at the planned width and wider; in proportion when narrower.
            assert _font_px(node, box_px) == pytest.approx(size, abs=1e-3)
            assert _font_px(node, 2 * box_px) == pytest.approx(size)
            assert _font_px(node, 0.7 * box_px) == pytest.approx(0.7 * size, abs=1e-3)


def test_row_headers_move_into_one_image_at_their_places(spec, drawn):
    layout = spec["layout"]
    margin = layout["margin"]
    plot_width = layout["width"] - margin["l"] - margin["r"]
    headers = _header_annotations(spec)
    assert {"Study", "Events", "Total", "Weight"} <= {a["text"] for a in headers}
    image = drawn["layout"]["images"][-1]
    assert (image["x"], image["sizex"], image["sizing"]) == (0.0, 1.0, "stretch")
    nodes = list(_svg(image).iter(f"{SVG}text"))
    assert [n.text for n in nodes] == [html.unescape(a["text"]) for a in headers]
    for annotation, node in zip(headers, nodes, strict=True):
        ref = annotation["xref"]
        if ref == "paper":
            expected = annotation["x"]
        else:
            low, high = layout["xaxis" + ref.split()[0][1:]]["domain"]
            expected = low + annotation["x"] * (high - low)
        assert float(node.get("x").rstrip("%")) / 100 == pytest.approx(expected, abs=1e-5)
        anchor = {"left": "start", "right": "end"}.get(annotation["xanchor"], "middle")
        assert node.get("text-anchor") == anchor
        assert node.get("font-weight") == "bold"
        assert _font_px(node, plot_width) == pytest.approx(annotation["font"]["size"], abs=1e-3)
    # Annotations elsewhere (Favours labels, footer) stay annotations.
    kept = drawn["layout"]["annotations"]
    assert kept and not [a for a in kept if a.get("yref") == "y"]
    assert len(kept) + len(headers) == len(layout["annotations"])


def test_user_text_with_per_cent_escapes_stays_literal():
    """A name such as '50%20off' must not be read as a URL escape inside the image."""
    names = ["50%20off", "100%", "a%3Cb"]
    drawn = text_columns_as_images(_spec(_trials(names)))
    labels = image_texts(drawn)[0]
    for name in names:
        assert name in labels


def test_name_targets_become_one_bar_per_study_with_its_hover_and_id(spec, drawn):
    markers = next(t for t in spec["data"] if t.get("name") == LABEL_TARGETS)
    labels = next(t for t in spec["data"] if t.get("name") == "label column")
    (bars,) = [t for t in drawn["data"] if t.get("name") == LABEL_TARGETS]
    assert bars["type"] == "bar" and bars["orientation"] == "h"
    rows = list(dict.fromkeys(markers["y"]))
    assert bars["y"] == rows
    ids = dict(zip(markers["y"], markers["customdata"], strict=True))
    assert bars["customdata"] == [ids[y] for y in rows]
    hover = dict(zip(labels["y"], labels["hovertext"], strict=True))
    assert bars["hovertext"] == [hover[y] for y in rows]
    assert bars["marker"]["color"] == "rgba(0,0,0,0)"


def test_column_axes_stay_for_the_annotations(spec, drawn):
    """Annotations placed on a column axis keep it: each such axis keeps a trace."""
    used = {t.get("xaxis", "x") for t in drawn["data"]}
    for annotation in spec["layout"]["annotations"]:
        ref = annotation.get("xref", "paper")
        if ref != "paper":
            assert ref.split()[0] in used, ref


def test_the_input_is_not_changed_and_other_traces_are_kept(spec):
    before = json.dumps(spec, cls=PlotlyJSONEncoder, sort_keys=True)
    drawn = text_columns_as_images(spec)
    assert json.dumps(spec, cls=PlotlyJSONEncoder, sort_keys=True) == before
    kept = [t for t in spec["data"] if t.get("mode") != "text" and t["name"] != LABEL_TARGETS]
    assert all(any(t is d for d in drawn["data"]) for t in kept)
    assert all(drawn["layout"][k] is v for k, v in spec["layout"].items() if k != "annotations")


def test_a_spec_without_fixed_geometry_is_left_alone():
    spec = {
        "data": [{"type": "scatter", "mode": "text", "text": ["a"], "x": [0], "y": [0]}],
        "layout": {},
    }
    assert text_columns_as_images(spec) == spec


def test_the_published_ig_forest(spec):
    table = load_ig_pnp_canonical()
    drawn = text_columns_as_images(_spec(table))
    labels = image_texts(drawn)[0]
    assert any(label.startswith("Geerts") for label in labels)
    assert any("%" in text for texts in image_texts(drawn) for text in texts)
