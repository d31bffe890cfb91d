"""AppTest of the three-level panel on the Analysis page: a usable ``cluster`` column turns
on metafor's rma.mv(yi, vi, random = ~ 1 | cluster/study) (the user can switch it off; the
choice is a setting, so scenarios keep it); its numbers and those of its cluster-robust tests
(CR1, CR2) are metafor's (tests/data/rma_mv_metafor.json, dat.konstantopoulos2011)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from igmeta.app.pipeline.analysis import AnalysisSettings
from igmeta.formatting import format_ci, format_number, format_percent
from ui import state

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TOGGLE = "Three-level model (studies within clusters)"
REF = next(
    c
    for c in json.loads((Path(__file__).parent / "data" / "rma_mv_metafor.json").read_text())[
        "cases"
    ]
    if c["name"] == "konstantopoulos_REML"
)
GENERIC = AnalysisSettings(data_type="generic", analysis="generic", subgroup_column=None)


@pytest.fixture(autouse=True)
def _own_store(monkeypatch, tmp_path):
    monkeypatch.setenv("IGMETA_DB_PATH", str(tmp_path / "app.sqlite3"))


def _table(cluster=True) -> pd.DataFrame:
    given = REF["input"]
    k = len(given["yi"])
    table = pd.DataFrame(
        {
            "study": [f"School {i + 1}" for i in range(k)],
            "yi": given["yi"],
            "vi": [given["V"][i][i] for i in range(k)],
        }
    )
    if cluster:
        table["cluster"] = [f"District {c}" for c in given["cluster"]]
    return table


def _app(table: pd.DataFrame) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state[state.SETTINGS] = GENERIC
    at.run()
    at.session_state[state.TABLE] = table
    at.session_state[state.EDITOR_BASE] = table
    at.session_state[state.DATA_TYPE] = "generic"
    at.session_state[state.SETTINGS] = GENERIC
    at.session_state[state.TABLE_VERSION] = at.session_state[state.TABLE_VERSION] + 1
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _toggle(at: AppTest):
    return next(t for t in at.toggle if t.label == TOGGLE)


def _three_level_metric(at: AppTest):
    return [m for m in at.metric if m.label.startswith("Pooled estimate, three-level")]


def _toggle_on(at: AppTest) -> AppTest:
    next(t for t in at.toggle if t.label == TOGGLE).set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_no_cluster_column_no_three_level_model():
    at = _app(_table(cluster=False))
    assert not [t for t in at.toggle if t.label == TOGGLE]


def test_three_level_panel_shows_metafors_numbers():
    at = _toggle_on(_app(_table()))
    exp = REF["expected"]
    metric = next(m for m in at.metric if m.label.startswith("Pooled estimate, three-level"))
    assert metric.label.startswith("Pooled estimate, three-level REML (95% CI)")
    assert metric.value == format_ci(exp["beta"], exp["ci_lb"], exp["ci_ub"])
    frame = at.dataframe[-1].value
    assert list(frame["sigma\u00b2"]) == [format_number(v, 4) for v in exp["sigma2"]]
    assert list(frame["I\u00b2"]) == [format_percent(v) for v in exp["I2"]]
    assert list(frame["95% PL CI"]) == [
        f"[{format_number(a, 4)}, {format_number(b, 4)}]"
        for a, b in zip(exp["sigma2_ci_lb"], exp["sigma2_ci_ub"], strict=True)
    ]
    assert list(frame["units"]) == [11, 56]
    captions = " ".join(c.value for c in at.caption)
    assert format_ci(exp["pred"], exp["pred_pi_lb"], exp["pred_pi_ub"]) in captions
    assert "between clusters" in captions


def test_missing_cluster_cells_are_named_and_left_out_of_that_model_only():
    table = _table()
    table.loc[[2, 7], "cluster"] = None
    at = _toggle_on(_app(table))
    warnings = " ".join(w.value for w in at.warning)
    assert "Row(s) 3, 8 have no value in column 'cluster'" in warnings
    assert at.session_state[state.TABLE]["cluster"].isna().sum() == 2  # nothing lost
    caption = " ".join(c.value for c in at.caption)
    assert "k = 54 estimates" in caption


def test_a_model_that_cannot_be_fitted_is_explained():
    table = _table().iloc[:3].assign(cluster=["A", "A", "B"])  # k = 3 = 1 + 2 variances
    at = _app(table)
    errors = " ".join(e.value for e in at.error)
    assert "cannot be fitted" in errors and "Too few estimates" in errors


def test_panel_shows_the_r_lines_of_the_model():
    at = _toggle_on(_app(_table()))
    code = " ".join(c.value for c in at.code)
    assert "rma.mv(yi, vi, random = ~ 1 | cluster/es_id" in code
    assert 'method = "REML", test = "z"' in code


def test_a_cluster_column_turns_the_three_level_model_on():
    at = _app(_table())
    assert _toggle(at).value is True
    exp = REF["expected"]
    assert [m.value for m in _three_level_metric(at)] == [
        format_ci(exp["beta"], exp["ci_lb"], exp["ci_ub"])
    ]
    assert at.session_state[state.SETTINGS].three_level is True


def test_switching_it_off_is_kept_in_the_settings():
    at = _app(_table())
    _toggle(at).set_value(False).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not _three_level_metric(at)
    assert at.session_state[state.SETTINGS].three_level is False
    at.run()  # a rerun keeps the choice
    assert _toggle(at).value is False and not _three_level_metric(at)
    # Scenarios store the settings: a restored scenario with the model on turns it back on.
    at.session_state[state.PENDING_SETTINGS] = GENERIC.with_changes(three_level=True)
    at.run()
    assert _toggle(at).value is True and _three_level_metric(at)


def test_a_cluster_column_without_repeated_clusters_leaves_it_off_and_says_why():
    table = _table()
    table["cluster"] = [f"C{i}" for i in range(len(table))]
    at = _app(table)
    assert not [t for t in at.toggle if t.label == TOGGLE] and not _three_level_metric(at)
    captions = " ".join(c.value for c in at.caption)
    assert "No three-level model: column 'cluster' needs at least two clusters" in captions
    assert at.session_state[state.SETTINGS].three_level is True  # kept for a usable table


@pytest.mark.parametrize("kind", ["CR1", "CR2"])
def test_cluster_robust_tests_are_metafors(kind):
    at = _app(_table())
    box = at.selectbox(key=state.widget_key("robust"))
    assert box.value == "none"
    box.set_value(kind).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[state.SETTINGS].robust == kind
    exp = REF["expected"]["robust_cr1" if kind == "CR1" else "robust_cr2"]
    metric = next(m for m in at.metric if m.label.startswith("Pooled estimate, cluster-robust"))
    assert metric.label == f"Pooled estimate, cluster-robust {kind} (95% CI)"
    assert metric.value == format_ci(REF["expected"]["beta"], exp["ci_lb"], exp["ci_ub"])
    captions = " ".join(c.value for c in at.caption)
    assert f"Robust SE {format_number(exp['se'], 4)}" in captions
    assert f"t({format_number(exp['ddf'], 2)})" in captions and "11 clusters" in captions
    code = " ".join(c.value for c in at.code)
    args = "adjust = TRUE" if kind == "CR1" else "clubSandwich = TRUE"
    assert f"rob_ml <- robust(res_ml, cluster = cluster, {args})" in code


def test_moderators_on_the_meta_regression_page_leave_the_panel_working(monkeypatch):
    """Meta-regression and the three-level model read the same table side by side."""
    original = PagesManager.__init__

    def init(self, *args, **kwargs):  # leave Streamlit's legacy pages/ mode
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)
    table = _table()
    table["year"] = [1976 + (i % 20) for i in range(len(table))]
    at = _app(table)
    at.switch_page("pages/metareg.py")
    at.run()
    at.multiselect(key=state.metareg_key("moderators")).set_value(["year"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(m.label == "Test of moderators" for m in at.metric)
    at.switch_page("pages/analysis.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert _toggle(at).value is True and _three_level_metric(at)
