"""Cached publication-bias and sensitivity results: functions of (table, settings, options).

Like :mod:`ui.compute`, every function here is a pure function of the study table, the
settings (as a plain dict) and a small dict of options, cached with ``st.cache_data`` and
bounded to :data:`ui.compute.CACHE_ENTRIES` entries. The work is
:mod:`igmeta.app.pipeline.diagnostics`'s; this module only caches it.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from igmeta.app.pipeline import diagnostics
from igmeta.app.pipeline.diagnostics import BiasResults, Outcome
from ui import compute

__all__ = [
    "bias_results",
    "cumulative_results",
    "gosh_results",
    "influence_results",
    "leave_one_out_results",
    "permutation_results",
]

_CACHED = st.cache_data(
    max_entries=compute.CACHE_ENTRIES, show_spinner=False, hash_funcs=compute.HASH_FUNCS
)


@_CACHED
def bias_results(table: pd.DataFrame, settings: dict, options: dict) -> BiasResults | None:
    """:func:`igmeta.app.pipeline.diagnostics.bias_results`, cached.

    ``options``: ``estimator`` (``"L0"`` or ``"R0"``) of trim-and-fill.
    """
    bundle = compute.analysis_bundle(table, settings)
    return diagnostics.bias_results(bundle, str(options.get("estimator", "L0")))


@_CACHED
def leave_one_out_results(table: pd.DataFrame, settings: dict, options: dict) -> Outcome:
    """Leave-one-out refits on the display scale (``options`` is unused, for the key)."""
    return diagnostics.leave_one_out_results(compute.analysis_bundle(table, settings))


@_CACHED
def cumulative_results(table: pd.DataFrame, settings: dict, options: dict) -> Outcome:
    """Cumulative meta-analysis; ``options``: ``column`` (or None) and ``descending``."""
    return diagnostics.cumulative_results(
        compute.analysis_bundle(table, settings),
        table,
        options.get("column") or None,
        bool(options.get("descending", False)),
    )


@_CACHED
def influence_results(table: pd.DataFrame, settings: dict, options: dict) -> Outcome:
    """Influence diagnostics (metafor ``influence``), one row per fitted study."""
    return diagnostics.influence_results(compute.analysis_bundle(table, settings))


@_CACHED
def gosh_results(
    table: pd.DataFrame, settings: dict, options: dict, _progress: Callable | None = None
) -> Outcome:
    """GOSH subsets; ``options``: ``subsets`` and ``seed`` (used beyond 20 studies).

    ``_progress`` (not part of the cache key) receives the share of fits done and may
    raise :class:`igmeta.Cancelled`, which propagates.
    """
    return diagnostics.gosh_results(
        compute.analysis_bundle(table, settings),
        options.get("subsets"),
        options.get("seed"),
        _progress,
    )


@_CACHED
def permutation_results(
    table: pd.DataFrame, settings: dict, options: dict, _progress: Callable | None = None
) -> Outcome:
    """Permutation test of the pooled effect; ``options``: ``iterations``, ``seed``.

    ``_progress`` as in :func:`gosh_results`.
    """
    return diagnostics.permutation_results(
        compute.analysis_bundle(table, settings),
        int(options.get("iterations", 1000)),
        options.get("seed"),
        _progress,
    )
