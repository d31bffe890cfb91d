"""The embedded store: one SQLite file (the default back end).

Connections use WAL journaling and a busy timeout; every write is one ``BEGIN IMMEDIATE``
transaction, so several sessions (threads or processes) can write at once. A folder or
file the process cannot write gives a :class:`~igmeta.app.store.base.StoreUnavailable` that
names the folder, its owner and the user the process runs as.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

from igmeta.app.store.base import Store, StoreUnavailable
from igmeta.app.store.records import ScenarioError

__all__ = ["BUSY_TIMEOUT_MS", "DB_ENV", "DEFAULT_DB_PATH", "SQLiteStore", "db_path"]

#: Environment variable naming the SQLite file.
DB_ENV = "IGMETA_DB_PATH"
#: Where the store lives when neither ``IGMETA_DB_URL`` nor :data:`DB_ENV` is set.
DEFAULT_DB_PATH = Path("~/.igmeta/igmeta.sqlite3")
#: Milliseconds a connection waits for another writer before giving up.
BUSY_TIMEOUT_MS = 15_000


def db_path() -> Path:
    """The store's file: ``$IGMETA_DB_PATH`` or :data:`DEFAULT_DB_PATH`."""
    raw = os.environ.get(DB_ENV, "").strip()
    return Path(raw or DEFAULT_DB_PATH).expanduser()


def _owner_of(path: Path) -> str:
    try:
        uid = path.stat().st_uid
    except OSError:
        return "unknown owner"
    try:
        import pwd

        return f"owned by {pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"owned by uid {uid}"


def _whoami() -> str:
    if not hasattr(os, "getuid"):  # pragma: no cover - not POSIX
        return "this process"
    uid = os.getuid()
    try:
        import pwd

        return f"user {pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def unusable_file_message(path: Path, exc: BaseException) -> str:
    """Why the SQLite file ``path`` cannot be used, naming the folder, its owner and the
    user this process runs as, and what to do about it."""
    folder = path.parent
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if existing is not None and not existing.is_dir():
        return (
            f"The scenario store {path} cannot be created: {existing} is a file, not a "
            f"folder. Set IGMETA_DB_PATH to a file in a writable folder ({exc})."
        )
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        return (
            f"The scenario store's folder {existing} is not writable by {_whoami()}: it is "
            f"{_owner_of(existing)}. Scenarios and autosaves could not be saved. Give that "
            f"user write access (for a bind-mounted folder, on the host: "
            f"chown {os.getuid() if hasattr(os, 'getuid') else '<uid>'} {existing}), "
            "or set IGMETA_DB_PATH to a file in a writable folder."
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return (
            f"The scenario store {path} is not readable and writable by {_whoami()}: it is "
            f"{_owner_of(path)}. Give that user access or set IGMETA_DB_PATH elsewhere."
        )
    return f"The scenario store {path} cannot be opened: {exc}."


class SQLiteStore(Store):
    """Scenarios and autosaves in one SQLite file.

    Parameters
    ----------
    path : str or Path, optional
        The database file (created with its folder if missing); default :func:`db_path`.
    busy_timeout_ms : int
        How long a write waits for another writer.

    Notes
    -----
    Each call opens its own connection, so one store can be shared by threads. Opening
    the store applies pending migrations in one transaction.
    """

    kind = "SQLite"
    owner_match = "owner IS ?"

    def __init__(
        self, path: str | os.PathLike | None = None, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS
    ) -> None:
        self.path = Path(path).expanduser() if path is not None else db_path()
        self.location = str(self.path)
        self.busy_timeout_ms = int(busy_timeout_ms)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._migrate()
        except ScenarioError:
            raise
        except (OSError, sqlite3.Error) as exc:
            raise StoreUnavailable(unusable_file_message(self.path, exc)) from exc

    # -- connections -----------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout_ms / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {self.busy_timeout_ms:d}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``: takes the write lock at once)."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def _prepare(self) -> None:
        """Switch the database to WAL journaling.

        Changing the journal mode needs an exclusive lock, and SQLite may answer "database
        is locked" at once, without waiting for its busy timeout, when other processes
        open the same new file at the same moment. So the switch is retried, with growing
        pauses, for up to the busy timeout.
        """
        deadline = time.monotonic() + self.busy_timeout_ms / 1000
        pause = 0.005
        while True:
            conn = self._connect()
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
            finally:
                conn.close()
            time.sleep(pause)
            pause = min(pause * 2, 0.2)
        if str(mode).lower() != "wal":  # pragma: no cover - e.g. an in-memory file system
            raise ScenarioError(f"The database {self.path} cannot use WAL journaling.")
