"""AppTest of the "Why tools disagree" page (run through ``app.py``).

Checks: the page loads without an exception; the side-by-side numbers are the engine's
(:func:`igmeta.app.pipeline.conventions.compare_conventions` formatted as the page formats them);
the reasons are shown; the proportion view appears for the pooled share with its warnings;
degenerate tables (k = 1, k = 0) give messages, not exceptions.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings
from igmeta.app.pipeline.conventions import PRESETS, compare_conventions, proportion_comparison
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.formatting import format_ci
from ui import state

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "pages/conventions.py"


#: Run pages as a live server does (the shared fixture in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("navigation_mode")


def _app(settings: AnalysisSettings | None = None, table: pd.DataFrame | None = None,
         data_type: str | None = None) -> AppTest:  # fmt: skip
    at = AppTest.from_file(APP, default_timeout=120)
    # Start from metafor's defaults (random effects, REML), not the published analysis.
    at.session_state[state.SETTINGS] = AnalysisSettings()
    at.run()
    if table is not None:
        at.session_state[state.TABLE] = table.reset_index(drop=True)
        at.session_state[state.EDITOR_BASE] = at.session_state[state.TABLE]
        at.session_state[state.TABLE_VERSION] = at.session_state[state.TABLE_VERSION] + 1
        at.session_state[state.TABLE_SOURCE] = "test table"
    if data_type is not None:
        at.session_state[state.DATA_TYPE] = data_type
    if settings is not None:
        at.session_state[state.PENDING_SETTINGS] = settings
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _frame(at: AppTest, first_column: str) -> pd.DataFrame:
    for frame in at.dataframe:
        if len(frame.value.columns) and frame.value.columns[0] == first_column:
            return frame.value
    raise AssertionError(f"no table starting with {first_column!r}")


def _texts(at: AppTest) -> str:
    parts = [e.value for kind in ("info", "warning", "error", "caption", "markdown")
             for e in getattr(at, kind)]  # fmt: skip
    return "\n".join(str(p) for p in parts).replace("\\", "")


def test_page_loads_with_the_engines_numbers():
    at = _app()
    assert at.title[0].value == "Why tools disagree"
    settings = at.session_state[state.SETTINGS]
    expected = compare_conventions(at.session_state[state.TABLE], settings)
    shown = _frame(at, "Tool / preset")
    assert list(shown["Tool / preset"]) == list(expected["preset"])
    for (_, row), cell in zip(expected.iterrows(), shown["Pooled [95% CI]"], strict=True):
        assert cell == format_ci(row["estimate"], row["ci_lower"], row["ci_upper"], 2)
    assert "RevMan 5" in _texts(at) and "tau\u00b2 estimator" in _texts(at)
    assert "Choose *Pooled share" not in _texts(at)


def test_published_settings_show_2_90_under_revman_5():
    at = _app(PUBLISHED_COMPARISON)
    assert at.session_state[state.SETTINGS].zero_cells == "revman"
    shown = _frame(at, "Tool / preset").set_index("Tool / preset")
    assert shown.loc["RevMan 5", "Pooled [95% CI]"] == "2.90 [1.62, 5.19]"
    assert shown.loc["metafor", "Pooled [95% CI]"].startswith("2.98")
    assert "zero cells inside Mantel-Haenszel" in _texts(at)
    # Common-effect (Mantel-Haenszel) fits estimate no tau²: shown as such, never 0.000.
    assert shown.loc["RevMan 5", "tau\u00b2"] == "\u2014 (CE)"
    assert shown.loc["Current settings", "tau\u00b2"] == "\u2014 (CE)"
    assert "0.000" not in set(shown["tau\u00b2"])


def test_random_effects_rows_show_their_tau2():
    at = _app()
    expected = compare_conventions(at.session_state[state.TABLE], at.session_state[state.SETTINGS])
    shown = _frame(at, "Tool / preset").set_index("Tool / preset")
    metafor = expected.set_index("preset").loc["metafor"]
    assert metafor["tau2"] > 0
    assert shown.loc["metafor", "tau\u00b2"] == f"{metafor['tau2']:.3f}"


def test_proportion_view_for_the_pooled_share():
    settings = AnalysisSettings(analysis="single_arm", proportion_measure="PLO")
    at = _app(settings)
    view = proportion_comparison(load_ig_pnp_canonical(), at.session_state[state.SETTINGS])
    shown = _frame(at, "Method")
    assert list(shown["Method"]) == list(view.frame["method"])
    first = view.frame.iloc[0]
    expected = format_ci(100 * first["estimate"], 100 * first["ci_lower"],
                         100 * first["ci_upper"], 1) + " %"  # fmt: skip
    assert shown["Pooled share [95% CI]"].iloc[0] == expected
    assert len(at.get("plotly_chart")) == 1


def test_proportion_warnings_are_shown():
    sparse = pd.DataFrame({"study": list("ABCDE"), "include": True,
                           "xi": [0, 0, 1, 0, 9], "ni": [20, 25, 30, 15, 12]})  # fmt: skip
    settings = AnalysisSettings(data_type="proportion", analysis="single_arm",
                                proportion_measure="PLO")  # fmt: skip
    at = _app(settings, sparse, data_type="proportion")
    assert any("disagree materially" in w.value for w in at.warning)


@pytest.mark.parametrize("included", [[True, False, False, False, False], [False] * 5])
@pytest.mark.parametrize("analysis", ["comparison", "single_arm"])
def test_degenerate_tables_give_messages(included, analysis):
    table = load_ig_pnp_canonical().assign(include=included)
    at = _app(AnalysisSettings(analysis=analysis), table)
    assert at.title[0].value == "Why tools disagree"
    if any(included):
        shown = _frame(at, "Tool / preset")
        assert set(PRESETS) <= set(shown["Tool / preset"])
        assert "nan" not in " ".join(shown["Pooled [95% CI]"]).lower().split()
    else:
        assert at.error
