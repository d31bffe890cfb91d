"""The scenario store's interface and everything its back ends share.

A back end (:mod:`igmeta.app.store.sqlite`, :mod:`igmeta.app.store.postgres`) only says how to get
a connection, how to run one transaction and which errors are worth a retry; the SQL, the
schema and its migrations, the ownership rules and the retry loop are written once, here.

The SQL is plain enough for both SQLite and PostgreSQL: ``?`` parameters (the PostgreSQL
back end passes them to its driver as ``%s``), ``TEXT`` columns, ``ON CONFLICT ... DO
UPDATE``. The one difference, comparing a column with a parameter that may be NULL, is the
back end's :attr:`Store.owner_match`.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as _dt
import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

import pandas as pd

from igmeta.app.pipeline.analysis import AnalysisSettings
from igmeta.app.store.records import (
    BUILTIN_IDS,
    Scenario,
    ScenarioError,
    ScenarioInfo,
    ScenarioNotFound,
    ScenarioPermissionError,
    builtin_scenario,
    clean_name,
    is_valid_id,
    new_scenario_id,
    settings_from_json,
    settings_to_json,
    table_from_json,
    table_to_json,
)

__all__ = [
    "AUTOSAVE_MAX_AGE_DAYS",
    "MAX_TABLE_JSON_CHARS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "WRITE_ATTEMPTS",
    "Store",
    "StoreUnavailable",
]

#: Largest serialised table accepted (uploads are limited to 10 MB).
MAX_TABLE_JSON_CHARS = 32 * 1024 * 1024
#: Autosaves older than this are removed when a new autosave is written.
AUTOSAVE_MAX_AGE_DAYS = 30
#: How often one write transaction is tried when the database aborts it to keep
#: concurrent transactions serializable (PostgreSQL SQLSTATE 40001 / 40P01).
WRITE_ATTEMPTS = 8

#: Ordered schema migrations: (version, description, SQL statements), the same on every
#: back end.
MIGRATIONS: tuple[tuple[int, str, tuple[str, ...]], ...] = (
    (
        1,
        "scenarios",
        (
            """CREATE TABLE scenarios (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            owner TEXT,
            data_type TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            table_json TEXT NOT NULL,
            settings_json TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
            "CREATE INDEX scenarios_owner ON scenarios(owner, updated_at)",
        ),
    ),
    (
        2,
        "autosaves",
        (
            """CREATE TABLE autosaves (
            session_id TEXT PRIMARY KEY,
            data_type TEXT NOT NULL,
            source TEXT NOT NULL DEFAULT '',
            table_json TEXT NOT NULL,
            settings_json TEXT NOT NULL,
            saved_at TEXT NOT NULL
        )""",
            "CREATE INDEX autosaves_saved_at ON autosaves(saved_at)",
        ),
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]

#: Columns of the two tables, in the order :meth:`Store.export_rows` gives them.
SCENARIO_COLUMNS = (
    "id",
    "name",
    "owner",
    "data_type",
    "source",
    "table_json",
    "settings_json",
    "created_at",
    "updated_at",
)
AUTOSAVE_COLUMNS = (
    "session_id",
    "data_type",
    "source",
    "table_json",
    "settings_json",
    "saved_at",
)
_COLUMNS = {"scenarios": SCENARIO_COLUMNS, "autosaves": AUTOSAVE_COLUMNS}

T = TypeVar("T")


class StoreUnavailable(ScenarioError):
    """The database cannot be reached, opened or written (the message says which and why)."""


class Connection(Protocol):
    """What the shared code needs from a connection: ``execute(sql, params)`` returning a
    cursor with ``fetchone`` / ``fetchall`` (``?`` parameters)."""

    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


class Store(abc.ABC):
    """Scenarios and autosaves in a database; see the back ends for how to open one.

    Attributes
    ----------
    kind : str
        The back end's name ("SQLite", "PostgreSQL").
    location : str
        Where the data live, for messages (a file path, or a database URL without its
        password).
    owner_match : str
        SQL that is true when the ``owner`` column equals the parameter, NULL included.
    """

    kind: str = ""
    location: str = ""
    owner_match: str = "owner IS ?"

    # -- what a back end provides --------------------------------------------------------

    @abc.abstractmethod
    def _read(self) -> contextlib.AbstractContextManager[Connection]:
        """A connection for reading (context manager)."""

    @abc.abstractmethod
    def _write(self) -> contextlib.AbstractContextManager[Connection]:
        """One write transaction: committed when the block ends, rolled back on error."""

    def _retryable(self, exc: BaseException) -> bool:
        """Whether ``exc`` aborted a transaction that may simply be run again."""
        return False

    def _prepare(self) -> None:
        """Anything to do once before the migrations (e.g. a journal mode)."""
        return None

    def _migration_lock(self) -> contextlib.AbstractContextManager[None]:
        """Held while migrating, so that several processes opening a store migrate once."""
        return contextlib.nullcontext()

    def close(self) -> None:
        """Release the back end's connections (the store cannot be used afterwards)."""
        return None

    # -- transactions and schema -----------------------------------------------------------

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        """Run ``work(conn)`` in one write transaction, again (after a growing random
        pause) when the database aborted it for serializability, up to
        :data:`WRITE_ATTEMPTS` times. ``work`` must do nothing outside the database."""
        pause = 0.01
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self._write() as conn:
                    return work(conn)
            except Exception as exc:
                if attempt == WRITE_ATTEMPTS or not self._retryable(exc):
                    raise
            time.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, 0.5)
        raise AssertionError("unreachable")  # pragma: no cover

    def _migrate(self) -> None:
        """Apply the :data:`MIGRATIONS` not yet recorded, in order, in one transaction.

        Raises
        ------
        ScenarioError
            If the database was written by a newer igmeta (it is left untouched).
        """
        self._prepare()

        def work(conn: Connection) -> None:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                "applied_at TEXT NOT NULL)"
            )
            current = conn.execute(
                "SELECT COALESCE(MAX(version), 0) FROM schema_version"
            ).fetchone()[0]
            if current > SCHEMA_VERSION:
                raise ScenarioError(
                    f"The database {self.location} was written by a newer igmeta "
                    f"(schema {current}; this version knows {SCHEMA_VERSION})."
                )
            for version, description, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, description, applied_at) "
                    "VALUES (?, ?, ?)",
                    (version, description, _now()),
                )

        with self._migration_lock():
            self._transaction(work)

    def schema_version(self) -> int:
        """The highest migration applied to the database."""
        with self._read() as conn:
            return int(conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0])

    # -- scenarios -------------------------------------------------------------------------

    @staticmethod
    def _payload(table: pd.DataFrame, settings: AnalysisSettings) -> tuple[str, str]:
        table_json = table_to_json(table)
        if len(table_json) > MAX_TABLE_JSON_CHARS:
            raise ScenarioError("The study table is too large to save as a scenario.")
        return table_json, settings_to_json(settings)

    def save(
        self,
        name: str,
        table: pd.DataFrame,
        settings: AnalysisSettings,
        *,
        source: str = "",
        owner: str | None = None,
    ) -> str:
        """Save a new scenario and return its id."""
        name = clean_name(name)
        table_json, settings_json = self._payload(table, settings)
        scenario_id = new_scenario_id()
        now = _now()
        row = (
            scenario_id,
            name,
            owner,
            settings.data_type,
            str(source or ""),
            table_json,
            settings_json,
            now,
            now,
        )
        self._transaction(lambda conn: self._insert(conn, "scenarios", row))
        return scenario_id

    @staticmethod
    def _insert(conn: Connection, table: str, row: Sequence[Any]) -> None:
        columns = _COLUMNS[table]
        conn.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
            tuple(row),
        )

    def update(
        self,
        scenario_id: str,
        table: pd.DataFrame,
        settings: AnalysisSettings,
        *,
        source: str = "",
        owner: str | None = None,
    ) -> None:
        """Overwrite a scenario's table and settings (owner only)."""
        table_json, settings_json = self._payload(table, settings)

        def work(conn: Connection) -> None:
            self._check_owner(conn, scenario_id, owner)
            conn.execute(
                "UPDATE scenarios SET data_type = ?, source = ?, table_json = ?, "
                "settings_json = ?, updated_at = ? WHERE id = ?",
                (
                    settings.data_type,
                    str(source or ""),
                    table_json,
                    settings_json,
                    _now(),
                    scenario_id,
                ),
            )

        self._transaction(work)

    def load(self, scenario_id: str) -> Scenario:
        """The scenario with this id (built-in ids included).

        Raises
        ------
        ScenarioNotFound
            For an unknown or malformed id.
        ScenarioError
            If the stored data cannot be read.
        """
        if scenario_id in BUILTIN_IDS:
            return builtin_scenario(scenario_id)
        if not is_valid_id(scenario_id):
            raise ScenarioNotFound("This is not a valid scenario id.")
        with self._read() as conn:
            row = conn.execute(
                "SELECT id, name, owner, source, table_json, settings_json, "
                "created_at, updated_at FROM scenarios WHERE id = ?",
                (scenario_id,),
            ).fetchone()
        if row is None:
            raise ScenarioNotFound(
                "No scenario has this id: it may have been deleted, or "
                "the link was copied incompletely."
            )
        sid, name, owner, source, table_json, settings_json, created, updated = row
        return Scenario(
            sid,
            name,
            table_from_json(table_json),
            settings_from_json(settings_json),
            source,
            created,
            updated,
            owner=owner,
        )

    def list(
        self, owner: str | None = None, *, include_builtin: bool = True, all_owners: bool = False
    ) -> list[ScenarioInfo]:
        """Scenarios of ``owner`` (newest first), after the built-in ones.

        ``all_owners=True`` lists every stored scenario (administration, tests).
        """
        query = "SELECT id, name, data_type, created_at, updated_at FROM scenarios"
        params: tuple = ()
        if not all_owners:
            query += f" WHERE {self.owner_match}"
            params = (owner,)
        query += " ORDER BY updated_at DESC, id"
        with self._read() as conn:
            rows = conn.execute(query, params).fetchall()
        stored = [ScenarioInfo(*row) for row in rows]
        builtin = [builtin_scenario(i).info() for i in BUILTIN_IDS] if include_builtin else []
        return builtin + stored

    @staticmethod
    def _check_owner(conn: Connection, scenario_id: str, owner: str | None) -> None:
        if scenario_id in BUILTIN_IDS:
            raise ScenarioPermissionError("Built-in scenarios cannot be changed; save a copy.")
        row = conn.execute("SELECT owner FROM scenarios WHERE id = ?", (scenario_id,)).fetchone()
        if row is None:
            raise ScenarioNotFound("No scenario has this id.")
        if owner is not None and row[0] != owner:
            raise ScenarioPermissionError(
                "This scenario was saved in another workspace: open "
                "it and save a copy to change it."
            )

    def rename(self, scenario_id: str, name: str, *, owner: str | None = None) -> None:
        """Give a scenario a new name (owner only)."""
        name = clean_name(name)

        def work(conn: Connection) -> None:
            self._check_owner(conn, scenario_id, owner)
            conn.execute(
                "UPDATE scenarios SET name = ?, updated_at = ? WHERE id = ?",
                (name, _now(), scenario_id),
            )

        self._transaction(work)

    def delete(self, scenario_id: str, *, owner: str | None = None) -> None:
        """Delete a scenario (owner only)."""

        def work(conn: Connection) -> None:
            self._check_owner(conn, scenario_id, owner)
            conn.execute("DELETE FROM scenarios WHERE id = ?", (scenario_id,))

        self._transaction(work)

    # -- autosave --------------------------------------------------------------------------

    def autosave(
        self, session_id: str, table: pd.DataFrame, settings: AnalysisSettings, *, source: str = ""
    ) -> None:
        """Keep the latest (table, settings) of a session (one row per session)."""
        if not isinstance(session_id, str) or not 8 <= len(session_id) <= 200:
            raise ScenarioError("A session id of 8 to 200 characters is needed.")
        table_json, settings_json = self._payload(table, settings)
        now = _dt.datetime.now(_dt.UTC)
        cutoff = (now - _dt.timedelta(days=AUTOSAVE_MAX_AGE_DAYS)).isoformat()
        row = (
            session_id,
            settings.data_type,
            str(source or ""),
            table_json,
            settings_json,
            now.isoformat(timespec="microseconds"),
        )

        def work(conn: Connection) -> None:
            conn.execute(
                "INSERT INTO autosaves (session_id, data_type, source, table_json, "
                "settings_json, saved_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(session_id) DO UPDATE SET data_type = excluded.data_type, "
                "source = excluded.source, table_json = excluded.table_json, "
                "settings_json = excluded.settings_json, saved_at = excluded.saved_at",
                row,
            )
            conn.execute("DELETE FROM autosaves WHERE saved_at < ?", (cutoff,))

        self._transaction(work)

    def load_autosave(self, session_id: str) -> Scenario | None:
        """The latest autosave of a session, or None."""
        if not isinstance(session_id, str):
            return None
        with self._read() as conn:
            row = conn.execute(
                "SELECT source, table_json, settings_json, saved_at FROM "
                "autosaves WHERE session_id = ?",
                (session_id,),
            ).fetchone()
        if row is None:
            return None
        source, table_json, settings_json, saved = row
        return Scenario(
            f"autosave:{session_id}",
            "Autosave",
            table_from_json(table_json),
            settings_from_json(settings_json),
            source,
            saved,
            saved,
        )

    # -- whole-store copies (backup / restore) --------------------------------------------

    def export_rows(self, table: str) -> Iterator[dict[str, Any]]:
        """Every row of ``"scenarios"`` or ``"autosaves"`` as a dict, stored text verbatim
        (ids, owners and times included), oldest first."""
        columns = _COLUMNS[table]
        order = "created_at, id" if table == "scenarios" else "saved_at, session_id"
        with self._read() as conn:
            rows = conn.execute(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"
            ).fetchall()
        for row in rows:
            yield dict(zip(columns, row, strict=True))

    def count_rows(self, table: str) -> int:
        """How many rows ``"scenarios"`` or ``"autosaves"`` holds."""
        _COLUMNS[table]  # only the two known tables
        with self._read() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def import_rows(self, rows: dict[str, Sequence[dict[str, Any]]]) -> None:
        """Insert rows as :meth:`export_rows` gives them, all in one transaction
        (nothing is written if one fails, e.g. an id already taken)."""

        def work(conn: Connection) -> None:
            for table, items in rows.items():
                columns = _COLUMNS[table]
                for item in items:
                    self._insert(conn, table, [item[c] for c in columns])

        self._transaction(work)
