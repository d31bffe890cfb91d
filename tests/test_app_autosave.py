"""Autosave and restore, through AppTest (no browser).

A session gets a random token in the URL (``?session=``); every change of the table
(``state.set_table``, undo) or of the settings is written to the store under that token,
only when something changed; a new session opened with the same token gets the table and
settings back and is told so. A store that cannot be written never breaks an edit.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from igmeta.app.store.scenarios import ScenarioStore
from igmeta.datasets import load_ig_pnp_canonical
from ui import autosave

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 120
RESTORED = "Restored your unsaved work from"

PROPORTIONS = pd.DataFrame(
    {
        "study": ["Alpha 2001", "Beta 2004", "Gamma 2008"],
        "xi": [12, 30, 9],
        "ni": [40, 52, 61],
    }
)


def _harness():
    """A minimal app: state + autosave like app.py, and table changes on request."""
    import streamlit as st

    from ui import autosave, state

    state.init_state()
    autosave.start()
    if "new_table" in st.session_state:
        state.set_table(
            st.session_state.pop("new_table"), source="harness upload", data_type="proportion"
        )
    if st.session_state.pop("do_undo", False):
        state.undo()
    state.set_settings(state.get_settings())
    st.write(f"rows: {len(state.get_table())}")


#: Run pages as a live server does (the shared fixture in tests/conftest.py).
pytestmark = pytest.mark.usefixtures("navigation_mode")


@pytest.fixture()
def db(tmp_path, monkeypatch):
    path = tmp_path / "store" / "igmeta.sqlite3"
    monkeypatch.setenv("IGMETA_DB_PATH", str(path))
    return path


def _rows(db: Path) -> list[tuple]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute(
                "SELECT session_id, data_type, source, saved_at FROM autosaves"
            ).fetchall()
        except sqlite3.OperationalError:  # the table is created by the first write
            return []


def _app(token: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if token is not None:
        at.query_params["session"] = token
    return at.run()


def _harness_app(token: str | None = None) -> AppTest:
    at = AppTest.from_function(_harness, default_timeout=TIMEOUT)
    if token is not None:
        at.query_params["session"] = token
    return at.run()


def _token(at: AppTest) -> str:
    token = at.query_params["session"]
    token = token[0] if isinstance(token, list) else token
    assert autosave.valid_token(token)
    return token


def test_first_visit_gets_a_token_and_writes_nothing(db):
    at = _app()
    assert not at.exception
    token = _token(at)
    assert at.session_state["session_token"] == token
    at.run()
    at.run()
    assert _rows(db) == []  # nothing changed yet, nothing to save


def test_set_table_is_autosaved_and_restored(db):
    at = _harness_app()
    token = _token(at)
    at.session_state["new_table"] = PROPORTIONS
    at.run()
    assert not at.exception
    rows = _rows(db)
    assert [(r[0], r[1], r[2]) for r in rows] == [(token, "proportion", "harness upload")]
    saved = ScenarioStore(db).load_autosave(token)
    pd.testing.assert_frame_equal(saved.table, PROPORTIONS, check_dtype=False)

    # A new session with the same token (a reload) gets the table back.
    again = _harness_app(token)
    assert not again.exception
    pd.testing.assert_frame_equal(again.session_state["table"], PROPORTIONS, check_dtype=False)
    assert again.session_state["table_source"] == "harness upload"
    assert again.session_state["data_type"] == "proportion"
    assert _token(again) == token


def test_undo_is_autosaved(db):
    at = _harness_app()
    token = _token(at)
    at.session_state["new_table"] = PROPORTIONS
    at.run()
    at.session_state["do_undo"] = True
    at.run()
    saved = ScenarioStore(db).load_autosave(token)
    pd.testing.assert_frame_equal(saved.table, load_ig_pnp_canonical(), check_dtype=False)
    assert saved.settings.data_type == "binary"


def test_nothing_is_written_when_nothing_changed(db, monkeypatch):
    at = _harness_app()
    at.session_state["new_table"] = PROPORTIONS
    at.run()
    first = _rows(db)
    assert len(first) == 1
    calls = []
    original = autosave._table_digest
    monkeypatch.setattr(autosave, "_table_digest", lambda t: calls.append(1) or original(t))
    for _ in range(3):
        at.run()
    assert _rows(db) == first  # same saved_at: no write
    assert calls == []  # and the unchanged table was not even serialised


def test_app_restores_table_and_settings_after_a_reload(db):
    at = _app()
    token = _token(at)
    table = at.session_state["table"].copy()
    table.loc[0, "ai"] = 99
    at.session_state["table"] = table  # as the Data page leaves it after an edit
    at.run()
    at.sidebar.selectbox(key="w_binary_measure").set_value("OR").run()
    assert not at.exception
    assert len(_rows(db)) == 1

    again = _app(token)
    assert not again.exception
    assert int(again.session_state["table"].loc[0, "ai"]) == 99
    assert again.session_state["settings"].binary_measure == "OR"
    assert again.sidebar.selectbox(key="w_binary_measure").value == "OR"
    notices = [info.value for info in again.info]
    assert any(text.startswith(RESTORED) for text in notices), notices
    # The headline is computed from the restored table and settings.
    assert again.metric[0].label.lower().startswith("pooled odds ratio")
    # The notice is shown once.
    again.run()
    assert not any(info.value.startswith(RESTORED) for info in again.info)


def test_restored_proportion_table_gets_its_analysis(db):
    at = _harness_app()
    token = _token(at)
    at.session_state["new_table"] = PROPORTIONS
    at.run()
    app = _app(token)
    assert not app.exception
    assert app.session_state["data_type"] == "proportion"
    assert app.sidebar.selectbox(key="w_analysis").value == "single_arm"
    assert app.metric[2].value == "3"  # three studies


@pytest.mark.parametrize("bad", ["<script>alert(1)</script>", "short", "a" * 300, "../../etc"])
def test_malformed_token_is_replaced(db, bad):
    at = _app(bad)
    assert not at.exception
    token = _token(at)
    assert token != bad
    assert not any(info.value.startswith(RESTORED) for info in at.info)


def test_unknown_token_starts_fresh_and_keeps_the_token(db):
    token = autosave.new_token()
    at = _app(token)
    assert not at.exception
    assert _token(at) == token
    assert not any(info.value.startswith(RESTORED) for info in at.info)


def test_broken_store_never_breaks_an_edit(tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the store's folder should be")
    monkeypatch.setenv("IGMETA_DB_PATH", str(blocker / "igmeta.sqlite3"))
    at = _app()
    assert not at.exception
    at.sidebar.selectbox(key="w_binary_measure").set_value("OR").run()
    assert not at.exception
    assert at.session_state["settings"].binary_measure == "OR"
    at.run()
    warnings = [w.value for w in at.sidebar.warning]
    assert any("Autosave is not working" in w for w in warnings), warnings
    # A reload with a token cannot restore, but the app still opens.
    again = _app(_token(at))
    assert not again.exception
    assert again.metric[0].value


def test_a_settings_change_does_not_rehash_an_unchanged_table(db, monkeypatch):
    at = _app()
    at.sidebar.selectbox(key="w_binary_measure").set_value("OR").run()
    assert len(_rows(db)) == 1
    calls = []
    original = autosave._table_digest
    monkeypatch.setattr(autosave, "_table_digest", lambda t: calls.append(1) or original(t))
    before = _rows(db)
    at.sidebar.selectbox(key="w_binary_measure").set_value("RD").run()
    assert not at.exception
    assert _rows(db) != before  # written ...
    assert calls == []  # ... without hashing the unchanged table again
