"""AppTest of the journal-club features: Scenarios & sharing page, shared links
(?scenario=), presenter mode. Each test uses its own SQLite file (IGMETA_DB_PATH)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from igmeta.app.evidence.clinical import nnt_from_bundle
from igmeta.app.outputs.presenter import headline_items
from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings, run_analysis
from igmeta.app.store.records import BUILTIN_PUBLISHED
from igmeta.app.store.scenarios import ScenarioStore, summarise
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.formatting import format_ci
from ui import state
from ui.presenter import headline_html

APP = str(Path(__file__).resolve().parents[1] / "app.py")
SCENARIOS = "pages/scenarios.py"
PRESENT = "pages/present.py"
K = state.journal_key


#: Run pages as a live server does (the shared fixture in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("navigation_mode")


@pytest.fixture()
def db(tmp_path, monkeypatch) -> ScenarioStore:
    path = tmp_path / "app.sqlite3"
    monkeypatch.setenv("IGMETA_DB_PATH", str(path))
    return ScenarioStore(path)


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _app(page: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    _ok(at)
    if page is not None:
        at.switch_page(page)
        at.run()
        _ok(at)
    return at


def _markdown(at: AppTest) -> str:
    """All markdown of the page, with markdown escapes removed."""
    return " ".join(m.value for m in at.markdown).replace("\\", "")


def _html(at: AppTest) -> list[str]:
    """The bodies of the page's ``st.html`` elements."""
    return [element.proto.body for element in at.get("html")]


def _headline(table, settings, baseline_risk=None) -> str:
    """The presenter's headline HTML as the engine computes it."""
    bundle = run_analysis(table, settings)
    nnt = nnt_from_bundle(bundle, baseline_risk, event_is_good=True)
    return headline_html(headline_items(bundle, nnt))


def _codes(at: AppTest) -> list[str]:
    return [c.value for c in at.code]


def test_scenarios_page_saves_and_shows_a_link(db):
    at = _app(SCENARIOS)
    assert at.title[0].value == "Scenarios & sharing"
    at.sidebar.button[0].click().run()  # "Published analysis" preset
    _ok(at)
    at.text_input(key=K("save_name")).input("Journal club <b>*bold*</b>").run()
    at.button(key=K("save_new")).click().run()
    _ok(at)
    current = at.session_state[state.SCENARIO_ID]
    saved = db.load(current["id"])
    assert saved.name == "Journal club <b>*bold*</b>"
    assert saved.settings == at.session_state[state.SETTINGS]
    assert saved.settings.pooling == "MH" and saved.settings.zero_cells == "revman"
    assert f"?scenario={current['id']}" in _codes(at)
    assert any("\\*bold\\*" in s.value for s in at.success)  # markdown escaped
    listed = [i.name for i in db.list(current and saved.owner)]
    assert "Journal club <b>*bold*</b>" in listed
    # Methods paragraph in a copy box, R script shown.
    assert any(c.startswith("Studies were pooled as a risk ratio") for c in _codes(at))
    assert any("rma.mh(" in c for c in _codes(at))


def test_shared_link_opens_the_scenario_with_identical_numbers(db):
    table = load_ig_pnp_canonical()
    table.loc[0, "include"] = False
    settings = AnalysisSettings(test="knha", level=0.9)
    sid = db.save("Shared", table, settings, source="colleague's table", owner="someone")
    at = _app(scenario=sid)
    assert any("Opened the shared scenario" in i.value for i in at.info)
    assert at.session_state[state.SETTINGS] == settings
    pd.testing.assert_frame_equal(at.session_state[state.TABLE], table, check_exact=True)
    expected = summarise(run_analysis(table, settings))
    assert at.metric[0].value == format_ci(
        expected["estimate"], expected["ci_lower"], expected["ci_upper"]
    )
    # A colleague's scenario is read-only here: no "update" for it.
    at.switch_page(SCENARIOS)
    at.run()
    _ok(at)
    assert at.button(key=K("save_update")).disabled
    assert f"?scenario={sid}" in _codes(at)  # unchanged: same link


@pytest.mark.parametrize("bad", ["nonsense!!", "A" * 22, "", "x" * 500])
def test_bad_shared_links_warn_and_keep_the_bundled_data(db, bad):
    at = _app(scenario=bad)
    assert any("bundled data instead" in w.value for w in at.warning)
    pd.testing.assert_frame_equal(at.session_state[state.TABLE], load_ig_pnp_canonical())
    at.button(key=K("dismiss_share_message")).click().run()
    _ok(at)
    assert not any("bundled data instead" in w.value for w in at.warning)


def test_builtin_published_link(db):
    at = _app(scenario=BUILTIN_PUBLISHED)
    assert at.session_state[state.SETTINGS] == PUBLISHED_COMPARISON
    assert at.metric[0].value == "2.90 [1.62, 5.19]"


def test_open_rename_delete_and_compare(db):
    at = _app(SCENARIOS)
    at.button(key=K("save_new")).click().run()
    sid = at.session_state[state.SCENARIO_ID]["id"]
    at.selectbox(key=K("chosen")).select(sid).run()
    at.text_input(key=K("rename_to")).input("Renamed").run()
    at.button(key=K("rename")).click().run()
    _ok(at)
    assert db.load(sid).name == "Renamed"
    # Compare: the published analysis and the current analysis (default), then all three.
    frame = at.dataframe[1].value
    assert list(frame["Scenario"])[0].startswith("Published analysis")
    assert frame["Changes vs baseline"].iloc[0] == "(baseline)"
    at.multiselect(key=K("compare")).select(sid).run()
    _ok(at)
    assert len(at.dataframe[1].value) == 3
    at.selectbox(key=K("chosen")).select(sid).run()
    at.checkbox(key=K("delete_sure")).check().run()
    at.button(key=K("delete")).click().run()
    _ok(at)
    assert all(i.id != sid for i in db.list(all_owners=True))


def test_open_a_builtin_from_the_list(db):
    at = _app(SCENARIOS)
    at.selectbox(key=K("chosen")).select(BUILTIN_PUBLISHED).run()
    at.button(key=K("open")).click().run()
    _ok(at)
    assert at.session_state[state.SETTINGS] == PUBLISHED_COMPARISON
    assert any("is the scenario" in s.value for s in at.success)


def test_presenter_steps_through_the_variations(db):
    at = _app(PRESENT)
    assert at.title[0].value == "Presenter mode"
    table = load_ig_pnp_canonical()
    # The published analysis first: its headline cards, with the CI on a line of its own.
    published = _headline(table, PUBLISHED_COMPARISON)
    assert published in _html(at)
    assert '<span class="igp-main">2.90</span> <span class="igp-detail">[1.62, 5.19]</span>' in (
        published
    )
    assert "NNTB 3 (95% CI NNTB 2 to 10)" in _markdown(at)
    assert "Step 1 of 6: Start" in _markdown(at)
    steps = at.multiselect(key=K(f"present_steps_{BUILTIN_PUBLISHED}")).value
    assert steps[:2] == ["var:Random effects (REML)", "var:Hartung-Knapp (REML)"]
    assert at.button(key=K("present_prev")).disabled
    at.button(key=K("present_next")).click().run()
    _ok(at)
    assert at.session_state[state.PRESENTER_STEP] == 1
    assert _headline(table, AnalysisSettings()) in _html(at)
    assert "Step 2 of 6: Random effects (REML)" in _markdown(at)
    assert "Pooling: Mantel-Haenszel \u2192 inverse variance" in _markdown(at)  # what changed
    at.button(key=K("present_next")).click().run()
    assert "Confidence intervals: normal (z) \u2192 Hartung-Knapp" in _markdown(at)
    at.button(key=K("present_prev")).click().run()
    assert at.session_state[state.PRESENTER_STEP] == 1
    # One forest and one funnel per screen band (CSS shows the one for the width).
    assert len(at.get("plotly_chart")) == 10
    # The keyboard listener: one empty frame naming the two buttons.
    frames = [e.proto for e in at.get("iframe")]
    assert len(frames) == 1
    assert K("present_next") in frames[0].srcdoc and K("present_prev") in frames[0].srcdoc
    # Dark theme, a highlighted study with its weight and leave-one-out change.
    at.radio(key=K("present_theme")).set_value("dark").run()
    at.selectbox(key=K(f"present_highlight_{BUILTIN_PUBLISHED}")).select("Jann 2020").run()
    _ok(at)
    text = _markdown(at)
    assert "Jann 2020" in text and "Without it" in text and "Cook" in text
    style = next(body for body in _html(at) if body.startswith("<style>"))
    assert '[data-testid="stSidebar"]' in style and "#0B0B0B" in style


def test_presenter_with_saved_scenario_and_own_baseline_risk(db):
    at = _app(SCENARIOS)
    at.sidebar.button[0].click().run()
    at.text_input(key=K("save_name")).input("Talk <img src=x onerror=alert(1)>").run()
    at.button(key=K("save_new")).click().run()
    sid = at.session_state[state.SCENARIO_ID]["id"]
    at.switch_page(PRESENT)
    at.run()
    _ok(at)
    key = K(f"present_steps_{BUILTIN_PUBLISHED}")
    at.multiselect(key=key).set_value([f"scn:{sid}"]).run()
    at.number_input(key=K("present_baseline")).set_value(10.0).run()
    _ok(at)
    assert "chosen control-group risk of 10.0%" in _markdown(at)
    at.button(key=K("present_next")).click().run()
    _ok(at)
    table = load_ig_pnp_canonical()
    assert _headline(table, PUBLISHED_COMPARISON, 0.10) in _html(at)
    assert "Nothing that affects the result" in _markdown(at)
    # The scenario name is shown as text: markdown-escaped, and in no st.html element.
    assert "Step 2 of 2: Scenario \u2014 Talk <img src=x onerror=alert(1)>" in _markdown(at)
    assert not any("<img" in body for body in _html(at))


def test_store_failure_is_a_message_not_a_crash(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("IGMETA_DB_PATH", str(blocker / "db.sqlite3"))
    at = _app(SCENARIOS)
    assert any("scenario store cannot be opened" in e.value for e in at.error)
    at = _app(scenario="A" * 22)
    assert any("unavailable" in w.value for w in at.warning)


def test_presenter_forest_uses_the_labels_typed_on_the_analysis_page(db):
    """The arm and "Favours" names typed under "Plot labels" are the presenter's too."""
    at = _app()  # the Analysis page
    at.text_input(key=state.forest_label_key("favours_right")).input(
        "Favours IVIG (2 g per kg)"
    ).run()
    _ok(at)
    at.switch_page(PRESENT)
    at.run()
    _ok(at)
    specs = [chart.proto.spec for chart in at.get("plotly_chart")]
    forests = [spec for spec in specs if "Favours placebo" in spec]  # left label: default
    assert forests and all("Favours IVIG (2 g per kg)" in spec for spec in forests)
