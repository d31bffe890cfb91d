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

import glob
import os
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from devtools.local_server import free_port

__all__ = ["Backend", "PostgresServer", "find_postgres_bin", "postgres_server", "store_backend"]

INSTALL_HINT = "apt-get install -y postgresql (scripts/test.sh does it when run as root)"


def find_postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` holding initdb (``$IGMETA_PG_BIN`` first)."""
    override = os.environ.get("IGMETA_PG_BIN")
    candidates = [override] if override else []
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


class PostgresServer:
    """A PostgreSQL server in a temporary folder, for one test session."""

    user = "igmeta"

    def __init__(self) -> None:
        self.bin = find_postgres_bin()
        if self.bin is None:
            pytest.fail(
                "PostgreSQL server binaries (initdb, pg_ctl) not found in "
                f"/usr/lib/postgresql/*/bin: the store tests need them. Install: {INSTALL_HINT}",
                pytrace=False,
            )
        self.root = Path(tempfile.mkdtemp(prefix="igmeta-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            try:
                shutil.chown(self.root, user="postgres")
            except LookupError:
                pytest.fail(
                    f"running as root, but there is no 'postgres' user to run the server: "
                    f"{INSTALL_HINT}",
                    pytrace=False,
                )
            os.chmod(self.root, 0o700)

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            pytest.fail(
                f"{' '.join(args[:1])} failed ({proc.returncode}): {proc.stderr.strip()} {tail}",
                pytrace=False,
            )

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=300"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self) -> str:
        """A new, empty database; returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def execute(self, url: str, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            cur = conn.execute(sql.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer()
    server.start()
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
        from igmeta.store import open_store

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
