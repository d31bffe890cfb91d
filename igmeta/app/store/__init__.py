"""The scenario store: one interface (:class:`Store`), two back ends.

* :class:`SQLiteStore` (alias :class:`ScenarioStore`, the name it always had): one SQLite
  file beside one app process, the default (``IGMETA_DB_PATH``).
* :class:`~igmeta.app.store.postgres.PostgresStore`: PostgreSQL shared by several app replicas
  (``IGMETA_DB_URL=postgresql://...``; needs ``psycopg`` and ``psycopg_pool``, imported
  only then).

:func:`default_store` opens the one the environment names (:mod:`igmeta.app.store.url`);
:mod:`igmeta.app.store.backup` copies every scenario to a file and into another store.
"""

from __future__ import annotations

from igmeta.app.store.base import (
    AUTOSAVE_MAX_AGE_DAYS,
    MAX_TABLE_JSON_CHARS,
    MIGRATIONS,
    SCHEMA_VERSION,
    Store,
    StoreUnavailable,
)
from igmeta.app.store.sqlite import BUSY_TIMEOUT_MS, DB_ENV, DEFAULT_DB_PATH, SQLiteStore, db_path
from igmeta.app.store.url import (
    URL_ENV,
    autosave,
    default_store,
    load_autosave,
    open_store,
    store_target,
)

#: The SQLite store under the name it had before PostgreSQL was added.
ScenarioStore = SQLiteStore

__all__ = [
    "AUTOSAVE_MAX_AGE_DAYS",
    "BUSY_TIMEOUT_MS",
    "DB_ENV",
    "DEFAULT_DB_PATH",
    "MAX_TABLE_JSON_CHARS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SQLiteStore",
    "ScenarioStore",
    "Store",
    "StoreUnavailable",
    "URL_ENV",
    "autosave",
    "db_path",
    "default_store",
    "load_autosave",
    "open_store",
    "store_target",
]
