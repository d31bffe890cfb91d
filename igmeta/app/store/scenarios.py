"""Saved analyses ("scenarios"): comparisons, descriptions, variations; the store's names.

What a scenario *is* (the exact table and settings JSON, ids, names, the
:class:`Scenario` records, the built-in published analyses) is
:mod:`igmeta.app.store.records`; its main names are re-exported here. The store lives in
:mod:`igmeta.app.store`: one interface, two back ends (SQLite, the default, one file at
``$IGMETA_DB_PATH``; PostgreSQL, shared by several app replicas, at ``$IGMETA_DB_URL``),
the same schema migrations and ownership rules on both. Scenario ids are unguessable: a
link holding one is the permission to open that scenario. Listing, renaming and deleting
are limited to the scenario's *owner* (a workspace token kept by the app). The store's
names (:class:`ScenarioStore`, :func:`default_store`, :func:`autosave`,
:data:`MIGRATIONS`, ...) can be imported from here.

This module holds the presenter's preset variations (:data:`VARIATIONS`), the headline
summary of a bundle (:func:`summarise`), the side-by-side comparison
(:func:`comparison_frame`), the plain-words settings (:func:`describe_settings`) and list
of what changed between two analyses (:func:`describe_changes`), and the fingerprint of an
analysis (:func:`analysis_fingerprint`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from igmeta.app.pipeline.analysis import (
    AnalysisBundle,
    AnalysisSettings,
    run_analysis,
)
from igmeta.app.store.records import (
    BUILTIN_IDS,
    Scenario,
    ScenarioError,
    ScenarioInfo,
    ScenarioNotFound,
    ScenarioPermissionError,
    builtin_scenario,
    is_valid_id,
    new_scenario_id,
    settings_from_json,
    settings_to_json,
    table_from_json,
    table_to_json,
)
from igmeta.effects import measure_info
from igmeta.formatting import format_ci

if TYPE_CHECKING:  # re-exported from igmeta.app.store on first use (see __getattr__)
    from igmeta.app.store import (
        DEFAULT_DB_PATH,
        MIGRATIONS,
        ScenarioStore,
        autosave,
        db_path,
        default_store,
        load_autosave,
    )

__all__ = [
    "BUILTIN_IDS",
    "DEFAULT_DB_PATH",
    "MIGRATIONS",
    "VARIATIONS",
    "Scenario",
    "ScenarioError",
    "ScenarioInfo",
    "ScenarioNotFound",
    "ScenarioPermissionError",
    "ScenarioStore",
    "Variation",
    "analysis_fingerprint",
    "applicable_variations",
    "autosave",
    "builtin_scenario",
    "comparison_frame",
    "db_path",
    "default_store",
    "describe_changes",
    "describe_settings",
    "is_valid_id",
    "load_autosave",
    "new_scenario_id",
    "settings_from_json",
    "settings_to_json",
    "study_influence",
    "summarise",
    "table_from_json",
    "table_to_json",
]


#: Names that live in :mod:`igmeta.app.store` and are re-exported here (imported on first
#: use, so that loading this module does not open the store's back ends).
_STORE_NAMES = {
    "AUTOSAVE_MAX_AGE_DAYS": "igmeta.app.store.base",
    "MAX_TABLE_JSON_CHARS": "igmeta.app.store.base",
    "MIGRATIONS": "igmeta.app.store.base",
    "SCHEMA_VERSION": "igmeta.app.store.base",
    "StoreUnavailable": "igmeta.app.store.base",
    "BUSY_TIMEOUT_MS": "igmeta.app.store.sqlite",
    "DB_ENV": "igmeta.app.store.sqlite",
    "DEFAULT_DB_PATH": "igmeta.app.store.sqlite",
    "db_path": "igmeta.app.store.sqlite",
    "ScenarioStore": "igmeta.app.store",
    "autosave": "igmeta.app.store.url",
    "default_store": "igmeta.app.store.url",
    "load_autosave": "igmeta.app.store.url",
}


def __getattr__(name: str) -> Any:
    """The store's names (:data:`_STORE_NAMES`), from :mod:`igmeta.app.store`."""
    module = _STORE_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


# --------------------------------------------------------------------------- serialising


def _normalised(settings: AnalysisSettings, table: pd.DataFrame) -> AnalysisSettings:
    """Settings with a subgroup filter that keeps every level written as None."""
    column, levels = settings.subgroup_column, settings.subgroup_levels
    if column and levels is not None and column in table:
        values = table[column].astype("string").fillna("").str.strip()
        if set(levels) == {v for v in values if v}:
            return settings.with_changes(subgroup_levels=None)
    return settings


def analysis_fingerprint(table: pd.DataFrame, settings: AnalysisSettings) -> str:
    """A hash of what determines the analysis: the table and the settings that matter.

    Settings that do not affect the result (e.g. the tau\u00b2 estimator of a common-effect
    model, or a subgroup filter keeping every subgroup) are left out, so two equivalent
    analyses have the same fingerprint.
    """
    settings = _normalised(settings, table)
    digest = hashlib.sha256()
    digest.update(table_to_json(table).encode("utf-8"))
    digest.update(b"\x00")
    digest.update(json.dumps(describe_settings(settings), sort_keys=True).encode("utf-8"))
    return digest.hexdigest()


# --------------------------------------------------------------------------- scenarios


# --------------------------------------------------------------------------- describing

_POOLING = {"IV": "inverse variance", "MH": "Mantel-Haenszel", "PETO": "Peto"}
_ESTIMATORS = {
    "REML": "REML",
    "DL": "DerSimonian-Laird",
    "PM": "Paule-Mandel",
    "ML": "maximum likelihood",
    "SJ": "Sidik-Jonkman",
    "HE": "Hedges",
    "HS": "Hunter-Schmidt",
    "HSk": "Hunter-Schmidt (small-sample corrected)",
    "EB": "empirical Bayes",
    "PMM": "median-unbiased Paule-Mandel",
    "GENQ": "generalised Q (user weights)",
}
_ANALYSES = {
    "comparison": "treatment vs control",
    "single_arm": "pooled proportion",
    "continuous": "continuous outcome",
    "correlation": "correlation",
    "generic": "generic effects",
}
_TARGETS = {
    "only0": "studies with a zero cell",
    "all": "all studies",
    "if0all": "all studies if any has a zero cell",
    "none": "no study",
}


def describe_settings(s: AnalysisSettings) -> dict[str, str]:
    """The settings that matter for this analysis, as (label -> plain words)."""
    out = {
        "Analysis": _ANALYSES.get(s.analysis, s.analysis),
        "Effect measure": measure_info(s.measure).label,
    }
    mh_peto = s.analysis == "comparison" and s.pooling in ("MH", "PETO")
    if s.analysis == "comparison":
        out["Pooling"] = _POOLING.get(s.pooling, s.pooling)
    if mh_peto:
        out["Zero cells"] = (
            "RevMan (0.5 added to zero-cell tables)"
            if s.zero_cells == "revman"
            else "metafor (raw counts)"
        )
        if s.pooling == "PETO":
            out["Effect measure"] = "Peto odds ratio"
    else:
        out["Model"] = "random effects" if s.model == "random" else "common effect"
        if s.model == "random":
            out["tau\u00b2 estimator"] = _ESTIMATORS.get(s.tau2_method, s.tau2_method)
            if s.weights_column is not None:
                out["Weights (GENQ)"] = f"column {s.weights_column}"
            out["Confidence intervals"] = "Hartung-Knapp" if s.test == "knha" else "normal (z)"
            out["Prediction interval"] = "shown" if s.show_prediction else "hidden"
    out["Confidence level"] = f"{s.level:.0%}"
    corrections = s.analysis == "comparison" and not mh_peto
    corrections |= s.analysis == "single_arm" and s.proportion_measure in ("PR", "PLO")
    if corrections:
        text = "none" if s.to == "none" or s.add == 0 else f"{s.add:g} added to {_TARGETS[s.to]}"
        out["Continuity correction"] = text
        if s.analysis == "comparison":
            out["Double-zero studies"] = "dropped" if s.drop00 else "kept"
    if s.subgroup_column:
        levels = "all" if s.subgroup_levels is None else ", ".join(s.subgroup_levels)
        out["Subgroups"] = f"by {s.subgroup_column} ({levels})"
    else:
        out["Subgroups"] = "none"
    # Only when not the default, so tables without a cluster column read as before.
    if not s.three_level:
        out["Three-level model (cluster column)"] = "switched off"
    elif s.robust != "none":
        out["Three-level model (cluster column)"] = f"on, cluster-robust tests {s.robust}"
    return out


def _names(labels: Sequence[str], limit: int = 4) -> str:
    labels = list(labels)
    shown = ", ".join(labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _study_values(bundle: AnalysisBundle) -> dict[str, tuple]:
    if bundle.effects is None:
        return {}
    numeric = bundle.validation.numeric.iloc[bundle.used_rows]
    cols = [
        c
        for c in (
            "ai",
            "n1i",
            "ci",
            "n2i",
            "xi",
            "ni",
            "m1i",
            "sd1i",
            "m2i",
            "sd2i",
            "ri",
            "yi",
            "vi",
            "sei",
            "estimate",
            "ci_lower",
            "ci_upper",
        )
        if c in numeric
    ]
    out: dict[str, tuple] = {}
    for label, (_, row) in zip(bundle.effects.study, numeric[cols].iterrows(), strict=True):
        out.setdefault(str(label), tuple(None if pd.isna(v) else float(v) for v in row))
    return out


def settings_changes(
    before: AnalysisSettings, after: AnalysisSettings
) -> list[tuple[str, str | None, str | None]]:
    """The described settings that differ: ``(label, before, after)``, None where a
    setting does not apply to one of the two analyses."""
    old, new = describe_settings(before), describe_settings(after)
    return [
        (key, old.get(key), new.get(key))
        for key in dict.fromkeys([*old, *new])
        if old.get(key) != new.get(key)
    ]


def describe_changes(before: AnalysisBundle, after: AnalysisBundle) -> list[str]:
    """What differs between two analyses, in plain words (settings, then studies).

    Returns an empty list when nothing that affects the result differs.
    """
    changes = []
    for key, a, b in settings_changes(before.settings, after.settings):
        if a is None:
            changes.append(f"{key}: {b}")
        elif b is not None:
            changes.append(f"{key}: {a} \u2192 {b}")
    va, vb = _study_values(before), _study_values(after)
    left_out = [s for s in va if s not in vb]
    added = [s for s in vb if s not in va]
    edited = [s for s in va if s in vb and va[s] != vb[s]]
    if left_out:
        changes.append(f"Studies left out: {_names(left_out)}")
    if added:
        changes.append(f"Studies added: {_names(added)}")
    if edited:
        changes.append(f"Study data changed: {_names(edited)}")
    return changes


def summarise(bundle: AnalysisBundle) -> dict[str, Any]:
    """Headline numbers of an analysis on the natural scale (NaN where undefined).

    Keys: ``measure``, ``k``, ``estimate``, ``ci_lower``, ``ci_upper``, ``pi_lower``,
    ``pi_upper``, ``tau2``, ``i2``, ``pval``, ``subgroup_pval``, ``text`` (estimate with
    CI) and ``error``.
    """
    nan = float("nan")
    out = {
        "measure": measure_info(bundle.settings.measure).label,
        "k": 0,
        "estimate": nan,
        "ci_lower": nan,
        "ci_upper": nan,
        "pi_lower": nan,
        "pi_upper": nan,
        "tau2": nan,
        "i2": nan,
        "pval": nan,
        "subgroup_pval": nan,
        "text": "no result",
        "error": bundle.error,
    }
    res = bundle.result
    if res is None:
        return out
    bt = res.back_transformed()
    random = res.is_random_effects
    out.update(
        measure=measure_info(res.measure).label if res.measure != "PETO" else "Peto odds ratio",
        k=int(res.k),
        estimate=bt["estimate"],
        ci_lower=bt["ci_lower"],
        ci_upper=bt["ci_upper"],
        pi_lower=bt["pi_lower"] if random else nan,
        pi_upper=bt["pi_upper"] if random else nan,
        tau2=float(res.tau2) if random else nan,
        i2=float(res.i2),
        pval=float(res.pval),
        text=format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"]),
    )
    if bundle.subgroups is not None:
        out["subgroup_pval"] = float(bundle.subgroups.test.pval)
    return out


def comparison_frame(
    items: Sequence[tuple[str, AnalysisBundle]], baseline: int = 0
) -> pd.DataFrame:
    """Side-by-side headline numbers of several analyses, with differences from one.

    Parameters
    ----------
    items : sequence of (name, AnalysisBundle)
    baseline : int
        Position of the baseline in ``items``.

    Returns
    -------
    DataFrame
        One row per analysis: ``scenario``, ``measure``, ``k``, ``estimate``, ``ci_lower``,
        ``ci_upper``, ``pi_lower``, ``pi_upper``, ``tau2``, ``i2``, ``pval``,
        ``subgroup_pval``, then ``d_k``, ``d_estimate``, ``d_tau2``, ``d_i2`` (this row
        minus the baseline; NaN when the measures differ) and ``changes`` (vs baseline).
    """
    if not items:
        return pd.DataFrame()
    rows = [{"scenario": name, **summarise(bundle)} for name, bundle in items]
    base = rows[baseline]
    base_bundle = items[baseline][1]
    for row, (_, bundle) in zip(rows, items, strict=True):
        same = row["measure"] == base["measure"]
        row["d_k"] = row["k"] - base["k"]
        for key in ("estimate", "tau2", "i2"):
            row[f"d_{key}"] = row[key] - base[key] if same else float("nan")
        row["changes"] = "; ".join(describe_changes(base_bundle, bundle)) or "\u2014"
        if row is base:
            row["changes"] = "(baseline)"
    frame = pd.DataFrame(rows)
    return frame.drop(columns=["text", "error"])


# --------------------------------------------------------------------------- variations


@dataclass(frozen=True)
class Variation:
    """A preset variation of an analysis for presenter mode.

    Attributes
    ----------
    name : str
        Short label ("Random effects (REML)").
    applies : callable
        ``(settings, table) -> bool``: whether the variation makes sense here.
    apply : callable
        ``(settings, table) -> settings``: the varied settings (table unchanged).
    """

    name: str
    applies: Callable[[AnalysisSettings, pd.DataFrame], bool]
    apply: Callable[[AnalysisSettings, pd.DataFrame], AnalysisSettings]


def _rct_levels(table: pd.DataFrame) -> tuple[str, ...]:
    if "design" not in table:
        return ()
    values = table["design"].astype("string").fillna("").str.strip()
    return tuple(sorted({v for v in values if v and re.search(r"\brcts?\b|random", v, re.I)}))


def _is(analysis: str) -> Callable[[AnalysisSettings, pd.DataFrame], bool]:
    return lambda s, _t: s.analysis == analysis


def _iv_random(s: AnalysisSettings, method: str, test: str) -> AnalysisSettings:
    return s.with_changes(pooling="IV", model="random", tau2_method=method, test=test)


def _any_analysis(s: AnalysisSettings, _t: pd.DataFrame) -> bool:
    return s.analysis in ("comparison", "single_arm", "continuous", "correlation", "generic")


VARIATIONS: dict[str, Variation] = {
    v.name: v
    for v in (
        Variation("Random effects (REML)", _any_analysis, lambda s, _t: _iv_random(s, "REML", "z")),
        Variation(
            "Random effects (DerSimonian-Laird)",
            _any_analysis,
            lambda s, _t: _iv_random(s, "DL", "z"),
        ),
        Variation(
            "Hartung-Knapp (REML)", _any_analysis, lambda s, _t: _iv_random(s, "REML", "knha")
        ),
        Variation(
            "Common effect (inverse variance)",
            _any_analysis,
            lambda s, _t: s.with_changes(pooling="IV", model="common"),
        ),
        Variation(
            "metafor zero cells (MH)",
            _is("comparison"),
            lambda s, _t: s.with_changes(pooling="MH", zero_cells="metafor"),
        ),
        Variation(
            "Odds ratio (MH)",
            _is("comparison"),
            lambda s, _t: s.with_changes(binary_measure="OR", pooling="MH"),
        ),
        Variation(
            "Peto odds ratio",
            _is("comparison"),
            lambda s, _t: s.with_changes(binary_measure="OR", pooling="PETO"),
        ),
        Variation(
            "Logit transform",
            _is("single_arm"),
            lambda s, _t: s.with_changes(proportion_measure="PLO"),
        ),
        Variation(
            "Freeman-Tukey transform",
            _is("single_arm"),
            lambda s, _t: s.with_changes(proportion_measure="PFT"),
        ),
        Variation(
            "RCTs only",
            lambda s, t: bool(_rct_levels(t)),
            lambda s, t: s.with_changes(subgroup_column="design", subgroup_levels=_rct_levels(t)),
        ),
    )
}


def applicable_variations(settings: AnalysisSettings, table: pd.DataFrame) -> list[str]:
    """Names of the :data:`VARIATIONS` that apply to this analysis."""
    return [name for name, v in VARIATIONS.items() if v.applies(settings, table)]


# --------------------------------------------------------------------------- influence


def _fit_position(bundle: AnalysisBundle, row: int) -> int | None:
    """Position of table row ``row`` among the studies of the pooled fit."""
    rows = [int(r) for r in bundle.used_rows]
    if row not in rows or bundle.effects is None:
        return None
    res = bundle.result
    if len(res.weights) == len(rows):
        return rows.index(row)
    finite = np.isfinite(bundle.effects.yi) & np.isfinite(bundle.effects.vi)
    kept = [r for r, ok in zip(rows, finite, strict=True) if ok]
    return kept.index(row) if row in kept else None


def study_influence(
    bundle: AnalysisBundle,
    table: pd.DataFrame,
    row: int,
    *,
    run: Callable[[pd.DataFrame, AnalysisSettings], AnalysisBundle] = run_analysis,
) -> dict[str, Any] | None:
    """How much one study matters: its weight, the result without it, and (for
    inverse-variance models) metafor's influence diagnostics.

    Parameters
    ----------
    bundle : AnalysisBundle
        The analysis.
    table : DataFrame
        Its study table.
    row : int
        Table row (0-based) of the study.
    run : callable
        ``run_analysis`` or a cached equivalent, for the leave-one-out analysis.

    Returns
    -------
    dict or None
        ``label``, ``weight`` (%), ``without`` (:func:`summarise` of the analysis without
        the study), ``change`` (relative change of the estimate for ratio measures,
        difference otherwise), ``ratio`` (bool), and ``cook_d``, ``dffits``, ``influential``
        when :func:`igmeta.sensitivity.influence` applies; None when the study is not in
        the analysis.
    """
    res = bundle.result
    position = _fit_position(bundle, row) if res is not None else None
    if position is None:
        return None
    rows = [int(r) for r in bundle.used_rows]
    label = str(bundle.effects.study[rows.index(row)])
    reduced = table.copy()
    if "include" not in reduced:
        reduced["include"] = True
    reduced["include"] = reduced["include"].astype("boolean").fillna(False)
    reduced.loc[reduced.index[row], "include"] = False
    without = summarise(run(reduced, bundle.settings))
    full = summarise(bundle)
    ratio = res.transform == "exp"
    if ratio:
        change = without["estimate"] / full["estimate"] - 1.0
    else:
        change = without["estimate"] - full["estimate"]
    out: dict[str, Any] = {
        "label": label,
        "weight": float(res.weights[position]),
        "without": without,
        "change": float(change),
        "ratio": ratio,
        "cook_d": float("nan"),
        "dffits": float("nan"),
        "influential": None,
    }
    if res.method not in ("MH", "PETO") and res.k >= 3:
        try:  # the sensitivity module may be absent in a trimmed build
            from igmeta.sensitivity import influence
        except ImportError:  # pragma: no cover
            influence = None
        if influence is not None:
            try:
                diag = influence(res)
            except (ValueError, TypeError, np.linalg.LinAlgError):
                diag = None
            if diag is not None and position < len(diag):
                item = diag.iloc[position]
                out.update(
                    cook_d=float(item["cook_d"]),
                    dffits=float(item["dffits"]),
                    influential=bool(item["inf"]),
                )
    return out
