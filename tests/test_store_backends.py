"""What only the choice of back end brings: IGMETA_DB_URL, start-up messages for a wrong or
unreachable database or an unwritable folder, retries of aborted transactions, and backup /
restore between SQLite and PostgreSQL (the common store behaviour is in test_scenarios.py,
run on both back ends)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

import igmeta.app.store.scenarios as sc
from devtools.local_server import free_port
from igmeta.app.pipeline.analysis import (
    PUBLISHED_COMPARISON,
    PUBLISHED_SINGLE_ARM,
    AnalysisSettings,
)
from igmeta.app.store import SQLiteStore, StoreUnavailable, default_store, open_store, store_target
from igmeta.app.store import backup as bk
from igmeta.app.store import base as store_base
from igmeta.app.store.postgres import PostgresStore
from igmeta.app.store.sqlite import unusable_file_message
from igmeta.datasets import load_ig_pnp_canonical

ROOT = Path(__file__).resolve().parents[1]
EVIL = '<script>alert(1)</script> "q" \\ \u202e =SUM(A1) \U0001f600'


# ----------------------------------------------------------------------------- choosing


def test_the_url_chooses_the_back_end(monkeypatch, tmp_path):
    monkeypatch.delenv("IGMETA_DB_URL", raising=False)
    monkeypatch.setenv("IGMETA_DB_PATH", str(tmp_path / "a.sqlite3"))
    assert store_target() == ("sqlite", str(tmp_path / "a.sqlite3"))
    monkeypatch.setenv("IGMETA_DB_URL", "  ")
    assert store_target() == ("sqlite", str(tmp_path / "a.sqlite3"))
    monkeypatch.setenv("IGMETA_DB_URL", str(tmp_path / "b.sqlite3"))
    assert store_target() == ("sqlite", str(tmp_path / "b.sqlite3"))
    assert store_target("sqlite:///srv/x.sqlite3") == ("sqlite", "/srv/x.sqlite3")
    for url in ("postgresql://u:p@db:5432/igmeta", "postgres://db/igmeta"):
        assert store_target(url) == ("postgresql", url)
    with pytest.raises(StoreUnavailable, match="scheme 'mysql'.*postgresql://"):
        store_target("mysql://db/igmeta")


def test_default_store_follows_igmeta_db_url(postgres_server, monkeypatch):
    url = postgres_server.create_database()
    monkeypatch.setenv("IGMETA_DB_URL", url)
    store = default_store()
    assert isinstance(store, PostgresStore) and store is default_store()
    sc.autosave("session-url-1", load_ig_pnp_canonical(), PUBLISHED_SINGLE_ARM)
    assert sc.load_autosave("session-url-1").settings == PUBLISHED_SINGLE_ARM
    other = open_store(url)  # another process's pool: the same data
    try:
        assert other.load_autosave("session-url-1").settings == PUBLISHED_SINGLE_ARM
    finally:
        other.close()


def test_an_unreachable_database_is_a_clear_message():
    port = free_port()  # nobody listens there
    url = f"postgresql://igmeta:s3cret-pw@127.0.0.1:{port}/igmeta"
    with pytest.raises(StoreUnavailable) as info:
        open_store(url)
    text = str(info.value)
    assert f"the PostgreSQL database postgresql://igmeta@127.0.0.1:{port}/igmeta" in text
    assert "(IGMETA_DB_URL)" in text and "refused" in text.lower()
    assert "s3cret-pw" not in text


def test_a_missing_database_or_user_is_a_clear_message(postgres_server):
    with pytest.raises(StoreUnavailable, match='database "no_such_db" does not exist'):
        open_store(postgres_server.url("no_such_db"))
    wrong_user = postgres_server.url("postgres").replace("igmeta@", "nobody:pw@")
    with pytest.raises(StoreUnavailable, match='role "nobody" does not exist') as info:
        open_store(wrong_user)
    assert ":pw@" not in str(info.value)


def test_a_server_that_goes_away_is_a_scenario_error_not_a_crash(postgres_server):
    url = postgres_server.create_database()
    store = open_store(url)
    try:
        sid = store.save("before", load_ig_pnp_canonical(), PUBLISHED_COMPARISON)
        name = url.rsplit("/", 1)[1]
        postgres_server.execute(
            postgres_server.url(),
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?",
            (name,),
        )
        # The pool checks a connection before handing it out: the next call reconnects.
        assert store.load(sid).name == "before"
    finally:
        store.close()
    with pytest.raises(sc.ScenarioError):  # a closed pool: a message, never a driver error
        store.load(sid)


def test_an_unwritable_sqlite_folder_names_folder_owner_and_user(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailable, match="is a file, not a folder"):
        SQLiteStore(blocker / "igmeta.sqlite3")
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setattr(os, "access", lambda *_a, **_k: False)  # as a non-root user would
    text = unusable_file_message(folder / "igmeta.sqlite3", PermissionError(13, "denied"))
    assert f"folder {folder} is not writable by" in text
    assert f"(uid {os.getuid()})" in text and "owned by" in text and "chown" in text


# ----------------------------------------------------------------------------- retries


class _Aborted(Exception):
    sqlstate = "40001"


def test_aborted_transactions_are_run_again_in_one_place(postgres_server, monkeypatch):
    store = open_store(postgres_server.create_database())
    monkeypatch.setattr(store_base.time, "sleep", lambda _s: None)
    try:
        calls = []

        def flaky(conn):
            calls.append(1)
            if len(calls) < 3:
                raise _Aborted("could not serialize access")
            return conn.execute("SELECT 1").fetchone()[0]

        assert store._transaction(flaky) == 1 and len(calls) == 3
        calls.clear()

        def always(conn):
            calls.append(1)
            raise _Aborted("could not serialize access")

        with pytest.raises(_Aborted):
            store._transaction(always)
        assert len(calls) == store_base.WRITE_ATTEMPTS
        calls.clear()

        def broken(conn):
            calls.append(1)
            raise ValueError("not retried")

        with pytest.raises(ValueError):
            store._transaction(broken)
        assert len(calls) == 1
    finally:
        store.close()


def test_concurrent_updates_of_one_scenario_lose_nothing(postgres_server):
    """Eight threads rename and update the same scenario at once (SERIALIZABLE: the server
    aborts some transactions; they are retried) and each writes its own autosave."""
    store = open_store(postgres_server.create_database())
    table = load_ig_pnp_canonical()
    sid = store.save("shared", table, PUBLISHED_COMPARISON, owner="w")
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(10):
                store.rename(sid, f"t{n}-{i}", owner="w")
                store.update(sid, table, AnalysisSettings(level=0.9), owner="w")
                store.autosave(f"session-{n:04d}", table, AnalysisSettings(level=0.8 + n / 100))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors, errors[:3]
        assert store.load(sid).name.endswith("-9")
        for n in range(8):
            assert store.load_autosave(f"session-{n:04d}").settings.level == 0.8 + n / 100
    finally:
        store.close()


# ----------------------------------------------------------------------------- backup


def _fill(store) -> dict[str, str]:
    table = load_ig_pnp_canonical()
    table.loc[0, "study"] = EVIL
    ids = {
        "mine": store.save(f"Mine {EVIL}", table, PUBLISHED_COMPARISON, owner="w1", source=EVIL),
        "theirs": store.save("Theirs", table, PUBLISHED_SINGLE_ARM, owner="w2"),
        "nobody": store.save("No owner", table, AnalysisSettings(test="knha")),
    }
    store.autosave("session-backup-1", table, AnalysisSettings(level=0.9), source="auto")
    return ids


def _rows(store) -> dict[str, list[dict]]:
    return {t: list(store.export_rows(t)) for t in ("scenarios", "autosaves")}


def _backup_cli(action: str, path: Path, db: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "igmeta.app.store.backup", action, str(path), "--db", db],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_backup_from_sqlite_to_postgres_and_back(tmp_path, postgres_server):
    first = tmp_path / "first.sqlite3"
    origin = open_store(str(first))
    ids = _fill(origin)
    expected = _rows(origin)
    pg_url = postgres_server.create_database()

    out = _backup_cli("export", tmp_path / "a.jsonl", str(first))
    assert out.returncode == 0, out.stderr
    assert "3 scenarios and 1 autosaves exported" in out.stdout
    out = _backup_cli("import", tmp_path / "a.jsonl", pg_url)
    assert out.returncode == 0, out.stderr
    assert "PostgreSQL store postgresql://igmeta@127.0.0.1" in out.stdout

    pg = open_store(pg_url)
    try:
        assert _rows(pg) == expected  # ids, owners, times: verbatim
        loaded = pg.load(ids["mine"])  # a link keeps working after the move
        assert loaded.owner == "w1" and loaded.source == EVIL
        pd.testing.assert_frame_equal(loaded.table, origin.load(ids["mine"]).table)
        assert [i.id for i in pg.list("w2", include_builtin=False)] == [ids["theirs"]]
        assert pg.load_autosave("session-backup-1").settings.level == 0.9
        # ... and back, through the functions, into a new SQLite file.
        counts = bk.export_store(pg, tmp_path / "b.jsonl")
    finally:
        pg.close()
    assert counts == {"scenarios": 3, "autosaves": 1}
    back = open_store(str(tmp_path / "back.sqlite3"))
    assert bk.import_store(back, tmp_path / "b.jsonl") == counts
    assert _rows(back) == expected


def test_import_needs_an_empty_store_and_writes_all_or_nothing(tmp_path, postgres_server):
    source = open_store(str(tmp_path / "s.sqlite3"))
    _fill(source)
    bk.export_store(source, tmp_path / "x.jsonl")
    with pytest.raises(bk.BackupError, match="is not empty .3 scenarios, 1 autosaves"):
        bk.import_store(source, tmp_path / "x.jsonl")
    pg = open_store(postgres_server.create_database())
    try:
        rows = _rows(source)  # a failing row at the end leaves the store empty
        rows["scenarios"].append(dict(rows["scenarios"][0]))  # the same id twice
        with pytest.raises(Exception, match="duplicate key|unique"):
            pg.import_rows(rows)
        assert pg.count_rows("scenarios") == 0 and pg.count_rows("autosaves") == 0
    finally:
        pg.close()


def test_a_bad_backup_file_names_the_line(tmp_path):
    source = open_store(str(tmp_path / "s.sqlite3"))
    _fill(source)
    path = tmp_path / "x.jsonl"
    bk.export_store(source, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])

    def check(text: str, pattern: str) -> None:
        bad = tmp_path / "bad.jsonl"
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(bk.BackupError, match=pattern):
            bk.import_store(open_store(str(tmp_path / "empty.sqlite3")), bad)

    check("", "empty")
    check('{"format": "other"}\n', "line 1: not an igmeta backup")
    newer = json.dumps({**header, "schema_version": sc.SCHEMA_VERSION + 1})
    check(newer + "\n", f"line 1: .*schema version {sc.SCHEMA_VERSION + 1}")
    broken = json.loads(lines[2])
    broken["table_json"] = "{not json"
    check("\n".join([lines[0], lines[1], json.dumps(broken)]), "line 3: The stored table")
    no_name = json.loads(lines[1])
    del no_name["name"]
    check("\n".join([lines[0], json.dumps(no_name)]), "line 2, column 'name'")
    check("\n".join([lines[0], lines[1], lines[1]]), "line 3: .* appears twice")
    check("\n".join([lines[0], "{oops"]), "line 2: not JSON")
    assert open_store(str(tmp_path / "empty.sqlite3")).count_rows("scenarios") == 0
    out = _backup_cli("import", tmp_path / "bad.jsonl", str(tmp_path / "e2.sqlite3"))
    assert out.returncode == 1 and "igmeta backup: line 2: not JSON" in out.stderr


# ----------------------------------------------------------------------------- start-up


def _serve(env: dict[str, str]) -> subprocess.CompletedProcess:
    """``scripts/serve.py`` as the Dockerfile starts it; it must stop before serving."""
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts/serve.py"), f"--server.port={free_port()}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
    )


def test_the_server_refuses_to_start_on_a_wrong_database_url():
    url = f"postgresql://igmeta:pw@127.0.0.1:{free_port()}/igmeta"
    out = _serve({"IGMETA_DB_URL": url})
    assert out.returncode == 2
    assert "igmeta cannot start: Cannot connect to the PostgreSQL database" in out.stderr
    assert ":pw@" not in out.stderr
    out = _serve({"IGMETA_DB_URL": "mysql://db/igmeta"})
    assert out.returncode == 2 and "scheme 'mysql'" in out.stderr


def test_the_server_refuses_a_database_from_a_newer_igmeta(store_backend):
    store_backend.open()
    store_backend.execute("main", "INSERT INTO schema_version VALUES (99, 'future', 'now')")
    out = _serve({"IGMETA_DB_URL": store_backend.target()})
    assert out.returncode == 2, out.stderr
    assert "was written by a newer igmeta (schema 99; this version knows" in out.stderr
    rows = store_backend.execute("main", "SELECT MAX(version) FROM schema_version")
    assert rows == [(99,)]


def test_no_postgresql_binaries_is_a_clear_failure_not_a_skip(monkeypatch):
    import devtools.local_postgres as lp

    monkeypatch.delenv("IGMETA_PG_BIN", raising=False)
    monkeypatch.setattr(lp.glob, "glob", lambda _pattern: [])
    with pytest.raises(lp.PostgresUnavailable, match="apt-get install -y postgresql"):
        lp.PostgresServer()


def test_the_server_refuses_to_start_when_the_sqlite_folder_is_unusable(tmp_path):
    blocker = tmp_path / "data"
    blocker.write_text("a file where the bind-mounted folder should be")
    out = _serve({"IGMETA_DB_URL": "", "IGMETA_DB_PATH": str(blocker / "igmeta.sqlite3")})
    assert out.returncode == 2
    assert f"igmeta cannot start: The scenario store {blocker}/igmeta.sqlite3" in out.stderr
    assert "is a file, not a folder" in out.stderr
