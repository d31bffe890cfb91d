"""Which store this process uses: ``IGMETA_DB_URL`` or ``IGMETA_DB_PATH``.

* ``IGMETA_DB_URL=postgresql://user:password@host:port/database`` (or ``postgres://``):
  the shared PostgreSQL store (:class:`~igmeta.app.store.postgres.PostgresStore`).
* ``IGMETA_DB_URL=sqlite:///path/file.sqlite3`` or a plain path, or ``IGMETA_DB_URL``
  unset or empty: the SQLite file at that path, else at ``$IGMETA_DB_PATH``, else at
  ``~/.igmeta/igmeta.sqlite3`` (:class:`~igmeta.app.store.sqlite.SQLiteStore`).

Any other URL scheme is refused with a message saying what is accepted.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pandas as pd

from igmeta.app.pipeline.analysis import AnalysisSettings
from igmeta.app.store.base import Store, StoreUnavailable
from igmeta.app.store.records import Scenario
from igmeta.app.store.sqlite import SQLiteStore, db_path

__all__ = [
    "URL_ENV",
    "autosave",
    "default_store",
    "load_autosave",
    "open_store",
    "store_target",
]

#: Environment variable naming the database (``postgresql://...`` or a SQLite path).
URL_ENV = "IGMETA_DB_URL"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def store_target(url: str | os.PathLike | None = None) -> tuple[str, str]:
    """``("postgresql", url)`` or ``("sqlite", path)`` for ``url`` (default: the
    environment, see the module notes).

    Raises
    ------
    StoreUnavailable
        For a URL of another scheme.
    """
    raw = os.environ.get(URL_ENV, "") if url is None else os.fspath(url)
    raw = raw.strip()
    if not raw:
        return "sqlite", str(db_path())
    match = _SCHEME.match(raw)
    if match is None:
        return "sqlite", str(Path(raw).expanduser())
    scheme = match.group(1).lower()
    if scheme in ("postgresql", "postgres"):
        return "postgresql", raw
    if scheme == "sqlite":
        return "sqlite", str(Path(raw[len("sqlite://") :]).expanduser())
    raise StoreUnavailable(
        f"{URL_ENV} has the scheme {scheme!r}, which igmeta cannot use: give "
        "postgresql://user:password@host:port/database for PostgreSQL, or a file path "
        "(or sqlite:///path) for SQLite."
    )


def open_store(url: str | os.PathLike | None = None) -> Store:
    """Open (and migrate) the store named by ``url`` or by the environment."""
    kind, where = store_target(url)
    if kind == "postgresql":
        from igmeta.app.store.postgres import PostgresStore

        return PostgresStore(where)
    return SQLiteStore(where)


_STORES: dict[tuple[str, str], Store] = {}
_STORES_LOCK = threading.Lock()


def default_store() -> Store:
    """The store named by the environment (opened and migrated once per process and
    target)."""
    target = store_target()
    with _STORES_LOCK:
        store = _STORES.get(target)
        if store is None:
            store = _STORES[target] = open_store()
        return store


def autosave(
    session_id: str, table: pd.DataFrame, settings: AnalysisSettings, *, source: str = ""
) -> None:
    """Autosave (table, settings) of ``session_id`` in the default store."""
    default_store().autosave(session_id, table, settings, source=source)


def load_autosave(session_id: str) -> Scenario | None:
    """The autosave of ``session_id`` in the default store, or None."""
    return default_store().load_autosave(session_id)
