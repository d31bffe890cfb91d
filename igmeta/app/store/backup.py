"""Back up every scenario to a file, and restore it into an empty store of either kind.

::

    python -m igmeta.app.store.backup export FILE   # the store named by IGMETA_DB_URL / _PATH
    python -m igmeta.app.store.backup import FILE   # into an empty store
    python -m igmeta.app.store.backup import FILE --db postgresql://user@host/db

The file is JSON lines: a header ``{"format": "igmeta-backup/1", "schema_version": N,
...}``, then one object per row, ``{"kind": "scenario", ...}`` or ``{"kind": "autosave",
...}``, holding the stored text verbatim (ids, owners, times), so that links keep working
after a move from SQLite to PostgreSQL or back. An import checks the whole file first
(every problem names its line) and writes everything in one transaction, or nothing.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from igmeta.app.store.base import AUTOSAVE_COLUMNS, SCENARIO_COLUMNS, SCHEMA_VERSION, Store
from igmeta.app.store.records import (
    ScenarioError,
    is_valid_id,
    settings_from_json,
    table_from_json,
)
from igmeta.app.store.url import open_store

__all__ = ["FORMAT", "BackupError", "export_store", "import_store", "main", "read_backup"]

FORMAT = "igmeta-backup/1"
_KINDS = {"scenario": ("scenarios", SCENARIO_COLUMNS), "autosave": ("autosaves", AUTOSAVE_COLUMNS)}
_NULLABLE = {"owner"}


class BackupError(ScenarioError):
    """A backup file cannot be written or read, or the target store is not empty."""


def export_store(store: Store, path: str | Path) -> dict[str, int]:
    """Write every scenario and autosave of ``store`` to ``path`` (JSON lines).

    Returns
    -------
    dict
        ``{"scenarios": n, "autosaves": m}``.
    """
    counts = {"scenarios": 0, "autosaves": 0}
    header = {
        "format": FORMAT,
        "schema_version": store.schema_version(),
        "exported_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "source": f"{store.kind} {store.location}",
    }
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="\n") as out:
        out.write(json.dumps(header, ensure_ascii=False) + "\n")
        for kind, (table, _columns) in _KINDS.items():
            for row in store.export_rows(table):
                out.write(json.dumps({"kind": kind, **row}, ensure_ascii=False) + "\n")
                counts[table] += 1
    partial.replace(target)  # a backup file is complete or absent
    return counts


def _check_row(number: int, item: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(item, dict) or item.get("kind") not in _KINDS:
        raise BackupError(f"line {number}: not a scenario or autosave row")
    table, columns = _KINDS[item["kind"]]
    for column in columns:
        value = item.get(column)
        if value is None and column in _NULLABLE:
            continue
        if not isinstance(value, str):
            raise BackupError(f"line {number}, column {column!r}: missing or not text")
    if table == "scenarios" and not is_valid_id(item["id"]):
        raise BackupError(f"line {number}, column 'id': not a scenario id")
    try:
        table_from_json(item["table_json"])
        settings_from_json(item["settings_json"])
    except ScenarioError as exc:
        raise BackupError(f"line {number}: {exc}") from None
    return table, {column: item.get(column) for column in columns}


def read_backup(lines: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Parse and check a backup (every row readable, no id twice).

    Raises
    ------
    BackupError
        Naming the line (and column) of the first problem.
    """
    rows: dict[str, list[dict[str, Any]]] = {"scenarios": [], "autosaves": []}
    seen: set[tuple[str, str]] = set()
    header = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise BackupError(f"line {number}: not JSON ({exc})") from None
        if header is None:
            if not isinstance(item, dict) or item.get("format") != FORMAT:
                raise BackupError(f"line {number}: not an igmeta backup (no {FORMAT} header)")
            version = item.get("schema_version")
            if not isinstance(version, int) or version > SCHEMA_VERSION:
                raise BackupError(
                    f"line {number}: the backup has schema version {version!r}; this igmeta "
                    f"knows {SCHEMA_VERSION} (import it with a newer igmeta)"
                )
            header = item
            continue
        table, row = _check_row(number, item)
        key = (table, row["id"] if table == "scenarios" else row["session_id"])
        if key in seen:
            raise BackupError(f"line {number}: {key[1]!r} appears twice")
        seen.add(key)
        rows[table].append(row)
    if header is None:
        raise BackupError("the file is empty")
    return rows


def import_store(store: Store, path: str | Path) -> dict[str, int]:
    """Restore a backup into ``store``, which must hold no scenario and no autosave.

    Returns
    -------
    dict
        ``{"scenarios": n, "autosaves": m}`` written.
    """
    with Path(path).open(encoding="utf-8") as lines:
        rows = read_backup(lines)
    existing = {table: store.count_rows(table) for table in rows}
    if any(existing.values()):
        raise BackupError(
            f"the {store.kind} store {store.location} is not empty "
            f"({existing['scenarios']} scenarios, {existing['autosaves']} autosaves): "
            "import into an empty store"
        )
    store.import_rows(rows)
    return {table: len(items) for table, items in rows.items()}


def main(argv: list[str] | None = None) -> int:
    """Command line: ``export FILE`` / ``import FILE`` [``--db URL_OR_PATH``]."""
    parser = argparse.ArgumentParser(
        prog="python -m igmeta.app.store.backup",
        description="Copy every igmeta scenario to a file, or from a file into an empty store.",
    )
    parser.add_argument("action", choices=("export", "import"))
    parser.add_argument("file", type=Path)
    parser.add_argument(
        "--db",
        help="postgresql://... or a SQLite file (default: IGMETA_DB_URL, else IGMETA_DB_PATH)",
    )
    args = parser.parse_args(argv)
    try:
        store = open_store(args.db)
        try:
            if args.action == "export":
                counts = export_store(store, args.file)
                done = f"exported to {args.file} from"
            else:
                counts = import_store(store, args.file)
                done = f"imported from {args.file} into"
        finally:
            store.close()
    except (ScenarioError, OSError) as exc:
        print(f"igmeta backup: {exc}", file=sys.stderr)
        return 1
    print(
        f"{counts['scenarios']} scenarios and {counts['autosaves']} autosaves {done} "
        f"the {store.kind} store {store.location}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
