"""Cluster-robust inference for fitted models (metafor's ``robust()``: CR1, or CR2 with
Satterthwaite t-tests and the HTZ Wald test as with ``clubSandwich = TRUE``).

The coefficients stay those of the fitted model; their covariance matrix is replaced by a
sandwich estimator that only assumes independence between clusters, so that dependent
estimates within a cluster (several outcomes of one trial, studies of one research group)
or a misspecified random-effects structure do not make the intervals too narrow.

References
----------
Hedges LV, Tipton E, Johnson MC (2010). Robust variance estimation in meta-regression with
dependent effect size estimates. Res Synth Methods 1:39-65. doi:10.1002/jrsm.5
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from igmeta.multilevel import MultilevelResult
from igmeta.results import MetaRegressionResult, MetaResult
from igmeta.robust_cr2 import cr2_fit, htz_test, satterthwaite_df

__all__ = ["RobustResult", "robust"]


@dataclass(frozen=True, slots=True, eq=False)
class RobustResult:
    """Cluster-robust tests of a model's coefficients.

    Attributes
    ----------
    beta, se, tval, pval, ci_lb, ci_ub : ndarray
        Coefficients (unchanged), robust standard errors, t statistics, p-values and CI.
    vb : ndarray
        Robust covariance matrix of the coefficients.
    ddf : ndarray
        Degrees of freedom of each coefficient's t-test: clusters minus coefficients (CR1)
        or Satterthwaite's (CR2).
    QM, QMp : float
        F test of the coefficients (all but an intercept of a model with moderators);
        with CR2 the HTZ test (for an intercept-only model, the square of its t).
    QMdf : tuple of float
        Numerator and denominator degrees of freedom of ``QM``.
    n_clusters : int
    adjust : bool
        Whether the small-sample factor ``n / (n - p)`` was applied (CR1 only).
    level : float
    vcov_type : str
        ``"CR1"`` (``adjust=True``), ``"CR0"`` or ``"CR2"`` (``clubsandwich=True``).
    """

    beta: np.ndarray
    se: np.ndarray
    tval: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    vb: np.ndarray
    ddf: np.ndarray
    QM: float
    QMp: float
    QMdf: tuple[float, float]
    n_clusters: int
    adjust: bool
    level: float
    vcov_type: str


def _model_parts(res) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """(y, X, M, beta, has_intercept) of a fitted model."""
    if isinstance(res, MultilevelResult):
        M = res.V + sum(s * (z @ z.T) for s, z in zip(res.sigma2, res.Z, strict=True))
        intercept = res.coef_names[0] == "intrcpt"
        return res.yi, res.X, M, np.asarray(res.beta, float), intercept
    if isinstance(res, MetaRegressionResult):
        y = np.asarray(res.yi, float)
        M = np.diag(np.asarray(res.vi, float) + float(res.tau2))
        intercept = res.coef_names[0] == "intrcpt"
        return y, np.asarray(res.X, float), M, np.asarray(res.estimate, float), intercept
    if isinstance(res, MetaResult):
        keep = np.isfinite(res.yi) & np.isfinite(res.vi)
        y = np.asarray(res.yi, float)[keep]
        tau2 = float(res.tau2) if np.isfinite(res.tau2) else 0.0
        M = np.diag(np.asarray(res.vi, float)[keep] + tau2)
        return y, np.ones((y.size, 1)), M, np.array([float(res.estimate)]), True
    raise TypeError("robust() needs a result of meta_analysis(), meta_regression() or rma_mv().")


def robust(
    res, cluster: Sequence, *, adjust: bool = True, clubsandwich: bool = False
) -> RobustResult:
    """Cluster-robust (sandwich) tests of a fitted model, as metafor's ``robust()``.

    Parameters
    ----------
    res : MetaResult, MetaRegressionResult or MultilevelResult
        An inverse-variance model (``meta_analysis``), a meta-regression
        (``meta_regression``) or an ``rma_mv`` fit.
    cluster : sequence
        Cluster of each estimate, in the order of the model's estimates.
    adjust : bool, default True
        Multiply by ``n / (n - p)`` (metafor's default small-sample factor, CR1). Ignored
        when ``clubsandwich`` is true.
    clubsandwich : bool, default False
        The CR2 bias-reduced estimator with Satterthwaite t-tests and the HTZ omnibus test
        (metafor's ``clubSandwich = TRUE``; see :mod:`igmeta.robust_cr2`).

    Returns
    -------
    RobustResult

    Raises
    ------
    ValueError
        When the cluster vector does not match the estimates, a cluster label is empty, or
        there are not more clusters than coefficients.

    Notes
    -----
    With ``W = M^-1`` the model's weights, ``B = (X'WX)^-1 X'W`` and ``e = y - X b``,
    ``V_R = c B (sum_j e_j e_j') B'`` (the sum block-diagonal over clusters) with
    ``c = n / (n - p)``; t-tests with ``n - p`` degrees of freedom. With ``clubsandwich``
    the residuals of each cluster are first multiplied by the CR2 adjustment matrix and the
    degrees of freedom are Satterthwaite's, per coefficient.
    """
    y, X, M, beta, intercept = _model_parts(res)
    labels = [None if c is None or c != c else str(c).strip() for c in cluster]
    if len(labels) != y.size:
        raise ValueError(
            f"The cluster column has {len(labels)} values but the model has {y.size} estimates."
        )
    empty = [i + 1 for i, c in enumerate(labels) if not c]
    if empty:
        raise ValueError(f"The cluster is empty in row(s) {', '.join(map(str, empty))}.")
    codes, inverse = np.unique(np.array(labels, dtype=object), return_inverse=True)
    n, p = codes.size, X.shape[1]
    if n <= p:
        raise ValueError(
            f"Cluster-robust tests need more clusters than coefficients (clusters = {n}, "
            f"coefficients = {p})."
        )
    idx = np.arange(1 if intercept and p > 1 else 0, p)
    if clubsandwich:
        fit = cr2_fit(y, X, M, beta, inverse)
        vb = fit.vb
        ddf = satterthwaite_df(fit)
    else:
        W = np.linalg.inv(M)
        bread = np.linalg.inv(X.T @ W @ X) @ X.T @ W
        scores = np.zeros((n, p))
        np.add.at(scores, inverse, (bread * (y - X @ beta)).T)
        vb = scores.T @ scores
        if adjust:
            vb *= n / (n - p)
        ddf = np.full(p, float(n - p))
    se = np.sqrt(np.diag(vb))
    tval = beta / se
    pval = 2 * stats.t.sf(np.abs(tval), ddf)
    level = float(res.level)
    crit = stats.t.ppf(0.5 + level / 2, ddf)
    if clubsandwich and idx.size == p == 1:
        QM, QMdf, QMp = float(tval[0] ** 2), (1.0, float(ddf[0])), float(pval[0])
    elif clubsandwich:
        QM, df1, df2, QMp = htz_test(fit, beta, idx)
        QMdf = (df1, df2)
    else:
        QM = float(beta[idx] @ np.linalg.solve(vb[np.ix_(idx, idx)], beta[idx])) / idx.size
        QMdf = (float(idx.size), float(n - p))
        QMp = float(stats.f.sf(QM, *QMdf))
    return RobustResult(
        beta=beta,
        se=se,
        tval=tval,
        pval=pval,
        ci_lb=beta - crit * se,
        ci_ub=beta + crit * se,
        vb=vb,
        ddf=ddf,
        QM=QM,
        QMp=QMp,
        QMdf=QMdf,
        n_clusters=int(n),
        adjust=adjust and not clubsandwich,
        level=level,
        vcov_type="CR2" if clubsandwich else ("CR1" if adjust else "CR0"),
    )
