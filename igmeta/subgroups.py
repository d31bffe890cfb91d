"""Subgroup analysis and tests for subgroup differences.

Three tests, as used by metafor, RevMan and R's meta package:

* **common effect** -- ``Q_between = Q_total - sum_j Q_within,j``, identical to the QM
  test of ``rma(yi, vi, mods = ~ factor(g), method = "FE")``;
* **random effects, one common tau^2** -- the QM test of the mixed-effects model
  ``rma(yi, vi, mods = ~ factor(g), method = <method>)`` (a pooled residual tau^2);
* **random effects, separate tau^2 per subgroup** (RevMan, meta) -- a common-effect
  Q test on the subgroup estimates ``mu_j`` with their standard errors ``se_j`` from
  separate fits: ``Q = sum (mu_j - mu_bar)^2 / se_j^2``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from igmeta.effects import EffectSizes, labels_at
from igmeta.estimators import DEFAULT_CONTROL
from igmeta.kernel import normalise_level
from igmeta.pooling import fit_regression, meta_analysis
from igmeta.results import MetaRegressionResult, MetaResult
from igmeta.warnings import DroppedStudiesWarning, SmallSampleWarning, warn

__all__ = ["SubgroupResult", "SubgroupTest", "subgroup_analysis"]


@dataclass(frozen=True, slots=True)
class SubgroupTest:
    """A test for subgroup differences.

    Attributes
    ----------
    name : str
        ``"fixed"``, ``"common_tau2"`` or ``"separate_tau2"``.
    statistic : float
        Q_between (chi^2), or F for a Hartung-Knapp mixed-effects model.
    df : tuple of float
        ``(L - 1, NaN)`` for chi^2 tests, ``(L - 1, k - L)`` for F.
    pval : float
        p-value.
    tau2 : float
        The residual tau^2 of the moderator model (NaN for the separate-tau^2 test).
    """

    name: str
    statistic: float
    df: tuple[float, float]
    pval: float
    tau2: float


@dataclass(frozen=True, slots=True)
class SubgroupResult:
    """Per-subgroup fits and the tests for subgroup differences.

    Attributes
    ----------
    by : str
        Name of the grouping variable.
    levels : tuple of str
        Subgroup levels in sorted order.
    rows : tuple of ndarray
        0-based row positions (in the input effect sizes) of each level.
    fits : tuple of MetaResult
        One fit per level with the requested method and test.
    overall : MetaResult
        The fit to all studies with a group.
    test_fixed : SubgroupTest
        Common-effect Q-between.
    test_common_tau2 : SubgroupTest or None
        Mixed-effects model with one tau^2 (None for ``method="FE"`` or too few studies).
    test_separate_tau2 : SubgroupTest
        Q on the subgroup estimates from separate fits.
    moderator_fixed, moderator_random : MetaRegressionResult or None
        The moderator models behind the first two tests.
    warnings : tuple of str
        Plain-English warnings.
    """

    by: str
    levels: tuple[str, ...]
    rows: tuple[np.ndarray, ...]
    fits: tuple[MetaResult, ...]
    overall: MetaResult
    test_fixed: SubgroupTest
    test_common_tau2: SubgroupTest | None
    test_separate_tau2: SubgroupTest
    moderator_fixed: MetaRegressionResult | None
    moderator_random: MetaRegressionResult | None
    warnings: tuple[str, ...] = ()

    @property
    def test(self) -> SubgroupTest:
        """The test matching the fitted model: separate tau^2 for random effects (as
        RevMan and meta report), Q-between for a common-effect model."""
        return self.test_fixed if self.overall.method == "FE" else self.test_separate_tau2

    def to_frame(self) -> pd.DataFrame:
        """One row per subgroup: level, k, estimate, se, ci_lower, ci_upper, pi_lower,
        pi_upper, pval, tau2, i2, q, q_pval (analysis scale)."""
        return pd.DataFrame(
            [
                {
                    "level": level,
                    "k": fit.k,
                    "estimate": fit.estimate,
                    "se": fit.se,
                    "ci_lower": fit.ci_lower,
                    "ci_upper": fit.ci_upper,
                    "pi_lower": fit.pi_lower,
                    "pi_upper": fit.pi_upper,
                    "pval": fit.pval,
                    "tau2": fit.tau2,
                    "i2": fit.i2,
                    "q": fit.q,
                    "q_pval": fit.q_pval,
                }
                for level, fit in zip(self.levels, self.fits, strict=True)
            ]
        )

    def tests_frame(self) -> pd.DataFrame:
        """The tests for subgroup differences as a table (test, statistic, df, pval)."""
        tests = [self.test_fixed, self.test_common_tau2, self.test_separate_tau2]
        return pd.DataFrame(
            [
                {
                    "test": t.name,
                    "statistic": t.statistic,
                    "df": t.df[0],
                    "df2": t.df[1],
                    "pval": t.pval,
                    "tau2": t.tau2,
                }
                for t in tests
                if t is not None
            ]
        )


def _indicator_matrix(groups: np.ndarray, levels: Sequence[str]) -> np.ndarray:
    """Intercept plus treatment-contrast dummies (first level = reference)."""
    columns = [np.ones(groups.shape[0])]
    columns += [(groups == level).astype(float) for level in levels[1:]]
    return np.column_stack(columns)


def _moderator_test(reg: MetaRegressionResult, name: str) -> SubgroupTest:
    return SubgroupTest(name, reg.qm, reg.qm_df, reg.qm_pval, reg.tau2)


def separate_tau2_test(fits: Sequence[MetaResult]) -> SubgroupTest:
    """Q test on subgroup estimates with their own standard errors.

    Notes
    -----
    ``Q = sum_j (mu_j - mu_bar)^2 / se_j^2`` with ``mu_bar`` weighted by ``1/se_j^2``;
    chi^2 with ``L - 1`` df (Borenstein et al. 2009, ch. 19; RevMan's test for subgroup
    differences).
    """
    mu = np.array([fit.estimate for fit in fits])
    w = 1.0 / np.array([fit.se for fit in fits]) ** 2
    mu_bar = np.sum(w * mu) / np.sum(w)
    q = float(np.sum(w * (mu - mu_bar) ** 2))
    df = len(fits) - 1
    return SubgroupTest(
        "separate_tau2", q, (float(df), float("nan")), float(stats.chi2.sf(q, df)), float("nan")
    )


def subgroup_analysis(
    effects: EffectSizes | MetaResult,
    by: Sequence | np.ndarray | pd.Series,
    *,
    by_name: str = "group",
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    control: Mapping[str, float] | None = None,
    weights=None,
) -> SubgroupResult:
    """Fit the model within each subgroup and test for subgroup differences.

    Parameters
    ----------
    effects : EffectSizes or MetaResult
        The studies (a MetaResult contributes its fitted studies and, unless given, its
        method, test, level and control).
    by : sequence
        The subgroup of each study (e.g. "open-label" / "RCT"). Studies with a missing
        group are left out with a warning.
    by_name : str
        Name of the grouping variable, used in coefficient names
        (``"factor(<by_name>)<level>"``, as metafor).
    method, test, level, control, weights
        As in :func:`igmeta.meta_analysis`; the user weights (one per study) enter every
        fit, the moderator models included.

    Returns
    -------
    SubgroupResult

    References
    ----------
    Borenstein M, Higgins JPT (2013). Meta-analysis and subgroups. Prev Sci 14:134-143.
    doi:10.1007/s11121-013-0377-7
    """
    if isinstance(effects, MetaResult):
        res = effects
        effects = res.effects
        method, test, level = res.method, res.test, res.level
        control = dict(res.control)
        weights = res.user_weights
    collected: list[str] = []
    level = normalise_level(level)
    control = {**DEFAULT_CONTROL, **(control or {})}
    groups = pd.Series(np.asarray(by, dtype=object)).reset_index(drop=True)
    if len(groups) != effects.k:
        raise ValueError(f"by has {len(groups)} entries for {effects.k} studies")
    ok = np.isfinite(effects.yi) & np.isfinite(effects.vi) & groups.notna().to_numpy()
    ok &= groups.astype(str).str.strip().ne("").to_numpy()
    if not ok.all():
        names = ", ".join(labels_at(effects.study, ~ok))
        warn(
            DroppedStudiesWarning,
            f"Left out of the subgroup analysis (no group or undefined effect): {names}.",
            collected,
        )
    es = effects.subset(ok)
    a = None if weights is None else np.asarray(weights, dtype=float).reshape(-1)[ok]
    labels = groups[ok].astype(str).to_numpy()
    levels = tuple(sorted(set(labels)))
    rows = tuple(np.flatnonzero(ok)[labels == lev] for lev in levels)
    fits = tuple(
        meta_analysis(
            es.subset(labels == lev),
            method=method,
            test=test,
            level=level,
            control=control,
            weights=None if a is None else a[labels == lev],
        )
        for lev in levels
    )
    overall = meta_analysis(es, method=method, test=test, level=level, control=control, weights=a)
    if len(levels) < 2:
        raise ValueError(f"a subgroup analysis needs at least two subgroups; found {levels}")
    X = _indicator_matrix(labels, levels)
    names = ("intrcpt",) + tuple(f"factor({by_name}){lev}" for lev in levels[1:])
    moderator_fixed = moderator_random = None
    test_common = None
    if es.k > X.shape[1]:
        moderator_fixed = fit_regression(
            es,
            X,
            names,
            method="FE",
            test="z",
            level=level,
            control=control,
            collected=[],
            weights=a,
        )
        test_fixed = _moderator_test(moderator_fixed, "fixed")
        if method != "FE":
            moderator_random = fit_regression(
                es,
                X,
                names,
                method=method,
                test=test,
                level=level,
                control=control,
                collected=[],
                weights=a,
            )
            test_common = _moderator_test(moderator_random, "common_tau2")
    else:
        q_between = overall.q - sum(fit.q for fit in fits)
        df = len(levels) - 1
        test_fixed = SubgroupTest(
            "fixed", q_between, (float(df), float("nan")), float(stats.chi2.sf(q_between, df)), 0.0
        )
        warn(
            SmallSampleWarning,
            "Too few studies for a mixed-effects moderator model; only "
            "the common-effect and separate-tau\u00b2 tests are reported.",
            collected,
        )
    small = [lev for lev, fit in zip(levels, fits, strict=True) if fit.k < 2]
    if small:
        warn(
            SmallSampleWarning,
            f"Subgroup(s) with a single study: {', '.join(small)}; their "
            "heterogeneity cannot be estimated.",
            collected,
        )
    return SubgroupResult(
        by=by_name,
        levels=levels,
        rows=rows,
        fits=fits,
        overall=overall,
        test_fixed=test_fixed,
        test_common_tau2=test_common,
        test_separate_tau2=separate_tau2_test(fits),
        moderator_fixed=moderator_fixed,
        moderator_random=moderator_random,
        warnings=tuple(dict.fromkeys(collected + list(overall.warnings))),
    )
