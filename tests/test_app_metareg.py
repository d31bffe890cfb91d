"""AppTest of the Meta-regression page: moderators chosen from the table's columns, the
tests, the bubble plot, a prediction, permutation p-values and the R script, compared
with the engine (igmeta.app.pipeline.metareg, checked against metafor in tests/test_metareg.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest
from test_metareg import BCG

from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.app.pipeline.metareg import fit_moderators, new_design, predict
from igmeta.formatting import format_number, format_percent
from ui import state

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "pages/metareg.py"
K = state.metareg_key
HOSTILE = "[x](javascript:alert(1)) <b>lat</b>"


@pytest.fixture(autouse=True)
def _navigation_mode(monkeypatch, tmp_path):
    """Leave Streamlit's legacy pages/ mode (see tests/test_app_pages.py)."""
    monkeypatch.setenv("IGMETA_DB_PATH", str(tmp_path / "app.sqlite3"))
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    monkeypatch.setattr(PagesManager, "__init__", init)


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _app(table) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.session_state[state.SETTINGS] = AnalysisSettings(subgroup_column=None)
    at.run()
    at.session_state[state.TABLE] = table
    at.session_state[state.EDITOR_BASE] = table
    at.session_state[state.TABLE_VERSION] = at.session_state[state.TABLE_VERSION] + 1
    at.switch_page(PAGE)
    return _ok(at.run())


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_meta_regression_page_matches_the_engine():
    table = BCG.rename(columns={"ablat": HOSTILE})
    at = _app(table)
    assert at.title[0].value == "Meta-regression"
    chooser = at.multiselect(key=K("moderators"))
    assert chooser.options == [f"{HOSTILE} (numeric)", "alloc (categorical)"]
    assert any("Choose one or more moderators" in i.value for i in at.info)
    chooser.set_value([HOSTILE, "alloc"])
    _ok(at.run())
    bundle = run_analysis(table, AnalysisSettings(subgroup_column=None))
    fit = fit_moderators(bundle, table, [HOSTILE, "alloc"])
    res = fit.result
    shown = _metrics(at)
    assert shown["Test of moderators"] == f"QM(3) = {format_number(res.qm)}"
    assert shown["R\u00b2 (heterogeneity explained)"] == format_percent(res.r2) == "53.8%"
    assert shown["Studies"] == "13"
    coefficients = at.dataframe[0].value
    assert coefficients["coefficient"].tolist() == list(res.coef_names)
    np.testing.assert_allclose(coefficients["estimate"], np.round(res.estimate, 4))
    # Bubble plot: 13 studies, the line, the CI band and the PI limits.
    chart = at.get("plotly_chart")[0]
    assert '"Fitted line"' in chart.proto.spec and "Studies (area" in chart.proto.spec
    assert "<b>lat</b>" not in chart.proto.spec  # the axis title is escaped
    # Prediction at the inputs' values.
    at.number_input(key=K("new_0")).set_value(30.0)
    at.selectbox(key=K("new_1")).set_value("random")
    _ok(at.run())
    got = predict(res, new_design(fit, pd.DataFrame({HOSTILE: [30.0], "alloc": ["random"]})))
    prediction = at.dataframe[1].value
    assert prediction["Predicted"].tolist()[0] == format_number(got["pred"][0], 4) == "-0.7926"
    assert prediction["Predicted"].tolist()[1] == format_number(np.exp(got["pred"][0]), 3)
    assert prediction["PI upper"].tolist()[0] == format_number(got["pi_upper"][0], 4)
    # Permutation p-values on click; the R script names the moderators only in comments.
    at.number_input(key=K("iterations")).set_value(200)
    at.button(key=K("permute")).click()
    _ok(at.run())
    assert "Permutation p (moderators)" in _metrics(at)
    code = next(c.value for c in at.code if "rma(yi, vi, mods = ~ m1 + m2" in c.value)
    assert "permutest(res, iter = 200)" in code and "rbind(c(30, 1, 0))" in code
    assert "[x](javascript:alert(1)) <b>lat</b>" in code.splitlines()[4]  # in a comment


def test_bad_moderators_say_why():
    table = BCG.assign(same=["RCT"] * 13, gap=[*BCG["ablat"][:12].astype(float), None])
    at = _app(table)
    at.multiselect(key=K("moderators")).set_value(["same"])
    _ok(at.run())
    assert any("same value in every analysed study" in w.value for w in at.warning)
    at.multiselect(key=K("moderators")).set_value(["gap"])
    _ok(at.run())
    assert any("Left out (empty moderator cell): Trial 13" in w.value for w in at.warning)


@pytest.mark.parametrize("published", [False, True])
def test_every_column_of_the_bundled_table_gives_a_fit_or_a_reason(published):
    """The bundled IG table (3 analysed RCTs, sparse columns): each candidate moderator
    either fits or says why not, under metafor's defaults and the published MH analysis."""
    at = AppTest.from_file(APP, default_timeout=90)
    if not published:
        at.session_state[state.SETTINGS] = AnalysisSettings()
    _ok(at.run())
    at.switch_page(PAGE)
    _ok(at.run())
    chooser = at.multiselect(key=K("moderators"))
    names = [option.rsplit(" (", 1)[0] for option in chooser.options]
    assert {"design", "year", "condition"} <= set(names)
    for name in names:
        at.multiselect(key=K("moderators")).set_value([name])
        _ok(at.run())
        fitted = "Test of moderators" in _metrics(at)
        said = " ".join(w.value for w in at.warning).replace("\\", "").replace("\u200b", "")
        assert fitted or "needs more than" in said or "same value in every" in said, name
        if name == "year":  # the third RCT has no year
            assert "only 2 have a defined effect (left out for an empty moderator cell: " in said
