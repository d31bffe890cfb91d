""" "What would it take": a hypothetical new trial added to the current analysis.

A two-arm trial (``n`` per arm, control risk ``p0``, effect in the analysis's measure) is
turned into a 2x2 row, appended to the study table, and the *current* analysis is run
again with :func:`igmeta.app.pipeline.analysis.run_analysis` (same settings, same pooling: nothing
is re-implemented here). From that come the new estimate, CI and p-value, the GRADE
imprecision suggestion, the smallest trial that would flip the significance, and a
cumulative (trial-sequential style) series of the pooled Z by accumulated participants.

The cumulative series is *not* a formal trial sequential analysis: it draws the
conventional +/-z boundaries and the optimal information size, without alpha-spending
boundaries or a heterogeneity-adjusted information size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from igmeta.app.evidence.clinical import NNT_MEASURES, pooled_control_risk, treated_risk
from igmeta.app.evidence.grade import Suggestion, optimal_information_size, suggest_imprecision
from igmeta.app.pipeline.analysis import AnalysisBundle, AnalysisSettings, run_analysis
from igmeta.effects import measure_info
from igmeta.sensitivity import cumulative
from igmeta.transforms import back_transform

__all__ = [
    "CUMULATIVE_Z_COLUMNS",
    "HYPOTHETICAL_LABEL",
    "MAX_PER_ARM",
    "HypotheticalTrial",
    "SmallestTrial",
    "WhatIfResult",
    "critical_z",
    "cumulative_z",
    "extended_table",
    "information_size_for",
    "smallest_trial",
    "what_if",
    "what_if_available",
]

HYPOTHETICAL_LABEL = "Hypothetical new trial"
#: Largest trial (per arm) the smallest-trial search tries.
MAX_PER_ARM = 10_000
#: Columns of :func:`cumulative_z`.
CUMULATIVE_Z_COLUMNS = (
    "label",
    "participants",
    "k",
    "estimate",
    "ci_lower",
    "ci_upper",
    "z",
    "pval",
    "hypothetical",
)


@dataclass(frozen=True, slots=True)
class HypotheticalTrial:
    """A planned two-arm trial with a binary outcome.

    Attributes
    ----------
    n_per_arm : int
        Participants in each arm.
    control_risk : float
        Event risk in the control arm, in (0, 1).
    effect : float
        True effect in the analysis's measure on the natural scale (RR, OR or RD).
    """

    n_per_arm: int
    control_risk: float
    effect: float

    def counts(self, measure: str) -> tuple[int, int, int, int]:
        """``(ai, n1i, ci, n2i)``: expected events rounded to whole patients.

        Raises
        ------
        ValueError
            When the effect gives a treated risk outside 0-1 or the inputs are invalid.
        """
        n = int(self.n_per_arm)
        p0 = float(self.control_risk)
        if n < 1:
            raise ValueError("The new trial needs at least one participant per arm.")
        if not (0.0 < p0 < 1.0):
            raise ValueError("The control risk of the new trial must be between 0 and 1.")
        p1 = treated_risk(measure, float(self.effect), p0)
        if not (0.0 <= p1 <= 1.0) or not math.isfinite(p1):
            raise ValueError(
                f"{measure} {self.effect:g} at a control risk of {p0:.1%} gives a treated "
                f"risk of {p1:.1%}, outside 0-100%."
            )
        return int(round(n * p1)), n, int(round(n * p0)), n


def what_if_available(settings: AnalysisSettings) -> str | None:
    """None when a hypothetical trial can be added, else why not (plain words)."""
    if settings.analysis != "comparison":
        return (
            "Not available for this analysis: a hypothetical trial needs a two-group "
            "comparison of binary outcomes (a control-group risk); single-arm proportions, "
            "continuous and generic effects have none."
        )
    if settings.measure not in NNT_MEASURES:
        return f"Not available for the measure {settings.measure}."
    if settings.method == "GENQ":
        return (
            "Not available with the GENQ estimator: a hypothetical trial has no value in "
            "the column of user weights. Choose another tau\u00b2 estimator to add one."
        )
    return None


def extended_table(
    table: pd.DataFrame, settings: AnalysisSettings, trial: HypotheticalTrial
) -> pd.DataFrame:
    """The study table with the hypothetical trial appended as the last row.

    The row is included, has no year (so it comes last in a cumulative analysis by year)
    and, with a subgroup column, the first selected subgroup (or the most frequent
    level) so that the subgroup filter keeps it.
    """
    reason = what_if_available(settings)
    if reason:
        raise ValueError(reason)
    ai, n1i, ci, n2i = trial.counts(settings.measure)
    row: dict[str, object] = {
        "study": HYPOTHETICAL_LABEL,
        "ai": ai,
        "n1i": n1i,
        "ci": ci,
        "n2i": n2i,
    }
    if "include" in table:
        row["include"] = True
    if "provenance" in table:
        row["provenance"] = "hypothetical"
    column = settings.subgroup_column
    if column and column in table:
        if settings.subgroup_levels:
            row[column] = settings.subgroup_levels[0]
        else:
            values = table[column].astype("string").str.strip().dropna()
            values = values[values != ""]
            row[column] = values.mode().iloc[0] if not values.empty else pd.NA
    extra = pd.DataFrame([row])
    for name in extra.columns:
        if name in table and str(table[name].dtype) == "Int64":
            extra[name] = extra[name].astype("Int64")
    return pd.concat([table, extra], ignore_index=True)


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    """The current analysis with and without the hypothetical trial.

    Attributes
    ----------
    trial : HypotheticalTrial
    counts : tuple of int
        ``(ai, n1i, ci, n2i)`` of the added trial.
    before, after : AnalysisBundle
        The analysis of the current table and of the extended one.
    imprecision_before, imprecision_after : Suggestion or None
        GRADE imprecision suggestions (None without a pooled result).
    """

    trial: HypotheticalTrial
    counts: tuple[int, int, int, int]
    before: AnalysisBundle
    after: AnalysisBundle
    imprecision_before: Suggestion | None
    imprecision_after: Suggestion | None

    @staticmethod
    def _summary(bundle: AnalysisBundle) -> dict[str, float]:
        res = bundle.result
        if res is None:
            nan = float("nan")
            return {"estimate": nan, "ci_lower": nan, "ci_upper": nan, "pval": nan, "k": 0}
        nat = res.back_transformed()
        return {
            "estimate": nat["estimate"],
            "ci_lower": nat["ci_lower"],
            "ci_upper": nat["ci_upper"],
            "pval": float(res.pval),
            "k": int(res.k),
        }

    def summary(self) -> pd.DataFrame:
        """Two rows (``"current"``, ``"with new trial"``): estimate, CI, p, k."""
        return pd.DataFrame(
            [self._summary(self.before), self._summary(self.after)],
            index=["current", "with new trial"],
        )


def _alpha(settings: AnalysisSettings) -> float:
    return 1.0 - float(settings.level)


def _significant(bundle: AnalysisBundle) -> bool | None:
    if bundle.result is None or not math.isfinite(bundle.result.pval):
        return None
    return bool(bundle.result.pval < _alpha(bundle.settings))


def what_if(
    table: pd.DataFrame,
    settings: AnalysisSettings,
    trial: HypotheticalTrial,
    *,
    threshold: float | None = None,
    control_risk: float | None = None,
    relative_change: float = 0.25,
    before: AnalysisBundle | None = None,
) -> WhatIfResult:
    """Add ``trial`` to the table and run the current analysis again.

    Parameters
    ----------
    table : DataFrame
        The current study table.
    settings : AnalysisSettings
        The current settings (used unchanged).
    trial : HypotheticalTrial
    threshold, control_risk, relative_change
        Passed to :func:`igmeta.app.evidence.grade.suggest_imprecision` (``control_risk`` is the OIS
        risk; default: the pooled control-arm risk of the *current* studies, for both
        suggestions, so that only the data change).
    before : AnalysisBundle, optional
        ``run_analysis(table, settings)`` if already computed.

    Raises
    ------
    ValueError
        When the analysis has no control risk or the trial's risks are impossible.
    """
    before = before if before is not None else run_analysis(table, settings)
    extended = extended_table(table, settings, trial)
    after = run_analysis(extended, settings)
    p0 = pooled_control_risk(before) if control_risk is None else control_risk
    options = {"threshold": threshold, "relative_change": relative_change}
    if p0 is not None and math.isfinite(p0):
        options["control_risk"] = p0
    return WhatIfResult(
        trial,
        trial.counts(settings.measure),
        before,
        after,
        suggest_imprecision(before, **options) if before.result is not None else None,
        suggest_imprecision(after, **options) if after.result is not None else None,
    )


@dataclass(frozen=True, slots=True)
class SmallestTrial:
    """The smallest hypothetical trial that flips the significance of the pooled result.

    Attributes
    ----------
    target : str
        ``"significant"`` or ``"non-significant"``.
    n_per_arm : int or None
        Smallest size per arm found, None when no trial up to ``max_per_arm`` does it.
    max_per_arm : int
    message : str
        The answer in plain words.
    evaluations : int
        Number of analyses run by the search.
    """

    target: str
    n_per_arm: int | None
    max_per_arm: int
    message: str
    evaluations: int

    @property
    def total(self) -> int | None:
        """Participants in both arms."""
        return None if self.n_per_arm is None else 2 * self.n_per_arm


def smallest_trial(
    table: pd.DataFrame,
    settings: AnalysisSettings,
    control_risk: float,
    effect: float,
    *,
    target: str | None = None,
    max_per_arm: int = MAX_PER_ARM,
) -> SmallestTrial:
    """Smallest trial (per arm) at ``effect`` and ``control_risk`` that flips significance.

    Parameters
    ----------
    table, settings
        The current analysis.
    control_risk, effect : float
        The hypothetical trial's control risk and true effect (natural scale).
    target : {"significant", "non-significant"}, optional
        Default: the opposite of the current result.
    max_per_arm : int
        Largest size per arm tried.

    Returns
    -------
    SmallestTrial

    Notes
    -----
    Sizes 1, 2, 4, 8, ... per arm are tried until the target is reached (or
    ``max_per_arm``); then bisection between the last size that failed and the first that
    worked gives ``n`` with the target reached at ``n`` and not at ``n - 1``. This is the
    smallest size when the target, once reached, stays reached as the trial grows (true
    for a common-effect model with a trial effect beyond the threshold; rounding of
    events and a changing tau^2 can break it, so sizes below a doubling step that failed
    are not all checked). Every evaluation is a full :func:`run_analysis`.
    """
    before = run_analysis(table, settings)
    now = _significant(before)
    if now is None:
        raise ValueError(before.error or "The current analysis has no p-value.")
    wanted = target or ("non-significant" if now else "significant")
    if wanted not in ("significant", "non-significant"):
        raise ValueError("target must be 'significant' or 'non-significant'")
    want_sig = wanted == "significant"
    count = 0

    def reached(n: int) -> bool:
        nonlocal count
        count += 1
        trial = HypotheticalTrial(n, control_risk, effect)
        sig = _significant(run_analysis(extended_table(table, settings, trial), settings))
        return sig is not None and sig == want_sig

    measure = settings.measure
    where = f"at {measure} {effect:g} and control risk {control_risk:.1%}"
    HypotheticalTrial(max_per_arm, control_risk, effect).counts(measure)  # validates inputs
    lo, hi = 0, 1
    while not reached(hi):
        lo = hi
        if hi >= max_per_arm:
            return SmallestTrial(
                wanted,
                None,
                max_per_arm,
                f"No trial of up to {2 * max_per_arm:,} participants ({max_per_arm:,} per "
                f"arm) {where} would make the pooled result {wanted}.",
                count,
            )
        hi = min(2 * hi, max_per_arm)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if reached(mid):
            hi = mid
        else:
            lo = mid
    return SmallestTrial(
        wanted,
        hi,
        max_per_arm,
        f"A trial of {2 * hi:,} participants ({hi:,} per arm) {where} would make the pooled "
        f"result {wanted} ({hi - 1:,} per arm would not).",
        count,
    )


def cumulative_z(
    bundle: AnalysisBundle, table: pd.DataFrame, *, hypothetical_last: bool = False
) -> pd.DataFrame:
    """Cumulative pooled estimate and Z by accumulated participants, in order of year.

    Parameters
    ----------
    bundle : AnalysisBundle
        The analysis (``run_analysis(table, settings)``) with a pooled result.
    table : DataFrame
        Its study table (for years and participants).
    hypothetical_last : bool
        The last analysed row is the hypothetical trial: it is added last and marked
        (column ``hypothetical``).

    Returns
    -------
    DataFrame
        Columns :data:`CUMULATIVE_Z_COLUMNS`: ``label`` (study added), ``participants``
        (accumulated, both arms), ``k``, ``estimate``/``ci_lower``/``ci_upper`` (natural
        scale), ``z`` (the pooled test statistic on the analysis scale; a t statistic
        under Hartung-Knapp), ``pval``, ``hypothetical`` (bool).

    Notes
    -----
    The refits are :func:`igmeta.sensitivity.cumulative` (the same model and settings,
    Mantel-Haenszel/Peto refitted table by table); studies are ordered by ``year``
    (missing years last, ties in table order; without a year column, table order).
    """
    res = bundle.result
    if res is None:
        raise ValueError(bundle.error or "No pooled result.")
    rows = bundle.used_rows
    if len(res.study) != len(rows):
        raise ValueError("The cumulative series needs one fitted study per analysed row.")
    numeric = bundle.validation.numeric.iloc[rows]
    size_columns = [c for c in ("n1i", "n2i", "ni") if c in numeric]
    sizes = numeric[size_columns].to_numpy(dtype=float)
    sizes = np.nansum(sizes, axis=1)
    position = np.arange(len(rows))
    years = np.full(len(rows), np.nan)
    if "year" in table:
        years = pd.to_numeric(table["year"].iloc[rows], errors="coerce").to_numpy(dtype=float)
    last = np.zeros(len(rows), dtype=bool)
    if hypothetical_last:
        last[-1] = True
    missing = np.isnan(years)
    order = np.lexsort((position, np.where(missing, 0.0, years), missing, last))
    steps = cumulative(res, order=order)
    trans, ni = res.transform, res.transform_ni
    nat = {
        c: np.asarray(back_transform(steps[c].to_numpy(dtype=float), trans, ni), dtype=float)
        for c in ("estimate", "ci_lower", "ci_upper")
    }
    lower = np.minimum(nat["ci_lower"], nat["ci_upper"])
    upper = np.maximum(nat["ci_lower"], nat["ci_upper"])
    return pd.DataFrame(
        {
            "label": steps["study"].to_numpy(dtype=object),
            "participants": np.cumsum(sizes[order]).astype(int),
            "k": steps["k"].to_numpy(dtype=int),
            "estimate": nat["estimate"],
            "ci_lower": lower,
            "ci_upper": upper,
            "z": steps["statistic"].to_numpy(dtype=float),
            "pval": steps["pval"].to_numpy(dtype=float),
            "hypothetical": last[order],
        }
    )


def information_size_for(
    bundle: AnalysisBundle, control_risk: float | None = None, relative_change: float = 0.25
) -> int | None:
    """OIS (total participants) for the analysis's direction of effect, None if undefined."""
    if bundle.result is None or what_if_available(bundle.settings):
        return None
    p0 = pooled_control_risk(bundle) if control_risk is None else float(control_risk)
    if not (0.0 < p0 < 1.0):
        return None
    null = measure_info(bundle.settings.measure).null_value
    up = bundle.result.back_transformed()["estimate"] > null
    try:
        return optimal_information_size(p0, relative_change, increase=up).total
    except ValueError:
        return None


def critical_z(settings: AnalysisSettings) -> float:
    """The two-sided critical value of the confidence level (1.96 at 95%)."""
    return float(stats.norm.isf(_alpha(settings) / 2.0))
