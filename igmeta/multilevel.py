"""Multilevel and multivariate random-effects models (metafor's ``rma.mv``, common cases).

Two structures are covered:

* the **three-level model** ``random = ~ 1 | cluster/study``: a variance component for
  the clusters (``sigma2[0]``) and one for the studies within a cluster (``sigma2[1]``);
* a **known sampling covariance matrix** ``V`` (e.g. block-diagonal, several outcomes
  per trial) with one random intercept per cluster, ``random = ~ 1 | cluster``.

The marginal covariance is ``M = V + sum_j sigma2_j Z_j Z_j'`` with ``Z_j`` the 0/1
membership matrix of level ``j``. The variance components maximise the ML or REML
log-likelihood (profiled over the coefficients); the coefficients are the GLS estimates at
``M``.

References
----------
Konstantopoulos S (2011). Fixed effects and variance components estimation in three-level
meta-analysis. Res Synth Methods 2:61-76. doi:10.1002/jrsm.35
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw
36(3):1-48. doi:10.18637/jss.v036.i03
Cheung MWL (2014). Modeling dependent effect sizes with three-level meta-analyses: a
structural equation modeling approach. Psychol Methods 19:211-229. doi:10.1037/a0032968
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd
from scipy import linalg, stats

from igmeta.formulas import prediction_half_width
from igmeta.kernel import normalise_level
from igmeta.profile_ci import likelihood_bounds
from igmeta.warnings import BoundaryWarning, ConvergenceWarning, SmallSampleWarning, warn

__all__ = [
    "MultilevelResult",
    "predict_mv",
    "rma_mv",
    "sigma2_profile_ci",
    "variance_components_frame",
]

#: Relative step (to the largest free component) below which Fisher scoring stops.
_STEP_TOL = 1e-10


@dataclass(frozen=True, slots=True, eq=False)
class MultilevelResult:
    """A fitted ``rma.mv`` model.

    Attributes
    ----------
    beta, se, zval, pval, ci_lb, ci_ub : ndarray
        Coefficients, standard errors, test statistics (z or t), p-values and CI, in the
        order of ``coef_names``.
    vb : ndarray
        Covariance matrix of the coefficients.
    sigma2 : ndarray
        Variance components: ``[cluster, study-in-cluster]`` (three-level) or
        ``[cluster]`` (known V).
    level_names : tuple of str
        Names of the levels of ``sigma2`` (metafor's ``s.names``).
    n_levels : ndarray
        Number of units per level (metafor's ``s.nlevels``).
    ll, deviance, aic, bic, aicc : float
        metafor's ``fitstats`` of the model.
    QE, QEp : float
        Test for residual heterogeneity (df ``k - p``).
    QM, QMp : float
        Omnibus test of the coefficients (all but the intercept when there is one);
        an F statistic when ``test="t"``.
    I2 : ndarray
        Percentage of the total variance at each level (multilevel I^2).
    k, p : int
        Numbers of estimates and coefficients.
    ddf : float
        Degrees of freedom of the t-tests (NaN for z-tests).
    method, test : str
        ``"REML"``/``"ML"``, ``"z"``/``"t"``.
    level : float
        Confidence level (fraction).
    yi, V, X : ndarray
        Inputs: estimates, sampling covariance matrix, design matrix.
    Z : tuple of ndarray
        Membership matrix of each level.
    coef_names : tuple of str
        Names of the coefficients.
    structure : str
        ``"three-level"`` or ``"known V"``.
    converged : bool
        Whether the optimiser and its gradient check succeeded.
    warnings : tuple of str
        Plain-words messages the fit produced.
    """

    beta: np.ndarray
    se: np.ndarray
    zval: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    vb: np.ndarray
    sigma2: np.ndarray
    level_names: tuple[str, ...]
    n_levels: np.ndarray
    ll: float
    deviance: float
    aic: float
    bic: float
    aicc: float
    QE: float
    QEp: float
    QM: float
    QMp: float
    I2: np.ndarray
    k: int
    p: int
    ddf: float
    method: str
    test: str
    level: float
    yi: np.ndarray
    V: np.ndarray
    X: np.ndarray
    Z: tuple[np.ndarray, ...]
    coef_names: tuple[str, ...]
    structure: str
    converged: bool
    warnings: tuple[str, ...]


def _membership(labels: np.ndarray) -> np.ndarray:
    """0/1 matrix (k x levels) of which unit each row belongs to, in order of appearance."""
    _, first, codes = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    codes = order[codes]
    Z = np.zeros((labels.size, first.size))
    Z[np.arange(labels.size), codes] = 1.0
    return Z


class _Likelihood:
    """ML/REML log-likelihood of ``y ~ N(X b, V + sum s_j Z_j Z_j')`` and its derivatives."""

    def __init__(self, y, V, X, Z, restricted):
        self.y, self.V, self.X, self.Z, self.restricted = y, V, X, Z, restricted
        self.ZZ = [z @ z.T for z in Z]
        k, p = X.shape
        self.k, self.p = k, p
        self.const = -0.5 * (k - p if restricted else k) * np.log(2 * np.pi)
        if restricted:
            self.const += 0.5 * np.linalg.slogdet(X.T @ X)[1]

    def _solved(self, s2):
        """Cholesky solves at ``s2``: (loglik, beta, vb, cho, M^-1 X, M^-1 r)."""
        M = self.V + sum(s * zz for s, zz in zip(s2, self.ZZ, strict=True))
        cho = linalg.cho_factor(M, lower=True)
        logdet_m = 2.0 * np.sum(np.log(np.diag(cho[0])))
        winv_x = linalg.cho_solve(cho, self.X)
        xtwx = self.X.T @ winv_x
        vb = np.linalg.inv(xtwx)
        beta = vb @ (winv_x.T @ self.y)
        resid = self.y - self.X @ beta
        winv_r = linalg.cho_solve(cho, resid)
        ll = self.const - 0.5 * logdet_m - 0.5 * float(resid @ winv_r)
        if self.restricted:
            ll -= 0.5 * np.linalg.slogdet(xtwx)[1]
        return ll, beta, vb, cho, winv_x, winv_r

    def parts(self, s2):
        """(loglik, beta, vb, P, M^-1) with the full k x k matrices."""
        ll, beta, vb, cho, winv_x, _ = self._solved(s2)
        Minv = linalg.cho_solve(cho, np.eye(self.k))
        P = Minv - winv_x @ vb @ winv_x.T
        return ll, beta, vb, P, Minv

    def loglik(self, s2) -> float:
        try:
            return float(self._solved(s2)[0])
        except (linalg.LinAlgError, np.linalg.LinAlgError):
            return -np.inf

    def score_info(self, s2):
        """Gradient and expected information with respect to the variance components.

        ``A`` is ``P`` (REML) or ``M^-1`` (ML) and ``P y = M^-1 r``; the traces use
        ``tr(A Z_i Z_i' A Z_j Z_j') = ||Z_i' A Z_j||^2``, so only k x (levels) solves are
        needed, never a k x k inverse.
        """
        _, _, vb, cho, winv_x, py = self._solved(s2)
        AZ = []
        for z in self.Z:
            winv_z = linalg.cho_solve(cho, z)
            if self.restricted:
                winv_z = winv_z - winv_x @ (vb @ (winv_x.T @ z))
            AZ.append(winv_z)
        grad = np.array(
            [
                -0.5 * np.sum(z * az) + 0.5 * np.sum((z.T @ py) ** 2)
                for z, az in zip(self.Z, AZ, strict=True)
            ]
        )
        info = np.array([[0.5 * np.sum((zi.T @ az) ** 2) for az in AZ] for zi in self.Z])
        return grad, info


def _maximise(lik: _Likelihood, fixed: dict[int, float], start):
    """Maximise over the free components (others held at ``fixed``) by Fisher scoring.

    Steps are projected onto ``sigma2 >= 0`` and halved until the likelihood does not
    fall. Returns ``(sigma2, loglik, converged)``.
    """
    m = len(lik.ZZ)
    free = [j for j in range(m) if j not in fixed]
    s2 = np.array(start, dtype=float, copy=True)
    for j, value in fixed.items():
        s2[j] = value
    ll = lik.loglik(s2)
    if not free:
        return s2, ll, True
    for _ in range(500):
        grad, info = lik.score_info(s2)
        grad, info = grad[free], info[np.ix_(free, free)]
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            return s2, ll, False
        for _halving in range(60):
            new = s2.copy()
            new[free] = np.maximum(s2[free] + step, 0.0)
            ll_new = lik.loglik(new)
            if ll_new >= ll - 1e-12 * max(1.0, abs(ll)):
                break
            step = step / 2
        else:
            return s2, ll, False
        moved = float(np.max(np.abs(new[free] - s2[free])))
        s2, ll = new, ll_new
        if moved <= _STEP_TOL * float(np.max(s2[free])):
            return s2, ll, True
    return s2, ll, False


def _fit_components(lik: _Likelihood, scale: float):
    """Maximise over all components, checking every boundary face ``sigma2_j = 0``."""
    m = len(lik.ZZ)
    best = None
    starts = [(zeros, 1.0) for zeros in product((False, True), repeat=m)]
    starts += [((False,) * m, 0.1), ((False,) * m, 10.0)]
    for zeros, factor in starts:
        fixed = {j: 0.0 for j in range(m) if zeros[j]}
        s2, ll, ok = _maximise(lik, fixed, np.full(m, scale * factor))
        if best is None or ll > best[1] + 1e-10 * max(1.0, abs(best[1])):
            best = (s2, ll, ok)
    s2, ll, ok = best
    grad, _ = lik.score_info(s2)
    interior = s2 > 0
    # Scale-free checks: d ll / d log(sigma2) inside, the slope over a typical step at 0.
    gradient_ok = np.all(np.abs(grad[interior] * s2[interior]) < 1e-6) and np.all(
        grad[~interior] * scale < 1e-6
    )
    return s2, ll, bool(ok and gradient_ok)


def _as_matrix(V, k: int) -> np.ndarray:
    V = np.asarray(V, dtype=float)
    if V.ndim == 1:
        if V.size != k:
            raise ValueError(f"V has {V.size} sampling variances but there are {k} estimates.")
        return np.diag(V)
    if V.shape != (k, k):
        raise ValueError(f"V must be a vector of length {k} or a {k} x {k} matrix.")
    if not np.allclose(V, V.T, rtol=0, atol=1e-12 * max(1.0, np.max(np.abs(V)))):
        raise ValueError("The sampling covariance matrix V must be symmetric.")
    return V


def _design(mods, k: int, intercept: bool) -> tuple[np.ndarray, tuple[str, ...]]:
    cols, names = [], []
    if intercept:
        cols.append(np.ones((k, 1)))
        names.append("intrcpt")
    if mods is not None:
        mods = np.asarray(mods, dtype=float)
        mods = mods.reshape(k, -1) if mods.ndim == 1 else mods
        if mods.shape[0] != k:
            raise ValueError(f"mods has {mods.shape[0]} rows but there are {k} estimates.")
        cols.append(mods)
        names.extend(f"mod{j + 1}" for j in range(mods.shape[1]))
    if not cols:
        raise ValueError("The model needs an intercept or at least one moderator.")
    X = np.hstack(cols)
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise ValueError("The moderators are collinear: the model cannot be fitted.")
    return X, tuple(names)


def _check_labels(labels, k: int, what: str) -> np.ndarray:
    labels = np.asarray(labels, dtype=object)
    if labels.shape != (k,):
        raise ValueError(f"{what} must have one label per estimate ({k}).")
    missing = [i + 1 for i, v in enumerate(labels) if v is None or v != v or str(v) == ""]
    if missing:
        raise ValueError(f"{what} is empty in row(s) {', '.join(map(str, missing))}.")
    return np.array([str(v) for v in labels], dtype=object)


def rma_mv(
    yi: Sequence[float],
    V,
    clusters: Sequence,
    studies: Sequence | None = None,
    method: str = "REML",
    mods=None,
    test: str = "z",
    *,
    intercept: bool = True,
    level: float = 0.95,
    coef_names: Sequence[str] | None = None,
) -> MultilevelResult:
    """Fit a three-level or known-V multivariate random-effects model (``rma.mv``).

    Parameters
    ----------
    yi : sequence of float
        Estimates (k).
    V : array_like
        Sampling variances (length k) or the full k x k sampling covariance matrix.
    clusters : sequence
        Cluster label of each estimate (outer level).
    studies : sequence, optional
        Study label within the cluster: a three-level model ``~ 1 | cluster/study``.
        Without it, one random intercept per cluster (``~ 1 | cluster``).
    method : {"REML", "ML"}
        Restricted or full maximum likelihood.
    mods : array_like, optional
        Moderators (k x q); the intercept is added unless ``intercept=False``.
    test : {"z", "t"}
        Normal tests, or t-tests (and an F omnibus test) with ``k - p`` df.
    intercept : bool
        Whether to add an intercept column.
    level : float
        Confidence level (0.95 or 95).
    coef_names : sequence of str, optional
        Names of the coefficients (default ``intrcpt``, ``mod1``, ...).

    Returns
    -------
    MultilevelResult

    Raises
    ------
    ValueError
        Unknown method or test, k not above p plus the number of variance components,
        empty labels, non-symmetric or singular V, collinear moderators.

    Warns
    -----
    SmallSampleWarning
        When a cluster holds a single estimate (three-level model: the two levels are
        then separated only by the other clusters).
    BoundaryWarning
        When a variance component is estimated as 0.
    ConvergenceWarning
        When the optimiser does not reach a point with a zero gradient.

    Notes
    -----
    ``M = V + sum_j sigma2_j Z_j Z_j'``; ``b = (X'M^-1X)^-1 X'M^-1 y``. The ML
    log-likelihood is ``-k/2 log(2 pi) - 1/2 log|M| - 1/2 r'M^-1 r``; REML uses
    ``k - p`` and adds ``1/2 log|X'X| - 1/2 log|X'M^-1X|`` (metafor's constants). Each
    face of the boundary (components fixed at 0) is maximised too and the highest
    likelihood wins, so a component on the boundary is exactly 0 (metafor, optimising on
    the log scale, stops at about 1e-10). Fit statistics follow metafor's ``fitstats``;
    multilevel I^2 is ``100 sigma2_j / (sum sigma2 + (k - p) / tr(P))`` with
    ``P = W - W X (X'WX)^-1 X'W``, ``W = V^-1``.
    """
    notes: list[str] = []
    method = str(method).upper()
    if method not in ("REML", "ML"):
        raise ValueError(f"method must be 'REML' or 'ML', got {method!r}.")
    test = str(test).lower()
    if test not in ("z", "t"):
        raise ValueError(f"test must be 'z' or 't', got {test!r}.")
    level = normalise_level(level)
    y = np.asarray(yi, dtype=float).ravel()
    k = y.size
    if not np.all(np.isfinite(y)):
        bad = [i + 1 for i in np.flatnonzero(~np.isfinite(y))]
        raise ValueError(f"yi is missing or not a number in row(s) {', '.join(map(str, bad))}.")
    V = _as_matrix(V, k)
    if not np.all(np.isfinite(V)):
        raise ValueError("V holds missing or infinite values.")
    if np.any(np.diag(V) <= 0):
        bad = [i + 1 for i in np.flatnonzero(np.diag(V) <= 0)]
        raise ValueError(
            f"The sampling variance must be positive; it is not in row(s) "
            f"{', '.join(map(str, bad))}."
        )
    eig_min = float(np.linalg.eigvalsh(V)[0])
    if eig_min <= 1e-12 * float(np.max(np.diag(V))):
        raise ValueError(
            "The sampling covariance matrix V is singular or not positive definite: check "
            "the covariances (a correlation of +-1 or above between two estimates)."
        )
    X, names = _design(mods, k, intercept)
    if coef_names is not None:
        names = tuple(str(n) for n in coef_names)
        if len(names) != X.shape[1]:
            raise ValueError("coef_names must name every coefficient.")
    p = X.shape[1]
    cl = _check_labels(clusters, k, "The cluster column")
    Z = [_membership(cl)]
    level_names = ["cluster"]
    if studies is not None:
        st = _check_labels(studies, k, "The study column")
        Z.append(_membership(np.array([f"{c}\x1f{s}" for c, s in zip(cl, st, strict=True)])))
        level_names.append("cluster/study")
        structure = "three-level"
    else:
        structure = "known V"
    n_levels = np.array([z.shape[1] for z in Z])
    n_par = p + len(Z)
    if k <= n_par:
        raise ValueError(
            f"Too few estimates for this model: k = {k}, but the model has {p} "
            f"coefficient(s) and {len(Z)} variance component(s); it needs k > {n_par}."
        )
    if n_levels[0] < 2:
        raise ValueError("The model needs at least two clusters.")
    if structure == "three-level" and n_levels[1] == n_levels[0]:
        raise ValueError(
            "Every cluster holds a single study: the two variance components cannot be "
            "separated. Fit a two-level model instead (no cluster column)."
        )
    sizes = Z[0].sum(axis=0)
    if structure == "three-level" and np.any(sizes == 1):
        single = int(np.sum(sizes == 1))
        warn(
            SmallSampleWarning,
            f"{single} cluster(s) hold a single study: for them the cluster and the "
            f"study-within-cluster variance cannot be told apart; the split rests on the "
            f"other clusters.",
            notes,
        )
    lik = _Likelihood(y, V, X, Z, method == "REML")
    scale = max(float(np.var(y, ddof=1)) / len(Z), 1e-4 * float(np.mean(np.diag(V))), 1e-8)
    s2, ll, converged = _fit_components(lik, scale)
    if not converged:
        warn(
            ConvergenceWarning,
            "The variance components did not converge to a maximum of the likelihood; "
            "the estimates may be inaccurate.",
            notes,
        )
    for name, value in zip(level_names, s2, strict=True):
        if value == 0:
            warn(
                BoundaryWarning,
                f"The variance at the {name} level is estimated as 0 (on the boundary): "
                f"the data show no extra variation at that level.",
                notes,
            )
    _, beta, vb, _, _ = lik.parts(s2)
    se = np.sqrt(np.diag(vb))
    stat = beta / se
    if test == "t":
        ddf = float(k - p)
        pval = 2 * stats.t.sf(np.abs(stat), ddf)
        crit = stats.t.ppf(0.5 + level / 2, ddf)
    else:
        ddf = np.nan
        pval = 2 * stats.norm.sf(np.abs(stat))
        crit = stats.norm.ppf(0.5 + level / 2)
    idx = np.arange(1 if intercept and p > 1 else 0, p)
    wald = float(beta[idx] @ np.linalg.solve(vb[np.ix_(idx, idx)], beta[idx]))
    if test == "t":
        QM = wald / idx.size
        QMp = float(stats.f.sf(QM, idx.size, ddf))
    else:
        QM, QMp = wald, float(stats.chi2.sf(wald, idx.size))
    fe = _Likelihood(y, V, X, [], True)
    _, _, _, P_fe, Minv_fe = fe.parts(np.array([]))
    QE = float(y @ P_fe @ y)
    QEp = float(stats.chi2.sf(QE, k - p))
    I2 = 100 * s2 / (np.sum(s2) + (k - p) / np.trace(P_fe))
    parms = p + len(Z)
    n_eff = k - p if method == "REML" else k
    if method == "REML":
        deviance = -2 * ll
    else:
        ll_saturated = -0.5 * k * np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(V)[1]
        deviance = -2 * (ll - ll_saturated)
    aic = -2 * ll + 2 * parms
    bic = -2 * ll + parms * np.log(n_eff)
    aicc = -2 * ll + 2 * parms * max(n_eff, parms + 2) / (max(n_eff, parms + 2) - parms - 1)
    return MultilevelResult(
        beta=beta,
        se=se,
        zval=stat,
        pval=pval,
        ci_lb=beta - crit * se,
        ci_ub=beta + crit * se,
        vb=vb,
        sigma2=s2,
        level_names=tuple(level_names),
        n_levels=n_levels,
        ll=float(ll),
        deviance=float(deviance),
        aic=float(aic),
        bic=float(bic),
        aicc=float(aicc),
        QE=QE,
        QEp=QEp,
        QM=float(QM),
        QMp=QMp,
        I2=I2,
        k=k,
        p=p,
        ddf=ddf,
        method=method,
        test=test,
        level=level,
        yi=y,
        V=V,
        X=X,
        Z=tuple(Z),
        coef_names=names,
        structure=structure,
        converged=converged,
        warnings=tuple(notes),
    )


def _crit(res: MultilevelResult) -> float:
    if res.test == "t":
        return float(stats.t.ppf(0.5 + res.level / 2, res.ddf))
    return float(stats.norm.ppf(0.5 + res.level / 2))


def predict_mv(res: MultilevelResult, newmods=None) -> dict[str, np.ndarray]:
    """Predicted values with CI and prediction interval (metafor's ``predict.rma.mv``).

    Parameters
    ----------
    res : MultilevelResult
    newmods : array_like, optional
        Rows of moderator values (without the intercept column). Default: the pooled
        estimate for an intercept-only model, the fitted values otherwise.

    Returns
    -------
    dict of ndarray
        ``pred``, ``se``, ``ci_lb``, ``ci_ub``, ``pi_lb``, ``pi_ub``.

    Notes
    -----
    ``pi = pred +- crit sqrt(se^2 + sum(sigma2))`` (metafor, for models without inner
    random-effects structures).
    """
    if newmods is None:
        X = res.X[:1] if res.p == 1 and res.coef_names[0] == "intrcpt" else res.X
    else:
        X = np.atleast_2d(np.asarray(newmods, dtype=float))
        if res.coef_names[0] == "intrcpt":
            X = np.hstack([np.ones((X.shape[0], 1)), X])
    pred = X @ res.beta
    se = np.sqrt(np.einsum("ij,jk,ik->i", X, res.vb, X))
    crit = _crit(res)
    half = prediction_half_width(crit, se, np.sum(res.sigma2))
    return {
        "pred": pred,
        "se": se,
        "ci_lb": pred - crit * se,
        "ci_ub": pred + crit * se,
        "pi_lb": pred - half,
        "pi_ub": pred + half,
    }


def sigma2_profile_ci(res: MultilevelResult, level: float | None = None) -> dict[str, np.ndarray]:
    """Profile-likelihood confidence intervals of every variance component (``confint``).

    Parameters
    ----------
    res : MultilevelResult
    level : float, optional
        Confidence level; default the model's.

    Returns
    -------
    dict
        ``estimate``, ``ci_lb``, ``ci_ub`` (arrays over the levels) and ``ub_at_limit``
        (bool array: the upper bound is only the search limit).

    Warns
    -----
    BoundaryWarning
        When no upper bound is found below the search limit.

    Notes
    -----
    For component ``j`` fixed at ``t``, the other components are re-estimated
    (``ll_j(t)``); the bounds are the roots of ``-2 (ll_j(t) - ll) - chi2_level(1)``,
    found by :func:`igmeta.profile_ci.likelihood_bounds`. The search runs over
    ``[0, max(1, 50 sigma2_j, 10 var(yi))]``.
    """
    level = res.level if level is None else normalise_level(level)
    cutoff = float(stats.chi2.ppf(level, 1))
    lik = _Likelihood(res.yi, res.V, res.X, list(res.Z), res.method == "REML")
    m = res.sigma2.size
    # Roots to 1e-11 of the largest component (absolute 1e-13 when all are 0): the same
    # relative precision whatever the units of yi.
    xtol = 1e-11 * float(np.max(res.sigma2)) if np.max(res.sigma2) > 0 else 1e-13
    lb, ub, limit = np.zeros(m), np.zeros(m), np.zeros(m, dtype=bool)
    for j in range(m):
        others = [i for i in range(m) if i != j]

        warm = res.sigma2.copy()

        def profile(t, j=j, others=others, warm=warm):
            if not others:
                return lik.loglik(np.array([t]))
            s2, ll, _ = _maximise(lik, {j: t}, warm)
            warm[:] = s2
            return ll

        def excess(t, profile=profile):
            return -2.0 * (profile(t) - res.ll) - cutoff

        upper = max(1.0, 50 * res.sigma2[j], 10 * float(np.var(res.yi, ddof=1)))
        lb[j], ub[j], limit[j], ok = likelihood_bounds(excess, res.sigma2[j], 0.0, upper, xtol=xtol)
        if limit[j]:
            warn(
                BoundaryWarning,
                f"No upper confidence bound for the {res.level_names[j]} variance was found "
                f"up to {upper:g}: the bound is shown as that limit.",
                None,
            )
        if not ok:
            warn(
                ConvergenceWarning,
                f"The profile-likelihood bound of the {res.level_names[j]} variance did "
                f"not converge.",
                None,
            )
    return {"estimate": res.sigma2.copy(), "ci_lb": lb, "ci_ub": ub, "ub_at_limit": limit}


def variance_components_frame(res: MultilevelResult, ci: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per level: sigma^2 with its profile-likelihood CI, sigma, units and I^2.

    Parameters
    ----------
    res : MultilevelResult
    ci : dict
        The output of :func:`sigma2_profile_ci` for ``res``.

    Returns
    -------
    DataFrame
        Columns ``level``, ``n_units``, ``sigma2``, ``ci_lb``, ``ci_ub``, ``ub_at_limit``,
        ``sigma``, ``I2`` (percent).
    """
    return pd.DataFrame(
        {
            "level": list(res.level_names),
            "n_units": res.n_levels.astype(int),
            "sigma2": res.sigma2,
            "ci_lb": ci["ci_lb"],
            "ci_ub": ci["ci_ub"],
            "ub_at_limit": ci["ub_at_limit"],
            "sigma": np.sqrt(res.sigma2),
            "I2": res.I2,
        }
    )
