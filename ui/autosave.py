"""Nothing lost: the session's table and settings are autosaved as they change.

A Streamlit session ends with the browser tab (a reload starts a new one), so the user's
work is tied to a random token kept in the page URL (``?session=...``, created on the
first visit with :func:`secrets.token_urlsafe`). Every change of the study table
(:func:`ui.state.set_table`, undo, redo) and of the analysis settings is written to the
SQLite store of :mod:`igmeta.app.store.scenarios` under that token; reloading the page, or opening
the same URL after a server restart, restores it (:func:`start`, called by ``app.py``).

Writes are cheap: nothing is serialised while the table object, the settings, the source
and the data type are those of the last save, and nothing is written when the serialised
content has the same hash as the last save.

A link with a token can be shared by mistake (copied from the address bar). When a token
is already used by another live session of this server, the newcomer gets a copy of the
saved work under a new token, so two people never overwrite each other's autosave.

Failures of the store never interrupt the user: they are logged and shown once as a
warning in the sidebar.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import re
import secrets
import threading
import zoneinfo
from typing import NamedTuple

import pandas as pd
import streamlit as st

from igmeta.app.pipeline.analysis import ANALYSES, AnalysisSettings
from igmeta.app.store.records import table_digest as _table_digest
from igmeta.app.store.scenarios import autosave as store_autosave
from igmeta.app.store.scenarios import load_autosave, settings_to_json
from ui import state

__all__ = [
    "QUERY_PARAM",
    "AutosaveMark",
    "new_token",
    "save_if_changed",
    "show_status",
    "start",
    "valid_token",
]

#: Name of the URL query parameter holding the session token.
QUERY_PARAM = "session"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_LOG = logging.getLogger(__name__)

# Which Streamlit session uses which token (token -> Streamlit session id). Not user data:
# only used to notice a token opened twice at the same time. Pruned as it grows.
_CLAIMS: dict[str, str] = {}
_CLAIMS_LOCK = threading.Lock()
_CLAIMS_PRUNE_AT = 2_000


class AutosaveMark(NamedTuple):
    """What was last saved (or found at the start) for a session.

    ``table`` is the table object itself (compared by identity, so an unchanged table is
    never serialised); ``settings`` is None until the sidebar has settled the first run's
    settings; ``digest`` is the hash of the saved content ("" when nothing was saved) and
    ``table_digest`` the hash of the table alone (reused while the table is unchanged, so a
    settings change serialises the table only once, for the store).
    """

    table: pd.DataFrame
    settings: AnalysisSettings | None
    source: str
    data_type: str
    digest: str
    table_digest: str = ""


def new_token() -> str:
    """A fresh unguessable session token (128 random bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def valid_token(value: object) -> bool:
    """Whether ``value`` has the shape of a session token."""
    return isinstance(value, str) and bool(_TOKEN.fullmatch(value))


# --------------------------------------------------------------------------- claims


def _streamlit_session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return getattr(ctx, "session_id", None)


def _is_live(session_id: str) -> bool:
    from streamlit.runtime import Runtime

    try:
        return Runtime.exists() and Runtime.instance().is_active_session(session_id)
    except Exception:  # no runtime (AppTest, bare mode): nobody else is live
        return False


def _claim(token: str) -> bool:
    """Take ``token`` for this session; False if another live session holds it."""
    me = _streamlit_session_id()
    if me is None:
        return True
    with _CLAIMS_LOCK:
        holder = _CLAIMS.get(token)
        if holder is not None and holder != me and _is_live(holder):
            return False
        _CLAIMS[token] = me
        if len(_CLAIMS) > _CLAIMS_PRUNE_AT:
            for key, session_id in list(_CLAIMS.items()):
                if session_id != me and not _is_live(session_id):
                    del _CLAIMS[key]
    return True


# --------------------------------------------------------------------------- saving


def _saved_settings(settings: AnalysisSettings, data_type: str) -> AnalysisSettings:
    """Settings consistent with the table's data type (as the sidebar will make them)."""
    if settings.data_type == data_type or data_type not in ANALYSES:
        return settings
    return AnalysisSettings(
        data_type=data_type,
        analysis=ANALYSES[data_type][0][0],
        subgroup_column=settings.subgroup_column,
    )


def _digest(table_digest: str, settings: AnalysisSettings, source: str) -> str:
    hasher = hashlib.sha256()
    for part in (table_digest, settings_to_json(settings), str(source)):
        hasher.update(part.encode("utf-8"))
        hasher.update(b"\x00")
    return hasher.hexdigest()


def _snapshot() -> AutosaveMark:
    """The mark describing the session's current (table, settings, source, type)."""
    data_type = state.get_data_type()
    return AutosaveMark(
        table=state.get_table(),
        settings=_saved_settings(state.get_settings(), data_type),
        source=state.get_source(),
        data_type=data_type,
        digest="",
    )


def _same_objects(a: AutosaveMark | None, b: AutosaveMark) -> bool:
    return (
        a is not None
        and a.table is b.table
        and a.settings == b.settings
        and a.source == b.source
        and a.data_type == b.data_type
    )


def save_if_changed(*, force: bool = False) -> bool:
    """Write the session's table and settings to the store if they changed.

    Called by :mod:`ui.state` after every table or settings change. Does nothing before
    :func:`start` has given the session a token. Never raises: a failure is logged and
    remembered for :func:`show_status`.

    Returns
    -------
    bool
        True when a row was written.
    """
    token = state.session_token()
    if token is None:
        return False
    mark = state.autosave_mark()
    current = _snapshot()
    if not force and _same_objects(mark, current):
        return False
    if (
        not force
        and mark is not None
        and mark.settings is None
        and mark.table is current.table
        and mark.source == current.source
        and mark.data_type == current.data_type
    ):
        # The first run's settings, as the sidebar builds them: nothing changed yet.
        state.set_autosave_mark(current)
        return False
    try:
        same_table = mark is not None and mark.table is current.table and mark.table_digest
        table_digest = mark.table_digest if same_table else _table_digest(current.table)
        digest = _digest(table_digest, current.settings, current.source)
        current = current._replace(digest=digest, table_digest=table_digest)
        if not force and mark is not None and mark.digest == digest:
            state.set_autosave_mark(current)
            return False
        store_autosave(token, current.table, current.settings, source=current.source)
    except Exception as exc:  # the store must never break an edit
        _LOG.warning("autosave failed for a session: %s", exc)
        state.set_autosave_error(
            "Autosave is not working right now, so a reload could lose your latest "
            "changes. Save a scenario or download the table to keep them."
        )
        return False
    state.set_autosave_mark(current)
    state.set_autosave_error(None)
    return True


# --------------------------------------------------------------------------- restoring


def _when(saved_at: str) -> str:
    """A stored UTC time in the browser's time zone when known (else UTC)."""
    try:
        moment = _dt.datetime.fromisoformat(saved_at)
    except (TypeError, ValueError):
        return str(saved_at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    zone_name = None
    try:
        zone_name = st.context.timezone
    except Exception:
        zone_name = None
    try:
        zone = zoneinfo.ZoneInfo(zone_name) if zone_name else _dt.UTC
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = _dt.UTC
    local = moment.astimezone(zone)
    label = "UTC" if zone is _dt.UTC else local.tzname() or str(zone)
    return f"{local:%d %b %Y, %H:%M:%S} {label}"


def _restore(token: str) -> str | None:
    """Put the autosave of ``token`` into the session; the time it was saved, or None."""
    try:
        saved = load_autosave(token)
    except Exception as exc:
        _LOG.warning("autosave could not be read: %s", exc)
        state.set_autosave_error(
            "Your autosaved work could not be read, so the bundled data are shown."
        )
        return None
    if saved is None:
        return None
    data_type = saved.settings.data_type
    state.set_settings(saved.settings)
    state.request_settings(saved.settings)
    state.set_table(saved.table, source=saved.source or "Restored work", data_type=data_type)
    return saved.updated_at


def start() -> None:
    """Give the session its token (from the URL or new) and restore its autosave.

    Call once per run, right after :func:`ui.state.init_state` and before the sidebar.
    On the first run of a browser session the URL's token is taken (a malformed one is
    replaced); if the store holds work for it, the table and settings come back and
    :func:`show_status` tells the user when they were saved.
    """
    token = state.session_token()
    if token is None:
        requested = st.query_params.get(QUERY_PARAM)
        restored_at = None
        if valid_token(requested):
            restored_at = _restore(requested)
            token = requested if _claim(requested) else None
        forked = token is None and restored_at is not None
        while token is None:
            candidate = new_token()
            token = candidate if _claim(candidate) else None
        state.set_session_token(token)
        baseline = _snapshot()
        if restored_at is None:  # nothing is written until the user changes something
            baseline = baseline._replace(settings=None)
        else:
            table_digest = _table_digest(baseline.table)
            baseline = baseline._replace(
                digest=_digest(table_digest, baseline.settings, baseline.source),
                table_digest=table_digest,
            )
        state.set_autosave_mark(baseline)
        if restored_at is not None:
            state.set_restored_from(_when(restored_at), forked=forked)
            if forked:
                save_if_changed(force=True)
    if st.query_params.get(QUERY_PARAM) != token:
        st.query_params[QUERY_PARAM] = token


def show_status() -> None:
    """Tell the user about a restore (once) and about autosave failures."""
    restored = state.pop_restored_from()
    if restored is not None:
        when, forked = restored
        if forked:
            st.info(
                f"Restored your unsaved work from {when}. This link was already open in "
                "another window, so this window continues with a copy under a new link.",
                icon=":material/restore:",
            )
        else:
            st.info(f"Restored your unsaved work from {when}.", icon=":material/restore:")
    error = state.autosave_error()
    if error:
        st.sidebar.warning(error, icon=":material/cloud_off:")


# Every change of table or settings is autosaved (ui.state calls its listeners).
state.on_change(save_if_changed)
