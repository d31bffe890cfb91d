"""AppTest of the Analysis page: numbers equal the engine's, presets, controls, NNT."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings, run_analysis
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.formatting import format_ci, format_number
from ui import state
from ui.state import widget_key

APP = str(Path(__file__).resolve().parents[1] / "app.py")
#: Most tests start from metafor's defaults (random effects, REML) to exercise controls.
METAFOR_DEFAULTS = AnalysisSettings()


def _app(start: AnalysisSettings | None = METAFOR_DEFAULTS) -> AppTest:
    """The app after one run; ``start`` replaces the opening (published) analysis, None
    keeps what a new user sees."""
    at = AppTest.from_file(APP, default_timeout=120)
    if start is not None:
        at.session_state[state.SETTINGS] = start
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def _expected_headline(settings: AnalysisSettings) -> str:
    bt = run_analysis(load_ig_pnp_canonical(), settings).result.back_transformed()
    return format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"])


def test_default_page_shows_the_engine_numbers():
    at = _app(start=METAFOR_DEFAULTS)
    assert _metric(at, "Pooled") == _expected_headline(AnalysisSettings())
    assert _metric(at, "Number needed to treat").startswith("NNT")


def test_a_new_session_opens_on_the_paper():
    """First impression: the published analysis, the paper's numbers beside the app's,
    and the two single-arm studies named as left out of the comparison."""
    at = _app(start=None)
    assert _metric(at, "Pooled") == "2.90 [1.62, 5.19]"
    assert _metric(at, "Pooled") == _expected_headline(PUBLISHED_COMPARISON)
    strip = " ".join(md.value for md in at.markdown)
    assert "Paper: 2.9 (1.6\u20135.2), p = 0.0003" in strip
    assert "2.90 (1.62\u20135.19), p = 0.00035" in strip
    assert "Paper: 65% (58\u201371%)" in strip and "64.9% (58.4\u201371.4%)" in strip
    assert strip.count("agrees at the paper's precision") == 2
    assert "On screen: the published analysis" in strip
    left_out = " ".join(i.value for i in at.info)
    assert "2 of 5 studies are not in this analysis" in left_out
    assert "no control arm" in left_out


def test_alternative_buttons_switch_in_one_click_and_say_what_changed():
    at = _app(start=None)
    next(b for b in at.button if b.label == "Random effects (REML)").click().run()
    assert not at.exception
    expected = PUBLISHED_COMPARISON.with_changes(pooling="IV", model="random", tau2_method="REML")
    assert _metric(at, "Pooled") == _expected_headline(expected)
    assert at.session_state[widget_key("pooling")] == "IV"
    assert "an alternative to the published analysis" in " ".join(m.value for m in at.markdown)
    # The paper comparison still shows the published method's reproduction.
    assert " ".join(md.value for md in at.markdown).count("agrees at the paper") == 2
    next(b for b in at.button if b.label == "Published: IG vs placebo").click().run()
    assert _metric(at, "Pooled") == "2.90 [1.62, 5.19]"


def test_an_edit_shows_the_difference_from_the_paper():
    at = _app(start=None)
    table = at.session_state[state.TABLE].copy()
    table.loc[0, "ai"] = 2
    at.session_state[state.TABLE] = table
    at.run()
    strip = " ".join(md.value for md in at.markdown)
    assert "differs: estimate 2.4 (paper 2.9)" in strip


def test_published_preset_reproduces_2_90():
    at = _app()
    next(b for b in at.sidebar.button if b.label == "Published analysis").click().run()
    assert not at.exception
    assert _metric(at, "Pooled") == "2.90 [1.62, 5.19]"
    assert _metric(at, "Pooled") == _expected_headline(PUBLISHED_COMPARISON)
    assert any("RevMan" in md.value for md in at.markdown)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tau2_method", "DL"),
        ("tau2_method", "PM"),
        ("tau2_method", "HSk"),
        ("tau2_method", "PMM"),
        ("binary_measure", "OR"),
        ("binary_measure", "RD"),
        ("pooling", "MH"),
        ("pooling", "PETO"),
        ("model", "common"),
        ("level", 0.9),
    ],
)
def test_each_control_reruns_with_engine_numbers(field, value):
    at = _app()
    at.sidebar.selectbox(key=widget_key(field)).select(value).run()
    assert not at.exception, [e.value for e in at.exception]
    settings = AnalysisSettings().with_changes(**{field: value})
    assert _metric(at, "Pooled") == _expected_headline(settings)


@pytest.mark.parametrize("method", ["HSk", "PMM"])
def test_newer_estimators_with_hartung_knapp_and_the_heterogeneity_table(method):
    at = _app()
    at.sidebar.selectbox(key=widget_key("tau2_method")).select(method).run()
    next(t for t in at.sidebar.toggle if t.label.startswith("Hartung")).set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    settings = AnalysisSettings(tau2_method=method, test="knha")
    assert at.session_state[state.SETTINGS] == settings
    assert _metric(at, "Pooled") == _expected_headline(settings)
    res = run_analysis(load_ig_pnp_canonical(), settings).result
    tau2_rows = [
        row
        for frame in (d.value for d in at.dataframe)
        if {"quantity", "estimate", "CI"} <= set(frame.columns)
        for row in frame.itertuples()
        if row.quantity == "tau\u00b2"
    ]
    assert tau2_rows and tau2_rows[0].estimate == format_number(res.tau2, 4)


def test_single_arm_and_rct_only_subgroup():
    at = _app()
    at.sidebar.selectbox(key=widget_key("analysis")).select("single_arm").run()
    at.sidebar.multiselect(key=widget_key("subgroup_levels")).set_value(["RCT"]).run()
    assert not at.exception
    expected = AnalysisSettings(analysis="single_arm", subgroup_levels=("RCT",))
    assert _metric(at, "Pooled") == _expected_headline(expected)
    assert _metric(at, "Studies") == "3"


def test_hartung_knapp_toggle():
    at = _app()
    next(t for t in at.sidebar.toggle if t.label.startswith("Hartung")).set_value(True).run()
    assert not at.exception
    assert _metric(at, "Pooled") == _expected_headline(AnalysisSettings(test="knha"))
