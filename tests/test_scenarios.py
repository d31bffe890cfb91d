"""Scenario store: serialisation, CRUD, owners, migrations, concurrency, autosave,
identical numbers after a reload in another process, comparisons and presenter helpers.

The store tests take ``store_backend`` (tests/store_backends.py) and run on both back
ends: SQLite, and a real PostgreSQL server started for the session."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import igmeta.app.store.base as store_base
import igmeta.app.store.records as records
import igmeta.app.store.scenarios as sc
from igmeta.app.pipeline.analysis import (
    PUBLISHED_COMPARISON,
    PUBLISHED_SINGLE_ARM,
    AnalysisSettings,
    run_analysis,
)
from igmeta.app.store import open_store
from igmeta.datasets import load_ig_pnp_canonical

ROOT = Path(__file__).resolve().parents[1]
EVIL = '<script>alert(1)</script> "q" \\ \u202e\u65e5\u672c =SUM(A1) \U0001f600'

SETTINGS = {
    "published_mh": PUBLISHED_COMPARISON,
    "published_single_arm": PUBLISHED_SINGLE_ARM,
    "reml_knha": AnalysisSettings(test="knha"),
    "pft_dl": AnalysisSettings(analysis="single_arm", proportion_measure="PFT", tau2_method="DL"),
    "peto": AnalysisSettings(binary_measure="OR", pooling="PETO"),
    "pm_subset": AnalysisSettings(
        analysis="single_arm", proportion_measure="PLO", tau2_method="PM", subgroup_levels=("RCT",)
    ),
}
RESULT_FIELDS = (
    "k",
    "estimate",
    "se",
    "statistic",
    "pval",
    "ci_lower",
    "ci_upper",
    "pi_lower",
    "pi_upper",
    "tau2",
    "q",
    "q_pval",
    "i2",
    "h2",
)


def _awkward_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "study": pd.array(["A", EVIL, None, "D"], dtype="string"),
            "include": [True, True, False, True],
            "design": ["RCT", "RCT", "cohort", None],
            "yi": [0.1 + 0.2, 1 / 3, np.nan, -1e-300],
            "vi": [np.inf, 0.04, 0.5, 2.0 / 3.0],
            "n": pd.array([10, None, 30, 40], dtype="Int64"),
            "flag": pd.array([True, None, False, True], dtype="boolean"),
            "mixed": [1, "x", None, 2.5],
            "count": [1, 2, 3, 4],
        }
    )


def _result_fields(bundle) -> dict:
    res = bundle.result
    out = {name: getattr(res, name) for name in RESULT_FIELDS}
    out["weights"] = list(res.weights)
    out["bt"] = res.back_transformed()
    if bundle.subgroups is not None:
        out["subgroups"] = [
            (f.estimate, f.se, f.ci_lower, f.ci_upper) for f in bundle.subgroups.fits
        ]
        out["subgroup_test"] = (bundle.subgroups.test.statistic, bundle.subgroups.test.pval)
    return out


def _same(a, b) -> bool:
    """Exact equality, NaN equal to NaN (recursively)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and np.isnan(a):
        return isinstance(b, float) and np.isnan(b)
    return a == b


@pytest.fixture()
def store(store_backend):
    return store_backend.open()


# ----------------------------------------------------------------------------- JSON


def test_bundled_table_round_trips_exactly():
    table = load_ig_pnp_canonical()
    back = sc.table_from_json(sc.table_to_json(table))
    pd.testing.assert_frame_equal(back, table, check_exact=True)


def test_awkward_table_round_trips_exactly_with_dtypes():
    table = _awkward_table()
    text = sc.table_to_json(table)
    payload = json.loads(text)  # plain JSON (no NaN/Infinity tokens, no pickle)
    assert payload["format"] == records.TABLE_FORMAT
    assert list(payload) == ["format", "columns", "dtypes", "index", "data"]
    back = sc.table_from_json(text)
    pd.testing.assert_frame_equal(back, table, check_exact=True)
    assert back["yi"].iloc[0] == 0.1 + 0.2  # not rounded to 15 digits
    assert back["vi"].iloc[0] == np.inf


def test_column_codec_gives_the_cell_by_cell_values_for_every_dtype():
    """The column-at-a-time codec writes exactly what converting each cell would."""
    n = 6
    table = _awkward_table().reset_index(drop=True)
    extra = pd.DataFrame(
        {
            "f32": np.array([1.1, np.nan, 2, -np.inf, 4, 5], dtype="float32"),
            "u8": np.arange(n, dtype="uint8"),
            "F": pd.array([1.5, None, 3, 4, 5, 6], dtype="Float64"),
            "B": pd.array([True, None, False, True, True, True], dtype="boolean"),
            "obj": pd.Series([1, "x", None, 2.5, np.nan, True], dtype=object),
            "cat": pd.Categorical(["a", "b", None, "a", "a", "b"]),
            "when": pd.to_datetime(["2020-01-01", None] + ["2021-02-03"] * 4),
        },
        index=[5, 4, 3, 2, 1, 0],
    )
    for frame in (table, extra, load_ig_pnp_canonical()):
        payload = json.loads(sc.table_to_json(frame))
        rows = frame.reset_index(drop=True)
        expected = [
            [records._cell(rows.iloc[r, c]) for c in range(rows.shape[1])] for r in range(len(rows))
        ]
        assert payload["data"] == expected
        types = [[type(v) for v in row] for row in payload["data"]]
        assert types == [[type(v) for v in row] for row in expected]


@pytest.mark.parametrize(
    "bad", ["", "not json", "[]", '{"columns": ["a"]}', '{"columns": ["a"], "data": [[1, 2]]}']
)
def test_unreadable_table_json_is_a_scenario_error(bad):
    with pytest.raises(sc.ScenarioError):
        sc.table_from_json(bad)


def test_settings_round_trip():
    for settings in SETTINGS.values():
        assert sc.settings_from_json(sc.settings_to_json(settings)) == settings
    newer = AnalysisSettings(tau2_method="PMM", test="knha", three_level=False, robust="CR2")
    assert sc.settings_from_json(sc.settings_to_json(newer)) == newer
    # Scenarios saved before these settings existed: three-level model on, no robust tests.
    old = json.loads(sc.settings_to_json(AnalysisSettings()))
    del old["three_level"], old["robust"]
    restored = sc.settings_from_json(json.dumps(old))
    assert restored.three_level is True and restored.robust == "none"
    with pytest.raises(sc.ScenarioError):
        sc.settings_from_json("[1, 2]")


def test_fingerprint_ignores_irrelevant_settings_only():
    table = load_ig_pnp_canonical()
    base = PUBLISHED_COMPARISON
    same = base.with_changes(tau2_method="DL", test="knha")  # unused by MH
    assert sc.analysis_fingerprint(table, base) == sc.analysis_fingerprint(table, same)
    every_level = base.with_changes(subgroup_levels=("RCT", "open-label"))
    assert sc.analysis_fingerprint(table, base) == sc.analysis_fingerprint(table, every_level)
    assert sc.analysis_fingerprint(table, base) != sc.analysis_fingerprint(
        table, base.with_changes(zero_cells="metafor")
    )
    for change in ({"three_level": False}, {"robust": "CR2"}, {"tau2_method": "HSk"}):
        random = base.with_changes(pooling="IV", model="random")
        assert sc.analysis_fingerprint(table, random) != sc.analysis_fingerprint(
            table, random.with_changes(**change)
        )
    edited = table.copy()
    edited.loc[0, "ai"] = 8
    assert sc.analysis_fingerprint(table, base) != sc.analysis_fingerprint(edited, base)


# ----------------------------------------------------------------------------- store


def test_save_list_load_rename_delete(store):
    table = load_ig_pnp_canonical()
    sid = store.save("  My\nscenario  ", table, PUBLISHED_COMPARISON, source="src", owner="w1")
    assert len(sid) == 22 and sc.is_valid_id(sid)
    other = store.save("Other", table, AnalysisSettings(), owner="w2")
    listed = store.list("w1")
    assert [i.id for i in listed[:2]] == list(sc.BUILTIN_IDS)
    assert [i.name for i in listed[2:]] == ["My scenario"]
    assert {i.id for i in store.list(all_owners=True)} >= {sid, other}
    loaded = store.load(sid)
    assert loaded.name == "My scenario" and loaded.source == "src" and loaded.owner == "w1"
    assert loaded.settings == PUBLISHED_COMPARISON
    pd.testing.assert_frame_equal(loaded.table, table, check_exact=True)
    store.rename(sid, "Renamed", owner="w1")
    assert store.load(sid).name == "Renamed"
    store.update(sid, table, AnalysisSettings(test="knha"), owner="w1")
    assert store.load(sid).settings.test == "knha"
    store.delete(sid, owner="w1")
    with pytest.raises(sc.ScenarioNotFound):
        store.load(sid)
    with pytest.raises(KeyError):  # ScenarioNotFound is also a KeyError
        store.load(sid)


def test_only_the_owner_changes_a_scenario(store):
    sid = store.save("Mine", load_ig_pnp_canonical(), PUBLISHED_COMPARISON, owner="w1")
    for action in (
        lambda: store.rename(sid, "x", owner="w2"),
        lambda: store.delete(sid, owner="w2"),
        lambda: store.update(sid, load_ig_pnp_canonical(), AnalysisSettings(), owner="w2"),
    ):
        with pytest.raises(sc.ScenarioPermissionError):
            action()
    assert store.load(sid).name == "Mine"
    assert all(i.id != sid for i in store.list("w2"))


def test_builtins_are_always_there_and_read_only(store):
    published = store.load(records.BUILTIN_PUBLISHED)
    assert published.builtin and published.settings == PUBLISHED_COMPARISON
    pd.testing.assert_frame_equal(published.table, load_ig_pnp_canonical())
    assert store.load(records.BUILTIN_PUBLISHED_SINGLE_ARM).settings == PUBLISHED_SINGLE_ARM
    bundle = published.run()
    assert bundle.result.back_transformed()["estimate"] == pytest.approx(2.8991, abs=1e-4)
    with pytest.raises(sc.ScenarioPermissionError):
        store.delete(records.BUILTIN_PUBLISHED)
    with pytest.raises(sc.ScenarioPermissionError):
        store.rename(records.BUILTIN_PUBLISHED, "x")


@pytest.mark.parametrize(
    "bad",
    ["", "x", "a" * 200, "abc def ghi jkl mno", "'; DROP TABLE--", "../../etc/passwd", "\x00" * 22],
)
def test_bad_ids_are_not_found(store, bad):
    with pytest.raises(sc.ScenarioNotFound):
        store.load(bad)
    with pytest.raises(sc.ScenarioNotFound):
        store.load(sc.new_scenario_id())  # well-formed but unknown


def test_names_are_cleaned_and_required(store):
    with pytest.raises(sc.ScenarioError):
        store.save(" \n\t ", load_ig_pnp_canonical(), AnalysisSettings())
    sid = store.save("x" * 500, load_ig_pnp_canonical(), AnalysisSettings())
    assert len(store.load(sid).name) == records.MAX_NAME_CHARS


def test_ids_are_random_and_url_safe():
    ids = {sc.new_scenario_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(sc.is_valid_id(i) and len(i) == 22 for i in ids)


def test_data_are_stored_as_json_text_not_pickle(store, store_backend):
    table = _awkward_table()
    sid = store.save("raw", table, AnalysisSettings(data_type="generic", analysis="generic"))
    ((table_json, settings_json),) = store_backend.execute(
        "main", "SELECT table_json, settings_json FROM scenarios WHERE id = ?", (sid,)
    )
    assert isinstance(table_json, str) and isinstance(settings_json, str)
    assert json.loads(table_json)["columns"] == list(table.columns)
    assert json.loads(settings_json)["analysis"] == "generic"


# ----------------------------------------------------------------------------- schema


def test_new_database_has_schema_version_and_wal(store, store_backend):
    assert store.schema_version() == sc.SCHEMA_VERSION == sc.MIGRATIONS[-1][0]
    if store_backend.name == "sqlite":
        assert store_backend.execute("main", "PRAGMA journal_mode") == [("wal",)]
    rows = store_backend.execute("main", "SELECT version FROM schema_version ORDER BY 1")
    assert [r[0] for r in rows] == [m[0] for m in sc.MIGRATIONS]


def _tables(backend) -> set[str]:
    if backend.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'table'"
        return {r[0] for r in backend.execute("main", query)}
    query = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return {r[0] for r in backend.execute("main", query)}


def test_migrations_are_applied_in_order_to_an_old_database(store_backend, monkeypatch):
    monkeypatch.setattr(store_base, "MIGRATIONS", sc.MIGRATIONS[:1])
    monkeypatch.setattr(store_base, "SCHEMA_VERSION", 1)
    old = store_backend.open()
    sid = old.save("kept", load_ig_pnp_canonical(), PUBLISHED_COMPARISON)
    assert "autosaves" not in _tables(store_backend)
    monkeypatch.undo()
    new = store_backend.open()
    assert new.schema_version() == sc.SCHEMA_VERSION
    assert new.load(sid).name == "kept"
    new.autosave("session-token-1", load_ig_pnp_canonical(), PUBLISHED_COMPARISON)
    store_backend.open()  # reopening applies nothing twice
    count = store_backend.execute("main", "SELECT COUNT(*) FROM schema_version")
    assert count == [(len(sc.MIGRATIONS),)]


def test_a_database_from_a_newer_version_is_refused(store, store_backend):
    sid = store.save("kept", load_ig_pnp_canonical(), PUBLISHED_COMPARISON)
    store_backend.execute("main", "INSERT INTO schema_version VALUES (99, 'future', 'now')")
    with pytest.raises(sc.ScenarioError, match="newer"):
        store_backend.open()
    assert _tables(store_backend) == {"schema_version", "scenarios", "autosaves"}
    assert store_backend.execute("main", "SELECT id FROM scenarios") == [(sid,)]


# ----------------------------------------------------------------------------- concurrency


def test_concurrent_writes_from_threads(store_backend):
    shared = store_backend.open()
    table = load_ig_pnp_canonical()
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def work(n: int) -> None:
        try:
            store = shared if n % 2 else store_backend.open()
            start.wait()
            for i in range(20):
                sid = store.save(f"t{n}-{i}", table, PUBLISHED_COMPARISON, owner=f"w{n}")
                store.rename(sid, f"t{n}-{i}-renamed", owner=f"w{n}")
                store.autosave(f"session-{n:04d}", table, AnalysisSettings(level=0.9))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    store = store_backend.open()
    stored = store.list(all_owners=True, include_builtin=False)
    assert len(stored) == 160
    assert all(item.name.endswith("-renamed") for item in stored)
    assert all(store.load_autosave(f"session-{n:04d}") is not None for n in range(8))


def _process_writer(target: str, n: int, count: int) -> None:
    store = open_store(target)
    table = load_ig_pnp_canonical()
    for i in range(count):
        store.save(f"p{n}-{i}", table, PUBLISHED_SINGLE_ARM, owner=f"p{n}")
        store.autosave(f"process-{n:04d}", table, PUBLISHED_SINGLE_ARM)


def test_concurrent_writes_from_processes(store_backend):
    path = store_backend.target()
    context = multiprocessing.get_context("spawn")
    procs = [context.Process(target=_process_writer, args=(path, n, 15)) for n in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0, 0, 0, 0]
    store = store_backend.open()
    assert len(store.list(all_owners=True, include_builtin=False)) == 60
    for n in range(4):
        assert len(store.list(f"p{n}", include_builtin=False)) == 15


def _open_store(target: str) -> None:
    open_store(target).close()


def test_many_processes_opening_a_new_database_at_once(store_backend):
    """Switching a new file to WAL can fail at once with "database is locked" when
    several processes open it together; the store retries (this failed about once in a
    hundred openings before the retry). On PostgreSQL, replicas starting together
    migrate one after the other (advisory lock)."""
    context = multiprocessing.get_context("fork")
    for trial in range(6):
        path = store_backend.target(f"new-{trial}")
        procs = [context.Process(target=_open_store, args=(path,)) for _ in range(8)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=60)
        assert [proc.exitcode for proc in procs] == [0] * 8
        assert store_backend.open(f"new-{trial}").schema_version() == sc.SCHEMA_VERSION


# ----------------------------------------------------------------------------- numbers

_RELOAD_SCRIPT = r"""
import json, sys
import numpy as np
from igmeta.app.store import open_store
from igmeta.app.pipeline.analysis import run_analysis
store = open_store(sys.argv[1])
out = {}
for name, sid in json.loads(sys.argv[2]).items():
    s = store.load(sid)
    b = run_analysis(s.table, s.settings)
    r = b.result
    fields = {f: float(getattr(r, f)) for f in json.loads(sys.argv[3])}
    fields["weights"] = [float(w) for w in r.weights]
    fields["bt"] = {k: float(v) for k, v in r.back_transformed().items()}
    if b.subgroups is not None:
        fields["subgroups"] = [[float(f.estimate), float(f.se), float(f.ci_lower),
                                float(f.ci_upper)] for f in b.subgroups.fits]
        fields["subgroup_test"] = [float(b.subgroups.test.statistic),
                                   float(b.subgroups.test.pval)]
    out[name] = {k: (repr(v) if not isinstance(v, (list, dict)) else v) for k, v in fields.items()}
print(json.dumps(out, default=repr))
"""


def _as_repr(fields: dict) -> dict:
    out = {}
    for key, value in fields.items():
        if key in ("weights",):
            out[key] = [float(w) for w in value]
        elif key == "bt":
            out[key] = {k: float(v) for k, v in value.items()}
        elif key == "subgroups":
            out[key] = [[float(x) for x in row] for row in value]
        elif key == "subgroup_test":
            out[key] = [float(x) for x in value]
        else:
            out[key] = repr(float(value))
    return out


def test_saved_scenarios_reproduce_identical_numbers_in_a_new_process(store_backend):
    path = store_backend.target()
    store = store_backend.open()
    table = load_ig_pnp_canonical()
    table.loc[1, "study"] = EVIL
    ids, expected = {}, {}
    for name, settings in SETTINGS.items():
        ids[name] = store.save(name, table, settings)
        expected[name] = _result_fields(run_analysis(table, settings))
    generic = pd.DataFrame(
        {
            "study": list("abcd"),
            "yi": [0.1 + 0.2, 1 / 3, -0.7, 2**-40],
            "vi": [0.04, 1 / 7, 0.05, 0.011],
        }
    )
    gen_settings = AnalysisSettings(data_type="generic", analysis="generic", tau2_method="EB")
    ids["generic"] = store.save("generic", generic, gen_settings)
    expected["generic"] = _result_fields(run_analysis(generic, gen_settings))
    # Same process, fresh store object: bit-identical.
    fresh = store_backend.open()
    for name, sid in ids.items():
        loaded = fresh.load(sid)
        assert _same(_result_fields(run_analysis(loaded.table, loaded.settings)), expected[name]), (
            name
        )
    # Another process: bit-identical (compared through repr of every double).
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _RELOAD_SCRIPT,
            str(path),
            json.dumps(ids),
            json.dumps([f for f in RESULT_FIELDS if f != "k"]),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**__import__("os").environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    other = json.loads(proc.stdout)
    for name, fields in expected.items():
        mine = _as_repr({k: v for k, v in fields.items() if k != "k"})
        theirs = other[name]
        for key, value in mine.items():
            if isinstance(value, str):
                assert theirs[key] == value or (value == "nan" and theirs[key] == "nan"), (
                    name,
                    key,
                )
            else:
                assert _same(value, theirs[key]), (name, key)


# ----------------------------------------------------------------------------- autosave


def test_autosave_keeps_the_latest_state_per_session(store):
    table = load_ig_pnp_canonical()
    assert store.load_autosave("nobody-here") is None
    store.autosave("session-aaaa", table, PUBLISHED_COMPARISON, source="first")
    edited = table.copy()
    edited.loc[0, "ai"] = 6
    store.autosave("session-aaaa", edited, AnalysisSettings(level=0.99), source="second")
    store.autosave("session-bbbb", table, PUBLISHED_SINGLE_ARM)
    saved = store.load_autosave("session-aaaa")
    assert saved.source == "second" and saved.settings.level == 0.99
    pd.testing.assert_frame_equal(saved.table, edited, check_exact=True)
    assert store.load_autosave("session-bbbb").settings == PUBLISHED_SINGLE_ARM
    with pytest.raises(sc.ScenarioError):
        store.autosave("short", table, PUBLISHED_COMPARISON)


def test_module_level_autosave_uses_igmeta_db_path(tmp_path, monkeypatch):
    path = tmp_path / "env" / "db.sqlite3"
    monkeypatch.setenv(sc.DB_ENV, str(path))
    assert sc.db_path() == path
    sc.autosave("session-env-1", load_ig_pnp_canonical(), PUBLISHED_SINGLE_ARM)
    assert path.exists()
    assert sc.load_autosave("session-env-1").settings == PUBLISHED_SINGLE_ARM
    assert sc.default_store() is sc.default_store()
    monkeypatch.delenv(sc.DB_ENV)
    assert sc.db_path() == Path("~/.igmeta/igmeta.sqlite3").expanduser()


def test_old_autosaves_are_pruned(store, store_backend):
    table = load_ig_pnp_canonical()
    store.autosave("session-old-1", table, PUBLISHED_COMPARISON)
    store_backend.execute("main", "UPDATE autosaves SET saved_at = '2000-01-01T00:00:00+00:00'")
    store.autosave("session-new-1", table, PUBLISHED_COMPARISON)
    assert store.load_autosave("session-old-1") is None
    assert store.load_autosave("session-new-1") is not None


# ----------------------------------------------------------------------------- comparing


def test_comparison_against_the_published_baseline():
    table = load_ig_pnp_canonical()
    items = [
        ("Published", run_analysis(table, PUBLISHED_COMPARISON)),
        ("REML", run_analysis(table, AnalysisSettings())),
        ("Share", run_analysis(table, PUBLISHED_SINGLE_ARM)),
    ]
    frame = sc.comparison_frame(items)
    assert list(frame["scenario"]) == ["Published", "REML", "Share"]
    assert frame.loc[0, "changes"] == "(baseline)"
    assert frame.loc[0, "estimate"] == pytest.approx(2.899, abs=1e-3)
    assert frame.loc[0, "ci_lower"] == pytest.approx(1.618, abs=1e-3)
    assert np.isnan(frame.loc[0, "pi_lower"]) and np.isnan(frame.loc[0, "tau2"])
    reml = items[1][1].result
    assert frame.loc[1, "tau2"] == reml.tau2
    assert frame.loc[1, "d_estimate"] == pytest.approx(
        reml.back_transformed()["estimate"] - frame.loc[0, "estimate"]
    )
    assert "Pooling: Mantel-Haenszel \u2192 inverse variance" in frame.loc[1, "changes"]
    assert np.isnan(frame.loc[2, "d_estimate"])  # another measure
    assert frame.loc[2, "subgroup_pval"] == items[2][1].subgroups.test.pval
    other_base = sc.comparison_frame(items, baseline=1)
    assert other_base.loc[1, "changes"] == "(baseline)"


def test_describe_changes_names_settings_and_studies():
    table = load_ig_pnp_canonical()
    before = run_analysis(table, PUBLISHED_COMPARISON)
    assert sc.describe_changes(before, before) == []
    edited = table.copy()
    edited.loc[0, "include"] = False
    edited.loc[1, "ai"] = 13
    after = run_analysis(edited, PUBLISHED_COMPARISON.with_changes(zero_cells="metafor"))
    changes = sc.describe_changes(before, after)
    assert any(c.startswith("Zero cells: RevMan") for c in changes)
    assert "Studies left out: Jann 2020" in changes
    assert "Study data changed: Geerts 2021" in changes


def test_variations_apply_to_the_published_analyses():
    table = load_ig_pnp_canonical()
    names = sc.applicable_variations(PUBLISHED_COMPARISON, table)
    assert {
        "Random effects (REML)",
        "Hartung-Knapp (REML)",
        "metafor zero cells (MH)",
        "Peto odds ratio",
        "RCTs only",
    } <= set(names)
    assert "Logit transform" not in names
    hk = sc.VARIATIONS["Hartung-Knapp (REML)"].apply(PUBLISHED_COMPARISON, table)
    assert (hk.pooling, hk.model, hk.tau2_method, hk.test) == ("IV", "random", "REML", "knha")
    rcts = sc.VARIATIONS["RCTs only"].apply(PUBLISHED_SINGLE_ARM, table)
    assert rcts.subgroup_levels == ("RCT",)
    assert run_analysis(table, rcts).result.k == 3
    single = sc.applicable_variations(PUBLISHED_SINGLE_ARM, table)
    assert "Freeman-Tukey transform" in single and "Peto odds ratio" not in single


def test_study_influence_matches_leave_one_out():
    table = load_ig_pnp_canonical()
    mh = run_analysis(table, PUBLISHED_COMPARISON)
    info = sc.study_influence(mh, table, 0)
    without = table.copy()
    without.loc[0, "include"] = False
    expected = run_analysis(without, PUBLISHED_COMPARISON).result.back_transformed()["estimate"]
    assert info["without"]["estimate"] == expected
    assert info["change"] == pytest.approx(expected / 2.8991294983 - 1, rel=1e-8)
    assert info["weight"] == pytest.approx(mh.result.weights[0])
    assert np.isnan(info["cook_d"])  # no influence diagnostics for MH
    assert sc.study_influence(mh, table, 4) is None  # open-label: not in the comparison
    iv = run_analysis(table, AnalysisSettings())
    info_iv = sc.study_influence(iv, table, 1)
    assert np.isfinite(info_iv["cook_d"]) and isinstance(info_iv["influential"], bool)
