"""Cached pure computations: every result is a function of (table, settings).

``st.cache_data`` hashes the table and the settings dict; entries are bounded so a busy
server cannot grow without limit. Nothing per-user is stored in module globals.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from igmeta.analysis import AnalysisBundle, AnalysisSettings, run_analysis

CACHE_ENTRIES = 128


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def analysis_bundle(table: pd.DataFrame, settings: dict) -> AnalysisBundle:
    """Cached :func:`igmeta.analysis.run_analysis` (settings given as a plain dict)."""
    return run_analysis(table, AnalysisSettings.from_dict(settings))


def current_bundle(table: pd.DataFrame, settings: AnalysisSettings) -> AnalysisBundle:
    """The bundle for the session's table and settings."""
    return analysis_bundle(table, settings.to_dict())
