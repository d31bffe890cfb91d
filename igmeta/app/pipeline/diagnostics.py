"""Publication-bias and sensitivity analyses of one analysis, failures in plain words.

Every function takes an :class:`~igmeta.app.pipeline.analysis.AnalysisBundle`. The engine's
``ValueError`` (too few studies, undefined tests) becomes a plain message in an
:class:`Outcome`; the engine's warnings are kept as text so that a cached result shows
them again (the dashboard caches these calls in :mod:`ui.compute_extra`).

Nothing statistical is computed here: results come from :mod:`igmeta.bias` and the
sensitivity engine; this module only calls them, maps the fitted studies back to table
rows, orders studies for the cumulative analysis and puts refits on the display scale.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from igmeta.app.outputs.tables import display_scale
from igmeta.app.pipeline.analysis import AnalysisBundle
from igmeta.bias import (
    begg_test,
    beta_selection_model,
    egger_test,
    funnel_frame,
    pet_peese,
    step_selection_model,
    trim_and_fill,
)
from igmeta.result_frames import to_display_scale
from igmeta.transforms import back_transform, interval_back_transform

__all__ = [
    "GOSH_ALL_SUBSETS_MAX_K",
    "GOSH_MAX_SUBSETS",
    "GOSH_SAMPLED_SUBSETS",
    "BiasResults",
    "Outcome",
    "attempt",
    "bias_results",
    "cumulative_order",
    "cumulative_results",
    "fitted_rows",
    "gosh_results",
    "influence_results",
    "leave_one_out_results",
    "method_blocked",
    "permutation_results",
    "refit_blocked",
]

#: Up to this many studies the GOSH analysis fits every subset (2^k - 1 of them).
GOSH_ALL_SUBSETS_MAX_K = 20
#: Beyond :data:`GOSH_ALL_SUBSETS_MAX_K` studies, this many random subsets are fitted by
#: default (metafor's default is 10^6; the page lets the user choose up to that).
GOSH_SAMPLED_SUBSETS = 100_000
GOSH_MAX_SUBSETS = 1_000_000

_MH_PETO = ("MH", "PETO")
_INVERSE_VARIANCE_ONLY = (
    "{what} needs an inverse-variance model, and the current model pools by "
    "{method}. Choose 'Inverse variance' as the pooling method in the sidebar to run it."
)
_METHOD_NAMES = {"MH": "Mantel-Haenszel", "PETO": "Peto's method"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one engine call, or why there is none.

    Attributes
    ----------
    value : object or None
        The engine's result (None when it could not be computed).
    error : str or None
        The reason in plain words (the engine's ``ValueError`` message).
    warnings : tuple of str
        Plain-English warnings the engine gave.
    """

    value: Any = None
    error: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when there is a value."""
        return self.value is not None


def attempt(func: Callable[[], Any]) -> Outcome:
    """Run ``func``; a ``ValueError`` becomes the outcome's error, warnings become text."""
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            value = func()
        except (ValueError, np.linalg.LinAlgError) as exc:
            messages = tuple(dict.fromkeys(str(w.message) for w in caught))
            return Outcome(error=str(exc), warnings=messages)
    own = tuple(getattr(value, "warnings", ()) or ()) if not isinstance(value, pd.DataFrame) else ()
    messages = tuple(dict.fromkeys([*own, *(str(w.message) for w in caught)]))
    return Outcome(value=value, warnings=messages)


def fitted_rows(bundle: AnalysisBundle) -> np.ndarray:
    """Table rows (0-based) of the studies in ``bundle.result``, in the fit's order."""
    res, rows = bundle.result, bundle.used_rows
    if res is None:
        return np.zeros(0, int)
    if len(res.study) == len(rows) or bundle.effects is None:
        return rows
    finite = np.isfinite(bundle.effects.yi) & np.isfinite(bundle.effects.vi)
    return rows[finite] if int(finite.sum()) == len(res.study) else rows[: len(res.study)]


# --------------------------------------------------------------------------- bias


@dataclass(frozen=True, slots=True)
class BiasResults:
    """Everything the publication-bias page shows.

    Attributes
    ----------
    k : int
        Studies with a defined effect (points of the funnel).
    egger_rma, egger_lm, begg, trimfill : Outcome
        Egger's regression test on the model (metafor ``regtest``), the classical
        weighted-regression Egger test (``model = "lm"``), Begg's rank correlation test
        and trim-and-fill.
    funnel : DataFrame
        Funnel points (:func:`igmeta.bias.funnel_frame`): observed, filled (when trim and
        fill ran) and excluded studies, on the analysis scale.
    center : float
        The pooled estimate on the analysis scale (centre of the funnel).
    adjusted : dict or None
        Trim-and-fill adjusted estimate on the display scale: ``estimate``,
        ``ci_lower``, ``ci_upper``, ``level``, ``test``.
    observed : dict
        The pooled estimate on the display scale (same keys).
    limits : dict
        Egger's limit estimates (effect at standard error 0) on the display scale, by
        form (``"rma"``, ``"lm"``), same keys as ``adjusted``.
    petpeese : Outcome
        PET-PEESE (:func:`igmeta.bias.pet_peese`).
    pet_peese_limits : dict
        PET's and PEESE's estimates on the display scale, by name (``"PET"``,
        ``"PEESE"``), same keys as ``adjusted``.
    selection : Outcome
        The step-function selection model (:func:`igmeta.bias.step_selection_model`).
    selection_interval : dict or None
        Its adjusted estimate on the display scale, same keys as ``adjusted``.
    selection_beta : Outcome
        The beta selection model (:func:`igmeta.bias.beta_selection_model`).
    selection_beta_interval : dict or None
        Its adjusted estimate on the display scale, same keys as ``adjusted``.
    """

    k: int
    egger_rma: Outcome
    egger_lm: Outcome
    begg: Outcome
    trimfill: Outcome
    funnel: pd.DataFrame
    center: float
    adjusted: dict | None = None
    observed: dict = field(default_factory=dict)
    limits: dict = field(default_factory=dict)
    petpeese: Outcome = field(default_factory=Outcome)
    pet_peese_limits: dict = field(default_factory=dict)
    selection: Outcome = field(default_factory=Outcome)
    selection_interval: dict | None = None
    selection_beta: Outcome = field(default_factory=Outcome)
    selection_beta_interval: dict | None = None


_NO_NULL_SELECTION = (
    "The selection model works on the studies' p-values against no effect; a single "
    "proportion has no 'no effect' value, so it is not fitted."
)


def _display_interval(estimate, lower, upper, transform, ni, level, test) -> dict:
    est = float(back_transform(estimate, transform, ni))
    lo, hi = interval_back_transform(lower, upper, transform, ni)
    return {
        "estimate": est,
        "ci_lower": float(lo),
        "ci_upper": float(hi),
        "level": level,
        "test": test,
    }


def _excluded_effects(bundle: AnalysisBundle):
    """Effect sizes of the shown studies that the user switched off (greyed in plots)."""
    shown = bundle.display_effects
    if shown is None:
        return None
    off = ~np.isin(bundle.display_rows, bundle.used_rows)
    return shown.subset(np.flatnonzero(off)) if off.any() else None


def bias_results(bundle: AnalysisBundle, estimator: str = "L0") -> BiasResults | None:
    """Egger (both forms), Begg, trim-and-fill, PET-PEESE, the selection models and the
    funnel points of one analysis.

    Parameters
    ----------
    bundle : AnalysisBundle
        The analysis (:func:`igmeta.app.pipeline.analysis.run_analysis`).
    estimator : {"L0", "R0"}
        Estimator of trim-and-fill.

    Returns
    -------
    BiasResults or None
        None when the analysis has no pooled result.
    """
    res = bundle.result
    if res is None:
        return None
    method_name = _METHOD_NAMES.get(res.method)
    if method_name:
        egger_rma = Outcome(
            error=_INVERSE_VARIANCE_ONLY.format(
                what="The regression-test form of Egger's test", method=method_name
            )
        )
        trimfill = Outcome(
            error=_INVERSE_VARIANCE_ONLY.format(what="Trim-and-fill", method=method_name)
        )
    else:
        egger_rma = attempt(lambda: egger_test(res, model="rma"))
        trimfill = attempt(lambda: trim_and_fill(res, estimator=estimator))
    egger_lm = attempt(lambda: egger_test(res, model="lm"))
    begg = attempt(lambda: begg_test(res))
    funnel = funnel_frame(res, trimfill=trimfill.value, excluded=_excluded_effects(bundle))
    transform = display_scale(bundle)[0]
    ni = res.transform_ni
    observed = _display_interval(
        res.estimate, res.ci_lower, res.ci_upper, transform, ni, res.level, res.test
    )
    adjusted = None
    if trimfill.ok:
        model = trimfill.value.model
        adjusted = _display_interval(
            model.estimate,
            model.ci_lower,
            model.ci_upper,
            transform,
            model.transform_ni if model.transform_ni is not None else ni,
            model.level,
            model.test,
        )
    petpeese = attempt(lambda: pet_peese(res))
    regressions = [("rma", egger_rma.value), ("lm", egger_lm.value)]
    if petpeese.ok:
        regressions += [("PET", petpeese.value.pet), ("PEESE", petpeese.value.peese)]
    shown = {
        name: _display_interval(
            reg.est, reg.ci_lower, reg.ci_upper, transform, ni, reg.level, reg.test
        )
        for name, reg in regressions
        if reg is not None
    }
    limits = {name: shown[name] for name in ("rma", "lm") if name in shown}
    pet_peese_limits = {name: shown[name] for name in ("PET", "PEESE") if name in shown}
    if np.isfinite(display_scale(bundle)[2]):
        # Significant = in the direction of the pooled effect (metafor's ``alternative``).
        direction = "less" if res.estimate < 0 else "greater"
        selection = attempt(lambda: step_selection_model(res, alternative=direction))
        selection_beta = attempt(lambda: beta_selection_model(res, alternative=direction))
    else:
        selection = selection_beta = Outcome(error=_NO_NULL_SELECTION)
    selection_interval, selection_beta_interval = (
        _display_interval(sel.estimate, sel.ci_lower, sel.ci_upper, transform, ni, sel.level, "z")
        if sel is not None
        else None
        for sel in (selection.value, selection_beta.value)
    )
    k = int((funnel["included"] & ~funnel["filled"]).sum())
    return BiasResults(
        k=k,
        egger_rma=egger_rma,
        egger_lm=egger_lm,
        begg=begg,
        trimfill=trimfill,
        funnel=funnel,
        center=float(res.estimate),
        adjusted=adjusted,
        observed=observed,
        limits=limits,
        petpeese=petpeese,
        pet_peese_limits=pet_peese_limits,
        selection=selection,
        selection_interval=selection_interval,
        selection_beta=selection_beta,
        selection_beta_interval=selection_beta_interval,
    )


# ------------------------------------------------------------------ sensitivity


def _display_refits(frame: pd.DataFrame, bundle: AnalysisBundle) -> pd.DataFrame:
    """Refits with estimate, CI and PI on the display scale (analysis-scale copies kept)."""
    transform = display_scale(bundle)[0]
    columns = [
        c for c in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper") if c in frame
    ]
    out = to_display_scale(frame, transform, bundle.result.transform_ni, columns=columns)
    for col in columns:
        out[f"{col}_analysis"] = frame[col].to_numpy(dtype=float)
    return out


def method_blocked(bundle: AnalysisBundle, what: str) -> Outcome | None:
    """Why ``what`` cannot run on ``bundle``'s model (Mantel-Haenszel or Peto), or None."""
    method_name = _METHOD_NAMES.get(bundle.result.method)
    if method_name:
        return Outcome(error=_INVERSE_VARIANCE_ONLY.format(what=what, method=method_name))
    return None


def refit_blocked(bundle: AnalysisBundle, what: str | None = None) -> Outcome | None:
    """Why ``bundle`` cannot be refitted: no pooled result, or (with ``what``) a
    Mantel-Haenszel/Peto model that ``what`` cannot use; None when it can."""
    if bundle.result is None:
        return Outcome(error=bundle.error or "There is no pooled result.")
    return method_blocked(bundle, what) if what else None


def leave_one_out_results(bundle: AnalysisBundle) -> Outcome:
    """Leave-one-out refits on the display scale."""
    from igmeta.sensitivity import leave_one_out

    blocked = refit_blocked(bundle)
    if blocked:
        return blocked
    out = attempt(lambda: leave_one_out(bundle.result))
    if not out.ok:
        return out
    return Outcome(value=_display_refits(out.value, bundle), warnings=out.warnings)


def cumulative_order(
    table: pd.DataFrame, rows: np.ndarray, column: str | None, descending: bool = False
) -> np.ndarray:
    """Positions (into ``rows``) sorted by ``table[column]``: stable, missing keys last.

    Numeric columns sort numerically (text that looks like numbers too), other columns
    as case-insensitive text. ``column`` None keeps the table order.
    """
    n = len(rows)
    if not column or column not in table:
        return np.arange(n)
    raw = table[column].iloc[rows].reset_index(drop=True)
    numeric = pd.to_numeric(raw, errors="coerce")
    text = raw.astype("string").str.strip()
    present = text.notna() & (text != "")
    is_numeric = bool(numeric[present].notna().all())
    keys = numeric if is_numeric else text.str.casefold().where(present)
    order = keys.sort_values(ascending=not descending, kind="stable", na_position="last")
    return order.index.to_numpy(dtype=int)


def cumulative_results(
    bundle: AnalysisBundle,
    table: pd.DataFrame,
    column: str | None = None,
    descending: bool = False,
) -> Outcome:
    """Cumulative meta-analysis in the order of ``table[column]``, display scale.

    ``column`` None keeps the table order. The returned frame has the engine's columns
    plus ``order_key`` (the sort value shown to the user, as text).
    """
    from igmeta.sensitivity import cumulative

    blocked = refit_blocked(bundle)
    if blocked:
        return blocked
    rows = fitted_rows(bundle)
    column = column or None
    order = cumulative_order(table, rows, column, descending)
    out = attempt(lambda: cumulative(bundle.result, order=order))
    if not out.ok:
        return out
    frame = _display_refits(out.value, bundle)
    if column and column in table:
        positions = frame["row"].to_numpy(dtype=int) if "row" in frame else order
        values = table[column].iloc[rows[positions]]
        frame["order_key"] = ["" if pd.isna(v) else str(v) for v in values]
    return Outcome(value=frame, warnings=out.warnings)


def influence_results(bundle: AnalysisBundle) -> Outcome:
    """Influence diagnostics (metafor ``influence``), one row per fitted study."""
    from igmeta.sensitivity import influence

    blocked = refit_blocked(bundle, "The influence analysis")
    if blocked:
        return blocked
    return attempt(lambda: influence(bundle.result))


def gosh_results(
    bundle: AnalysisBundle,
    subsets: int | None = None,
    seed: int | None = None,
    progress: Callable | None = None,
) -> Outcome:
    """GOSH subsets: every subset up to 20 studies, a random sample beyond.

    ``subsets`` (size of the random sample, default :data:`GOSH_SAMPLED_SUBSETS`) and
    ``seed`` are used only beyond 20 studies. The frame's ``i2`` is in percent.
    ``progress`` receives the share of fits done and may raise
    :class:`igmeta.Cancelled`, which propagates.
    """
    from igmeta.gosh import gosh

    blocked = refit_blocked(bundle, "The GOSH analysis")
    if blocked:
        return blocked
    k = bundle.result.k
    sampled = int(subsets or GOSH_SAMPLED_SUBSETS)
    chosen = None if k <= GOSH_ALL_SUBSETS_MAX_K else sampled
    return attempt(lambda: gosh(bundle.result, subsets=chosen, seed=seed, progress=progress))


def permutation_results(
    bundle: AnalysisBundle,
    iterations: int = 1000,
    seed: int | None = None,
    progress: Callable | None = None,
) -> Outcome:
    """Permutation test of the pooled effect (``progress`` as in :func:`gosh_results`)."""
    from igmeta.permutation import permutation_test

    blocked = refit_blocked(bundle, "The permutation test")
    if blocked:
        return blocked
    return attempt(
        lambda: permutation_test(
            bundle.result, iterations=int(iterations), seed=seed, progress=progress
        )
    )
