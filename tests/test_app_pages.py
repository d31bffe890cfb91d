"""AppTest of the Analysis, Publication bias, Sensitivity and Methods pages.

Each page is run through ``app.py`` (navigation and the shared sidebar). The tests check
that pages run without an exception, show their headings, and show the engine's numbers
for the same table and settings; that every tau^2 estimator and effect measure chosen in
the sidebar reruns cleanly; and that degenerate tables (k = 2, 1, 0) give messages, not
exceptions.
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.app.pipeline.diagnostics import cumulative_order
from igmeta.bias import (
    begg_test,
    beta_selection_model,
    egger_test,
    pet_peese,
    step_selection_model,
    trim_and_fill,
)
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.effects import measure_info
from igmeta.formatting import format_ci, format_number, format_percent, format_pvalue
from igmeta.sensitivity import cumulative, influence, leave_one_out
from igmeta.transforms import back_transform
from ui import state
from ui.sidebar import ESTIMATORS, MEASURES

APP = str(Path(__file__).resolve().parents[1] / "app.py")
ANALYSIS = "pages/analysis.py"
BIAS = "pages/bias.py"
SENSITIVITY = "pages/sensitivity.py"
METHODS = "pages/methods.py"
PAGES = (ANALYSIS, BIAS, SENSITIVITY, METHODS)


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(autouse=True)
def _navigation_mode(monkeypatch):
    """Run ``app.py`` the way a live server does after its first request.

    AppTest resets ``PagesManager.uses_pages_directory`` before every run, so each run
    would start in Streamlit's legacy ``pages/`` mode, where ``ui.bootstrap.require_app``
    reruns the script through ``app.py`` -- and a rerun drops button clicks. A server
    leaves legacy mode for good once ``st.navigation`` has run; so do the tests.
    """
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


def _app(page: str | None = None, table: pd.DataFrame | None = None) -> AppTest:
    """Run the app once, optionally replace the study table, then open ``page``."""
    at = AppTest.from_file(APP, default_timeout=60)
    # Start from metafor's defaults (random effects, REML), not the published analysis.
    at.session_state[state.SETTINGS] = AnalysisSettings()
    at.run()
    if table is not None:
        at.session_state[state.TABLE] = table.reset_index(drop=True)
        at.session_state[state.EDITOR_BASE] = at.session_state[state.TABLE]
        at.session_state[state.TABLE_VERSION] = at.session_state[state.TABLE_VERSION] + 1
        at.session_state[state.TABLE_SOURCE] = "test table"
    if page is not None:
        at.switch_page(page)
    at.run()
    _assert_ok(at)
    return at


def _assert_ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _settings(at: AppTest) -> AnalysisSettings:
    return at.session_state[state.SETTINGS]


def _table(at: AppTest) -> pd.DataFrame:
    return at.session_state[state.TABLE]


def _result(at: AppTest):
    return run_analysis(_table(at), _settings(at)).result


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _p(value: float) -> str:
    """A p-value as the metrics show it (format_pvalue without the leading "p = ")."""
    text = format_pvalue(value)
    return text[len("p = ") :] if text.startswith("p = ") else text[len("p ") :]


def _texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("info", "warning", "error", "caption", "markdown")
        for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts).replace("\\", "")


def _shown(value: str) -> None:
    """No NaN or inf text reaches the page."""
    lowered = str(value).lower()
    assert "nan" not in lowered.split() and "inf" not in lowered.split(), value


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _array(value) -> list[float]:
    """A plotly array from a chart spec (plain list or base64 typed array)."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def _select(at: AppTest, field: str, value) -> AppTest:
    at.sidebar.selectbox(key=state.widget_key(field)).set_value(value).run()
    _assert_ok(at)
    return at


def _dataframe(at: AppTest, first_column: str) -> pd.DataFrame:
    for frame in at.dataframe:
        value = frame.value
        if len(value.columns) and value.columns[0] == first_column:
            return value
    raise AssertionError(f"no table starting with column {first_column!r}")


def _rows(table: pd.DataFrame, rows) -> pd.DataFrame:
    return table.iloc[list(rows)].reset_index(drop=True)


@pytest.fixture(scope="module")
def ig() -> pd.DataFrame:
    return load_ig_pnp_canonical()


def _synthetic(k: int, seed: int = 2024) -> pd.DataFrame:
    """``k`` synthetic 2x2 studies (years repeat, so the year order has ties)."""
    rng = np.random.default_rng(seed)
    n1 = rng.integers(20, 200, k)
    n2 = rng.integers(20, 200, k)
    return pd.DataFrame(
        {
            "study": [f"Trial {i + 1}" for i in range(k)],
            "include": True,
            "design": "RCT",
            "year": pd.array([2001 + (i * 7) % 12 for i in range(k)], dtype="Int64"),
            "ai": pd.array(rng.binomial(n1, 0.45), dtype="Int64"),
            "n1i": pd.array(n1, dtype="Int64"),
            "ci": pd.array(rng.binomial(n2, 0.3), dtype="Int64"),
            "n2i": pd.array(n2, dtype="Int64"),
        }
    )


@pytest.fixture(scope="module")
def twelve() -> pd.DataFrame:
    """k >= 10: no low-power warning; 2^12 > iterations: random permutations."""
    return _synthetic(12)


# ------------------------------------------------------------------------ Analysis page


def test_analysis_page_headline_matches_engine(ig):
    at = _app(ANALYSIS)
    assert at.title[0].value == "Meta-analysis"
    res = run_analysis(ig, _settings(at)).result
    bt = res.back_transformed()
    metrics = _metrics(at)
    assert metrics["Pooled risk ratio"] == format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"])
    assert metrics["p-value"] == _p(res.pval)
    assert metrics["Studies"] == str(res.k)
    assert metrics["I\u00b2"] == format_percent(res.i2)
    assert _charts(at), "the forest plot is missing"


@pytest.mark.parametrize("page", (ANALYSIS, BIAS, SENSITIVITY))
def test_every_tau2_estimator_reruns(page):
    at = _app(page)
    for method in ESTIMATORS:
        _select(at, "tau2_method", method)
        assert _settings(at).tau2_method == method
        assert at.title, f"{page} lost its title with {method}"


@pytest.mark.parametrize("page", (ANALYSIS, BIAS, SENSITIVITY, METHODS))
def test_every_measure_and_pooling_reruns(page):
    at = _app(page)
    for measure in MEASURES["comparison"]:
        _select(at, "binary_measure", measure)
        assert _settings(at).binary_measure == measure
    for pooling in ("MH", "PETO", "IV"):
        _select(at, "pooling", pooling)
    _select(at, "model", "common")
    _select(at, "model", "random")
    _select(at, "analysis", "single_arm")
    for measure in MEASURES["single_arm"]:
        _select(at, "proportion_measure", measure)
        assert _settings(at).proportion_measure == measure


# ---------------------------------------------------------------------------- Bias page


def test_bias_page_numbers_match_engine(ig):
    at = _app(BIAS)
    assert at.title[0].value == "Publication bias and small-study effects"
    headings = [s.value for s in at.subheader]
    assert headings == [
        "Egger's test",
        "Begg's test",
        "Trim and fill",
        "PET-PEESE",
        "Selection model",
    ]
    res = run_analysis(ig, _settings(at)).result
    metrics = _metrics(at)
    assert metrics["On the model: p"] == _p(egger_test(res).pval)
    assert metrics["Classical: p"] == _p(egger_test(res, model="lm").pval)
    begg = begg_test(res)
    assert metrics["Begg: p"] == _p(begg.pval)
    assert metrics["Kendall's tau"] == format_number(begg.tau, 3)
    tf = trim_and_fill(res)
    assert metrics["Missing studies"] == str(tf.k0)
    assert metrics["Adjusted estimate"] == format_number(math.exp(tf.model.estimate))
    adjusted = format_ci(
        math.exp(tf.model.estimate), math.exp(tf.model.ci_lower), math.exp(tf.model.ci_upper)
    )
    assert adjusted in _texts(at)
    # k = 3 < 10: the low-power warning is there.
    assert "fewer than 10 studies" in _texts(at)
    for value in metrics.values():
        _shown(value)


def _pet_peese_shown(at: AppTest, res) -> None:
    """The PET-PEESE panel shows the engine's estimates on the display scale."""
    pp = pet_peese(res)
    chosen = pp.chosen
    assert _metrics(at)[f"{pp.chosen_name} estimate"] == format_number(math.exp(chosen.est))
    text = _texts(at)
    for reg in (pp.pet, pp.peese):
        assert format_ci(math.exp(reg.est), math.exp(reg.ci_lower), math.exp(reg.ci_upper)) in text
    interval = format_ci(math.exp(chosen.est), math.exp(chosen.ci_lower), math.exp(chosen.ci_upper))
    assert (
        "If small studies with non-significant results are missing, the risk ratio "
        f"adjusted for that would be {interval}"
    ) in text
    assert format_pvalue(pp.pet_pval) in text


def _selection(res):
    """The selection model the page fits: significant in the direction of the pooled effect."""
    return step_selection_model(res, alternative="less" if res.estimate < 0 else "greater")


def test_bias_page_pet_peese_matches_engine(ig):
    at = _app(BIAS)
    res = run_analysis(ig, _settings(at)).result
    assert res.k == 3
    _pet_peese_shown(at, res)
    assert "Caution: with 3 studies" in _texts(at)


def test_bias_page_pet_peese_twelve_studies(twelve):
    at = _app(BIAS, twelve)
    res = run_analysis(twelve, _settings(at)).result
    assert res.k == 12
    _pet_peese_shown(at, res)
    assert "Caution: with" not in _texts(at)
    sel = _selection(res)
    assert _metrics(at)["Selection-adjusted estimate"] == format_number(math.exp(sel.estimate))
    interval = format_ci(math.exp(sel.estimate), math.exp(sel.ci_lower), math.exp(sel.ci_upper))
    text = _texts(at)
    assert f"adjusted for that would be {interval}" in text
    assert f"non-significant studies: {format_number(sel.delta[1])}" in text
    assert format_pvalue(sel.lrt_pval) in text
    # tau^2 is 0 here: the engine's warning reaches the page once, naming both models.
    assert (
        "Selection model and Beta selection model: tau\u00b2 of the selection model is "
        "estimated as 0"
    ) in text
    beta = beta_selection_model(res, alternative="less" if res.estimate < 0 else "greater")
    assert _metrics(at)["Beta-model adjusted estimate"] == format_number(math.exp(beta.estimate))
    ci = format_ci(math.exp(beta.estimate), math.exp(beta.ci_lower), math.exp(beta.ci_upper))
    assert f"adjusted for that would be {ci} (95% CI; beta selection model)" in text
    assert f"delta1 = {format_number(beta.delta[0])}" in text
    assert f"Likelihood-ratio test of no selection (2 df): {format_pvalue(beta.lrt_pval)}" in text


def test_bias_page_selection_model_three_studies(ig):
    at = _app(BIAS)
    res = run_analysis(ig, _settings(at)).result
    sel = _selection(res)
    assert _metrics(at)["Selection-adjusted estimate"] == format_number(math.exp(sel.estimate))
    assert "Caution: with 3 studies (fewer than 10) the selection model" in _texts(at)
    # The beta model has four parameters (effect, tau^2, delta1, delta2): not with 3 studies.
    assert "Beta-model adjusted estimate" not in _metrics(at)
    assert "Beta selection model: The selection model has 4 parameters" in _texts(at)


def test_bias_funnel_trimfill_toggle_and_log_axis(ig):
    at = _app(BIAS)
    funnel = _charts(at)[0]
    names = [t.get("name") for t in funnel["data"]]
    assert "Imputed (trim-and-fill)" in names
    assert "Egger regression line" in names
    assert "p &lt; 0.01" in names or "p < 0.01" in names
    # Ratio measure: natural-scale tick labels on a log-scale axis.
    assert funnel["layout"]["xaxis"]["tickmode"] == "array"
    assert "1" in funnel["layout"]["xaxis"]["ticktext"]
    res = run_analysis(ig, _settings(at)).result
    egger = egger_test(res)
    line = next(t for t in funnel["data"] if t.get("name") == "Egger regression line")
    assert line["x"][0] == pytest.approx(egger.b0)
    at.toggle[0].set_value(False).run()  # "Show trim-and-fill studies"
    _assert_ok(at)
    names = [t.get("name") for t in _charts(at)[0]["data"]]
    assert "Imputed (trim-and-fill)" not in names
    at.radio[0].set_value("R0").run()
    _assert_ok(at)
    assert _metrics(at)["Missing studies"] == str(trim_and_fill(res, estimator="R0").k0)


def test_bias_page_mantel_haenszel_explains(ig):
    at = _app(BIAS)
    _select(at, "pooling", "MH")
    text = _texts(at)
    assert "needs an inverse-variance model" in text
    assert "The selection model needs an inverse-variance model" in text
    assert "Selection-adjusted estimate" not in _metrics(at)
    res = run_analysis(ig, _settings(at)).result
    assert _metrics(at)["Classical: p"] == _p(egger_test(res, model="lm").pval)


def test_bias_page_single_arm_has_no_contours(ig):
    at = _app(BIAS)
    _select(at, "analysis", "single_arm")
    names = [t.get("name") for t in _charts(at)[0]["data"]]
    assert not any("p &lt;" in str(n) or "p <" in str(n) for n in names)
    res = run_analysis(ig, _settings(at)).result
    assert _metrics(at)["On the model: p"] == _p(egger_test(res).pval)
    assert "no 'no effect' value" in _texts(at)
    assert "a single proportion has no 'no effect' value, so it is not fitted" in _texts(at)
    assert "Selection-adjusted estimate" not in _metrics(at)


# --------------------------------------------------------------------- Sensitivity page

SENSITIVITY_TABS = {
    "Leave-one-out": ("Leave-one-out analysis",),
    "Cumulative": ("Cumulative meta-analysis",),
    "Influence & Baujat": ("Influence diagnostics", "Baujat plot"),
    "GOSH plot": ("GOSH plot",),
    "Permutation test": ("Permutation test",),
}


def _open_tab(at: AppTest, label: str) -> AppTest:
    """Open a tab of the Sensitivity page (only the open tab is computed and drawn)."""
    at.session_state[state.SENSITIVITY_TAB] = label
    at.run()
    _assert_ok(at)
    return at


def test_sensitivity_tabs_draw_only_the_open_panel(ig):
    at = _app(SENSITIVITY)
    assert at.title[0].value == "Sensitivity analyses"
    for label, headings in SENSITIVITY_TABS.items():
        _open_tab(at, label)
        shown = [s.value for s in at.subheader]
        assert shown == list(headings), label


def test_sensitivity_leave_one_out_matches_engine(ig):
    at = _app(SENSITIVITY)
    assert [s.value for s in at.subheader] == ["Leave-one-out analysis"]  # the first tab
    res = run_analysis(ig, _settings(at)).result
    loo = leave_one_out(res)
    shown = _dataframe(at, "Omitted study")
    assert shown["Omitted study"].tolist() == loo["study"].tolist()
    expected = [
        format_ci(math.exp(e), math.exp(lo), math.exp(hi), 3)
        for e, lo, hi in zip(loo["estimate"], loo["ci_lower"], loo["ci_upper"], strict=True)
    ]
    assert shown["Risk ratio [CI]"].tolist() == expected
    assert shown["p-value"].tolist() == [format_pvalue(p) for p in loo["pval"]]
    assert shown["I\u00b2"].tolist() == [format_percent(v) for v in loo["i2"]]
    # The leave-one-out plot has the full-data estimate as reference line.
    figure = _charts(at)[0]
    full = math.exp(res.estimate)
    reference = next(t for t in figure["data"] if t.get("name") == "reference line")
    assert _array(reference["x"])[0] == pytest.approx(full)


def test_sensitivity_cumulative_order(ig):
    at = _open_tab(_app(SENSITIVITY), "Cumulative")
    res = run_analysis(ig, _settings(at)).result
    shown = _dataframe(at, "Study added")
    # Default order: by year, missing year last.
    assert shown["Study added"].tolist() == ["Jann 2020", "Geerts 2021", "RCT 3 (reconstructed)"]
    steps = cumulative(res, order=[0, 1, 2])
    assert shown["Risk ratio [CI]"].tolist() == [
        format_ci(math.exp(e), math.exp(lo), math.exp(hi), 3)
        for e, lo, hi in zip(steps["estimate"], steps["ci_lower"], steps["ci_upper"], strict=True)
    ]
    box = next(s for s in at.selectbox if s.label == "Add studies in the order of")
    box.set_value("study").run()
    _assert_ok(at)
    shown = _dataframe(at, "Study added")
    assert shown["Study added"].tolist() == ["Geerts 2021", "Jann 2020", "RCT 3 (reconstructed)"]
    steps = cumulative(res, order=[1, 0, 2])
    assert shown["p-value"].tolist() == [format_pvalue(p) for p in steps["pval"]]
    toggle = next(t for t in at.toggle if t.label == "Largest (latest) first")
    toggle.set_value(True).run()
    _assert_ok(at)
    shown = _dataframe(at, "Study added")
    assert shown["Study added"].tolist() == ["RCT 3 (reconstructed)", "Jann 2020", "Geerts 2021"]


def test_cumulative_order_is_stable_with_missing_last():
    table = pd.DataFrame(
        {
            "year": pd.array([2020, None, 2020, 2019, None, 2021], "Int64"),
            "author": ["b", "a", None, "B", "c", "a"],
        }
    )
    rows = np.arange(6)
    assert cumulative_order(table, rows, "year").tolist() == [3, 0, 2, 5, 1, 4]
    assert cumulative_order(table, rows, "year", descending=True).tolist() == [5, 0, 2, 3, 1, 4]
    assert cumulative_order(table, rows, "author").tolist() == [1, 5, 0, 3, 4, 2]
    assert cumulative_order(table, rows, None).tolist() == list(range(6))
    assert cumulative_order(table, np.array([5, 3]), "year").tolist() == [1, 0]


def test_sensitivity_influence_flags_match_engine(ig):
    at = _open_tab(_app(SENSITIVITY), "Influence & Baujat")
    res = run_analysis(ig, _settings(at)).result
    diagnostics = influence(res)
    shown = _dataframe(at, "Study")
    assert shown["Study"].tolist() == diagnostics["study"].tolist()
    flagged = [bool(v) for v in diagnostics["inf"]]
    assert [bool(v) for v in shown["Influential"]] == flagged
    assert shown["Cook's D"].tolist() == [format_number(v, 3) for v in diagnostics["cook_d"]]
    (baujat,) = _charts(at)
    assert _array(baujat["data"][0]["x"]) == pytest.approx(diagnostics["baujat_x"].tolist())


def test_sensitivity_gosh_button(ig):
    at = _open_tab(_app(SENSITIVITY), "GOSH plot")
    before = len(_charts(at))
    next(b for b in at.button if b.label == "Compute GOSH plot").click().run()
    _assert_ok(at)
    charts = _charts(at)
    assert len(charts) == before + 1
    assert "7 subsets" in json.dumps(charts[-1])  # all 2^3 - 1 subsets of 3 studies


def test_long_task_progress_bar_and_cancel_button_go_when_done(ig):
    at = _open_tab(_app(SENSITIVITY), "GOSH plot")
    next(b for b in at.button if b.label == "Compute GOSH plot").click().run()
    _assert_ok(at)
    assert not [b for b in at.button if b.label == "Cancel"]
    assert not at.get("progress")


@pytest.mark.parametrize(
    ("task", "message"),
    [("gosh", "The GOSH analysis was cancelled"), ("permutation", "The permutation test was")],
)
def test_cancel_mark_is_reported_once(ig, task, message):
    from ui import state

    at = _open_tab(_app(SENSITIVITY), "GOSH plot" if task == "gosh" else "Permutation test")
    at.session_state[state.CANCELLED_TASKS] = {task}
    at.run()
    _assert_ok(at)
    assert message in " ".join(i.value for i in at.info)
    at.run()
    assert message not in " ".join(i.value for i in at.info)


def test_run_with_progress_returns_the_result_and_clears_its_widgets():
    from streamlit.testing.v1 import AppTest

    script = """
import streamlit as st
from ui import state
from ui.long_task import run_with_progress

def slow(x, _progress=None):
    _progress(0.5)
    return x * 2

st.session_state["result"] = run_with_progress("demo", "Working", slow, 21)[0]
"""
    at = AppTest.from_string(script).run()
    assert at.session_state["result"] == 42
    assert not at.button  # the bar and the Cancel button are removed when done


def test_progress_callback_stops_a_cancelled_worker():
    """The callback ``run_with_progress`` hands to the engine raises once the run ends."""
    from streamlit.testing.v1 import AppTest

    script = """
import streamlit as st
from ui.long_task import run_with_progress

def keep(_progress=None):
    st.session_state["callback"] = _progress
    return 1

run_with_progress("demo", "Working", keep)
"""
    at = AppTest.from_string(script).run()
    callback = at.session_state["callback"]
    import igmeta as im

    with pytest.raises(im.Cancelled):
        callback(0.5)


def test_sensitivity_permutation_button(ig):
    from igmeta.permutation import permutation_test

    at = _open_tab(_app(SENSITIVITY), "Permutation test")
    next(n for n in at.number_input if n.label == "Iterations").set_value(200)
    next(n for n in at.number_input if n.label == "Random seed").set_value(7)
    next(b for b in at.button if b.label == "Run permutation test").click().run()
    _assert_ok(at)
    res = run_analysis(ig, _settings(at)).result
    perm = permutation_test(res, iterations=200, seed=7)
    metrics = _metrics(at)
    assert metrics["Permutation p-value"] == _p(perm.pval[0])
    assert metrics["Model p-value (z-test)"] == _p(res.pval)
    assert metrics["Permutations"] == f"{perm.iterations:,}"


def test_many_studies_random_permutations_and_no_low_power_warning(twelve):
    from igmeta.permutation import permutation_test

    at = _app(BIAS, table=twelve)
    assert "fewer than 10 studies" not in _texts(at)
    res = run_analysis(twelve, _settings(at)).result
    assert res.k == 12
    assert _metrics(at)["On the model: p"] == _p(egger_test(res).pval)
    at.switch_page(SENSITIVITY).run()
    _open_tab(at, "Cumulative")
    shown = _dataframe(at, "Study added")
    years = twelve["year"].to_numpy()
    order = np.argsort(years, kind="stable")
    # studies are labelled "Author Year" when the table has a year column
    expected = [f"{twelve['study'][i]} {years[i]}" for i in order]
    assert shown["Study added"].tolist() == expected
    _open_tab(at, "Permutation test")
    next(n for n in at.number_input if n.label == "Iterations").set_value(300)
    next(n for n in at.number_input if n.label == "Random seed").set_value(11)
    next(b for b in at.button if b.label == "Run permutation test").click().run()
    _assert_ok(at)
    perm = permutation_test(res, iterations=300, seed=11)
    assert not perm.exact
    assert _metrics(at)["Permutation p-value"] == _p(perm.pval[0])
    assert "seed 11" in _texts(at)


def test_gosh_samples_beyond_twenty_studies():
    from igmeta.gosh import gosh

    table = _synthetic(21, seed=5)
    at = _open_tab(_app(SENSITIVITY, table=table), "GOSH plot")
    _select(at, "tau2_method", "DL")
    next(n for n in at.number_input if n.label == "Random subsets to fit").set_value(2000)
    next(n for n in at.number_input if n.label == "Random seed of the sample").set_value(3)
    next(b for b in at.button if b.label == "Compute GOSH plot").click().run()
    _assert_ok(at)
    figure = json.dumps(_charts(at)[-1])
    assert "2,000 subsets" in figure
    res = run_analysis(table, _settings(at)).result
    expected = gosh(res, subsets=2000, seed=3)
    assert len(expected) == 2000
    heat = _charts(at)[-1]["data"][0]
    assert heat["type"] == "heatmap"


def test_excluded_study_is_grey_in_funnel_and_left_out_of_refits(twelve):
    table = twelve.copy()
    table.loc[4, "include"] = False
    at = _app(BIAS, table=table)
    names = [t.get("name") for t in _charts(at)[0]["data"]]
    assert "Excluded studies" in names
    res = run_analysis(table, _settings(at)).result
    assert res.k == 11
    assert _metrics(at)["Classical: p"] == _p(egger_test(res, model="lm").pval)
    at.switch_page(SENSITIVITY).run()
    _assert_ok(at)
    assert "Trial 5" not in _dataframe(at, "Omitted study")["Omitted study"].tolist()
    _open_tab(at, "Cumulative")
    assert len(_dataframe(at, "Study added")) == 11


def test_hartung_knapp_labels(twelve):
    at = _app(SENSITIVITY, table=twelve)
    next(t for t in at.sidebar.toggle if t.label == "Hartung-Knapp adjustment").set_value(True)
    at.run()
    _assert_ok(at)
    assert _settings(at).test == "knha"
    res = run_analysis(twelve, _settings(at)).result
    loo = leave_one_out(res)
    assert _dataframe(at, "Omitted study")["p-value"].tolist() == [
        format_pvalue(p) for p in loo["pval"]
    ]
    at.switch_page(BIAS).run()
    _assert_ok(at)
    egger = egger_test(res)
    assert egger.test == "knha"
    assert f"t = {format_number(egger.zval)}" in _texts(at)
    assert _metrics(at)["On the model: p"] == _p(egger.pval)


def test_sensitivity_mantel_haenszel_explains():
    at = _app(SENSITIVITY)
    _select(at, "pooling", "MH")
    assert "needs an inverse-variance model" not in _texts(at)  # leave-one-out works
    for tab in ("Influence & Baujat", "GOSH plot", "Permutation test"):
        _open_tab(at, tab)
        assert "needs an inverse-variance model" in _texts(at), tab


# ------------------------------------------------------------------------- Methods page


def test_methods_page():
    at = _app(METHODS)
    assert at.title[0].value == "Methods & about"
    headings = [s.value for s in at.subheader]
    assert "Methods paragraph for the current analysis" in headings
    assert at.text_area, "no methods paragraph"


# -------------------------------------------------------------------- degenerate tables


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("k", (2, 1))
def test_degenerate_tables_show_messages(ig, page, k):
    at = _app(page, table=_rows(ig, range(k)))
    assert at.title
    assert _settings(at).analysis == "comparison"
    text = _texts(at)
    if page == BIAS:
        assert "at least 3 studies" in text
        for value in _metrics(at).values():
            _shown(value)
    if page == SENSITIVITY and k == 1:
        assert "at least 2 studies" in text
    if page == SENSITIVITY and k == 2:
        assert _dataframe(at, "Omitted study").shape[0] == 2
    for frame in at.dataframe:
        for value in frame.value.astype(str).to_numpy().ravel():
            _shown(value)


@pytest.mark.parametrize("page", PAGES)
def test_no_analysable_study_shows_message(ig, page):
    table = _rows(ig, range(2)).assign(include=False)
    at = _app(page, table=table)
    assert at.title
    assert at.error or at.info, "no message for a table without analysable studies"


@pytest.mark.parametrize("page", (BIAS, SENSITIVITY))
def test_single_arm_degenerate(ig, page):
    at = _app(page, table=_rows(ig, [3]))
    _select(at, "analysis", "single_arm")
    assert at.title


def test_engine_messages_are_escaped_before_markdown():
    from ui.text import plain

    text = "**Bold** <b>x</b> :red[y] $z$ [l](javascript:alert(1)) `c` _i_ # h"
    escaped = plain(text)
    for special in "*<>:[]$()`_#":
        assert all(escaped[i - 1] == "\\" for i, c in enumerate(escaped) if c == special)
    assert escaped.replace("\\", "").replace("\u200b", "") == text


def test_measure_labels_reach_pages(ig):
    at = _app(SENSITIVITY)
    _select(at, "binary_measure", "OR")
    label = measure_info("OR").label
    assert f"{label} [CI]" in _dataframe(at, "Omitted study").columns
    res = run_analysis(ig, _settings(at)).result
    loo = leave_one_out(res)
    first = back_transform(loo["estimate"].to_numpy(), "exp")[0]
    assert _dataframe(at, "Omitted study")[f"{label} [CI]"][0].startswith(format_number(first, 3))


def test_gosh_result_survives_a_tab_switch_but_not_an_edit(ig):
    at = _open_tab(_app(SENSITIVITY), "GOSH plot")
    next(b for b in at.button if b.label == "Compute GOSH plot").click().run()
    _assert_ok(at)
    assert len(_charts(at)) == 1
    _open_tab(at, "Leave-one-out")
    _open_tab(at, "GOSH plot")
    assert len(_charts(at)) == 1  # shown again from the cache, no button press
    assert "GOSH analysis finished" in _texts(at)
    edited = at.session_state[state.TABLE].copy()
    edited.loc[0, "ai"] = int(edited.loc[0, "ai"]) + 1
    at.session_state[state.TABLE] = edited
    at.session_state[state.EDITOR_BASE] = edited
    at.session_state[state.TABLE_VERSION] = at.session_state[state.TABLE_VERSION] + 1
    at.run()
    _assert_ok(at)
    assert not _charts(at)  # new data: the old GOSH plot is not shown as if it were current


def test_published_mantel_haenszel_analysis_has_leave_one_out_and_cumulative(ig):
    at = _app(SENSITIVITY)
    next(b for b in at.sidebar.button if b.label == "Published analysis").click().run()
    _assert_ok(at)
    settings = _settings(at)
    assert settings.pooling == "MH"
    res = run_analysis(ig, settings).result
    loo = leave_one_out(res)
    shown = _dataframe(at, "Omitted study")
    assert shown["Omitted study"].tolist() == loo["study"].tolist()
    assert shown["Risk ratio [CI]"].tolist() == [
        format_ci(math.exp(e), math.exp(lo), math.exp(hi), 3)
        for e, lo, hi in zip(loo["estimate"], loo["ci_lower"], loo["ci_upper"], strict=True)
    ]
    assert "needs an inverse-variance model" not in _texts(at)
    _open_tab(at, "Cumulative")
    steps = _dataframe(at, "Study added")
    assert len(steps) == 3
    _open_tab(at, "Influence & Baujat")
    assert "needs an inverse-variance model" in _texts(at)


def test_duration_text():
    from ui.long_task import duration_text

    assert duration_text(0.01) == "in under 0.1 s"
    assert duration_text(2.44) == "in 2.4 s"
