"""The shared store: PostgreSQL, for several app replicas (``IGMETA_DB_URL``).

Needs ``psycopg`` 3 and ``psycopg_pool`` (imported only when this back end is used, so a
SQLite user needs neither). Each process keeps one connection pool. Writes run as
``SERIALIZABLE`` transactions; one the server aborts to keep that promise (SQLSTATE 40001
serialization failure, 40P01 deadlock) is run again by :meth:`Store._transaction`. Replicas
that start together migrate one after the other (a session-level advisory lock).

Every problem reaching or using the server becomes a
:class:`~igmeta.app.store.base.StoreUnavailable` whose message names the database (without its
password) and the server's reason, so the dashboard shows a message instead of crashing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from igmeta.app.store.base import Store, StoreUnavailable

__all__ = ["POOL_MAX_SIZE", "PostgresStore", "safe_location"]

#: Largest number of connections one process keeps open.
POOL_MAX_SIZE = 10
#: Seconds to wait for the server when connecting, and for a free pooled connection.
CONNECT_TIMEOUT_S = 10
#: SQLSTATEs of transactions that the server aborted and that may simply be run again.
RETRY_SQLSTATES = frozenset({"40001", "40P01"})
#: Key of the advisory lock held while migrating (any constant shared by all replicas).
_MIGRATION_LOCK_KEY = 0x16E7A


def _driver() -> tuple[Any, Any]:
    try:
        import psycopg
        import psycopg_pool
    except ImportError as exc:
        raise StoreUnavailable(
            "IGMETA_DB_URL names a PostgreSQL database, but the PostgreSQL driver is not "
            'installed: pip install "psycopg[binary]" psycopg_pool '
            "(both are in requirements.txt)."
        ) from exc
    return psycopg, psycopg_pool


def safe_location(url: str) -> str:
    """``url`` without its password (for messages and logs)."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(url)
    except Exception:  # noqa: BLE001 - an unparsable URL is reported by connect()
        return "postgresql://(unparsable URL)"
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    user = f"{parts['user']}@" if parts.get("user") else ""
    return f"postgresql://{user}{host}:{port}/{parts.get('dbname') or ''}"


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


class _Connection:
    """A psycopg connection that takes ``?`` parameters like sqlite3."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql.replace("?", "%s"), tuple(params))


class PostgresStore(Store):
    """Scenarios and autosaves in a PostgreSQL database.

    Parameters
    ----------
    url : str
        ``postgresql://user:password@host:port/database`` (any libpq connection string).
    pool_size : int
        Most connections this store keeps open.
    connect_timeout : float
        Seconds to wait for the server.

    Raises
    ------
    StoreUnavailable
        If the driver is missing, the server cannot be reached or refuses the login.
    ScenarioError
        If the database was written by a newer igmeta.
    """

    kind = "PostgreSQL"
    owner_match = "owner IS NOT DISTINCT FROM ?"

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = POOL_MAX_SIZE,
        connect_timeout: float = CONNECT_TIMEOUT_S,
    ) -> None:
        psycopg, psycopg_pool = _driver()
        self._psycopg = psycopg
        self._pool_timeout = psycopg_pool.PoolTimeout
        self.url = url
        self.location = safe_location(url)
        self.connect_timeout = connect_timeout
        try:  # one plain connection first: its error says what is wrong
            psycopg.connect(url, connect_timeout=max(1, int(connect_timeout))).close()
        except psycopg.Error as exc:
            raise StoreUnavailable(
                f"Cannot connect to the PostgreSQL database {self.location} "
                f"(IGMETA_DB_URL): {_reason(exc)}"
            ) from exc
        self._pool = psycopg_pool.ConnectionPool(
            url,
            min_size=1,
            max_size=max(2, int(pool_size)),  # the migration lock holds one connection
            kwargs={"connect_timeout": max(1, int(connect_timeout))},
            timeout=connect_timeout,
            check=psycopg_pool.ConnectionPool.check_connection,
            name="igmeta",
            open=False,
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
            self._migrate()
        except BaseException:
            self._pool.close()
            raise

    def close(self) -> None:
        self._pool.close()

    # -- connections -------------------------------------------------------------------

    @contextlib.contextmanager
    def _connection(self, isolation: Any) -> Iterator[Any]:
        """A pooled connection; problems reaching the server become StoreUnavailable
        (aborted transactions are left as they are, for the retry)."""
        psycopg = self._psycopg
        try:
            with self._pool.connection() as conn:
                conn.isolation_level = isolation
                yield conn
        except psycopg.errors.OperationalError as exc:
            if self._retryable(exc):
                raise
            raise StoreUnavailable(
                f"The PostgreSQL database {self.location} cannot be used: {_reason(exc)}"
            ) from exc
        except (psycopg.InterfaceError, self._pool_timeout) as exc:
            raise StoreUnavailable(
                f"The PostgreSQL database {self.location} cannot be reached: {_reason(exc)}"
            ) from exc

    @contextlib.contextmanager
    def _read(self) -> Iterator[_Connection]:
        level = self._psycopg.IsolationLevel.READ_COMMITTED
        with self._connection(level) as conn, conn.transaction():
            yield _Connection(conn)

    @contextlib.contextmanager
    def _write(self) -> Iterator[_Connection]:
        level = self._psycopg.IsolationLevel.SERIALIZABLE
        with self._connection(level) as conn, conn.transaction():
            yield _Connection(conn)

    def _retryable(self, exc: BaseException) -> bool:
        return getattr(exc, "sqlstate", None) in RETRY_SQLSTATES

    @contextlib.contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """A session-level advisory lock, taken outside the migration's transaction so
        that its snapshot sees what a replica that migrated first committed."""
        with self._connection(None) as conn:
            conn.autocommit = True
            conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK_KEY,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK_KEY,))
                conn.autocommit = False
