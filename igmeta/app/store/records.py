"""What a saved scenario is: the exact table and settings JSON, ids, names, records.

One analysis is fully described by its study table and its
:class:`~igmeta.app.pipeline.analysis.AnalysisSettings`, so a scenario stores exactly these
two, as JSON: the table in pandas' ``orient="split"`` layout plus the dtype of every
column, written with :func:`json.dumps` so that floats round-trip exactly (never pickle,
never eval); the settings as :meth:`AnalysisSettings.to_dict`. Ids come from
:func:`secrets.token_urlsafe`. The two published analyses of the bundled table are
built-in scenarios (:data:`BUILTIN_IDS`), always available, never stored.

The store (:mod:`igmeta.app.store`) and :mod:`igmeta.app.store.scenarios` (comparisons,
descriptions, variations) both build on this module, which imports neither.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import re
import secrets
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from igmeta.app.pipeline.analysis import (
    PUBLISHED_COMPARISON,
    PUBLISHED_SINGLE_ARM,
    AnalysisBundle,
    AnalysisSettings,
    run_analysis,
)
from igmeta.datasets import load_ig_pnp_canonical

__all__ = [
    "BUILTIN_IDS",
    "BUILTIN_PUBLISHED",
    "BUILTIN_PUBLISHED_SINGLE_ARM",
    "BUNDLED_SOURCE",
    "MAX_NAME_CHARS",
    "Scenario",
    "ScenarioError",
    "ScenarioInfo",
    "ScenarioNotFound",
    "ScenarioPermissionError",
    "TABLE_FORMAT",
    "builtin_scenario",
    "clean_name",
    "is_valid_id",
    "new_scenario_id",
    "settings_from_json",
    "settings_to_json",
    "table_digest",
    "table_from_json",
    "table_to_json",
]

#: Longest scenario name kept (longer names are cut).
MAX_NAME_CHARS = 120
#: Format tag of the table JSON.
TABLE_FORMAT = "igmeta-table/1"
#: Ids of the built-in scenarios (the published analyses of the bundled IG table).
BUILTIN_PUBLISHED = "published"
BUILTIN_PUBLISHED_SINGLE_ARM = "published-single-arm"
BUILTIN_IDS = (BUILTIN_PUBLISHED, BUILTIN_PUBLISHED_SINGLE_ARM)
_BUILTINS = {
    BUILTIN_PUBLISHED: (
        "Published analysis: IG vs placebo (MH risk ratio, RevMan zeros)",
        PUBLISHED_COMPARISON,
    ),
    BUILTIN_PUBLISHED_SINGLE_ARM: (
        "Published analysis: pooled share of IG responders",
        PUBLISHED_SINGLE_ARM,
    ),
}
BUNDLED_SOURCE = "IG for peripheral neuropathic pain (bundled, partly reconstructed)"
_BUILTIN_TIME = "2022-01-01T00:00:00+00:00"
_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class ScenarioError(ValueError):
    """A scenario could not be saved or read (message in plain words)."""


class ScenarioNotFound(ScenarioError, KeyError):
    """No scenario has this id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "Scenario not found."


class ScenarioPermissionError(ScenarioError):
    """The scenario belongs to another workspace (or is built in)."""


def _cell(value: Any) -> Any:
    """One cell as a JSON value (exact floats; non-finite floats as strings)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        if math.isnan(value):
            return None
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    if isinstance(value, str):
        return value
    if isinstance(value, pd.Timestamp | _dt.datetime | _dt.date):
        return value.isoformat()
    return str(value)


def _column_cells(series: pd.Series) -> list:
    """``[_cell(v) for v in series]``, converted a column at a time where the dtype allows.

    Numbers, booleans and strings go through numpy's ``tolist`` (exact Python ints,
    floats and bools); only non-finite floats and object or other columns are converted
    cell by cell. The result is the same as :func:`_cell` applied to every value.
    """
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        return series.to_numpy().tolist()
    if (isinstance(dtype, np.dtype) and dtype.kind == "f") or isinstance(
        dtype, pd.Float64Dtype | pd.Float32Dtype
    ):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        cells = values.tolist()
        for i in np.flatnonzero(~np.isfinite(values)).tolist():
            cells[i] = _cell(values[i])
        return cells
    if isinstance(dtype, pd.StringDtype | pd.BooleanDtype) or (
        isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_integer_dtype(dtype)
    ):
        return series.to_numpy(dtype=object, na_value=None).tolist()
    return [_cell(value) for value in series]


def _dtype_name(series: pd.Series) -> str:
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return "string" if dtype.na_value is pd.NA else "str"
    return str(dtype)


_NUMERIC_DTYPES = {
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "Float32",
    "Float64",
}


def _restore(values: list, dtype: str) -> pd.Series:
    """A column from its JSON values and recorded dtype (unknown dtypes stay object)."""
    raw = pd.Series(values, dtype=object)
    if dtype in _NUMERIC_DTYPES:
        if dtype.startswith(("float", "Float")):
            raw = raw.map(lambda v: float(v) if isinstance(v, str) else v)
        if dtype.startswith(("int", "uint")) and raw.isna().any():  # no missing numpy ints
            return pd.to_numeric(raw, errors="coerce")
        return raw.astype(dtype)
    if dtype == "bool":
        return raw.astype(bool) if raw.notna().all() else raw.astype("boolean")
    if dtype == "boolean":
        return raw.astype("boolean")
    if dtype in ("str", "string"):
        return raw.astype(dtype)
    if dtype == "category":
        return raw.astype("category")
    if dtype.startswith("datetime64"):
        return pd.to_datetime(raw, errors="coerce")
    return raw


def table_to_json(table: pd.DataFrame) -> str:
    """Serialise a study table as JSON (split layout plus dtypes; floats exact).

    Parameters
    ----------
    table : DataFrame
        Any study table; the index is not kept (rows are renumbered 0..n-1).

    Returns
    -------
    str
        ``{"format", "columns", "dtypes", "index", "data"}``; see :func:`table_from_json`.
    """
    frame = table
    columns = [str(c) for c in frame.columns]
    series = [column for _, column in frame.items()]
    data = [list(row) for row in zip(*map(_column_cells, series), strict=True)]
    payload = {
        "format": TABLE_FORMAT,
        "columns": columns,
        "dtypes": [_dtype_name(s) for s in series],
        "index": list(range(len(frame))),
        "data": data,
    }
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def table_digest(table: pd.DataFrame) -> str:
    """SHA-256 of :func:`table_to_json`: equal exactly when the stored tables are equal.

    Column names, dtypes and every cell count (floats bit for bit); the index does not.
    """
    return hashlib.sha256(table_to_json(table).encode("utf-8")).hexdigest()


def table_from_json(text: str) -> pd.DataFrame:
    """Rebuild a table written by :func:`table_to_json` (plain JSON parsing only).

    Raises
    ------
    ScenarioError
        If the text is not such a table.
    """
    try:
        payload = json.loads(text)
        columns = [str(c) for c in payload["columns"]]
        dtypes = [str(d) for d in payload.get("dtypes") or ["object"] * len(columns)]
        data = payload["data"]
        if len(dtypes) != len(columns) or any(len(row) != len(columns) for row in data):
            raise ValueError("ragged table")
    except (ValueError, KeyError, TypeError) as exc:
        raise ScenarioError(f"The stored table cannot be read ({exc}).") from None
    if not columns:
        return pd.DataFrame(index=range(len(data)))
    cols = list(zip(*data, strict=True)) if data else [[] for _ in columns]
    parts = [_restore(list(values), dtype) for values, dtype in zip(cols, dtypes, strict=True)]
    frame = pd.concat(parts, axis=1, ignore_index=True) if parts else pd.DataFrame()
    frame.columns = columns
    return frame.reset_index(drop=True)


def settings_to_json(settings: AnalysisSettings) -> str:
    """Settings as JSON (:meth:`AnalysisSettings.to_dict`)."""
    return json.dumps(settings.to_dict(), sort_keys=True, allow_nan=False)


def settings_from_json(text: str) -> AnalysisSettings:
    """Settings from :func:`settings_to_json` output (unknown keys ignored)."""
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise TypeError("not an object")
        return AnalysisSettings.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise ScenarioError(f"The stored settings cannot be read ({exc}).") from None


@dataclass(frozen=True)
class ScenarioInfo:
    """A scenario without its table (for lists)."""

    id: str
    name: str
    data_type: str
    created_at: str
    updated_at: str
    builtin: bool = False


@dataclass(frozen=True)
class Scenario:
    """A saved analysis: a study table and the settings it was analysed with."""

    id: str
    name: str
    table: pd.DataFrame
    settings: AnalysisSettings
    source: str
    created_at: str
    updated_at: str
    builtin: bool = False
    owner: str | None = None

    @property
    def data_type(self) -> str:
        return self.settings.data_type

    def info(self) -> ScenarioInfo:
        return ScenarioInfo(
            self.id, self.name, self.data_type, self.created_at, self.updated_at, self.builtin
        )

    def run(self) -> AnalysisBundle:
        """:func:`igmeta.app.pipeline.analysis.run_analysis` on the scenario."""
        return run_analysis(self.table, self.settings)


def new_scenario_id() -> str:
    """A fresh unguessable id (128 random bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def is_valid_id(scenario_id: object) -> bool:
    """Whether ``scenario_id`` has the shape of a scenario id (or is a built-in id)."""
    return isinstance(scenario_id, str) and (
        scenario_id in BUILTIN_IDS or bool(_ID_PATTERN.fullmatch(scenario_id))
    )


def clean_name(name: object) -> str:
    """A scenario name as one line of plain text, at most :data:`MAX_NAME_CHARS` long."""
    text = _CONTROL.sub(" ", str(name if name is not None else "")).strip()
    text = re.sub(r"\s+", " ", text)[:MAX_NAME_CHARS].strip()
    if not text:
        raise ScenarioError("Give the scenario a name.")
    return text


def builtin_scenario(scenario_id: str) -> Scenario:
    """A built-in scenario: the bundled IG table with a published setting."""
    if scenario_id not in _BUILTINS:
        raise ScenarioNotFound(f"There is no built-in scenario {scenario_id!r}.")
    name, settings = _BUILTINS[scenario_id]
    return Scenario(
        scenario_id,
        name,
        load_ig_pnp_canonical(),
        settings,
        BUNDLED_SOURCE,
        _BUILTIN_TIME,
        _BUILTIN_TIME,
        builtin=True,
    )
