"""Cached pure computations: every result is a function of (table, settings).

``st.cache_data`` keys each call on its arguments; entries are bounded so a busy server
cannot grow without limit. Nothing per-user is stored in module globals.

Streamlit's own hash of a DataFrame (``pandas.util.hash_pandas_object`` over every column,
object columns element by element) costs more than many of the cached computations, and
a page calls several caches with the same table on every run. The caches of the dashboard
therefore hash a table by :func:`table_key` (:data:`HASH_FUNCS`): the SHA-256 of the
scenario codec's exact JSON (column names, dtypes, every cell, floats bit for bit) plus
the index, which is equal exactly when the tables are.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import astuple

import pandas as pd
import streamlit as st

from igmeta.app.outputs.exports import forest_for
from igmeta.app.outputs.tables import ForestLabels
from igmeta.app.pipeline.analysis import AnalysisBundle, AnalysisSettings, run_analysis
from igmeta.app.store.records import table_digest
from igmeta.plots.text_images import text_columns_as_images

__all__ = [
    "CACHE_ENTRIES",
    "HASH_FUNCS",
    "analysis_bundle",
    "current_bundle",
    "forest_spec",
    "table_key",
]

CACHE_ENTRIES = 128


def table_key(table: pd.DataFrame) -> str:
    """Cache key of a table: its exact content, column labels (with their types) and index.

    Parameters
    ----------
    table : DataFrame

    Returns
    -------
    str
        Equal for two tables exactly when their cells, dtypes, column labels and index are.
    """
    index = table.index
    default_index = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    extra = "" if default_index else json.dumps(list(map(repr, index)))
    labels = repr([(type(c).__name__, c) for c in table.columns])
    hasher = hashlib.sha256(table_digest(table).encode("ascii"))
    for part in (labels, extra):
        hasher.update(b"\x00")
        hasher.update(part.encode("utf-8"))
    return hasher.hexdigest()


#: ``hash_funcs`` for ``st.cache_data``: tables are hashed by :func:`table_key`.
HASH_FUNCS = {pd.DataFrame: table_key}


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False, hash_funcs=HASH_FUNCS)
def analysis_bundle(table: pd.DataFrame, settings: dict) -> AnalysisBundle:
    """Cached :func:`igmeta.app.pipeline.analysis.run_analysis` (settings given as a plain dict)."""
    return run_analysis(table, AnalysisSettings.from_dict(settings))


def current_bundle(table: pd.DataFrame, settings: AnalysisSettings) -> AnalysisBundle:
    """The bundle for the session's table and settings."""
    return analysis_bundle(table, settings.to_dict())


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False, hash_funcs=HASH_FUNCS)
def _forest_spec(table: pd.DataFrame, settings: dict, labels: tuple, width_px: int) -> dict | None:
    bundle = analysis_bundle(table, settings)
    spec = forest_for(bundle, table, labels=ForestLabels(*labels), width_px=width_px, as_spec=True)
    return None if spec is None else text_columns_as_images(spec)


def forest_spec(
    table: pd.DataFrame, settings: AnalysisSettings, labels: ForestLabels, width_px: int
) -> dict | None:
    """The Analysis page's forest plot spec (cached; None without a result).

    Keyed on the table, the settings, the labels and the width, so that going back to a
    setting seen before (common <-> random effects, a study excluded and included again)
    draws the forest from the cache. Its text columns are drawn as images
    (:func:`igmeta.plots.text_images.text_columns_as_images`), which a browser draws
    several times faster than plotly's text traces; exports keep real text.
    """
    return _forest_spec(table, settings.to_dict(), astuple(labels), int(width_px))
