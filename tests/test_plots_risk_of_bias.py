"""Risk-of-bias figures: the forest's block, the traffic light and the weighted summary."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from plotly.utils import PlotlyJSONEncoder

from igmeta.app.intake.schema import template_frame
from igmeta.app.outputs.exports import forest_for
from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.plots.risk_of_bias import (
    legend_lines,
    rob_summary_figure,
    traffic_light_figure,
)
from igmeta.risk_of_bias import NOT_ASSESSED, ROB2, ROB_COLUMNS, ROBINS_I, weighted_summary

ATTACK = '<img src=x onerror="alert(1)">'


def _table() -> pd.DataFrame:
    table = template_frame("binary")
    table.loc[0, "study"] = "<b>Bold</b> 2001"
    table.loc[1, "rob_d2"] = ATTACK
    return table


def _luminance(colour: str) -> float:
    """WCAG relative luminance, computed here independently of the module."""
    rgb = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _rob_points(spec: dict) -> list[tuple[float, float, str, str]]:
    points = []
    for trace in spec["data"]:
        if trace["name"].startswith("risk of bias: "):
            judgement = trace["name"].removeprefix("risk of bias: ")
            for x, y, hover in zip(trace["x"], trace["y"], trace["hovertext"], strict=True):
                points.append((x, y, judgement, hover))
    return points


@pytest.mark.parametrize("width_px", [None, 1200])
def test_forest_block_symbols_are_aligned_with_study_rows(width_px):
    table = _table()
    bundle = run_analysis(table, AnalysisSettings())
    spec = forest_for(bundle, table, as_spec=True, width_px=width_px)
    label = next(t for t in spec["data"] if t["name"] == "label column")
    y_of = {i: y for i, y in zip(label["customdata"], label["y"], strict=True) if i is not None}
    points = _rob_points(spec)
    assert len(points) == len(table) * len(ROB2.columns)
    xs = sorted({x for x, *_ in points})
    assert len(xs) == len(ROB2.columns)
    for position in range(len(table)):
        row = [p for p in points if p[1] == y_of[str(position)]]
        assert len(row) == len(ROB2.columns)
        drawn = [p[2] for p in sorted(row)]
        expected = [table.loc[position, c] for c in ROB2.columns]
        if position == 1:
            expected[1] = NOT_ASSESSED  # the bad value is shown as not assessed
        assert drawn == expected
    # Headers D1 .. D5, Overall over the block, on the header row.
    block_axis = next(t["xaxis"] for t in spec["data"] if t["name"].startswith("risk of bias"))
    headers = [a["text"] for a in spec["layout"]["annotations"] if a.get("xref") == block_axis]
    assert headers == ["D1", "D2", "D3", "D4", "D5", "Overall"]
    # The block sits right of every other column, inside the figure.
    domain = spec["layout"][block_axis.replace("x", "xaxis")]["domain"]
    others = [a["domain"] for k, a in spec["layout"].items() if k.startswith("xaxis") and a]
    assert domain[1] == 1.0 and all(d[1] <= domain[0] + 1e-9 for d in others if d != domain)
    if width_px is not None:
        assert spec["layout"]["width"] <= width_px + 1  # planned for the page's width
    # The legend names the judgements and the domains.
    notes = [a["text"] for a in spec["layout"]["annotations"] if a.get("yref") == "paper"]
    assert any("+ Low" in n and "\u00d7 High" in n for n in notes)
    assert any("D3 Bias due to missing outcome data" in n for n in notes)
    # Valid plotly (the spec is built as plain dicts).
    go.Figure(spec)


def test_forest_block_escapes_user_text():
    table = _table()
    spec = forest_for(run_analysis(table, AnalysisSettings()), table, as_spec=True)
    text = json.dumps(_rob_points(spec))
    assert "<img" not in text and "<b>Bold" not in text
    assert "&lt;img src=x" in text and "&lt;b&gt;Bold" in text
    flagged = [p for p in _rob_points(spec) if "not a RoB 2 judgement" in p[3]]
    assert len(flagged) == 1 and flagged[0][2] == NOT_ASSESSED


def test_forest_without_rob_columns_is_unchanged_and_the_block_only_adds():
    with_rob = template_frame("binary")
    without = with_rob.drop(columns=list(ROB2.columns))
    settings = AnalysisSettings()
    plain = forest_for(run_analysis(without, settings), without, as_spec=True)
    assert not _rob_points(plain)
    assert not any("Risk of bias" in a["text"] for a in plain["layout"]["annotations"])
    added = forest_for(run_analysis(with_rob, settings), with_rob, as_spec=True)
    # Same forest traces, in the same order and with the same content; block traces after.
    count = len(plain["data"])
    assert [t["name"] for t in added["data"][:count]] == [t["name"] for t in plain["data"]]
    encode = PlotlyJSONEncoder
    assert json.dumps(added["data"][:count], cls=encode) == json.dumps(plain["data"], cls=encode)
    assert all(t["name"].startswith("risk of bias") for t in added["data"][count:])
    assert added["layout"]["width"] > plain["layout"]["width"]
    assert added["layout"]["height"] > plain["layout"]["height"]


def test_rob2_colours_differ_in_greyscale_and_symbols_carry_the_meaning():
    lum = {j: _luminance(ROB2.colours[j]) for j in ROB2.judgements}
    for a, b in itertools.combinations(lum, 2):
        assert abs(lum[a] - lum[b]) >= 0.2, (a, b, lum)
    assert len(set(ROB2.symbols.values())) == 3
    assert "Some concerns" in legend_lines(ROB2)[0]


def test_traffic_light_grid_and_escaping():
    table = _table()
    fig = traffic_light_figure(table, ROB2)
    points = sum(len(t.x) for t in fig.data)
    assert points == len(table) * len(ROB2.columns)
    assert list(fig.layout.yaxis.ticktext) == ["&lt;b&gt;Bold&lt;/b&gt; 2001", *table["study"][1:]]
    assert list(fig.layout.xaxis.ticktext) == ["D1", "D2", "D3", "D4", "D5", "Overall"]
    high = next(t for t in fig.data if t.name == "risk of bias: High")
    assert set(high.text) == {"\u00d7"} and list(high.y) == [3, 3]
    assert ATTACK not in fig.to_json()
    # ROBINS-I on a table without its columns: every cell not assessed, no crash.
    empty = traffic_light_figure(table, ROBINS_I)
    assert [t.name for t in empty.data] == [f"risk of bias: {NOT_ASSESSED}"]
    assert len(empty.data[0].x) == len(table) * 8


def test_summary_bars_add_up_and_match_the_weighted_summary():
    table = _table()
    summary = weighted_summary(table, ROB2, np.array([20.0, 30.0, 50.0]))
    fig = rob_summary_figure(summary, ROB2)
    assert [t.name for t in fig.data] == [
        "+ Low",
        "! Some concerns",
        "\u00d7 High",
        "\u25cb Not assessed",
    ]
    totals = np.sum([np.asarray(t.x, dtype=float) for t in fig.data], axis=0)
    np.testing.assert_allclose(totals, 100.0)
    high = next(t for t in fig.data if t.name == "\u00d7 High")
    assert high.x[-1] == pytest.approx(50.0)  # Study C (weight 50) is High overall
    assert high.y[-1] == "Overall"
    patterns = {t.marker.pattern.shape for t in fig.data}
    assert len(patterns) == 4  # fill patterns differ too (greyscale print)


def test_rob_columns_are_known():
    assert set(ROB2.columns) <= set(ROB_COLUMNS)


def test_risk_of_bias_figures_can_be_enlarged_for_slides():
    """The bar chart and the traffic light scale like the forest (a bar's marker has no size)."""
    from igmeta.app.outputs.exports import enlarge_figure

    table = _table()
    summary = weighted_summary(table, ROB2, np.array([20.0, 30.0, 50.0]))
    for fig in (rob_summary_figure(summary, ROB2), traffic_light_figure(table, ROB2)):
        big = enlarge_figure(fig, 1.5)
        assert big.layout.height == int(fig.layout.height * 1.5)
        for before, after in zip(fig.data, big.data, strict=True):
            if before.marker.line.width is not None:
                assert after.marker.line.width == pytest.approx(1.5 * before.marker.line.width)
