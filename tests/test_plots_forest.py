"""Forest plot: figure structure built from hand-made tidy frames."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from igmeta.plots import FOREST_COLUMNS, THEMES, forest_figure

NAN = np.nan


def _row(row_type: str, label: str, **values) -> dict:
    return {"row_type": row_type, "label": label, **values}


@pytest.fixture
def frame() -> pd.DataFrame:
    rows = [
        _row("subgroup_header", "Adults", group="Adults"),
        _row(
            "study",
            "Smith 2001",
            study_id="s1",
            group="Adults",
            estimate=2.9,
            ci_lower=1.62,
            ci_upper=5.19,
            weight=36.0,
            events1_text="7",
            total1_text="11",
            events2_text="0",
            total2_text="12",
            estimate_text="2.90 [1.62, 5.19]",
            weight_text="36.0%",
        ),
        _row(
            "study",
            "Jones 2004",
            study_id="s2",
            group="Adults",
            estimate=0.8,
            ci_lower=0.3,
            ci_upper=2.1,
            weight=9.0,
            flag="reconstructed",
            events1_text="3",
            total1_text="20",
            events2_text="4",
            total2_text="21",
            estimate_text="0.80 [0.30, 2.10]",
            weight_text="9.0%",
        ),
        _row(
            "study",
            "Lee 2010",
            study_id="s3",
            group="Adults",
            estimate=1.4,
            ci_lower=0.9,
            ci_upper=2.2,
            weight=NAN,
            included=False,
            events1_text="1",
            total1_text="5",
            events2_text="0",
            total2_text="6",
            estimate_text="1.40 [0.90, 2.20]",
            weight_text="",
        ),
        _row(
            "subgroup_summary",
            "Subtotal",
            group="Adults",
            estimate=1.8,
            ci_lower=1.1,
            ci_upper=2.9,
            estimate_text="1.80 [1.10, 2.90]",
            weight_text="45.0%",
        ),
        _row("subgroup_header", "Children", group="Children"),
        _row(
            "study",
            "Cohen 2012",
            study_id="s4",
            group="Children",
            estimate=1.2,
            ci_lower=0.7,
            ci_upper=2.0,
            weight=55.0,
            events1_text="20",
            total1_text="50",
            events2_text="17",
            total2_text="50",
            estimate_text="1.20 [0.70, 2.00]",
            weight_text="55.0%",
        ),
        _row(
            "subgroup_summary",
            "Subtotal",
            group="Children",
            estimate=1.2,
            ci_lower=0.7,
            ci_upper=2.0,
            estimate_text="1.20 [0.70, 2.00]",
            weight_text="55.0%",
        ),
        _row(
            "overall",
            "Overall (random effects)",
            estimate=1.5,
            ci_lower=1.05,
            ci_upper=2.2,
            estimate_text="1.50 [1.05, 2.20]",
            weight_text="100%",
        ),
        _row(
            "prediction",
            "Prediction interval",
            pi_lower=0.6,
            pi_upper=3.8,
            estimate_text="[0.60, 3.80]",
        ),
    ]
    table = pd.DataFrame(rows)
    table["included"] = table["included"].astype(object).where(table["included"].notna(), True)
    table["flag"] = table["flag"].fillna("")
    return table


def _trace(fig: go.Figure, name: str):
    matches = [t for t in fig.data if t.name == name]
    assert len(matches) == 1, f"expected one trace named {name!r}, got {len(matches)}"
    return matches[0]


def _names(fig: go.Figure) -> list[str]:
    return [t.name for t in fig.data]


def _serialises(fig: go.Figure, tmp_path) -> None:
    path = tmp_path / "figure.html"
    fig.write_html(path, include_plotlyjs=False)
    assert path.stat().st_size > 1000


def test_forest_builds_expected_traces(frame, tmp_path):
    fig = forest_figure(frame, log_scale=True, null_value=1.0, x_label="Risk ratio")
    names = _names(fig)
    assert "studies included" in names and "studies excluded" in names
    assert names.count("subgroup diamond") == 2
    assert names.count("overall diamond") == 1
    assert "prediction interval" in names and "null line" in names and "reference line" in names
    _serialises(fig, tmp_path)


def test_diamonds_are_filled_polygons(frame):
    fig = forest_figure(frame, log_scale=True)
    diamonds = [t for t in fig.data if t.name in ("subgroup diamond", "overall diamond")]
    for diamond in diamonds:
        assert diamond.fill == "toself"
        assert len(diamond.x) == 5 and diamond.x[0] == diamond.x[-1]
    overall = _trace(fig, "overall diamond")
    assert (min(overall.x), max(overall.x)) == (1.05, 2.2)
    assert overall.fillcolor == THEMES["light"].summary


def test_log_axis_has_natural_tick_labels(frame):
    fig = forest_figure(frame, log_scale=True, null_value=1.0)
    axis = fig.layout.xaxis
    assert axis.type == "log"
    assert {"0.5", "1", "2"} <= set(axis.ticktext)
    assert list(axis.tickvals)[list(axis.ticktext).index("1")] == 1.0
    low, high = axis.range  # plotly log axes take log10 limits
    assert 10**low < 0.3 and 10**high > 3.8


def test_linear_axis_without_log_scale(frame):
    fig = forest_figure(frame, null_value=0.0)
    assert fig.layout.xaxis.type != "log"
    assert list(_trace(fig, "null line").x) == [0.0, 0.0]


def test_study_points_carry_study_id(frame):
    fig = forest_figure(frame, log_scale=True)
    assert list(_trace(fig, "studies included").customdata) == ["s1", "s2", "s4"]
    assert list(_trace(fig, "studies excluded").customdata) == ["s3"]
    labels = _trace(fig, "label column")
    expected = [None, "s1", "s2", "s3", None, None, "s4", None, None, None]
    assert list(labels.customdata) == expected
    assert labels.hoverinfo == "text"  # hoverable, hence clickable in the dashboard


def test_excluded_studies_are_grey_hollow_and_marked(frame):
    fig = forest_figure(frame, log_scale=True)
    excluded = _trace(fig, "studies excluded")
    assert excluded.marker.color == THEMES["light"].muted
    assert list(excluded.marker.symbol) == ["square-open"]
    assert "(excluded)" in excluded.hovertext[0]
    assert _trace(fig, "CI excluded").line.color == THEMES["light"].muted
    label_colours = _trace(fig, "label column").textfont.color
    assert label_colours[3] == THEMES["light"].muted
    assert label_colours[1] == THEMES["light"].text


def test_flagged_rows_get_dagger_and_footnote(frame):
    fig = forest_figure(frame, log_scale=True)
    labels = _trace(fig, "label column").text
    assert labels[2].endswith("\u2020")
    assert not labels[1].endswith("\u2020")
    notes = [a.text for a in fig.layout.annotations]
    assert "\u2020 reconstructed data" in notes
    assert "reconstructed data" in _trace(fig, "studies included").hovertext[1]


def test_square_area_is_proportional_to_weight(frame):
    fig = forest_figure(frame, log_scale=True)
    sizes = np.asarray(_trace(fig, "studies included").marker.size)
    # weights 36, 9, 55: sizes squared keep these ratios while within the size limits
    assert sizes[0] ** 2 / sizes[2] ** 2 == pytest.approx(36 / 55)
    assert sizes[1] ** 2 / sizes[2] ** 2 == pytest.approx(9 / 55)
    assert _trace(fig, "studies excluded").marker.size[0] >= 7  # NaN weight: minimum size


def test_equal_squares_without_weight_column(frame):
    fig = forest_figure(frame.drop(columns="weight"), log_scale=True)
    assert len(set(_trace(fig, "studies included").marker.size)) == 1


def test_prediction_interval_and_show_prediction(frame):
    fig = forest_figure(frame, log_scale=True)
    prediction = _trace(fig, "prediction interval")
    assert [x for x in prediction.x if x is not None] == [0.6, 3.8]
    hidden = forest_figure(frame, log_scale=True, show_prediction=False)
    assert "prediction interval" not in _names(hidden)
    assert hidden.layout.height < fig.layout.height
    assert "Prediction interval" not in _trace(hidden, "label column").text


def test_reference_lines(frame):
    fig = forest_figure(frame, log_scale=True, null_value=1.0)
    assert list(_trace(fig, "null line").x) == [1.0, 1.0]
    reference = _trace(fig, "reference line")
    assert list(reference.x) == [1.5, 1.5] and reference.line.dash == "dash"
    no_null = forest_figure(frame, log_scale=True)
    assert "null line" not in _names(no_null)
    moved = forest_figure(frame, log_scale=True, reference_value=1.3)
    assert list(_trace(moved, "reference line").x) == [1.3, 1.3]


def test_long_intervals_are_clipped_with_arrows(frame):
    wide = frame.copy()
    wide.loc[1, ["ci_lower", "ci_upper"]] = [0.001, 900.0]
    fig = forest_figure(wide, log_scale=True)
    arrows = _trace(fig, "CI clipped")
    assert sorted(arrows.marker.symbol) == ["triangle-left", "triangle-right"]
    low, high = fig.layout.xaxis.range
    assert 10**low > 0.001 and 10**high < 900
    fixed = forest_figure(frame, log_scale=True, x_range=(0.5, 2.0))
    assert np.allclose(fixed.layout.xaxis.range, np.log10([0.5, 2.0]))
    assert "CI clipped" in _names(fixed)


def test_text_columns_and_headers(frame):
    fig = forest_figure(frame, log_scale=True)
    assert list(_trace(fig, "estimate_text column").text)[1] == "2.90 [1.62, 5.19]"
    assert "events1_text column" in _names(fig)
    headers = {html.unescape(a.text) for a in fig.layout.annotations}
    assert {"Study", "Events", "Total", "Estimate [95% CI]", "Weight"} <= headers
    assert {"Treatment", "Control"} <= headers  # arm group headers
    assert "Events / total" not in headers
    arms = ["events1_text", "total1_text", "events2_text", "total2_text"]
    reduced = forest_figure(frame.drop(columns=arms).assign(weight_text=""))
    assert "events1_text column" not in _names(reduced)
    assert not {"Treatment", "Control"} & {a.text for a in reduced.layout.annotations}
    assert "weight_text column" not in _names(reduced)
    custom = forest_figure(frame, text_columns=[("estimate_text", "RR [95% CI]")])
    assert "RR [95% CI]" in {html.unescape(a.text) for a in custom.layout.annotations}
    assert "weight_text column" not in _names(custom)


def test_subgroup_headers_are_bold(frame):
    fig = forest_figure(frame)
    weights = _trace(fig, "label column").textfont.weight
    assert weights[0] == "bold" and weights[5] == "bold"
    assert weights[1] == "normal"
    assert html.unescape(_trace(fig, "label column").text[1]).strip() == "Smith 2001"


def test_height_grows_with_rows(frame):
    small = forest_figure(frame.iloc[:4])
    large = forest_figure(pd.concat([frame] * 5, ignore_index=True))
    per_row = (large.layout.height - small.layout.height) / (len(frame) * 5 - 4)
    assert 28 <= per_row <= 32


def test_highlight_emphasises_one_study(frame, tmp_path):
    fig = forest_figure(frame, log_scale=True, highlight="s4")
    highlighted = _trace(fig, "studies highlighted")
    assert list(highlighted.customdata) == ["s4"]
    assert highlighted.marker.color == THEMES["light"].accent
    assert _trace(fig, "CI highlighted").line.width > _trace(fig, "CI included").line.width
    assert "s4" not in list(_trace(fig, "studies included").customdata)
    assert any(shape.type == "rect" for shape in fig.layout.shapes)
    _serialises(fig, tmp_path)


def test_dark_theme(frame, tmp_path):
    dark = THEMES["dark"]
    fig = forest_figure(frame, log_scale=True, theme="dark")
    assert fig.layout.paper_bgcolor == dark.background
    assert fig.layout.plot_bgcolor == dark.background
    assert fig.layout.font.color == dark.text
    assert _trace(fig, "studies included").marker.color == dark.primary
    assert _trace(fig, "overall diamond").fillcolor == dark.summary
    _serialises(fig, tmp_path)


def test_slide_friendly_fonts_and_no_gridlines(frame):
    fig = forest_figure(frame, log_scale=True, title="Mortality")
    assert fig.layout.font.size >= 14
    assert fig.layout.xaxis.tickfont.size >= 16
    assert fig.layout.title.font.size >= 18
    assert fig.layout.xaxis.showgrid is False
    assert "sans-serif" in fig.layout.font.family


def test_missing_columns_are_listed(frame):
    with pytest.raises(ValueError, match="ci_lower, ci_upper"):
        forest_figure(frame.drop(columns=["ci_lower", "ci_upper"]))
    with pytest.raises(ValueError, match="unknown row_type"):
        forest_figure(frame.assign(row_type="studdy"))
    with pytest.raises(TypeError):
        forest_figure(frame.to_dict())


def test_column_contract_is_documented():
    names = [spec.name for spec in FOREST_COLUMNS]
    required = [spec.name for spec in FOREST_COLUMNS if spec.required]
    assert required == ["row_type", "label", "estimate", "ci_lower", "ci_upper"]
    for name in (
        "study_id",
        "group",
        "pi_lower",
        "pi_upper",
        "weight",
        "included",
        "flag",
        "events1_text",
        "total1_text",
        "mean2_text",
        "sd2_text",
        "estimate_text",
        "weight_text",
    ):
        assert name in names
    assert all(spec.description for spec in FOREST_COLUMNS)


def test_minimal_frame_without_summaries(tmp_path):
    minimal = pd.DataFrame(
        {
            "row_type": ["study", "study"],
            "label": ["A", "B"],
            "estimate": [0.2, -0.1],
            "ci_lower": [-0.1, -0.5],
            "ci_upper": [0.5, 0.3],
        }
    )
    fig = forest_figure(minimal, null_value=0.0)
    assert "reference line" not in _names(fig)
    assert list(_trace(fig, "studies included").customdata) == [None, None]
    _serialises(fig, tmp_path)


def test_hover_shows_label_estimate_and_weight(frame):
    hover = _trace(forest_figure(frame), "studies included").hovertext[0]
    lines = [html.unescape(line) for line in hover.split("<br>")]
    assert lines[0] == "Smith 2001"
    assert "Estimate [95% CI]: 2.90 [1.62, 5.19]" in lines
    assert "Weight: 36.0%" in lines
    assert "Subgroup: Adults" in lines
    assert "Treatment Events: 7" in lines and "Control Total: 12" in lines
    arms = ["events1_text", "total1_text", "events2_text", "total2_text"]
    bare = frame.drop(columns=[*arms, "estimate_text", "weight_text"])
    lines = _trace(forest_figure(bare), "studies included").hovertext[0].split("<br>")
    assert [html.unescape(line) for line in lines[-2:]] == ["2.90 [1.62, 5.19]", "Weight: 36.0%"]
    summary = _trace(forest_figure(bare), "overall diamond").hovertext[0]
    assert summary.split("<br>") == ["Overall (random effects)", "1.50 [1.05, 2.20]"]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_theme_template_is_plotlys_simple_white_and_validation_stays_on(theme):
    """apply_theme assigns the template without re-validating it (for speed): the figure
    must be exactly what ``update_layout(template="simple_white")`` gives, and later
    settings must still be validated."""
    import plotly.graph_objects as go

    from igmeta.plots._style import apply_theme

    fast = apply_theme(go.Figure(go.Scatter(x=[1, 2], y=[3, 4])), theme)
    slow = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    slow.update_layout(template="simple_white")
    assert fast.layout.template.to_plotly_json() == slow.layout.template.to_plotly_json()
    themed_again = apply_theme(apply_theme(go.Figure(), "dark"), theme)
    assert themed_again.to_plotly_json() == apply_theme(go.Figure(), theme).to_plotly_json()
    with pytest.raises(ValueError):
        fast.update_layout(paper_bgcolor="not a colour")


# --------------------------------------------------------------------------- fast build


@pytest.mark.parametrize(
    "options",
    [
        {"log_scale": True, "null_value": 1.0},
        {"theme": "dark", "highlight": "s2", "title": "T <b>1</b>", "x_label": "RR"},
        {"show_prediction": False, "footer": ["Q = 1"], "notes": ["5 not drawn"]},
    ],
)
def test_unvalidated_build_equals_the_validated_construction(frame, options):
    """The figure is wrapped without plotly's validation; validating the very same dict
    must neither fail nor change anything."""
    import json

    fast = forest_figure(frame, **options)
    validated = go.Figure(fast.to_dict())
    assert json.loads(fast.to_json()) == json.loads(validated.to_json())
    # Later changes by consumers (exports, presenter) still work on the figure.
    fast.update_layout(width=800)
    assert fast.layout.width == 800


# --------------------------------------------------------------------------- RevMan look


def _annotation_texts(fig) -> list[str]:
    return [html.unescape(a.text) for a in fig.layout.annotations]


def test_favours_labels_sit_either_side_of_the_null_line(frame):
    fig = forest_figure(
        frame, log_scale=True, null_value=1.0, favours_left="<b>A</b>", favours_right="B & C"
    )
    favours = [a for a in fig.layout.annotations if a.xref == "x"]
    assert [a.xanchor for a in favours] == ["right", "left"]
    assert all(a.x == 0.0 for a in favours)  # log10(1) on the log axis
    assert favours[0].text == "\u25c0 &lt;b&gt;A&lt;/b&gt;"
    assert favours[1].text == "B &amp; C \u25b6"
    defaults = _annotation_texts(forest_figure(frame, null_value=0.0, log_scale=False))
    assert "\u25c0 Favours control" in defaults and "Favours treatment \u25b6" in defaults
    none = forest_figure(frame, null_value=1.0, log_scale=True, favours_left="", favours_right="")
    assert not [a for a in none.layout.annotations if a.xref == "x"]
    assert not [a for a in forest_figure(frame).layout.annotations if a.xref == "x"]


def test_footer_and_notes_are_escaped_lines_under_the_plot(frame):
    fig = forest_figure(frame, footer=["Heterogeneity: Q = 1 <i>x</i>"], notes=["5% $x$"])
    texts = [a.text for a in fig.layout.annotations if a.yref == "paper" and a.xref == "paper"]
    assert texts[0] == "Heterogeneity: Q = 1 &lt;i&gt;x&lt;/i&gt;"
    assert texts[-1] == "5&#37; &#36;x&#36;"


def test_study_names_are_click_targets(frame):
    fig = forest_figure(frame)
    targets = _trace(fig, "label targets")
    assert targets.xaxis == "x2"
    ids = list(dict.fromkeys(targets.customdata))
    assert ids == ["s1", "s2", "s3", "s4"]  # every study, excluded ones too
    xs = np.asarray(targets.x[: list(targets.customdata).count("s1")])
    assert xs.min() < 0.1 and xs.max() > 0.9  # the whole width of the name column
    assert targets.marker.color == "rgba(0,0,0,0)"
    labels = _trace(fig, "label column")
    label_y = dict(zip(labels.customdata, labels.y, strict=True))
    for study, y in zip(targets.customdata, targets.y, strict=True):
        assert label_y[study] == y


def test_summary_labels_are_never_shortened(frame):
    long = "Overall: Random effects (REML, Hartung-Knapp) with a long name"
    frame.loc[frame["row_type"] == "overall", "label"] = long
    fig = forest_figure(frame, max_label_chars=20)
    assert long in list(_trace(fig, "label column").text)
    width = fig.layout.xaxis2.domain[1] * (fig.layout.width - 40)
    assert width >= 16 * 0.5 * len(long)  # the column is planned wide enough for it


def test_a_given_width_is_kept_when_the_text_fits(frame):
    assert forest_figure(frame).layout.width >= 1200
    compact = forest_figure(frame, width_px=960, log_scale=True, null_value=1.0)
    assert compact.layout.width == 960
    plot = compact.layout.xaxis.domain
    assert (plot[1] - plot[0]) * (960 - 40) >= 220


def test_continuous_columns_have_mean_sd_total_and_no_events():
    rows = pd.DataFrame(
        {
            "row_type": ["study", "overall"],
            "label": ["A", "Overall"],
            "estimate": [0.2, 0.2],
            "ci_lower": [-0.1, -0.1],
            "ci_upper": [0.5, 0.5],
            "mean1_text": ["4.2", ""],
            "sd1_text": ["1.8", ""],
            "total1_text": ["40", "40"],
            "mean2_text": ["5", ""],
            "sd2_text": ["1.9", ""],
            "total2_text": ["38", "38"],
        }
    )
    fig = forest_figure(rows, null_value=0.0, arm_names=("IG", "Placebo"))
    headers = _annotation_texts(fig)
    assert headers.count("Mean") == 2 and headers.count("SD") == 2 and headers.count("Total") == 2
    assert "Events" not in headers and "Events / total" not in headers
    assert {"IG", "Placebo"} <= set(headers)


def test_log_axis_ticks_are_plain_decimals(frame):
    fig = forest_figure(frame, log_scale=True, x_range=(0.1, 10))
    assert list(fig.layout.xaxis.ticktext) == ["0.1", "0.2", "0.5", "1", "2", "5", "10"]


# --------------------------------------------------------------------------- frames


def _bcg_bundle(**settings):
    from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
    from tests.test_schema import _uploaded_bcg

    table = _uploaded_bcg()
    return run_analysis(table, AnalysisSettings(subgroup_column=None, **settings)), table


def test_uploaded_bcg_shows_derived_totals_and_sums():
    from igmeta.app.outputs.tables import forest_frame

    bundle, table = _bcg_bundle()
    frame = forest_frame(bundle, table)
    table = table[["ai", "bi", "ci", "di"]].astype(int)
    studies = frame[frame["row_type"] == "study"]
    assert studies["total1_text"].tolist() == [str(n) for n in table.ai + table.bi]
    assert studies["total2_text"].tolist() == [str(n) for n in table.ci + table.di]
    assert studies["events1_text"].iloc[0] == "4" and studies["total1_text"].iloc[0] == "123"
    overall = frame[frame["row_type"] == "overall"].iloc[0]
    assert overall["total1_text"] == str(int((table.ai + table.bi).sum()))
    events = frame[frame["row_type"] == "total"].iloc[0]
    assert events["label"] == "Total events"
    assert events["events1_text"] == str(int(table.ai.sum()))
    assert events["events2_text"] == str(int(table.ci.sum()))
    assert "counts_text" in frame and studies["counts_text"].iloc[0] == "4/123 | 11/139"


def test_footer_reports_the_results_own_numbers():
    from igmeta.app.outputs.tables import forest_footer

    bundle, _table = _bcg_bundle()
    res = bundle.result
    lines = forest_footer(bundle)
    assert lines[0] == (
        f"Heterogeneity: tau\u00b2 = {res.tau2:.4f}; Q = {res.q:.2f} (df = 12, p < 0.0001); "
        f"I\u00b2 = {res.i2:.0f}%"
    )
    assert lines[1] == f"Test for overall effect: Z = {res.statistic:.2f} (p < 0.0001)"
    hk, _ = _bcg_bundle(test="knha")
    expected = f"Test for overall effect: t = {hk.result.statistic:.2f}"
    assert forest_footer(hk)[1].startswith(expected)
    assert "(df = 12," in forest_footer(hk)[1]
    mh, _ = _bcg_bundle(pooling="MH")
    mh_lines = forest_footer(mh)
    assert "tau" not in mh_lines[0]
    assert mh_lines[0].startswith(f"Heterogeneity: Q = {mh.result.q:.2f} (df = 12")


def test_weights_keep_significant_digits():
    from igmeta.result_frames import weight_text

    assert weight_text(35.24) == "35.2%"
    assert weight_text(0.01234) == "0.012%"
    assert weight_text(0.00012) == "0.00012%"
    assert weight_text(0.0) == "0%"
    assert weight_text(np.nan) == ""


def test_large_k_draws_the_largest_weights_and_says_so():
    from igmeta.app.outputs.tables import drawn_forest_rows

    k = 500
    frame = pd.DataFrame(
        {
            "row_type": ["study"] * k + ["overall"],
            "label": [f"S{i}" for i in range(k)] + ["Overall"],
            "weight": [*np.linspace(0.01, 1.0, k), np.nan],
        }
    )
    drawn, notes = drawn_forest_rows(frame, 200)
    assert (drawn["row_type"] == "study").sum() == 200
    assert drawn["label"].iloc[0] == "S300" and drawn["label"].iloc[-2] == "S499"
    assert drawn["row_type"].iloc[-1] == "overall"
    assert notes == [
        "300 of 500 studies (the smallest weights) are not drawn; every included study "
        "is in the pooled result and the tables."
    ]
    same, none = drawn_forest_rows(frame, 1000)
    assert same is frame and none == []


def test_forest_for_page_figure_has_revman_parts():
    from igmeta.app.outputs.exports import forest_for
    from igmeta.app.outputs.tables import ForestLabels
    from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, run_analysis
    from igmeta.datasets import load_ig_pnp_canonical

    table = load_ig_pnp_canonical()
    bundle = run_analysis(table, PUBLISHED_COMPARISON)
    labels = ForestLabels("IG (treatment)", "Placebo (control)", "Favours placebo", "Favours IG")
    texts = _annotation_texts(forest_for(bundle, table, labels=labels))
    assert {"IG (treatment)", "Placebo (control)", "Events", "Total", "Weight"} <= set(texts)
    assert "Risk ratio [95% CI]" in texts
    assert "\u25c0 Favours placebo" in texts and "Favours IG \u25b6" in texts
    assert any(t.startswith("Heterogeneity: Q = ") for t in texts)
    assert any(t.startswith("Test for overall effect: Z = ") for t in texts)
