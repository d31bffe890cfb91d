"""Cached tool-convention comparisons: pure functions of (table, settings).

Like :mod:`ui.compute`, results are cached with ``st.cache_data`` (settings passed as a
plain dict) and bounded to :data:`ui.compute.CACHE_ENTRIES` entries. The GLMM fits inside
make these the slowest computations of the page, so caching matters here.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from igmeta.app.pipeline.analysis import AnalysisSettings
from igmeta.app.pipeline.conventions import (
    ProportionComparison,
    compare_conventions,
    proportion_comparison,
)
from ui.compute import CACHE_ENTRIES, HASH_FUNCS

__all__ = ["conventions_frame", "proportions_view"]


@st.cache_data(
    max_entries=CACHE_ENTRIES,
    show_spinner="Recomputing under each tool's rules\u2026",
    hash_funcs=HASH_FUNCS,
)
def _conventions(table: pd.DataFrame, settings: dict) -> pd.DataFrame:
    return compare_conventions(table, AnalysisSettings.from_dict(settings))


@st.cache_data(
    max_entries=CACHE_ENTRIES,
    show_spinner="Pooling the share five ways\u2026",
    hash_funcs=HASH_FUNCS,
)
def _proportions(table: pd.DataFrame, settings: dict) -> ProportionComparison:
    return proportion_comparison(table, AnalysisSettings.from_dict(settings))


def conventions_frame(table: pd.DataFrame, settings: AnalysisSettings) -> pd.DataFrame:
    """Cached :func:`igmeta.app.pipeline.conventions.compare_conventions`."""
    return _conventions(table, settings.to_dict())


def proportions_view(table: pd.DataFrame, settings: AnalysisSettings) -> ProportionComparison:
    """Cached :func:`igmeta.app.pipeline.conventions.proportion_comparison`."""
    return _proportions(table, settings.to_dict())
