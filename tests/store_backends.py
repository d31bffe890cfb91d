"""Store back ends for the tests: SQLite files, and a real, throwaway PostgreSQL server.

``postgres_server`` (session scope) runs Debian's ``initdb`` into a temporary folder and
``pg_ctl start`` on a free port of 127.0.0.1 (unix socket in the same folder, ``fsync``
off: the data are thrown away), and stops it and removes the folder at the end. As root it
runs the server as the ``postgres`` user (``runuser``), since PostgreSQL refuses root. No
PostgreSQL binaries is a test failure with the command to install them, never a skip.

``store_backend`` is parametrized over ``sqlite`` and ``postgres``: a test that takes it
runs against both. ``store_backend.open(name)`` opens (and migrates) the store called
``name`` of this test; the same name is the same database (a file, or a PostgreSQL
database of its own). Stores opened through it are closed after the test.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from devtools.local_postgres import PostgresServer, PostgresUnavailable

__all__ = ["Backend", "postgres_server", "store_backend"]


@pytest.fixture(scope="session")
def postgres_server():
    try:  # no PostgreSQL is a failure (CI installs it), never a skip
        server = PostgresServer()
        server.start()
    except PostgresUnavailable as exc:
        pytest.fail(f"the store tests need a PostgreSQL server: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


class Backend:
    """One back end for one test: named stores, their targets, raw SQL."""

    def __init__(self, name: str, tmp_path: Path, server: PostgresServer | None) -> None:
        self.name = name
        self.tmp_path = tmp_path
        self.server = server
        self._targets: dict[str, str] = {}
        self._opened: list = []

    def target(self, name: str = "main") -> str:
        """What ``IGMETA_DB_URL`` would hold for the store called ``name``."""
        if name not in self._targets:
            if self.server is None:
                self._targets[name] = str(self.tmp_path / "stores" / f"{name}.sqlite3")
            else:
                self._targets[name] = self.server.create_database()
        return self._targets[name]

    def open(self, name: str = "main"):
        """Open (and migrate) the store called ``name``."""
        from igmeta.app.store import open_store

        store = open_store(self.target(name))
        self._opened.append(store)
        return store

    def execute(self, name: str, sql: str, params: tuple = ()) -> list[tuple]:
        """Run raw SQL (``?`` parameters) on the store called ``name``, committed."""
        target = self.target(name)
        if self.server is not None:
            return self.server.execute(target, sql, params)
        with sqlite3.connect(target) as conn:
            rows = conn.execute(sql, params).fetchall()
        conn.close()
        return rows

    def close(self) -> None:
        for store in self._opened:
            store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store_backend(request, tmp_path):
    server = request.getfixturevalue("postgres_server") if request.param == "postgres" else None
    backend = Backend(request.param, tmp_path, server)
    yield backend
    backend.close()
