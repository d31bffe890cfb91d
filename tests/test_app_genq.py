"""AppTest of the GENQ estimator in the dashboard: the weights column in the sidebar, the
numbers it shows (equal to the engine's), a table without a numeric column, a missing
weight flagged by row and column, and the pages that refit with the settings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.formatting import format_ci
from ui import state
from ui.state import widget_key

APP = str(Path(__file__).resolve().parents[1] / "app.py")
GENQ = AnalysisSettings(tau2_method="GENQ", genq_weights="n2i")
#: Run pages as a live server does (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("navigation_mode")


def _app(settings: AnalysisSettings, table: pd.DataFrame | None = None, page: str | None = None):
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state[state.SETTINGS] = settings
    at.run()
    if table is not None:
        at.session_state[state.TABLE] = table.reset_index(drop=True)
        at.session_state[state.EDITOR_BASE] = at.session_state[state.TABLE]
        at.session_state[state.TABLE_VERSION] = at.session_state[state.TABLE_VERSION] + 1
        at.session_state[state.TABLE_SOURCE] = "test table"
    if page is not None:
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _headline(table: pd.DataFrame, settings: AnalysisSettings) -> str:
    bt = run_analysis(table, settings).result.back_transformed()
    return format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"])


def _metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def _texts(at: AppTest) -> str:
    kinds = ("info", "warning", "error", "caption", "markdown")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


def test_choosing_genq_offers_the_numeric_columns_and_shows_the_engine_numbers():
    table = load_ig_pnp_canonical()
    at = _app(AnalysisSettings())
    at.sidebar.selectbox(key=widget_key("tau2_method")).select("GENQ").run()
    weights = at.sidebar.selectbox(key=widget_key("genq_weights"))
    assert {"ai", "n1i", "ci", "n2i"} <= set(weights.options)
    assert "year" not in weights.options and "include" not in weights.options
    weights.select("n2i").run()
    assert not at.exception
    settings = at.session_state[state.SETTINGS]
    assert (settings.tau2_method, settings.genq_weights) == ("GENQ", "n2i")
    assert _metric(at, "Pooled") == _headline(table, GENQ)
    # The weights matter: another column gives the engine's other numbers.
    at.sidebar.selectbox(key=widget_key("genq_weights")).select("ai").run()
    other = GENQ.with_changes(genq_weights="ai")
    assert _metric(at, "Pooled") == _headline(table, other)
    assert _headline(table, other) != _headline(table, GENQ)


def test_a_table_without_numeric_columns_cannot_choose_genq_and_says_why():
    table = load_ig_pnp_canonical()
    text_table = table.astype("string").astype(object)
    at = _app(AnalysisSettings(), table=text_table)
    options = at.sidebar.selectbox(key=widget_key("tau2_method")).options
    assert "GENQ" not in options and "REML" in options
    assert "this table has none, so it cannot be chosen" in _texts(at)


def test_a_missing_weight_is_flagged_by_row_and_column():
    table = load_ig_pnp_canonical().copy()
    table["weight"] = [10.0, None, 30.0, 5.0, 5.0]
    settings = GENQ.with_changes(genq_weights="weight")
    bundle = run_analysis(table, settings)
    messages = bundle.validation.issues["message"].tolist()
    assert any(
        m.startswith("Row 2") and "'weight'" in m and "weight is missing" in m for m in messages
    )
    assert not bundle.validation.row_valid[1]
    assert 1 not in bundle.used_rows.tolist()
    assert run_analysis(table.drop(index=1), settings).result.k == bundle.result.k
    at = _app(settings, table=table)
    at.sidebar.selectbox(key=widget_key("genq_weights")).select("weight").run()
    assert not at.exception
    assert _metric(at, "Pooled") == _headline(table, settings)


@pytest.mark.parametrize(
    "page",
    [
        "pages/sensitivity.py",
        "pages/bias.py",
        "pages/conventions.py",
        "pages/methods.py",
        "pages/metareg.py",
        "pages/grade.py",
    ],
)
def test_pages_that_refit_work_or_say_why_with_genq(page):
    at = _app(GENQ, page=page)
    assert at.title
    shown = _texts(at)
    for value in [m.value for m in at.metric]:
        assert "nan" not in str(value).lower().split()
    if page == "pages/methods.py":
        text = " ".join(str(t.value) for t in at.text_area)
        assert "generalised Q estimator (GENQ)" in text and "'n2i'" in text
    if page == "pages/bias.py":
        assert "not available for a fit with user weights" in shown
