"""The CR2 bias-reduced sandwich of clubSandwich, its Satterthwaite degrees of freedom and the
HTZ Wald test (metafor's ``robust(x, cluster, clubSandwich = TRUE)``).

The working model is the fitted one: its marginal covariance ``M`` is the target variance
and its inverse the weights (clubSandwich's ``inverse_var`` case for ``rma.uni`` and
``rma.mv`` fits without custom weights).

References
----------
Bell RM, McCaffrey DF (2002). Bias reduction in standard errors for linear regression with
multi-stage samples. Survey Methodology 28:169-181.
Tipton E, Pustejovsky JE (2015). Small-sample adjustments for tests of moderators and model
fit using robust variance estimation in meta-regression. J Educ Behav Stat 40:604-634.
doi:10.3102/1076998615606099
Pustejovsky JE, Tipton E (2018). Small-sample methods for cluster-robust variance estimation
and hypothesis testing in fixed effects models. J Bus Econ Stat 36:672-683.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["CR2Fit", "cr2_fit", "htz_test", "satterthwaite_df"]

#: Eigenvalues at or below this are treated as zero in matrix powers (clubSandwich's
#: ``Sym_power`` tolerance).
_EIGEN_TOL = 1e-12


@dataclass(frozen=True, slots=True, eq=False)
class CR2Fit:
    """The CR2 covariance matrix and the arrays its small-sample tests need.

    Attributes
    ----------
    vb : ndarray, shape (p, p)
        CR2 covariance matrix of the coefficients.
    P : ndarray, shape (n_clusters, n_clusters, p, p)
        ``P[j, k] = G_j Phi G_k'``, where ``vb = sum_j (G_j y)(G_j y)'``: under the working
        model, ``E[vb] = sum_j P[j, j]`` and ``Cov(vb[s, t], vb[u, v]) =
        sum_jk (P[j, k][s, u] P[j, k][t, v] + P[j, k][s, v] P[j, k][t, u])``.
    """

    vb: np.ndarray
    P: np.ndarray


def _sym_power(matrix: np.ndarray, power: float) -> np.ndarray:
    """Power of a symmetric matrix through its eigen decomposition (null space kept null)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    safe = np.where(values > _EIGEN_TOL, values, 1.0)
    powered = np.where(values > _EIGEN_TOL, safe**power, 0.0)
    return (vectors * powered) @ vectors.T


def cr2_fit(
    y: np.ndarray, X: np.ndarray, M: np.ndarray, beta: np.ndarray, inverse: np.ndarray
) -> CR2Fit:
    """CR2 covariance of weighted least-squares coefficients, clustered.

    Parameters
    ----------
    y : ndarray, shape (N,)
        Estimates.
    X : ndarray, shape (N, p)
        Design matrix.
    M : ndarray, shape (N, N)
        Marginal covariance of the fitted model (target variance; its inverse is the weight).
    beta : ndarray, shape (p,)
        Fitted coefficients.
    inverse : ndarray of int, shape (N,)
        Cluster index (0 .. n_clusters - 1) of each estimate.

    Returns
    -------
    CR2Fit

    Notes
    -----
    With ``W = M^-1``, ``B = (X'WX)^-1`` and, per cluster ``j``, ``Phi_j`` the block of ``M``
    with its upper Cholesky factor ``R_j`` (``Phi_j = R_j' R_j``), the adjustment is
    ``A_j = R_j' [R_j (Phi_j - X_j B X_j') R_j']^(-1/2) R_j`` and
    ``vb = B (sum_j X_j' W_j A_j e_j e_j' A_j' W_j X_j) B`` with ``e = y - X beta``
    (clubSandwich ``vcovCR(type = "CR2")``).
    """
    W = np.linalg.inv(M)
    B = np.linalg.inv(X.T @ W @ X)
    resid = y - X @ beta
    n_obs = y.size
    residual_maker = np.eye(n_obs) - X @ B @ X.T @ W
    n_clusters = int(inverse.max()) + 1
    phi = np.zeros_like(M)
    G = np.zeros((n_clusters, X.shape[1], n_obs))
    scores = np.zeros((n_clusters, X.shape[1]))
    for j in range(n_clusters):
        idx = np.flatnonzero(inverse == j)
        block = M[np.ix_(idx, idx)]
        phi[np.ix_(idx, idx)] = block
        upper = np.linalg.cholesky(block).T
        Xj = X[idx]
        middle = upper @ (block - Xj @ B @ Xj.T) @ upper.T
        adjust = upper.T @ _sym_power(middle, -0.5) @ upper
        E = B @ Xj.T @ W[np.ix_(idx, idx)] @ adjust
        scores[j] = E @ resid[idx]
        G[j] = E @ residual_maker[idx]
    vb = scores.T @ scores
    G_phi = G @ phi
    P = np.einsum("jan,kbn->jkab", G_phi, G)
    return CR2Fit(vb=vb, P=P)


def satterthwaite_df(fit: CR2Fit) -> np.ndarray:
    """Satterthwaite degrees of freedom of each coefficient's t-test.

    Parameters
    ----------
    fit : CR2Fit

    Returns
    -------
    ndarray, shape (p,)
        ``2 E[v]^2 / Var[v]`` for each diagonal element ``v`` of the CR2 covariance under the
        working model (clubSandwich ``coef_test(test = "Satterthwaite")``).
    """
    diag = np.einsum("jkaa->jka", fit.P)
    expected = np.einsum("jja->a", diag)
    return expected**2 / np.sum(diag**2, axis=(0, 1))


def htz_test(fit: CR2Fit, beta: np.ndarray, idx: np.ndarray) -> tuple[float, float, float, float]:
    """HTZ Wald test that the coefficients ``idx`` are all zero.

    Parameters
    ----------
    fit : CR2Fit
    beta : ndarray, shape (p,)
    idx : ndarray of int
        Coefficients tested (``q`` of them).

    Returns
    -------
    F, df1, df2, pval : float
        ``F = (eta - q + 1) / (eta q) Q`` on ``(q, eta - q + 1)`` degrees of freedom, where
        ``Q`` is the Wald statistic with the CR2 covariance and ``eta`` the degrees of freedom
        of the Hotelling T^2 approximation (clubSandwich ``Wald_test(test = "HTZ")``).
    """
    q = idx.size
    b = beta[idx]
    Q = float(b @ np.linalg.solve(fit.vb[np.ix_(idx, idx)], b))
    P = fit.P[:, :, idx][:, :, :, idx]
    omega = np.einsum("jjab->ab", P)
    root = _sym_power(omega, -0.5)
    S = np.einsum("ab,jkbc,cd->jkad", root, P, root)
    # sum over s, t of Var(S[s, t]) (clubSandwich's total_variance_mat)
    total = np.einsum("jkst,jkts->", S, S) + np.sum(np.einsum("jkss->jk", S) ** 2)
    eta = q * (q + 1) / total
    df2 = eta - q + 1
    F = max(0.0, df2 / (eta * q) * Q)
    pval = float(stats.f.sf(F, q, df2)) if df2 > 0 else float("nan")
    return float(F), float(q), float(df2), pval
