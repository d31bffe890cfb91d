"""AppTest of the Data page: editor, checks, upload with mapping, undo/redo/reset.

The page is run through ``app.py`` (navigation and the shared sidebar). Cell edits are
seeded the way Streamlit stores them: as the keyed editor's edit state
(``edited_rows``/``added_rows``/``deleted_rows``) in session state before ``run()``.
The upload steps are tested both through the page's file uploader and through the
functions of :mod:`ui.data_page` that the page calls with the file's bytes and name.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from igmeta.app.intake.cells import same_table
from igmeta.app.intake.io import MAX_UPLOAD_BYTES
from igmeta.app.intake.row_status import STATUS_INVALID, STATUS_OK, STATUS_WARNING
from igmeta.app.intake.schema import DATA_TYPES, template_csv_bytes
from igmeta.app.intake.upload import apply_upload, mapping_problems, read_summary, table_errors
from igmeta.app.pipeline.analysis import run_analysis
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.effects import measure_info
from igmeta.formatting import format_ci
from ui import data_page, state
from ui.data_page import STATUS_COLUMN, clean_table, row_status
from ui.text import plain
from ui.upload import prepare_upload

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
DATA = "pages/data.py"
ANALYSIS = "pages/analysis.py"
CORPUS = ROOT / "tests" / "corpus"

UPLOAD_CSV = (
    b"Trial;Year;IG responders;IG total;Placebo responders;Placebo group size;Notes\n"
    b"Alpha 2001;2001;12;40;5;38;first\n"
    b"Beta 2005;2005;7;25;3;26;\n"
    b"Gamma [x](http://example.com) 2010;2010;abc;30;4;31;typo\n"
)
FULL_CHOICE_N2I = "Placebo group size"


#: Run pages as a live server does (the shared fixture in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("navigation_mode")


# ----------------------------------------------------------------------------- helpers


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _data_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(DATA)
    return _ok(at.run())


def _table(at: AppTest) -> pd.DataFrame:
    return at.session_state[state.TABLE]


def _editor(at: AppTest) -> pd.DataFrame:
    """The table the editor shows (its input: status column, 1-based row numbers)."""
    assert len(at.data_editor) == 1
    return at.data_editor[0].value


def _edit(at: AppTest, edited=None, added=None, deleted=None) -> AppTest:
    """Seed the editor's edit state (as the browser sends it) and rerun."""
    key = at.data_editor[0].key  # the editor's current key (state.editor_key())
    at.session_state[key] = {
        "edited_rows": edited or {},
        "added_rows": added or [],
        "deleted_rows": deleted or [],
    }
    return _ok(at.run())


def _issues(at: AppTest) -> pd.DataFrame:
    """The issues table of the Checks panel."""
    for frame in at.dataframe:
        value = frame.value
        if list(value.columns[:2]) == ["Row", "Column"] and "Message" in value.columns:
            return value
    raise AssertionError("no issues table on the page")


def _button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, [b.label for b in at.button]
    return matches[0]


def _texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("success", "info", "warning", "error", "caption", "markdown")
        for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


# ----------------------------------------------------------------------------- the page


def test_page_loads_with_the_bundled_rows():
    at = _data_page()
    shown = _editor(at)
    bundled = load_ig_pnp_canonical()
    assert len(shown) == 5
    assert shown["study"].tolist() == bundled["study"].tolist()
    assert list(shown.index) == [1, 2, 3, 4, 5]
    assert STATUS_COLUMN not in shown.columns  # the checks are below the grid, not in it
    assert shown["ai"].tolist() == [str(v) for v in bundled["ai"]]  # numbers as text cells
    assert shown["provenance"].tolist().count("reconstructed") == 3
    assert at.data_editor[0].editing_mode == "dynamic"
    assert "3 of 5 rows are marked *reconstructed*" in _texts(at)
    assert "All 5 rows are valid." in [s.value for s in at.success]
    assert at.title[0].value == "Study data"
    labels = [d.label for d in at.get("download_button")]
    assert {"Download CSV", "Download Excel"} <= set(labels)
    # The collapsed Templates section builds nothing; opened, it has every template.
    assert not [label for label in labels if "template" in label]
    at.session_state[state.TEMPLATES_OPEN] = True
    _ok(at.run())
    labels = [d.label for d in at.get("download_button")]
    for data_type in DATA_TYPES:
        assert f"Download the {data_type} template (CSV)" in labels


def test_bad_value_in_the_table_is_flagged_with_row_and_column_and_kept():
    at = _data_page()
    table = _table(at).copy()
    table["ai"] = table["ai"].astype(object)
    table.loc[1, "ai"] = "twelve"
    at.session_state[state.TABLE] = table
    _ok(at.run())
    issues = _issues(at)
    error = issues[issues["Severity"] == "error"]
    assert error["Row"].tolist() == ["2"]
    assert error["Column"].tolist() == ["ai \u00b7 Events (treatment)"]
    message = error["Message"].iloc[0]
    assert "Row 2" in message and "column 'ai'" in message and "'twelve'" in message
    assert any("1 of 5 rows cannot be analysed" in e.value for e in at.error)
    shown = _editor(at)
    assert len(shown) == 5
    assert shown.loc[2, "ai"] == "twelve"
    assert len(_table(at)) == 5  # nothing dropped
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Valid rows"] == "4" and metrics["Invalid rows"] == "1"


def test_cell_edit_is_stored_without_rebuilding_the_editor():
    at = _data_page()
    version = at.session_state[state.TABLE_VERSION]
    _edit(at, edited={0: {"ai": "5"}})
    assert _table(at).loc[0, "ai"] == 5
    assert at.session_state[state.TABLE_VERSION] == version  # same editor, edits kept
    assert len(at.session_state[state.UNDO]) == 1
    # A later run with the same edit state stores nothing more and rebuilds nothing.
    _ok(at.run())
    assert len(at.session_state[state.UNDO]) == 1
    assert at.session_state[state.TABLE_VERSION] == version
    assert _button(at, "Undo").disabled is False


def _messages(at: AppTest) -> list[str]:
    return _issues(at)["Message"].tolist()


@pytest.mark.parametrize(
    ("typed", "stored", "message"),
    [
        (
            "30.5",
            30.5,
            "Row 1 (Jann 2020), column 'ai': '30.5' is not a whole number; a count of "
            "people must be one, so the row is left out of the analysis until it is fixed.",
        ),
        ("twelve", "twelve", "Row 1 (Jann 2020), column 'ai': 'twelve' is not a number."),
        ("12a", "12a", "Row 1 (Jann 2020), column 'ai': '12a' is not a number."),
        (
            "1e400",
            "1e400",
            "Row 1 (Jann 2020), column 'ai': '1e400' is too large to be stored as a number "
            "(the limit is about 1.8e308).",
        ),
        ("-3", -3, "Row 1 (Jann 2020), column 'ai': a count cannot be negative (-3)."),
        ("30", 30, "Row 1 (Jann 2020), column 'ai': events (30) exceed the total (11)."),
    ],
)
def test_a_bad_count_is_stored_as_typed_and_flagged_with_row_and_column(typed, stored, message):
    at = _data_page()
    version = at.session_state[state.TABLE_VERSION]
    _edit(at, edited={0: {"ai": typed}})
    assert _table(at).loc[0, "ai"] == stored  # never silently changed
    assert at.session_state[state.TABLE_VERSION] == version  # the grid is not rebuilt
    assert message in _messages(at)
    issues = _issues(at)
    assert issues.loc[issues["Message"] == message, "Column"].tolist() == [
        "ai \u00b7 Events (treatment)"
    ]
    assert any("1 of 5 rows cannot be analysed" in e.value for e in at.error)
    assert len(_table(at)) == 5
    # The row is left out of the analysis (k = 4 in the live result's caption or metric).
    assert not at.session_state[state.TABLE].equals(load_ig_pnp_canonical())


@pytest.mark.parametrize(("typed", "stored"), [("1e3", 1000), ("12 ", 12), ("9.0", 9)])
def test_an_exact_number_is_taken_and_the_grid_later_shows_what_is_stored(typed, stored):
    at = _data_page()
    version = at.session_state[state.TABLE_VERSION]
    _edit(at, edited={1: {"n1i": typed}})
    assert _table(at).loc[1, "n1i"] == stored
    assert str(_table(at)["n1i"].dtype) == "Int64"
    assert at.session_state[state.TABLE_VERSION] == version
    note = f"Row 2, column n1i \u00b7 Total (treatment): '{typed}' is stored as {stored}."
    assert any(plain(note) in c.value for c in at.caption), [c.value for c in at.caption]
    # A run the grid did not cause (here: a plain rerun) rebuilds it from the stored table.
    _ok(at.run())
    assert at.session_state[state.TABLE_VERSION] == version + 1
    assert _editor(at).loc[2, "n1i"] == str(stored)
    assert len(at.session_state[state.UNDO]) == 1  # the rebuild is not a change


def test_first_keystrokes_in_a_new_row_are_kept():
    """ "+" then typing: every step is stored and the grid is never rebuilt in between."""
    at = _data_page()
    version = at.session_state[state.TABLE_VERSION]
    _edit(at, added=[{}])  # "+" pressed: an empty row
    assert len(_table(at)) == 6
    _edit(at, added=[{"study": "N"}])  # the first keystroke
    _edit(at, added=[{"study": "New 2024", "ai": "4"}])
    _edit(at, added=[{"study": "New 2024", "ai": "4", "n1i": "20"}])
    assert at.session_state[state.TABLE_VERSION] == version
    table = _table(at)
    assert table.loc[5, "study"] == "New 2024"
    assert table.loc[5, "ai"] == 4 and table.loc[5, "n1i"] == 20
    assert bool(table.loc[5, "include"])
    assert len(at.session_state[state.UNDO]) == 4


def test_one_script_run_per_grid_edit(monkeypatch):
    """The edit is stored before the page is drawn: no second run (no st.rerun)."""
    at = _data_page()
    calls = []
    original = data_page.header
    monkeypatch.setattr(data_page, "header", lambda table: (calls.append(1), original(table)))
    _edit(at, edited={0: {"ai": "2"}})
    assert calls == [1]
    assert any("\u2014 5 rows \u2014" in c.value for c in at.caption)
    assert _button(at, "Undo").disabled is False  # drawn above the grid, already enabled


def test_rows_added_and_deleted_in_the_editor():
    at = _data_page()
    version = at.session_state[state.TABLE_VERSION]
    _edit(at, added=[{"study": "New 2024", "ai": "4", "n1i": "20"}], deleted=[2])
    table = _table(at)
    assert table["study"].tolist() == [
        "Jann 2020",
        "Geerts 2021",
        "Open-label 1 (reconstructed)",
        "Open-label 2 (reconstructed)",
        "New 2024",
    ]
    assert table["include"].dtype == bool and bool(table.loc[4, "include"])
    assert str(table["ai"].dtype) == "Int64"
    # A deletion rebuilds the grid at once, so its row numbers match the checks.
    assert at.session_state[state.TABLE_VERSION] == version + 1
    shown = _editor(at)
    assert list(shown.index) == [1, 2, 3, 4, 5]
    assert shown.loc[5, "study"] == "New 2024"
    _edit(at, added=[{"study": "Empty"}])
    assert len(_table(at)) == 6
    assert any(m.startswith("Row 6 (Empty), column 'ai'") for m in _messages(at))


def test_extra_columns_and_subgroup_are_editable_provenance_is_read_only():
    at = _data_page()
    editor = at.data_editor[0]
    config = {c.get("label") or name: c for name, c in _column_config(editor.proto.columns).items()}
    # Numbers are text cells (a number column would change 30.5 or "twelve" silently).
    assert config["Events (treatment) \u00b7 ai"]["type_config"]["type"] == "text"
    assert config["Total (treatment) \u00b7 n1i"]["type_config"]["type"] == "text"
    assert config["Provenance"]["disabled"] is True
    assert not config["Subgroup (design)"].get("disabled")
    assert "Events (treatment) \u00b7 ai" in [c.get("label") for c in config.values()]
    _edit(at, edited={1: {"design": "open-label", "condition": "small fibre"}})
    table = _table(at)
    assert table.loc[1, "design"] == "open-label"
    assert table.loc[1, "condition"] == "small fibre"


def _column_config(text: str) -> dict:
    import json

    return json.loads(text)


def test_undo_redo_and_reset_buttons():
    at = _data_page()
    bundled = load_ig_pnp_canonical()
    _edit(at, edited={0: {"ai": "5"}})
    _button(at, "Undo").click()
    _ok(at.run())
    assert _table(at).loc[0, "ai"] == 7
    assert _button(at, "Redo").disabled is False
    _button(at, "Redo").click()
    _ok(at.run())
    assert _table(at).loc[0, "ai"] == 5
    assert _editor(at).loc[1, "ai"] == "5"
    # Reset asks first (the confirming button sits in a popover) and is undoable.
    _button(at, "Yes, replace my table").click()
    _ok(at.run())
    assert same_table(_table(at), bundled)
    assert "The bundled IG data were restored" in " ".join(s.value for s in at.success)
    _button(at, "Undo").click()
    _ok(at.run())
    assert _table(at).loc[0, "ai"] == 5


def test_analysis_page_shows_the_engine_numbers_after_an_edit():
    at = _data_page()
    _edit(at, edited={0: {"ai": "2"}, 2: {"ci": "5"}})
    table = _table(at)
    assert table.loc[0, "ai"] == 2 and table.loc[2, "ci"] == 5
    at.switch_page(ANALYSIS)
    _ok(at.run())
    settings = at.session_state[state.SETTINGS]
    result = run_analysis(table, settings).result
    bt = result.back_transformed()
    label = measure_info(settings.measure).label
    metric = {m.label: m.value for m in at.metric}[f"Pooled {label.lower()}"]
    assert metric == format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"])
    bundled = run_analysis(load_ig_pnp_canonical(), settings).result
    assert not np.isclose(result.estimate, bundled.estimate)
    # Back on the Data page the edit is still there.
    at.switch_page(DATA)
    _ok(at.run())
    assert _editor(at).loc[1, "ai"] == "2"


# ----------------------------------------------------------------------------- upload


def test_upload_is_read_and_mapped():
    plan = prepare_upload(UPLOAD_CSV, "studies.csv")
    assert plan.result.ok and plan.result.delimiter == ";"
    assert plan.detected and plan.data_type == "binary" and plan.needs_mapping
    assert plan.guess["study"] == "Trial"
    assert plan.guess["ai"] == "IG responders" and plan.guess["n1i"] == "IG total"
    assert plan.guess["ci"] == "Placebo responders"
    assert plan.guess["n2i"] is None  # "Placebo group size" is not recognised
    # The guessed mapping leaves the control arm incomplete: a whole-table error.
    _, report = apply_upload(plan)
    assert table_errors(report)
    choice = {**plan.guess, "n2i": FULL_CHOICE_N2I}
    assert mapping_problems(choice, "binary") == []
    table, report = apply_upload(plan, choice)
    assert not table_errors(report)
    assert list(table.columns[:2]) == ["study", "year"]
    assert {"ai", "n1i", "ci", "n2i", "Notes", "include"} <= set(table.columns)
    assert len(table) == 3  # the bad row is kept
    assert table["ai"].tolist() == ["12", "7", "abc"]  # kept as typed, to be fixed
    assert str(table["n1i"].dtype) == "Int64" and str(table["year"].dtype) == "Int64"
    assert table["include"].tolist() == [True, True, True]
    errors = report.issues[report.issues["severity"] == "error"]
    assert errors["row"].tolist() == [3] and errors["column"].tolist() == ["ai"]
    status = row_status(table, "binary")
    assert status[:2] == [STATUS_OK, STATUS_OK]
    assert status[2] == STATUS_INVALID + "ai: 'abc' is not a number."


def test_mapping_problems_are_explained():
    plan = prepare_upload(UPLOAD_CSV, "studies.csv")
    twice = {**plan.guess, "n2i": "IG total"}
    problems = mapping_problems(twice, "binary")
    assert any("'IG total' is chosen for both 'n1i' and 'n2i'" in p for p in problems)
    missing = {**plan.guess, "ai": None}
    assert any("'ai'" in p for p in mapping_problems(missing, "binary"))


def test_data_type_can_be_changed_in_the_mapping():
    plan = prepare_upload(UPLOAD_CSV, "studies.csv", data_type="proportion")
    assert plan.data_type == "proportion"
    choice = {**plan.guess, "xi": "IG responders", "ni": "IG total"}
    table, report = apply_upload(plan, choice, "proportion")
    assert {"xi", "ni"} <= set(table.columns)
    assert report.data_type == "proportion"


def test_decimal_comma_file_becomes_numbers():
    path = CORPUS / "semicolon_decimal_comma.csv"
    plan = prepare_upload(path.read_bytes(), path.name)
    assert plan.result.decimal == "," and plan.data_type == "continuous"
    table, _ = apply_upload(plan)
    assert str(table["m1i"].dtype) == "Float64"
    assert table["m1i"].tolist()[:2] == [12.5, 11.0]
    assert table["m1i"].tolist()[3] == 1234.5
    assert str(table["n1i"].dtype) == "Int64"
    assert any("decimal comma" in text for _, text in plan.result.messages)
    assert "semicolon-separated, decimal comma" in read_summary(plan.result)


def test_excel_sheet_can_be_chosen():
    workbook = openpyxl.Workbook()
    workbook.active.title = "Notes"
    workbook.active.append(["Just a note"])
    sheet = workbook.create_sheet("Counts")
    sheet.append(["study", "ai", "n1i", "ci", "n2i"])
    sheet.append(["A 2001", 3, 20, 1, 20])
    sheet.append(["B 2002", 4, 25, 2, 24])
    other = workbook.create_sheet("Proportions")
    other.append(["study", "events", "total"])
    other.append(["C 2003", 5, 30])
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()
    plan = prepare_upload(data, "book.xlsx")
    assert plan.result.sheet_names == ("Notes", "Counts", "Proportions")
    plan = prepare_upload(data, "book.xlsx", sheet="Counts")
    assert plan.result.sheet == "Counts" and plan.data_type == "binary"
    assert any("3 sheets" in text for _, text in plan.result.messages)
    plan = prepare_upload(data, "book.xlsx", sheet="Proportions")
    table, _ = apply_upload(plan)
    assert plan.data_type == "proportion" and table["xi"].tolist() == [5]


def _two_sheet_workbook() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.title = "Counts"
    workbook.active.append(["study", "ai", "n1i", "ci", "n2i"])
    workbook.active.append(["A 2001", 3, 20, 1, 20])
    other = workbook.create_sheet("Proportions")
    other.append(["Study", "Responders", "Patients"])
    other.append(["C 2003", 5, 30])
    other.append(["D 2004", 7, 31])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_excel_sheet_selector_on_the_page():
    at = _data_page()
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    at.file_uploader[0].set_value(("book.xlsx", _two_sheet_workbook(), xlsx))
    _ok(at.run())
    sheet = next(s for s in at.selectbox if s.label == "Sheet")
    assert sheet.options == ["Counts", "Proportions"] and sheet.value == "Counts"
    sheet.set_value("Proportions")
    _ok(at.run())
    data_type = next(s for s in at.selectbox if s.label == "Data type")
    assert data_type.value == "proportion"
    assert "Read 2 rows and 3 columns from sheet 'Proportions'." in [
        i.value.replace("\\", "") for i in at.info
    ]
    _button(at, "Use this table").click()
    _ok(at.run())
    table = _table(at)
    assert table["study"].tolist() == ["C 2003", "D 2004"] and table["xi"].tolist() == [5, 7]
    assert at.session_state[state.DATA_TYPE] == "proportion"
    assert at.session_state[state.SETTINGS].data_type == "proportion"


def test_unreadable_and_oversized_files_give_messages():
    plan = prepare_upload(b"", "empty.csv")
    assert not plan.result.ok and plan.result.frame.empty
    big = b"a,b\n" + b"1,2\n" * (MAX_UPLOAD_BYTES // 4 + 1)
    plan = prepare_upload(big, "big.csv")
    assert not plan.result.ok
    assert "limit" in plan.result.messages[0][1]
    plan = prepare_upload(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls")
    assert not plan.result.ok


@pytest.mark.parametrize("data_type", DATA_TYPES)
def test_templates_load_cleanly(data_type):
    plan = prepare_upload(template_csv_bytes(data_type), f"template_{data_type}.csv")
    assert plan.data_type == data_type and not plan.needs_mapping
    table, report = apply_upload(plan)
    assert not report.has_errors, report.issues
    assert len(table) == 3


def test_upload_through_the_page_is_applied_once():
    at = _data_page()
    nonce = at.session_state[state.UPLOAD_NONCE]
    at.file_uploader[0].set_value(("my studies.csv", UPLOAD_CSV, "text/csv"))
    _ok(at.run())
    assert "Read 3 rows and 7 columns." in [i.value.replace("\\", "") for i in at.info]
    # The mapping step: the guess is prefilled; the missing control total blocks loading.
    n2i = next(s for s in at.selectbox if s.label == "Total (control) \u00b7 n2i")
    assert n2i.value is None
    assert not [b for b in at.button if b.label == "Use this table"]
    assert any("cannot be used yet" in e.value for e in at.error)
    n2i.set_value(FULL_CHOICE_N2I)
    _ok(at.run())
    _button(at, "Use this table").click()
    _ok(at.run())
    table = _table(at)
    assert len(table) == 3 and table.loc[2, "ai"] == "abc"
    assert at.session_state[state.DATA_TYPE] == "binary"
    assert at.session_state[state.TABLE_SOURCE] == "Uploaded file 'my studies.csv'"
    assert at.session_state[state.UPLOAD_NONCE] == nonce + 1
    # The file name is shown escaped; the markdown link in a study name stays text.
    notice = " ".join(s.value for s in at.success)
    assert "Loaded 'my studies.csv'" in notice.replace("\\", "").replace("\u200b", "")
    # A fresh uploader: the file is not applied again on later runs.
    assert at.file_uploader[0].value in (None, [])
    undo_depth = len(at.session_state[state.UNDO])
    _ok(at.run())
    assert len(at.session_state[state.UNDO]) == undo_depth
    shown = _editor(at)
    assert shown.loc[3, "ai"] == "abc"
    assert any(m.startswith("Row 3 (Gamma") and "'abc' is not a number" in m for m in _messages(at))
    assert not [m for m in at.markdown if "](http" in m.value]
    # Fixing the bad cell turns the column into numbers.
    _edit(at, edited={2: {"ai": "9"}})
    assert str(_table(at)["ai"].dtype) == "Int64"
    assert _table(at)["ai"].tolist() == [12, 7, 9]
    _button(at, "Undo").click()
    _ok(at.run())
    _button(at, "Undo").click()
    _ok(at.run())
    assert same_table(_table(at), load_ig_pnp_canonical())


# ----------------------------------------------------------------------------- helpers


def test_clean_table_is_idempotent_and_strips_the_status():
    table = load_ig_pnp_canonical()
    shown = data_page.annotate(table, "binary")
    cleaned = clean_table(shown, "binary")
    assert STATUS_COLUMN not in cleaned.columns
    assert same_table(cleaned, table)
    assert same_table(clean_table(cleaned, "binary"), cleaned)
    text = table.copy()
    text["ai"] = text["ai"].astype(object).astype(str)
    assert str(clean_table(text, "binary")["ai"].dtype) == "Int64"


def test_same_table_compares_values_not_dtypes():
    a = pd.DataFrame({"x": pd.array([1, None], dtype="Int64"), "s": ["a", None]})
    b = pd.DataFrame({"x": [1.0, np.nan], "s": pd.Series(["a", None], dtype="str")})
    assert same_table(a, b)
    assert not same_table(a, b.assign(x=[2.0, np.nan]))
    assert not same_table(a, b[["s", "x"]])


def test_row_status_reports_errors_and_warnings():
    table = load_ig_pnp_canonical()
    table.loc[0, "ai"] = 20
    table.loc[1, "study"] = "Jann 2020"
    status = row_status(table, "binary")
    assert status[0] == STATUS_INVALID + "ai: events (20) exceed the total (11)."
    assert status[1].startswith(STATUS_WARNING + "study: ")
    missing = table.drop(columns=["n1i"])
    assert all(s.startswith(STATUS_INVALID) and "n1i" in s for s in row_status(missing, "binary"))


def test_markdown_is_escaped():
    text = "[x](http://evil.example) <b>b</b> :red[r] :material/home: $x$ **b** a@b.com"
    escaped = plain(text)
    for raw in ("[x]", "](", "<b>", "**", "$x$", ":red[", ":material/home:", "a@b"):
        assert raw not in escaped
    assert "\\[x\\]" in escaped and "\\<b\\>" in escaped
    assert plain("line\nbreak") == "line break"


def _pooled_metric(at: AppTest) -> str:
    (metric,) = [m for m in at.metric if m.label.startswith("Pooled")]
    return metric.value


def test_live_result_on_the_data_page_follows_every_edit():
    at = _data_page()
    current = at.session_state[state.SETTINGS]

    def expected(table):
        bt = run_analysis(table, current).result.back_transformed()
        return format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"])

    assert _pooled_metric(at) == expected(_table(at))
    before = _pooled_metric(at)
    _edit(at, edited={0: {"ai": "9"}})
    assert _pooled_metric(at) == expected(_table(at))
    assert _pooled_metric(at) != before


def test_live_result_says_why_there_is_none():
    at = _data_page()
    _edit(at, deleted=list(range(len(_table(at)))))
    assert not [m for m in at.metric if m.label.startswith("Pooled")]
    assert any("No pooled result for this table" in c.value for c in at.caption)


def test_sidebar_reads_the_subgroup_columns_and_levels_of_the_table():
    """What the Data page's grid fragment compares to decide on a whole-app rerun."""
    from ui.sidebar import table_inputs

    table = load_ig_pnp_canonical()
    before = table_inputs(table)
    assert ("design", ("RCT", "open-label")) in before
    edited = table.copy()
    edited.loc[0, "ai"] = 8  # a count: nothing the sidebar reads
    assert table_inputs(edited) == before
    edited.loc[0, "design"] = "crossover"  # a new subgroup level: the sidebar must follow
    after = dict(table_inputs(edited))
    assert after["design"] == ("RCT", "crossover", "open-label")
