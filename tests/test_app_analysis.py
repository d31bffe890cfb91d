"""AppTest of the Analysis page: numbers equal the engine's, presets, controls, NNT."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from igmeta.analysis import PUBLISHED_COMPARISON, AnalysisSettings, run_analysis
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.formatting import format_ci
from ui.state import widget_key

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def _expected_headline(settings: AnalysisSettings) -> str:
    bt = run_analysis(load_ig_pnp_canonical(), settings).result.back_transformed()
    return format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"])


def test_default_page_shows_the_engine_numbers():
    at = _app()
    assert _metric(at, "Pooled") == _expected_headline(AnalysisSettings())
    assert _metric(at, "Number needed to treat").startswith("NNT")


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
