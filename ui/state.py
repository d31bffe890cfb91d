"""The one place that names session-state keys, and the operations on them.

Pages never touch ``st.session_state`` directly: they call these functions. Every change
to the study table goes through :func:`set_table`, which records undo history and bumps
the table version (so the data editor is rebuilt from the new table).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from igmeta.app.outputs.tables import ForestLabels
from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings
from igmeta.datasets import load_ig_pnp_canonical

TABLE = "table"
TABLE_SOURCE = "table_source"
TABLE_VERSION = "table_version"
EDITOR_BASE = "editor_base"
DATA_TYPE = "data_type"
UNDO = "undo_stack"
REDO = "redo_stack"
SETTINGS = "settings"
PENDING_SETTINGS = "pending_settings"
NOTICE = "notice"
LAST_SELECTION = "last_forest_selection"
UPLOAD_NONCE = "upload_nonce"
#: The "paste rows" box on the Data page (ui.paste_box): its text and its last problem.
PASTE_TEXT = "paste_text"
PASTE_ERROR = "paste_error"
#: The study grid (see :mod:`ui.grid`): the edit state last stored, and whether the grid's
#: on_change callback ran for this script run.
GRID_APPLIED = "grid_applied"
GRID_EDITED = "grid_edited"
#: What the sidebar last read from the table (``ui.sidebar.table_inputs``): the Data page's
#: grid fragment reruns the whole app when an edit changes it.
SIDEBAR_INPUTS = "sidebar_inputs"
#: The Templates expander of the Data page (its tables are built only while it is open).
TEMPLATES_OPEN = "templates_open"
SCENARIO_ID = "scenario_id"
#: Autosave (see :mod:`ui.autosave`): the session's token (also in the URL), what was
#: last saved, the last autosave failure, and a pending "restored" message.
SESSION_TOKEN = "session_token"
AUTOSAVE_MARK = "autosave_mark"
AUTOSAVE_ERROR = "autosave_error"
RESTORED_FROM = "restored_from"
#: Prefix of the sidebar widgets' keys (one per AnalysisSettings field).
WIDGET_PREFIX = "w_"
UNDO_LIMIT = 50
BUNDLED_SOURCE = "IG for peripheral neuropathic pain (bundled, partly reconstructed)"


def widget_key(setting: str) -> str:
    """Session-state key of the sidebar widget bound to ``setting``."""
    return f"{WIDGET_PREFIX}{setting}"


def editor_key() -> str:
    """Key of the data editor widget for the current table version."""
    return f"study_editor_{st.session_state[TABLE_VERSION]}"


def init_state() -> None:
    """Create the session's state on first run (bundled IG data, default settings)."""
    ss = st.session_state
    if TABLE not in ss:
        table = load_ig_pnp_canonical()
        ss[TABLE] = table
        ss[EDITOR_BASE] = table
        ss[TABLE_SOURCE] = BUNDLED_SOURCE
        ss[TABLE_VERSION] = 0
        ss[DATA_TYPE] = "binary"
        ss[UNDO] = []
        ss[REDO] = []
        ss[UPLOAD_NONCE] = 0
    if SETTINGS not in ss:
        # A new session opens on the paper: the published analysis of the bundled data.
        ss[SETTINGS] = PUBLISHED_COMPARISON


def get_table() -> pd.DataFrame:
    """The current study table."""
    return st.session_state[TABLE]


def get_source() -> str:
    """Where the current table came from."""
    return st.session_state[TABLE_SOURCE]


def get_data_type() -> str:
    """The data type of the current table."""
    return st.session_state[DATA_TYPE]


def table_version() -> int:
    """Version number of the table, bumped by every change not made in the editor."""
    return st.session_state[TABLE_VERSION]


def set_table(
    table: pd.DataFrame,
    *,
    source: str | None = None,
    data_type: str | None = None,
    from_editor: bool = False,
) -> None:
    """Replace the study table, keeping undo history.

    Parameters
    ----------
    table : DataFrame
        The new table (canonical column names).
    source, data_type : str, optional
        Set when the table comes from an upload or a reset.
    from_editor : bool
        True when the change was typed in the data editor (the editor keeps showing its
        own state, so it is not rebuilt).
    """
    ss = st.session_state
    undo = ss[UNDO]
    undo.append((ss[TABLE], ss[TABLE_SOURCE], ss[DATA_TYPE]))
    del undo[:-UNDO_LIMIT]
    ss[REDO] = []
    ss[TABLE] = table.reset_index(drop=True)
    if source is not None:
        ss[TABLE_SOURCE] = source
    if data_type is not None:
        ss[DATA_TYPE] = data_type
    if not from_editor:
        ss[EDITOR_BASE] = ss[TABLE]
        ss[TABLE_VERSION] += 1
    _autosave()


def _swap(from_key: str, to_key: str) -> bool:
    ss = st.session_state
    if not ss[from_key]:
        return False
    ss[to_key].append((ss[TABLE], ss[TABLE_SOURCE], ss[DATA_TYPE]))
    ss[TABLE], ss[TABLE_SOURCE], ss[DATA_TYPE] = ss[from_key].pop()
    ss[EDITOR_BASE] = ss[TABLE]
    ss[TABLE_VERSION] += 1
    _autosave()
    return True


def undo() -> bool:
    """Restore the previous table; False when there is nothing to undo."""
    return _swap(UNDO, REDO)


def redo() -> bool:
    """Re-apply an undone change; False when there is nothing to redo."""
    return _swap(REDO, UNDO)


def can_undo() -> bool:
    """Whether an undo is possible."""
    return bool(st.session_state[UNDO])


def can_redo() -> bool:
    """Whether a redo is possible."""
    return bool(st.session_state[REDO])


def editor_base() -> pd.DataFrame:
    """The table the data editor starts from (its edits are deltas on top of it)."""
    ss = st.session_state
    if editor_key() not in ss and not ss[EDITOR_BASE].equals(ss[TABLE]):
        # The editor widget was not rendered on the last run (another page was shown):
        # its pending edits are already in TABLE, so start it from TABLE.
        ss[EDITOR_BASE] = ss[TABLE]
    return ss[EDITOR_BASE]


def refresh_editor() -> None:
    """Rebuild the data editor from the current table, without an undo entry.

    For the Data page: after an edit changes the computed row status, or when the table was
    changed without :func:`set_table`, the editor must start again from the table.
    """
    ss = st.session_state
    ss[EDITOR_BASE] = ss[TABLE]
    ss[TABLE_VERSION] += 1


def grid_applied() -> object:
    """Marker of the grid edit state already stored (see :func:`ui.grid.apply_edits`)."""
    return st.session_state.get(GRID_APPLIED)


def set_grid_applied(marker: object) -> None:
    """Record the grid edit state just stored."""
    st.session_state[GRID_APPLIED] = marker


def mark_grid_edited() -> None:
    """Record that this script run was caused by an edit in the grid."""
    st.session_state[GRID_EDITED] = True


def pop_grid_edited() -> bool:
    """Whether this script run was caused by an edit in the grid (the mark is cleared)."""
    return bool(st.session_state.pop(GRID_EDITED, False))


def sidebar_inputs() -> object:
    """What the sidebar read from the table when it was last drawn (None before)."""
    return st.session_state.get(SIDEBAR_INPUTS)


def set_sidebar_inputs(inputs: object) -> None:
    """Remember what the sidebar read from the table in this run."""
    st.session_state[SIDEBAR_INPUTS] = inputs


def upload_key(name: str) -> str:
    """Key of an upload widget (uploader, sheet, mapping); fresh after :func:`next_upload`."""
    return f"upload_{st.session_state[UPLOAD_NONCE]}_{name}"


def next_upload() -> None:
    """Forget the current upload widgets, so an applied upload is not applied again."""
    st.session_state[UPLOAD_NONCE] += 1


def reset_to_bundled() -> None:
    """Replace the table with the bundled IG data (undoable)."""
    set_table(load_ig_pnp_canonical(), source=BUNDLED_SOURCE, data_type="binary")


def toggle_included(row: int) -> None:
    """Switch the include flag of table row ``row`` (a click in the forest plot)."""
    table = get_table().copy()
    if "include" not in table:
        table["include"] = True
    # A blank include cell means included (as validation reads it).
    current = table["include"].astype("boolean").fillna(True)
    table["include"] = current
    table.loc[row, "include"] = not bool(current.iloc[row])
    set_table(table)


def get_settings() -> AnalysisSettings:
    """The current analysis settings."""
    return st.session_state[SETTINGS]


def set_settings(settings: AnalysisSettings) -> None:
    """Store the analysis settings (autosaved when they changed)."""
    st.session_state[SETTINGS] = settings
    _autosave()


def request_settings(settings: AnalysisSettings) -> None:
    """Ask the sidebar to show ``settings`` on the next run (presets, scenarios)."""
    st.session_state[PENDING_SETTINGS] = settings


def pop_pending_settings() -> AnalysisSettings | None:
    """Settings requested by :func:`request_settings`, once."""
    return st.session_state.pop(PENDING_SETTINGS, None)


def last_selection() -> object:
    """The forest-plot selection already acted upon (to act on a click only once)."""
    return st.session_state.get(LAST_SELECTION)


def remember_selection(selection: object) -> None:
    """Record a forest-plot selection as handled."""
    st.session_state[LAST_SELECTION] = selection


def set_paste_error(text: str | None) -> None:
    """Record (or clear, with None) why the pasted block could not be added."""
    st.session_state[PASTE_ERROR] = text


def pop_paste_error() -> str | None:
    """Why the pasted block could not be added, once."""
    return st.session_state.pop(PASTE_ERROR, None)


def set_notice(text: str | None) -> None:
    """A one-off message to show on the next run (e.g. after an upload)."""
    st.session_state[NOTICE] = text


def pop_notice() -> str | None:
    """The pending one-off message, once."""
    return st.session_state.pop(NOTICE, None)


# --------------------------------------------------------------------------- autosave


#: Called after the table or the settings changed, once the session has an autosave
#: token. :mod:`ui.autosave` registers its saver here when imported, so this module needs
#: no import of it (ui.autosave reads and writes the session through this module).
_CHANGE_LISTENERS: list[Callable[[], object]] = []


def on_change(listener: Callable[[], object]) -> None:
    """Call ``listener`` after every change of table or settings (registered once)."""
    if listener not in _CHANGE_LISTENERS:
        _CHANGE_LISTENERS.append(listener)


def _autosave() -> None:
    """Autosave a change of table or settings (a no-op until the session has a token)."""
    if SESSION_TOKEN in st.session_state:
        for listener in _CHANGE_LISTENERS:
            listener()


def session_token() -> str | None:
    """The session's autosave token (None before :func:`ui.autosave.start`)."""
    return st.session_state.get(SESSION_TOKEN)


def set_session_token(token: str) -> None:
    """Give the session its autosave token."""
    st.session_state[SESSION_TOKEN] = token


def autosave_mark() -> object | None:
    """What was last autosaved (an :class:`ui.autosave.AutosaveMark`), or None."""
    return st.session_state.get(AUTOSAVE_MARK)


def set_autosave_mark(mark: object) -> None:
    """Record what was last autosaved."""
    st.session_state[AUTOSAVE_MARK] = mark


def autosave_error() -> str | None:
    """Why the last autosave failed, or None."""
    return st.session_state.get(AUTOSAVE_ERROR)


def set_autosave_error(text: str | None) -> None:
    """Record (or clear, with None) an autosave failure."""
    st.session_state[AUTOSAVE_ERROR] = text


def set_restored_from(when: str, *, forked: bool = False) -> None:
    """Remember that autosaved work from ``when`` was restored (shown once)."""
    st.session_state[RESTORED_FROM] = (when, forked)


def pop_restored_from() -> tuple[str, bool] | None:
    """``(when, forked)`` of a restore not yet announced, once."""
    return st.session_state.pop(RESTORED_FROM, None)


# --------------------------------------------------------------------------- journal club
# Scenarios, share links and presenter mode (ui.share, pages/scenarios.py, pages/present.py).

#: The session's workspace token: saved scenarios are listed per workspace.
WORKSPACE = "workspace_id"
#: Set once the URL's ?scenario= / ?workspace= parameters have been read.
SHARE_HANDLED = "share_query_handled"
#: A message about the shared link, shown until dismissed: (level, text).
SHARE_MESSAGE = "share_message"
#: Index of the presenter's current step.
PRESENTER_STEP = "presenter_step"
#: Prefix of the widget keys of the journal-club pages.
JOURNAL_WIDGET_PREFIX = "jc_"


def journal_key(name: str) -> str:
    """Session-state key of a widget on the Scenarios or Presenter page."""
    return f"{JOURNAL_WIDGET_PREFIX}{name}"


#: Prefix of the widget keys of the meta-regression page.
METAREG_WIDGET_PREFIX = "mr_"


def metareg_key(name: str) -> str:
    """Session-state key of a widget on the Meta-regression page."""
    return f"{METAREG_WIDGET_PREFIX}{name}"


def share_handled() -> bool:
    """Whether the share query parameters were already read in this session."""
    return bool(st.session_state.get(SHARE_HANDLED))


def mark_share_handled() -> None:
    """Record that the share query parameters were read."""
    st.session_state[SHARE_HANDLED] = True


def workspace() -> str | None:
    """The session's workspace token (None until :func:`set_workspace`)."""
    return st.session_state.get(WORKSPACE)


def set_workspace(token: str) -> None:
    """Use ``token`` as the session's workspace."""
    st.session_state[WORKSPACE] = token


def current_scenario() -> dict | None:
    """The scenario the current analysis was loaded from or saved as:
    ``{"id", "name", "fingerprint", "mine"}``, or None."""
    return st.session_state.get(SCENARIO_ID)


def set_current_scenario(info: dict | None) -> None:
    """Record (or forget, with None) the current scenario."""
    st.session_state[SCENARIO_ID] = info


def share_message() -> tuple[str, str] | None:
    """The pending message about a shared link: (level, text)."""
    return st.session_state.get(SHARE_MESSAGE)


def set_share_message(message: tuple[str, str] | None) -> None:
    """Show (or clear, with None) a message about a shared link."""
    st.session_state[SHARE_MESSAGE] = message


def presenter_step() -> int:
    """The presenter's current step (0 = the starting analysis)."""
    return int(st.session_state.get(PRESENTER_STEP, 0))


def set_presenter_step(step: int) -> None:
    """Move the presenter to ``step``."""
    st.session_state[PRESENTER_STEP] = int(step)


# --------------------------------------------------------------------------- long tasks
# GOSH and permutation runs with a progress bar and a Cancel button (ui.long_task).

#: The open tab of the Sensitivity page (only its panel is computed and drawn).
SENSITIVITY_TAB = "sensitivity_tab"
#: Names of the long tasks the user cancelled, until their panel has said so.
CANCELLED_TASKS = "cancelled_tasks"


#: The last finished run of each long task: ``{task: (inputs key, seconds)}``.
LONG_TASK_RUNS = "long_task_runs"


def remember_long_task(task: str, key: str, seconds: float) -> None:
    """Record that ``task`` finished for the inputs ``key`` (its result is cached), so
    that the panel shows it again after a tab switch or another rerun."""
    st.session_state.setdefault(LONG_TASK_RUNS, {})[task] = (key, seconds)


def last_long_task(task: str) -> tuple[str, float] | None:
    """``(inputs key, seconds)`` of the last finished run of ``task``, or None."""
    return st.session_state.get(LONG_TASK_RUNS, {}).get(task)


def mark_cancelled(task: str) -> None:
    """Record that the user pressed Cancel on the long task ``task``."""
    st.session_state.setdefault(CANCELLED_TASKS, set()).add(task)


def pop_cancelled(task: str) -> bool:
    """Whether ``task`` was cancelled since the last call (the mark is cleared)."""
    marks = st.session_state.get(CANCELLED_TASKS)
    if not marks or task not in marks:
        return False
    marks.discard(task)
    return True


# --------------------------------------------------------------------------- forest labels

#: The forest plot's arm names and "Favours" labels typed on the Analysis page: the
#: widgets (``plotlabel_w_<field>``) are copied to ``plotlabel_<field>`` so that the text
#: survives visits to other pages (Streamlit drops the state of widgets not drawn).
FOREST_LABEL_PREFIX = "plotlabel_"
FOREST_LABEL_FIELDS = ("treatment", "control", "favours_left", "favours_right")


def forest_label_key(field: str) -> str:
    """Session-state key of the forest-label text input for ``field``."""
    return f"{FOREST_LABEL_PREFIX}w_{field}"


def restore_forest_label(field: str) -> None:
    """Give the text input of ``field`` the text typed earlier (before drawing it)."""
    st.session_state[forest_label_key(field)] = st.session_state.get(
        f"{FOREST_LABEL_PREFIX}{field}", ""
    )


def remember_forest_label(field: str) -> None:
    """Keep what was typed in the text input of ``field`` (its on_change callback)."""
    st.session_state[f"{FOREST_LABEL_PREFIX}{field}"] = st.session_state.get(
        forest_label_key(field), ""
    )


def default_forest_labels() -> ForestLabels:
    """Arm and "Favours" names for the current table (IG vs placebo for the bundled data)."""
    if get_source() == BUNDLED_SOURCE:
        return ForestLabels("IG (treatment)", "Placebo (control)", "Favours placebo", "Favours IG")
    return ForestLabels()


def forest_labels() -> ForestLabels:
    """The forest plot's labels: what the user typed, else :func:`default_forest_labels`."""
    defaults = default_forest_labels()
    return ForestLabels(
        **{
            field: st.session_state.get(f"{FOREST_LABEL_PREFIX}{field}") or getattr(defaults, field)
            for field in FOREST_LABEL_FIELDS
        }
    )


# --------------------------------------------------------------------------- GRADE
# The Certainty (GRADE) page (ui.grade_page): the user's choices are kept in
# ``grade_<name>``; each widget (``grade_w_<name>``) is restored from it before it is drawn
# (Streamlit drops the state of widgets on pages not shown) and copied back on change.

GRADE_PREFIX = "grade_"


def grade_widget_key(name: str) -> str:
    """Session-state key of the GRADE page widget for ``name``."""
    return f"{GRADE_PREFIX}w_{name}"


def grade_value(name: str, default: object = None) -> object:
    """The user's GRADE choice ``name`` (``default`` when not set)."""
    return st.session_state.get(f"{GRADE_PREFIX}{name}", default)


def restore_grade_widget(name: str, default: object) -> None:
    """Give the widget of ``name`` the user's earlier choice, else ``default``."""
    st.session_state[grade_widget_key(name)] = grade_value(name, default)


def remember_grade(name: str) -> None:
    """Keep the value of the widget of ``name`` (its on_change callback)."""
    st.session_state[f"{GRADE_PREFIX}{name}"] = st.session_state.get(grade_widget_key(name))


def forget_grade(name: str) -> None:
    """Drop the user's choice ``name`` (back to the suggestion or default)."""
    st.session_state.pop(f"{GRADE_PREFIX}{name}", None)


# --------------------------------------------------------------------------- risk of bias

#: The Risk of bias page: the "low risk of bias only" toggle and the tool shown (when the
#: table has both RoB 2 and ROBINS-I columns).
ROB_LOW_ONLY = "rob_low_only"
ROB_TOOL = "rob_tool"
