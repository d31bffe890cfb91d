"""AppTest of the RevMan 5 (.rm5) import on the Data page and of "Author Year" labels.

The file is uploaded through the page's file uploader; the user picks the outcome, sees
its number of studies, and loads it through the same preview, checks and "Use this table"
step as a CSV upload.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui import state

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
DATA = "pages/data.py"
ANALYSIS = "pages/analysis.py"
REVMAN = ROOT / "tests" / "data" / "revman"
OUTCOME = "Comparison and outcome"

pytestmark = pytest.mark.usefixtures("navigation_mode")


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _upload(name: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(DATA)
    _ok(at.run())
    at.file_uploader[0].set_value((name, (REVMAN / name).read_bytes(), "application/xml"))
    return _ok(at.run())


def _text(elements) -> str:
    return " ".join(e.value for e in elements).replace("\\", "").replace("\u200b", "")


def _use(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Use this table").click()
    return _ok(at.run())


def test_outcome_with_subgroups_is_chosen_and_loaded():
    at = _upload("ig_review.rm5")
    outcome = next(s for s in at.selectbox if s.label == OUTCOME)
    assert outcome.options == [
        "1.1 Immunoglobulin versus placebo: Pain responders (\u226550% reduction) "
        "(dichotomous, 4 studies)",
        "1.2 Immunoglobulin versus placebo: Pain responders by neuropathy type "
        "(dichotomous, 4 studies)",
        "1.3 Immunoglobulin versus placebo: Change in pain score (NRS) (continuous, 3 studies)",
    ]
    assert "generic inverse variance data) is not imported" in _text(at.info)
    outcome.set_value("1.2")
    _ok(at.run())
    assert "**4 studies** in 2 subgroups (loaded as the 'design' column)" in _text(at.markdown)
    _use(at)
    table = at.session_state[state.TABLE]
    assert table["study"].tolist() == ["Alder 2001", "Brook", "M\u00fcller 2008", "Costa 2015"]
    assert table["design"].tolist()[1:3] == [
        "Diabetic neuropathy <1 year",
        "Small fibre neuropathy",
    ]
    assert table["ai"].tolist() == [9, 5, 14, 10]
    assert at.session_state[state.DATA_TYPE] == "binary"
    source = at.session_state[state.TABLE_SOURCE]
    assert source == "Uploaded file 'ig_review.rm5: 1.2 Pain responders by neuropathy type'"


def test_continuous_outcome_is_loaded_as_continuous_and_labelled_with_years():
    at = _upload("ig_review.rm5")
    next(s for s in at.selectbox if s.label == OUTCOME).set_value("1.3")
    _ok(at.run())
    assert "**3 studies**;" in _text(at.markdown)
    # the app's continuous default is SMD; RevMan analysed MD, random effects (DL)
    assert (
        "RevMan analysed this outcome with: Mean difference, Inverse variance, Random effects, "
        "DerSimonian-Laird." in _text(at.info)
    )
    _use(at)
    assert at.session_state[state.DATA_TYPE] == "continuous"
    table = at.session_state[state.TABLE]
    assert table["m1i"].tolist() == [-2.1, -1.8, -2.6]
    at.switch_page(ANALYSIS)
    _ok(at.run())
    (forest,) = at.get("plotly_chart")
    spec = forest.proto.spec  # the figure's JSON, with the study labels
    # "Brook" with year 2004 is labelled "Brook 2004"; "Alder 2001" is not repeated
    assert "Brook 2004" in spec and "Costa 2015" in spec
    assert "Alder 2001" in spec and "Alder 2001 2001" not in spec


def test_bad_cells_are_reported_and_kept():
    at = _upload("bad_cells.rm5")
    warnings = _text(at.warning)
    assert "row 2 (study 'Brook'): EVENTS_1 (ai) is '7 events', not a number" in warnings
    assert "study 'STD-Dubois_x002d_2019' is not in the review's list" in warnings
    assert "TOTAL_2 (n2i) is missing" in warnings
    assert "2 of 4 rows cannot be analysed" in _text(at.error)
    _use(at)
    table = at.session_state[state.TABLE]
    assert len(table) == 4 and table.loc[1, "ai"] == "7 events"
    assert table["study"].tolist()[3] == "Dubois-2019"


@pytest.mark.parametrize("name", ["billion_laughs.rm5", "external_entity.rm5", "truncated.rm5"])
def test_hostile_or_broken_files_are_refused(name):
    at = _upload(name)
    before = at.session_state[state.TABLE].copy()
    errors = _text(at.error)
    assert "not read" in errors
    assert not [s for s in at.selectbox if s.label == OUTCOME]
    assert not [b for b in at.button if b.label == "Use this table"]
    assert at.session_state[state.TABLE].equals(before)
