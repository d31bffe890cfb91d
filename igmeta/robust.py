"""Cluster-robust inference for fitted models (metafor's ``robust()``, CR1 type).

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
from igmeta.results import MetaResult

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
    ddf : float
        Degrees of freedom of the t-tests (clusters minus coefficients).
    QM, QMp : float
        F test of the coefficients (all but an intercept of a model with moderators).
    n_clusters : int
    adjust : bool
        Whether the small-sample factor ``n / (n - p)`` was applied.
    level : float
    """

    beta: np.ndarray
    se: np.ndarray
    tval: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    vb: np.ndarray
    ddf: float
    QM: float
    QMp: float
    n_clusters: int
    adjust: bool
    level: float


def _model_parts(res) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """(y, X, M, beta, has_intercept) of a fitted model."""
    if isinstance(res, MultilevelResult):
        M = res.V + sum(s * (z @ z.T) for s, z in zip(res.sigma2, res.Z, strict=True))
        intercept = res.coef_names[0] == "intrcpt"
        return res.yi, res.X, M, np.asarray(res.beta, float), intercept
    if isinstance(res, MetaResult):
        keep = np.isfinite(res.yi) & np.isfinite(res.vi)
        y = np.asarray(res.yi, float)[keep]
        tau2 = float(res.tau2) if np.isfinite(res.tau2) else 0.0
        M = np.diag(np.asarray(res.vi, float)[keep] + tau2)
        return y, np.ones((y.size, 1)), M, np.array([float(res.estimate)]), True
    raise TypeError("robust() needs a result of meta_analysis() or rma_mv().")


def robust(res, cluster: Sequence, *, adjust: bool = True) -> RobustResult:
    """Cluster-robust (sandwich) tests of a fitted model, as metafor's ``robust()``.

    Parameters
    ----------
    res : MetaResult or MultilevelResult
        An inverse-variance model (``meta_analysis``) or an ``rma_mv`` fit.
    cluster : sequence
        Cluster of each estimate, in the order of the model's estimates.
    adjust : bool, default True
        Multiply by ``n / (n - p)`` (metafor's default small-sample factor, CR1).

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
    ``c = n / (n - p)``; t-tests with ``n - p`` degrees of freedom. metafor's CR2 option
    (``clubSandwich = TRUE``) is not implemented.
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
    W = np.linalg.inv(M)
    vb_model = np.linalg.inv(X.T @ W @ X)
    bread = vb_model @ X.T @ W
    resid = y - X @ beta
    scores = np.zeros((n, p))
    np.add.at(scores, inverse, (bread * resid).T)
    vb = scores.T @ scores
    if adjust:
        vb *= n / (n - p)
    se = np.sqrt(np.diag(vb))
    tval = beta / se
    ddf = float(n - p)
    level = float(res.level)
    crit = float(stats.t.ppf(0.5 + level / 2, ddf))
    idx = np.arange(1 if intercept and p > 1 else 0, p)
    QM = float(beta[idx] @ np.linalg.solve(vb[np.ix_(idx, idx)], beta[idx])) / idx.size
    return RobustResult(
        beta=beta,
        se=se,
        tval=tval,
        pval=2 * stats.t.sf(np.abs(tval), ddf),
        ci_lb=beta - crit * se,
        ci_ub=beta + crit * se,
        vb=vb,
        ddf=ddf,
        QM=QM,
        QMp=float(stats.f.sf(QM, idx.size, ddf)),
        n_clusters=int(n),
        adjust=adjust,
        level=level,
    )
