"""Result objects of a fitted meta-analysis.

A :class:`MetaResult` carries its inputs (``yi``, ``vi``, study labels, the effect-size
object) and its settings (``method``, ``test``, ``level``, ``control``), so every
downstream tool -- heterogeneity CI, leave-one-out, trim-and-fill, plots -- reads from it
instead of asking again (metafor's design).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from igmeta.effects import EffectSizes
from igmeta.transforms import back_transform, interval_back_transform

__all__ = ["MetaRegressionResult", "MetaResult"]


@dataclass(frozen=True, slots=True)
class MetaResult:
    """A pooled meta-analysis (common-effect, random-effects, Mantel-Haenszel or Peto).

    Attributes
    ----------
    measure : str
        Effect measure code (``"RR"``, ``"PFT"``, ``"GEN"``...).
    method : str
        ``"FE"`` (common effect), a tau^2 estimator code, ``"MH"`` or ``"PETO"``.
    test : str
        ``"z"`` or ``"knha"``.
    level : float
        Confidence level as a fraction (0.95).
    k : int
        Number of studies in the fit.
    estimate, se, statistic, pval, ci_lower, ci_upper : float
        Pooled effect on the analysis scale (log scale for ratios), its standard error,
        z (or t for knha) statistic, two-sided p-value and confidence interval.
    pi_lower, pi_upper : float
        Prediction interval (NaN for common-effect fits).
    ddf : float
        Degrees of freedom of the t-distribution (NaN for z-tests).
    tau2, se_tau2 : float
        Between-study variance and its standard error (NaN where undefined).
    q, q_df, q_pval : float
        Cochran's Q with fixed-effect weights, its df and p-value.
    i2, h2 : float
        I^2 (%) and H^2 (from tau^2 for random-effects fits, from Q otherwise).
    vt : float
        Typical within-study variance.
    s2w : float
        Knapp-Hartung scale factor (1 for z-tests).
    weights : ndarray
        Study weights in percent.
    loglik_ml, loglik_reml : float
        Log-likelihoods.
    yi, vi : ndarray
        The fitted studies' effects and variances.
    study : tuple of str
        Labels of the fitted studies.
    dropped : tuple of str
        Studies left out because their effect was undefined.
    transform : str
        Back-transform to the natural scale.
    transform_ni : ndarray or None
        Study sizes for the Freeman-Tukey back-transform.
    converged : bool
        False when an iterative estimator stopped at its iteration limit.
    iterations : int
        Iterations used by the tau^2 estimator.
    control : Mapping
        Convergence settings used.
    warnings : tuple of str
        Plain-English warnings produced by the fit and its inputs.
    effects : EffectSizes or None
        The effect-size object the fit was made from.
    extra : Mapping
        Method-specific results (e.g. Mantel-Haenszel's Cochran-Mantel-Haenszel and
        Breslow-Day tests).
    """

    measure: str
    method: str
    test: str
    level: float
    k: int
    estimate: float
    se: float
    statistic: float
    pval: float
    ci_lower: float
    ci_upper: float
    pi_lower: float
    pi_upper: float
    ddf: float
    tau2: float
    se_tau2: float
    q: float
    q_df: float
    q_pval: float
    i2: float
    h2: float
    vt: float
    s2w: float
    weights: np.ndarray
    loglik_ml: float
    loglik_reml: float
    yi: np.ndarray
    vi: np.ndarray
    study: tuple[str, ...]
    dropped: tuple[str, ...] = ()
    transform: str = "none"
    transform_ni: np.ndarray | None = None
    converged: bool = True
    iterations: int = 0
    control: Mapping[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    effects: EffectSizes | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def tau(self) -> float:
        """Square root of tau^2."""
        return float(np.sqrt(self.tau2)) if np.isfinite(self.tau2) else float("nan")

    @property
    def zval(self) -> float:
        """The test statistic (metafor's name; a t statistic for knha)."""
        return self.statistic

    @property
    def is_random_effects(self) -> bool:
        """True for fits with a between-study variance (not FE, MH or Peto)."""
        return self.method not in ("FE", "MH", "PETO")

    def back_transformed(self) -> dict[str, float]:
        """Estimate, CI and prediction interval on the natural scale.

        Returns
        -------
        dict
            Keys ``estimate``, ``ci_lower``, ``ci_upper``, ``pi_lower``, ``pi_upper``.
            Bounds are transformed separately and put in increasing order (metafor's
            ``predict(..., transf=)``); NaN where undefined.
        """
        ni = self.transform_ni
        est = float(back_transform(self.estimate, self.transform, ni))
        ci_lo, ci_hi = interval_back_transform(self.ci_lower, self.ci_upper, self.transform, ni)
        pi_lo, pi_hi = interval_back_transform(self.pi_lower, self.pi_upper, self.transform, ni)
        return {
            "estimate": est,
            "ci_lower": float(ci_lo),
            "ci_upper": float(ci_hi),
            "pi_lower": float(pi_lo),
            "pi_upper": float(pi_hi),
        }

    def study_frame(self) -> pd.DataFrame:
        """Per-study table: study, yi, vi, sei, ci_lower, ci_upper, weight (%)."""
        from scipy import stats

        z = stats.norm.ppf(0.5 + self.level / 2)
        sei = np.sqrt(self.vi)
        return pd.DataFrame(
            {
                "study": list(self.study),
                "yi": self.yi,
                "vi": self.vi,
                "sei": sei,
                "ci_lower": self.yi - z * sei,
                "ci_upper": self.yi + z * sei,
                "weight": self.weights,
            }
        )

    def summary(self) -> dict[str, float]:
        """The headline numbers as a flat dict (analysis scale)."""
        return {
            "k": self.k,
            "estimate": self.estimate,
            "se": self.se,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
            "pi_lower": self.pi_lower,
            "pi_upper": self.pi_upper,
            "pval": self.pval,
            "tau2": self.tau2,
            "i2": self.i2,
            "h2": self.h2,
            "q": self.q,
            "q_pval": self.q_pval,
        }


@dataclass(frozen=True, slots=True)
class MetaRegressionResult:
    """A meta-regression (mixed-effects model with moderators).

    Attributes
    ----------
    coef_names : tuple of str
        Coefficient names (``"intrcpt"`` first when an intercept is fitted).
    estimate, se, statistic, pval, ci_lower, ci_upper : ndarray
        One entry per coefficient.
    vb : ndarray, shape (p, p)
        Variance-covariance matrix of the coefficients.
    qm, qm_df, qm_pval : float, tuple, float
        Omnibus test of the moderators (chi^2, or F for knha) with its degrees of freedom.
    q, q_df, q_pval : float
        Residual heterogeneity test (QE).
    tau2, se_tau2, i2, h2, vt, r2 : float
        Residual heterogeneity and the proportion of tau^2 explained (R^2, %).
    Other attributes as in :class:`MetaResult`.
    """

    measure: str
    method: str
    test: str
    level: float
    k: int
    coef_names: tuple[str, ...]
    estimate: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pval: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    vb: np.ndarray
    ddf: float
    qm: float
    qm_df: tuple[float, float]
    qm_pval: float
    q: float
    q_df: float
    q_pval: float
    tau2: float
    se_tau2: float
    i2: float
    h2: float
    vt: float
    s2w: float
    r2: float
    weights: np.ndarray
    loglik_ml: float
    loglik_reml: float
    yi: np.ndarray
    vi: np.ndarray
    X: np.ndarray
    study: tuple[str, ...]
    converged: bool = True
    control: Mapping[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def tau(self) -> float:
        """Square root of tau^2."""
        return float(np.sqrt(self.tau2)) if np.isfinite(self.tau2) else float("nan")

    @property
    def p(self) -> int:
        """Number of coefficients."""
        return len(self.coef_names)

    def coefficients(self) -> pd.DataFrame:
        """Coefficient table: name, estimate, se, statistic, pval, ci_lower, ci_upper."""
        return pd.DataFrame(
            {
                "name": list(self.coef_names),
                "estimate": self.estimate,
                "se": self.se,
                "statistic": self.statistic,
                "pval": self.pval,
                "ci_lower": self.ci_lower,
                "ci_upper": self.ci_upper,
            }
        )
