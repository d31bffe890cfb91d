"""AppTest of the Risk of bias page: demo, figures, checks and "low risk of bias only"."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.datasets import ROB_DEMO_SOURCE, load_rob_demo
from igmeta.formatting import format_ci
from igmeta.risk_of_bias import restrict_to_low_risk
from ui import state

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "pages/risk_of_bias.py"


@pytest.fixture(autouse=True)
def _navigation_mode(monkeypatch):
    """Leave Streamlit's legacy pages/ mode, as a live server does (see test_app_pages)."""
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


def _app(table: pd.DataFrame | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[state.SETTINGS] = AnalysisSettings()
    at.run()
    if table is not None:
        at.session_state[state.TABLE] = table.reset_index(drop=True)
        at.session_state[state.EDITOR_BASE] = at.session_state[state.TABLE]
        at.session_state[state.TABLE_VERSION] = at.session_state[state.TABLE_VERSION] + 1
        at.session_state[state.TABLE_SOURCE] = "test table"
    at.switch_page(PAGE)
    at.run()
    _ok(at)
    return at


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _texts(at: AppTest) -> str:
    kinds = ("info", "warning", "error", "caption", "markdown")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind)).replace("\\", "")


def _estimate(table: pd.DataFrame, settings: AnalysisSettings) -> str:
    bt = run_analysis(table, settings).result.back_transformed()
    return format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"])


def test_page_without_rob_columns_explains_and_loads_the_demo():
    at = _app()
    assert "has no risk-of-bias columns" in _texts(at)
    assert not _charts(at)
    next(b for b in at.button if b.label == "Load the risk-of-bias demo").click()
    at.run()
    _ok(at)
    table = at.session_state[state.TABLE]
    pd.testing.assert_frame_equal(table, load_rob_demo())
    assert at.session_state[state.TABLE_SOURCE] == ROB_DEMO_SOURCE
    assert "illustrative" in ROB_DEMO_SOURCE
    charts = _charts(at)
    assert len(charts) == 2  # traffic light and weighted summary
    points = sum(len(t["x"]) for t in charts[0]["data"])
    assert points == len(table) * 6
    bars = [t for t in charts[1]["data"] if t["type"] == "bar"]
    assert [t["name"] for t in bars][0] == "+ Low"


def test_low_risk_only_reruns_the_analysis_and_keeps_the_users_choices():
    table = load_rob_demo()
    table.loc[0, "include"] = False  # the user's own exclusion of a low-risk study
    at = _app(table)
    assert not at.metric
    at.toggle(key=state.ROB_LOW_ONLY).set_value(True).run()
    _ok(at)
    settings = AnalysisSettings()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["All studies (k = 12)"] == _estimate(table, settings)
    low = restrict_to_low_risk(table)
    assert metrics["Low risk of bias only (k = 2)"] == _estimate(low, settings)
    # The session's table is untouched; the left-out studies are named with the reason.
    pd.testing.assert_frame_equal(at.session_state[state.TABLE], table)
    assert "10 of 12 studies of the analysis are left out" in _texts(at)
    left = next(d.value for d in at.dataframe if "overall risk of bias" in d.value.columns)
    assert len(left) == 10
    assert "Ferguson & Simes 1949" in left["study"].tolist()
    assert "Aronson 1948" not in left["study"].tolist()  # excluded by the user, not by RoB
    assert set(left["overall risk of bias"]) == {"RoB 2: Some concerns", "RoB 2: High"}


def test_no_study_at_low_risk_is_explained():
    table = load_rob_demo()
    table["rob_overall"] = "High"
    at = _app(table)
    at.toggle(key=state.ROB_LOW_ONLY).set_value(True).run()
    _ok(at)
    assert "Low risk of bias only (k = 0)" in {m.label for m in at.metric}
    assert "cannot be run on the studies at low risk of bias only" in _texts(at)


def test_bad_judgements_are_flagged_with_row_and_column_and_kept():
    table = load_rob_demo()
    table["rob_d3"] = table["rob_d3"].astype(object)
    table.loc[2, "rob_d3"] = "<script>alert(1)</script>"
    at = _app(table)
    assert "1 RoB 2 cell(s) hold a value that is not a judgement" in _texts(at)
    flagged = next(d.value for d in at.dataframe if "message" in d.value.columns)
    assert flagged["row"].tolist() == [3] and flagged["column"].tolist() == ["rob_d3"]
    assert "Row 3 (Rosenthal et al 1960), column 'rob_d3'" in flagged["message"].iloc[0]
    assert at.session_state[state.TABLE].loc[2, "rob_d3"] == "<script>alert(1)</script>"
    spec = json.dumps(_charts(at))
    assert "<script>" not in spec and "&lt;script&gt;" in spec


def test_grid_offers_the_vocabulary_and_keeps_other_values():
    from ui.grid import editor_column_config

    table = load_rob_demo()
    table["rob_d1"] = table["rob_d1"].astype(object)
    table.loc[0, "rob_d1"] = "maybe"
    config = editor_column_config(table, "binary")
    rob = config["rob_d1"]
    assert rob["label"] == "RoB 2 D1 \u00b7 rob_d1"
    assert rob["type_config"] == {
        "type": "selectbox",
        "options": ["Low", "Some concerns", "High", "maybe"],
    }
    assert config["rob_overall"]["type_config"]["options"] == ["Low", "Some concerns", "High"]
    # The Data page draws the grid with these columns.
    at = _app(table)
    at.switch_page("pages/data.py")
    at.run()
    _ok(at)
    columns = at.data_editor[0].proto.columns
    assert '"selectbox"' in columns and '"maybe"' in columns
    assert at.data_editor[0].value["rob_d1"].iloc[0] == "maybe"
