"""Leave-one-out, cumulative, Baujat and GOSH figures."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from igmeta.plots import (
    THEMES,
    baujat_figure,
    cumulative_figure,
    gosh_figure,
    leave_one_out_figure,
)


@pytest.fixture
def refits() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label": ["Smith 2001", "Jones 2004", "Lee 2010"],
            "study_id": ["s1", "s2", "s3"],
            "estimate": [1.40, 1.60, 1.50],
            "ci_lower": [1.00, 1.10, 1.00],
            "ci_upper": [2.00, 2.30, 2.20],
            "i2": [30.0, 45.2, 12.0],
        }
    )


def _trace(fig: go.Figure, name: str):
    matches = [t for t in fig.data if t.name == name]
    assert len(matches) == 1, f"expected one trace named {name!r}, got {len(matches)}"
    return matches[0]


def _displayed(texts) -> list[str]:
    return [html.unescape(text).strip() for text in texts]


def _serialises(fig: go.Figure, tmp_path) -> None:
    path = tmp_path / "figure.html"
    fig.write_html(path, include_plotlyjs=False)
    assert path.stat().st_size > 1000


def test_leave_one_out(refits, tmp_path):
    fig = leave_one_out_figure(
        refits, full_estimate=1.5, log_scale=True, null_value=1.0, x_label="Risk ratio"
    )
    assert fig.layout.xaxis.type == "log"
    assert list(_trace(fig, "reference line").x) == [1.5, 1.5]
    assert list(_trace(fig, "studies included").customdata) == ["s1", "s2", "s3"]
    assert _displayed(_trace(fig, "label column").text) == ["Smith 2001", "Jones 2004", "Lee 2010"]
    assert _displayed(_trace(fig, "i2_text column").text) == ["30%", "45%", "12%"]
    assert _displayed(_trace(fig, "estimate_text column").text)[0] == "1.40 [1.00, 2.00]"
    headers = {html.unescape(a.text) for a in fig.layout.annotations}
    assert {"Omitted study", "I\u00b2", "Estimate [95% CI]"} <= headers
    assert len(set(_trace(fig, "studies included").marker.size)) == 1
    _serialises(fig, tmp_path)


def test_leave_one_out_without_reference_or_ids(refits):
    fig = leave_one_out_figure(refits.drop(columns="study_id"))
    assert "reference line" not in [t.name for t in fig.data]
    assert list(_trace(fig, "studies included").customdata) == [None, None, None]
    with pytest.raises(ValueError, match="i2"):
        leave_one_out_figure(refits.drop(columns="i2"))


def test_cumulative(refits, tmp_path):
    frame = refits.drop(columns="i2").assign(k=[1, 2, 3])
    fig = cumulative_figure(frame, log_scale=True, null_value=1.0, theme="dark")
    assert _displayed(_trace(fig, "label column").text) == [
        "+ Smith 2001",
        "+ Jones 2004",
        "+ Lee 2010",
    ]
    assert _displayed(_trace(fig, "k_text column").text) == ["1", "2", "3"]
    assert "Study added" in {a.text for a in fig.layout.annotations}
    assert fig.layout.paper_bgcolor == THEMES["dark"].background
    _serialises(fig, tmp_path)
    with pytest.raises(ValueError, match="k"):
        cumulative_figure(refits)


def test_baujat(tmp_path):
    frame = pd.DataFrame(
        {
            "label": ["Smith 2001", "An exceptionally long study label, 2019", "Lee"],
            "study_id": ["s1", "s2", "s3"],
            "x": [3.2, 0.5, 1.1],
            "y": [0.8, 0.1, 0.3],
        }
    )
    fig = baujat_figure(frame, highlight="s1")
    (trace,) = fig.data
    assert trace.mode == "markers+text"
    assert list(trace.customdata) == ["s1", "s2", "s3"]
    assert trace.text[1].endswith("\u2026") and len(trace.text[1]) <= 20
    assert "An exceptionally long study label, 2019" in trace.hovertext[1]
    assert "Contribution to Q: 3.200" in trace.hovertext[0]
    assert list(trace.marker.color) == [THEMES["light"].accent] + [THEMES["light"].primary] * 2
    assert fig.layout.xaxis.title.text.startswith("Contribution")
    _serialises(fig, tmp_path)
    with pytest.raises(ValueError, match="y"):
        baujat_figure(frame.drop(columns="y"))


def _gosh_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    half = rows // 2
    return pd.DataFrame(
        {
            "estimate": np.concatenate(
                [rng.normal(0.3, 0.05, half), rng.normal(0.6, 0.08, rows - half)]
            ),
            "i2": np.clip(
                np.concatenate([rng.normal(20, 8, half), rng.normal(60, 10, rows - half)]), 0, 100
            ),
            "k": rng.integers(1, 12, rows),
        }
    )


def test_gosh_with_a_million_subsets(tmp_path):
    fig = gosh_figure(_gosh_frame(1_000_000), log_scale=True, x_label="Odds ratio")
    heatmap, top, right = fig.data
    assert isinstance(heatmap, go.Heatmap)
    assert isinstance(top, go.Bar) and isinstance(right, go.Bar)
    assert right.orientation == "h"
    # thinned to max_points by a reproducible random sample, noted under the plot
    assert int(np.asarray(heatmap.customdata).sum()) == 200_000
    assert sum(top.y) == 200_000
    assert "200,000 of 1,000,000" in fig.layout.annotations[0].text
    axis = fig.layout.xaxis3  # the heatmap's x-axis: natural-scale labels at log positions
    assert len(axis.ticktext) >= 3
    assert np.exp(axis.tickvals) == pytest.approx([float(t) for t in axis.ticktext])
    _serialises(fig, tmp_path)


def test_gosh_without_thinning_and_dark_theme():
    frame = _gosh_frame(5_000)
    fig = gosh_figure(frame, max_points=None, theme="dark", title="GOSH")
    heatmap = fig.data[0]
    counts = np.asarray(heatmap.customdata)
    assert counts.sum() == 5_000
    shade = np.asarray(heatmap.z, dtype=float)
    assert np.isnan(shade[counts == 0]).all()  # empty bins are transparent
    assert np.allclose(shade[counts > 0], np.log10(counts[counts > 0]))
    assert fig.layout.paper_bgcolor == THEMES["dark"].background
    assert fig.layout.annotations[0].text == "5,000 subsets"


def test_gosh_ignores_non_finite_rows_and_handles_empty(tmp_path):
    frame = pd.DataFrame({"estimate": [0.1, np.nan, 0.2], "i2": [10.0, 20.0, np.inf]})
    assert np.asarray(gosh_figure(frame).data[0].customdata).sum() == 1
    empty = gosh_figure(pd.DataFrame({"estimate": [], "i2": []}))
    assert np.asarray(empty.data[0].customdata).sum() == 0
    _serialises(empty, tmp_path)
    with pytest.raises(ValueError, match="i2"):
        gosh_figure(pd.DataFrame({"estimate": [0.1]}))
