"""A throwaway PostgreSQL server on a free loopback port, for tests and benchmarks.

Used by the store tests (``tests/store_backends.py``) and the replica load test
(``benchmarks/load_test.py --replicas``), so that both run PostgreSQL the same way.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from devtools.local_server import free_port

__all__ = ["INSTALL_HINT", "PostgresServer", "PostgresUnavailable", "find_postgres_bin"]

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


class PostgresUnavailable(RuntimeError):
    """The throwaway server cannot be set up (the message says why and what to install)."""


class PostgresServer:
    """A throwaway PostgreSQL server in a temporary folder (:meth:`start`, :meth:`stop`).

    Debian's ``initdb`` and ``pg_ctl`` (``/usr/lib/postgresql/*/bin``); the server listens
    on a free port of 127.0.0.1 (and a unix socket in the folder), trusts local logins as
    :attr:`user`, runs with ``fsync`` off (its data are thrown away) and, when this
    process is root, as the ``postgres`` user (``runuser``), since PostgreSQL refuses root.
    """

    user = "igmeta"

    def __init__(self) -> None:
        self.bin = find_postgres_bin()
        if self.bin is None:
            raise PostgresUnavailable(
                "PostgreSQL server binaries (initdb, pg_ctl) not found in "
                f"/usr/lib/postgresql/*/bin. Install: {INSTALL_HINT}"
            )
        self.root = Path(tempfile.mkdtemp(prefix="igmeta-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            try:
                shutil.chown(self.root, user="postgres")
            except LookupError:
                raise PostgresUnavailable(
                    f"running as root, but there is no 'postgres' user to run the server: "
                    f"{INSTALL_HINT}"
                ) from None
            os.chmod(self.root, 0o700)

    def _run(self, *args: str, timeout: float = 120) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise PostgresUnavailable(
                f"{args[0]} failed ({proc.returncode}): {proc.stderr.strip()} {tail}"
            )

    def start(self) -> None:
        """initdb and start the server (the folder is removed if that fails)."""
        try:
            self._start()
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def _start(self) -> None:
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
        """Stop the server and remove its folder."""
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        """The URL of database ``dbname`` (no password: local logins are trusted)."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self) -> str:
        """A new, empty database; returns its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def execute(self, url: str, sql: str, params: tuple = ()) -> list[tuple]:
        """Run ``sql`` (``?`` parameters) on ``url`` in autocommit; the rows, if any."""
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            cur = conn.execute(sql.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []
