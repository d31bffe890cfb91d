"""Funnel plot: contours, pseudo-CI, trim-and-fill points, Egger line, log labels."""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from igmeta.plots import FUNNEL_COLUMNS, THEMES, funnel_figure

Z95 = 1.959963984540054


@pytest.fixture
def points() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "label": ["Smith", "Jones", "Lee", "Cohen", "Imputed 1", "Imputed 2"],
            "study_id": ["s1", "s2", "s3", "s4", None, None],
            "estimate": [0.40, 0.10, -0.20, 0.65, -0.35, -0.50],
            "se": [0.10, 0.25, 0.30, 0.45, 0.40, 0.50],
            "filled": [False, False, False, False, True, True],
            "included": [True, True, False, True, True, True],
        }
    )


def _names(fig: go.Figure) -> list[str]:
    return [html.unescape(t.name) for t in fig.data]


def _trace(fig: go.Figure, name: str):
    matches = [t for t in fig.data if html.unescape(t.name) == name]
    assert len(matches) == 1, f"expected one trace named {name!r}, got {len(matches)}"
    return matches[0]


def _serialises(fig: go.Figure, tmp_path) -> None:
    path = tmp_path / "funnel.html"
    fig.write_html(path, include_plotlyjs=False)
    assert path.stat().st_size > 1000


def test_funnel_traces_and_legend(points, tmp_path):
    fig = funnel_figure(points, center=0.2, egger_line=(0.1, 0.5))
    assert _names(fig) == [
        "0.05 < p < 0.10",
        "0.01 < p < 0.05",
        "p < 0.01",
        "Pseudo 95% CI",
        "Pooled estimate",
        "Egger regression line",
        "Studies",
        "Excluded studies",
        "Imputed (trim-and-fill)",
    ]
    assert fig.layout.showlegend is not False
    _serialises(fig, tmp_path)


def test_trim_and_fill_points_have_their_own_trace(points):
    fig = funnel_figure(points, center=0.2)
    imputed = _trace(fig, "Imputed (trim-and-fill)")
    assert list(imputed.x) == [-0.35, -0.50]
    assert imputed.marker.symbol == "circle-open"
    assert imputed.marker.color == THEMES["light"].imputed
    assert list(_trace(fig, "Studies").customdata) == ["s1", "s2", "s4"]
    assert list(imputed.customdata) == [None, None]
    assert "trim-and-fill" in imputed.hovertext[0]


def test_excluded_studies_are_grey(points):
    fig = funnel_figure(points, center=0.2)
    excluded = _trace(fig, "Excluded studies")
    assert list(excluded.customdata) == ["s3"]
    assert excluded.marker.color == THEMES["light"].muted
    assert "(excluded)" in excluded.hovertext[0]


def test_standard_error_axis_is_inverted(points):
    fig = funnel_figure(points, center=0.2)
    bottom, top = fig.layout.yaxis.range
    assert top == 0 and bottom == pytest.approx(0.55)
    assert fig.layout.yaxis.title.text == "Standard error"
    fixed = funnel_figure(points, center=0.2, se_max=1.0)
    assert list(fixed.layout.yaxis.range) == [1.0, 0]


def test_contours_are_shaded_regions_around_zero(points):
    fig = funnel_figure(points, center=0.2, se_max=1.0)
    contours = [_trace(fig, name) for name in ("0.05 < p < 0.10", "0.01 < p < 0.05", "p < 0.01")]
    assert all(trace.fill == "toself" for trace in contours)
    band = contours[1]  # between z = 1.96 and z = 2.576 at se = 1
    right = [x for x in band.x[: band.x.index(None)]]
    assert right[1] == pytest.approx(Z95) and right[2] == pytest.approx(2.5758293035489004)
    left = band.x[band.x.index(None) + 1 :]
    assert [-x for x in left] == pytest.approx(right)
    assert len({t.fillcolor for t in contours}) == 3
    plain = funnel_figure(points, center=0.2, contours=False)
    assert not any(t.fill == "toself" for t in plain.data)


def test_pseudo_confidence_limits_around_center(points):
    fig = funnel_figure(points, center=0.2, se_max=0.5)
    pseudo = _trace(fig, "Pseudo 95% CI")
    assert list(pseudo.y) == [0.5, 0, 0.5]
    assert pseudo.x[0] == pytest.approx(0.2 - Z95 * 0.5)
    assert pseudo.x[2] == pytest.approx(0.2 + Z95 * 0.5)
    assert list(_trace(fig, "Pooled estimate").x) == [0.2, 0.2]
    hidden = funnel_figure(points, center=0.2, pseudo_ci=False)
    assert "Pseudo 95% CI" not in _names(hidden)


def test_egger_line_is_estimate_as_function_of_se(points):
    fig = funnel_figure(points, center=0.2, se_max=0.5, egger_line=(0.1, 0.8))
    line = _trace(fig, "Egger regression line")
    assert list(line.y) == [0, 0.5]
    assert list(line.x) == pytest.approx([0.1, 0.1 + 0.8 * 0.5])


def test_log_scale_labels_show_natural_values(points):
    fig = funnel_figure(points, center=0.2, log_scale=True, x_label="Risk ratio")
    axis = fig.layout.xaxis
    assert axis.type != "log"  # the geometry stays on the log scale
    assert "1" in axis.ticktext
    for value, text in zip(axis.tickvals, axis.ticktext, strict=True):
        assert math.exp(value) == pytest.approx(float(text))
    assert list(_trace(fig, "Studies").x) == [0.40, 0.10, 0.65]
    assert "1.49" in _trace(fig, "Studies").hovertext[0]  # exp(0.4)


def test_hover_shows_label_estimate_and_se(points):
    hover = _trace(funnel_figure(points, center=0.2), "Studies").hovertext[0]
    assert "Smith" in hover and "0.400" in hover and "SE: 0.100" in hover


def test_dark_theme(points, tmp_path):
    dark = THEMES["dark"]
    fig = funnel_figure(points, center=0.2, theme="dark", title="Funnel")
    assert fig.layout.paper_bgcolor == dark.background
    assert fig.layout.font.color == dark.text
    assert _trace(fig, "Studies").marker.color == dark.primary
    assert _trace(fig, "p < 0.01").fillcolor == dark.contour_fills[2]
    _serialises(fig, tmp_path)


def test_minimal_columns_and_validation(tmp_path):
    minimal = pd.DataFrame({"estimate": [0.1, 0.3, np.nan], "se": [0.2, 0.1, 0.3]})
    fig = funnel_figure(minimal, center=0.2)
    assert _names(fig)[-1] == "Studies"
    _serialises(fig, tmp_path)
    with pytest.raises(ValueError, match="se"):
        funnel_figure(minimal.drop(columns="se"), center=0.0)
    required = [spec.name for spec in FUNNEL_COLUMNS if spec.required]
    assert required == ["estimate", "se"]
