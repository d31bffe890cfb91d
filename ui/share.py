"""Shareable links and the scenario store, for the dashboard.

``?scenario=<id>`` opens the dashboard on a saved scenario: :func:`handle_query_params`
(called by ``app.py`` right after :func:`ui.state.init_state`) reads the URL once per
session and puts the scenario's table and settings into the session. A bad or unknown id
gives a clear warning and the bundled data, never an error page. ``?workspace=<token>``
brings back the list of scenarios saved in an earlier session (the list is per workspace;
a scenario link alone opens one scenario, read-only).

The other helpers save, load and describe scenarios for the Scenarios and Presenter pages.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import streamlit as st

from igmeta.app.pipeline.analysis import AnalysisSettings
from igmeta.app.store.scenarios import (
    Scenario,
    ScenarioError,
    ScenarioNotFound,
    ScenarioStore,
    analysis_fingerprint,
    default_store,
    is_valid_id,
)
from ui import state
from ui.text import plain

__all__ = [
    "PAGE_PATHS",
    "SCENARIO_PARAM",
    "WORKSPACE_PARAM",
    "app_base_url",
    "current_status",
    "handle_query_params",
    "link_for",
    "load_into_session",
    "plain",
    "save_current",
    "store",
    "store_error",
    "workspace",
]

SCENARIO_PARAM = "scenario"
WORKSPACE_PARAM = "workspace"
#: url_path of every page, stripped from the browser URL to get the app's base URL.
PAGE_PATHS = ("analysis", "data", "bias", "sensitivity", "methods", "scenarios", "present")
_LOG = logging.getLogger(__name__)
_STORE_PROBLEM = (
    "The scenario store cannot be opened ({reason}). Saving and shared links "
    "are unavailable; the analysis itself works as usual."
)


def store() -> ScenarioStore | None:
    """The scenario store, or None when it cannot be opened (see :func:`store_error`)."""
    try:
        return default_store()
    except (ScenarioError, sqlite3.Error, OSError) as exc:
        _LOG.warning("scenario store unavailable: %s", exc)
        return None


def store_error() -> str | None:
    """Why the store cannot be opened, in plain words (None when it works)."""
    try:
        default_store()
    except (ScenarioError, sqlite3.Error, OSError) as exc:
        return _STORE_PROBLEM.format(reason=type(exc).__name__)
    return None


def workspace() -> str:
    """The session's workspace token (created on first use)."""
    token = state.workspace()
    if token is None:
        token = secrets.token_urlsafe(16)
        state.set_workspace(token)
        st.query_params[WORKSPACE_PARAM] = token
    return token


def load_into_session(scenario: Scenario) -> None:
    """Make ``scenario`` the session's analysis (undoable table change, sidebar settings)."""
    settings = scenario.settings
    state.set_table(
        scenario.table,
        source=scenario.source or f"Scenario: {scenario.name}",
        data_type=settings.data_type,
    )
    state.set_settings(settings)
    state.request_settings(settings)
    state.set_current_scenario(
        {
            "id": scenario.id,
            "name": scenario.name,
            "fingerprint": analysis_fingerprint(scenario.table, settings),
            "mine": scenario.owner is not None and scenario.owner == state.workspace(),
            "builtin": scenario.builtin,
        }
    )


def _open_shared(scenario_id: str) -> None:
    if not is_valid_id(scenario_id):
        state.set_share_message(
            (
                "warning",
                "The link's scenario id is not valid (it may have "
                "been cut off when it was copied). Showing the bundled "
                "data instead.",
            )
        )
        return
    db = store()
    if db is None:
        state.set_share_message(
            (
                "warning",
                "Shared scenarios cannot be opened right now: "
                "the scenario store is unavailable. Showing the bundled "
                "data instead.",
            )
        )
        return
    try:
        scenario = db.load(scenario_id)
    except ScenarioNotFound:
        state.set_share_message(
            (
                "warning",
                "No saved scenario matches this link: it may have "
                "been deleted, or the link was copied incompletely. Showing "
                "the bundled data instead.",
            )
        )
        return
    except (ScenarioError, sqlite3.Error, OSError) as exc:
        _LOG.warning("shared scenario could not be read: %s", exc)
        state.set_share_message(
            ("warning", "The shared scenario could not be read. Showing the bundled data instead.")
        )
        return
    load_into_session(scenario)
    name = plain(scenario.name)
    state.set_share_message(
        (
            "info",
            f"Opened the shared scenario \u201c{name}\u201d. Changes "
            "you make are not saved to it; save a copy on the Scenarios & "
            "sharing page.",
        )
    )


def _show_message() -> None:
    message = state.share_message()
    if message is None:
        return
    level, text = message
    box = st.container()
    if level == "warning":
        box.warning(text, icon=":material/link_off:")
    else:
        box.info(text, icon=":material/link:")
    if box.button("Dismiss", key=state.journal_key("dismiss_share_message")):
        state.set_share_message(None)
        st.rerun()


def handle_query_params() -> None:
    """Read ``?scenario=`` and ``?workspace=`` once per session; show the outcome.

    Never raises: every problem becomes a warning, and the bundled data stay in place.
    """
    if not state.share_handled():
        state.mark_share_handled()
        try:
            requested_ws = st.query_params.get(WORKSPACE_PARAM)
            requested = st.query_params.get(SCENARIO_PARAM)
        except Exception:  # pragma: no cover - no query string support
            requested_ws = requested = None
        if isinstance(requested_ws, str) and is_valid_id(requested_ws):
            state.set_workspace(requested_ws)
        if requested is not None:
            _open_shared(str(requested))
    token = state.workspace()
    if token is not None and st.query_params.get(WORKSPACE_PARAM) != token:
        # Kept in the address bar (like the autosave token) so that a reload keeps the list.
        st.query_params[WORKSPACE_PARAM] = token
    _show_message()


# --------------------------------------------------------------------------- links


def app_base_url() -> str | None:
    """The app's URL in the browser without page path and query (None if unknown)."""
    try:
        url = st.context.url
    except Exception:  # pragma: no cover - no browser (bare mode)
        url = None
    if not url:
        return None
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    last = path.rsplit("/", 1)[-1]
    if last in PAGE_PATHS:
        path = path[: -len(last)].rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path + "/", "", ""))


def link_for(param: str, value: str) -> tuple[str, bool]:
    """(link, absolute?) for ``?param=value``: absolute when the browser URL is known."""
    base = app_base_url()
    query = f"?{param}={value}"
    return (base + query, True) if base else (query, False)


# --------------------------------------------------------------------------- saving


def current_status(table: pd.DataFrame, settings: AnalysisSettings) -> dict | None:
    """The current scenario if the session's analysis is still exactly it, else None."""
    info = state.current_scenario()
    if not info:
        return None
    if info.get("fingerprint") != analysis_fingerprint(table, settings):
        return None
    return info


def save_current(
    name: str, table: pd.DataFrame, settings: AnalysisSettings, *, update: bool = False
) -> str:
    """Save the session's analysis (a new scenario, or an update of the current one).

    Returns the scenario id. Raises :class:`ScenarioError` with a plain message.
    """
    db = store()
    if db is None:
        raise ScenarioError(store_error() or "The scenario store is unavailable.")
    owner = workspace()
    source = state.get_source()
    info = state.current_scenario()
    try:
        if update and info and info.get("mine"):
            db.update(info["id"], table, settings, source=source, owner=owner)
            scenario_id, name = info["id"], info["name"]
        else:
            scenario_id = db.save(name, table, settings, source=source, owner=owner)
    except sqlite3.Error as exc:
        raise ScenarioError(f"The scenario could not be saved ({type(exc).__name__}).") from exc
    saved = db.load(scenario_id)
    state.set_current_scenario(
        {
            "id": scenario_id,
            "name": saved.name,
            "fingerprint": analysis_fingerprint(table, settings),
            "mine": True,
            "builtin": False,
        }
    )
    return scenario_id
