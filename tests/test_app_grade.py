"""AppTest of the Certainty (GRADE) page: renders on the IG data (published analysis),
a domain rating changes the certainty, a slider of the hypothetical trial changes the
result, a value outside the GRADE vocabulary is flagged and kept, single-arm analyses say
why "what would it take" is not available."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from igmeta.app.evidence.what_if_trial import HypotheticalTrial, what_if
from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings, run_analysis
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.formatting import format_ci, format_pvalue
from ui import state

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "pages/grade.py"

pytestmark = pytest.mark.usefixtures("navigation_mode")


def _app(settings: AnalysisSettings = PUBLISHED_COMPARISON, **stored) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[state.SETTINGS] = settings
    for name, value in stored.items():
        at.session_state[f"{state.GRADE_PREFIX}{name}"] = value
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _texts(at: AppTest) -> str:
    parts = [
        e.value for kind in ("info", "warning", "markdown", "caption") for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts).replace("\\", "")


def _sof(at: AppTest) -> dict[str, str]:
    shown = at.dataframe[0].value
    return dict(zip(shown.iloc[:, 0], shown.iloc[:, 1], strict=True))


def test_page_renders_on_the_ig_data():
    at = _app()
    assert at.title[0].value == "Certainty of evidence (GRADE)"
    metrics = _metrics(at)
    # Suggested: inconsistency serious (I² 74.3%), imprecision serious (N < OIS): Low.
    assert metrics["Certainty of evidence"] == "\u2295\u2295\u25ef\u25ef Low"
    assert metrics["Pooled now"] == "2.90 [1.62, 5.19]"
    sof = _sof(at)
    assert sof["Participants (studies)"] == "122 (3)"
    assert sof["Outcome"] == "Pain relief (responders)"
    assert sof["Assumed risk with control"] == "177 per 1,000"
    text = _texts(at)
    assert "p = 0.0003 (significant at 0.05), k = 3" in text
    assert "Assumed control risk 17.7% (pooled control-arm risk of the studies)" in text
    assert "Too few studies to test (k = 3 < 10)" in text
    assert "not a formal trial sequential analysis" in text.lower()
    assert "Smallest trial that flips significance" in text
    assert len(at.get("plotly_chart")) == 1


def test_changing_a_domain_changes_certainty():
    at = _app()
    at.selectbox(key=state.grade_widget_key("risk_of_bias")).set_value("very serious").run()
    assert not at.exception
    assert _metrics(at)["Certainty of evidence"] == "\u2295\u25ef\u25ef\u25ef Very low"
    at.selectbox(key=state.grade_widget_key("risk_of_bias")).set_value("not serious").run()
    at.selectbox(key=state.grade_widget_key("imprecision")).set_value("not serious").run()
    assert _metrics(at)["Certainty of evidence"] == "\u2295\u2295\u2295\u25ef Moderate"
    # The choice survives a visit to another page.
    at.switch_page("pages/analysis.py").run()
    at.switch_page(PAGE).run()
    assert _metrics(at)["Certainty of evidence"] == "\u2295\u2295\u2295\u25ef Moderate"


def test_slider_changes_the_result():
    at = _app()
    before = _metrics(at)["With the new trial"]
    at.slider(key=state.grade_widget_key("wi_n")).set_value(400).run()
    assert not at.exception
    after = _metrics(at)["With the new trial"]
    assert after != before
    table = load_ig_pnp_canonical()
    p0 = at.slider(key=state.grade_widget_key("wi_p0")).value
    expected = what_if(table, PUBLISHED_COMPARISON, HypotheticalTrial(400, p0, 1.0)).summary()
    row = expected.loc["with new trial"]
    assert after == format_ci(row["estimate"], row["ci_lower"], row["ci_upper"])
    assert f"{format_pvalue(row['pval'])} (" in _texts(at)


def test_out_of_vocabulary_value_is_flagged_and_kept():
    at = _app(imprecision="somewhat serious", start="case series")
    assert "'somewhat serious' is not a GRADE level" in _texts(at)
    assert "'case series' is not one of randomised, observational" in _texts(at)
    assert at.radio(key=state.grade_widget_key("start")).value == "case series"
    assert at.session_state[f"{state.GRADE_PREFIX}imprecision"] == "somewhat serious"
    box = at.selectbox(key=state.grade_widget_key("imprecision"))
    assert box.value == "somewhat serious" and "somewhat serious" in box.options


def test_single_arm_analysis_explains_what_if():
    settings = AnalysisSettings(analysis="single_arm", proportion_measure="PR", model="common")
    at = _app(settings)
    assert "Not available for this analysis" in _texts(at)
    assert run_analysis(load_ig_pnp_canonical(), settings).result is not None
    assert _sof(at)["Assumed risk with control"] == "not available"
