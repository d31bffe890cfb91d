"""Permutation tests for meta-analysis and meta-regression (metafor's ``permutest``).

* Models without moderators: under the null hypothesis beta = 0 the sign of each effect is
  exchangeable, so the test statistic is recomputed for sign-flipped data ``s_i y_i``
  (all ``2^k`` sign vectors, or a random sample).
* Meta-regression: the rows of the design matrix are permuted relative to ``(y_i, v_i)``
  (all distinct permutations, or a random sample).

Every refit is one row of a batch through :func:`igmeta.kernel.fit_batch`, processed in
chunks (see :func:`igmeta.sensitivity.batched_fits`).

References
----------
Follmann DA, Proschan MA (1999). Valid inference in random effects meta-analysis.
Biometrics 55:732-737. doi:10.1111/j.0006-341X.1999.00732.x
Higgins JPT, Thompson SG (2004). Controlling the risk of spurious findings from
meta-regression. Stat Med 23:1663-1682. doi:10.1002/sim.1752
Viechtbauer W, Lopez-Lopez JA, Sanchez-Meca J, Marin-Martinez F (2015). A comparison of
procedures to test for moderators in mixed-effects meta-regression models. Psychol Methods
20:360-374. doi:10.1037/met0000023
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from igmeta.design import InterceptDesign, MatrixDesign
from igmeta.pooling import omnibus_coefficients
from igmeta.progress import ProgressCallback
from igmeta.results import MetaRegressionResult, MetaResult
from igmeta.sensitivity import batched_fits, chunk_rows, fit_settings, warn_not_converged

__all__ = ["PermutationResult", "permutation_test"]

#: metafor's tolerance when comparing permuted and observed statistics (sqrt(eps)).
COMPARISON_TOL = float(np.sqrt(np.finfo(float).eps))
#: Largest number of permutations enumerated exactly.
MAX_EXACT = 1 << 24


@dataclass(frozen=True, slots=True)
class PermutationResult:
    """Result of a permutation test.

    Attributes
    ----------
    coef_names : tuple of str
        Coefficient names (``("intrcpt",)`` for a model without moderators).
    estimate, statistic : ndarray, shape (p,)
        Observed coefficients and test statistics (z, or t for Hartung-Knapp).
    pval : ndarray, shape (p,)
        Permutation p-values: the share of permutations with
        ``|statistic| >= |observed| - tol``.
    pval_model : ndarray, shape (p,)
        The model's own (normal or t) p-values, for comparison.
    qm, qm_pval : float
        Observed omnibus statistic (chi^2, or F for Hartung-Knapp) and its permutation
        p-value. For a model without moderators QM is the squared statistic.
    exact : bool
        True when every permutation was enumerated.
    iterations : int
        Number of permutations evaluated (including the observed data).
    exact_iterations : float
        Number of distinct permutations (``2^k`` sign vectors, or ``k!/prod(n_g!)`` row
        orders, n_g the multiplicities of identical design rows).
    method, test : str
        The model's settings, used for every refit.
    seed : object
        The seed of the random permutations (None for exact tests).
    statistic_perm, estimate_perm : ndarray, shape (iterations, p)
        The permutation distribution of the statistics and coefficients.
    qm_perm : ndarray, shape (iterations,)
        The permutation distribution of QM.
    """

    coef_names: tuple[str, ...]
    estimate: np.ndarray
    statistic: np.ndarray
    pval: np.ndarray
    pval_model: np.ndarray
    qm: float
    qm_pval: float
    exact: bool
    iterations: int
    exact_iterations: float
    method: str
    test: str
    seed: object
    statistic_perm: np.ndarray
    estimate_perm: np.ndarray
    qm_perm: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """Coefficient table: ``name``, ``estimate``, ``statistic``, ``pval`` (permutation),
        ``pval_model``."""
        return pd.DataFrame(
            {
                "name": list(self.coef_names),
                "estimate": self.estimate,
                "statistic": self.statistic,
                "pval": self.pval,
                "pval_model": self.pval_model,
            }
        )


def _permutation_pvalues(stat_perm, qm_perm, stat_obs, qm_obs) -> tuple[np.ndarray, float]:
    """metafor's two-sided p-values: ``mean(|T*| >= |T| - tol)`` (NaN fits ignored)."""
    with np.errstate(invalid="ignore"):
        hits = np.abs(stat_perm) >= np.abs(stat_obs)[None, :] - COMPARISON_TOL
        valid = np.isfinite(stat_perm)
        pval = np.minimum(1.0, (hits & valid).sum(axis=0) / np.maximum(valid.sum(axis=0), 1))
        qvalid = np.isfinite(qm_perm)
        qm_pval = float(
            ((qm_perm >= qm_obs - COMPARISON_TOL) & qvalid).sum() / max(qvalid.sum(), 1)
        )
    return pval, min(1.0, qm_pval)


def _multiset_permutations(labels: np.ndarray, limit: int) -> np.ndarray:
    """All distinct orderings of ``labels`` (lexicographic), as an (n, k) array."""
    a = np.sort(labels).tolist()
    k = len(a)
    out = [a.copy()]
    while True:
        i = k - 2
        while i >= 0 and a[i] >= a[i + 1]:
            i -= 1
        if i < 0:
            break
        j = k - 1
        while a[j] <= a[i]:
            j -= 1
        a[i], a[j] = a[j], a[i]
        a[i + 1 :] = reversed(a[i + 1 :])
        out.append(a.copy())
        if len(out) > limit:
            raise ValueError("too many permutations for an exact test")
    return np.asarray(out, dtype=np.int64)


def _intercept_test(res: MetaResult, iterations: int, seed, exact, progress):
    settings = fit_settings(res)
    y, v = np.asarray(res.yi, float), np.asarray(res.vi, float)
    k = y.size
    n_exact = 2.0**k
    use_exact = bool(exact) if exact is not None else n_exact <= iterations
    if use_exact:
        if n_exact > MAX_EXACT:
            raise ValueError(
                f"An exact test needs 2^{k} fits; use a random sample (exact=False) instead."
            )
        n = int(n_exact)
        bits = np.arange(k, dtype=np.int64)

        def signs_of(rows):
            return 1.0 - 2.0 * ((rows[:, None] >> bits) & 1)
    else:
        n = int(iterations)
        rng = np.random.default_rng(seed)
        table = rng.choice(np.array([-1.0, 1.0]), size=(n, k))
        table[0] = 1.0  # the observed data count as one permutation (metafor)

        def signs_of(rows):
            return table[rows]

    out = batched_fits(
        lambda rows: InterceptDesign(signs_of(rows) * y, v),
        n,
        settings,
        lambda fit: {"beta": fit.beta, "stat": fit.statistic, "qm": fit.qm},
        chunk=chunk_rows(k),
        progress=progress,
    )
    warn_not_converged(out["converged"], "permutation fits", settings["method"])
    stat_obs = np.array([res.statistic])
    return _package(
        ("intrcpt",),
        np.array([res.estimate]),
        stat_obs,
        np.array([res.pval]),
        float(res.statistic**2),
        out,
        settings,
        exact=use_exact,
        n=n,
        n_exact=n_exact,
        seed=seed,
    )


def _regression_test(res: MetaRegressionResult, iterations: int, seed, exact, progress):
    settings = fit_settings(res)
    y, v = np.asarray(res.yi, float), np.asarray(res.vi, float)
    X = np.asarray(res.X, float)
    k, p = X.shape
    # Identical design rows are exchangeable: count distinct orderings of the row groups.
    _, groups, counts = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    groups = groups.ravel()
    log_n = math.lgamma(k + 1) - sum(math.lgamma(c + 1) for c in counts)
    n_exact = float(round(math.exp(log_n))) if log_n < 700 else float("inf")
    use_exact = bool(exact) if exact is not None else n_exact <= iterations
    if use_exact:
        if n_exact > MAX_EXACT:
            raise ValueError(
                f"An exact test needs {n_exact:.3g} fits; use a random sample "
                "(exact=False) instead."
            )
        arrangements = _multiset_permutations(groups, MAX_EXACT)
        # Position i gets a design row of group arrangements[b, i]: take the group's rows
        # in order of appearance, giving a permutation pi of the rows, X_b = X[pi].
        table = np.full((counts.size, counts.max()), -1, dtype=np.int64)
        for g in range(counts.size):
            table[g, : counts[g]] = np.flatnonzero(groups == g)
        occurrence = np.zeros_like(arrangements)
        for g in range(counts.size):
            hit = arrangements == g
            occurrence[hit] = (np.cumsum(hit, axis=1) - 1)[hit]
        perms = table[arrangements, occurrence]
    else:
        rng = np.random.default_rng(seed)
        perms = rng.permuted(np.tile(np.arange(k), (int(iterations), 1)), axis=1)
        perms[0] = np.arange(k)  # the observed data count as one permutation (metafor)
    n = perms.shape[0]
    # Fitting (y, v, X[pi]) is fitting (y[pi^-1], v[pi^-1], X): permute the outcomes.
    inverse = np.argsort(perms, axis=1)
    names = tuple(res.coef_names)
    qm_index = omnibus_coefficients(names)
    out = batched_fits(
        lambda rows: MatrixDesign(y[inverse[rows]], v[inverse[rows]], X),
        n,
        settings,
        lambda fit: {"beta": fit.beta, "stat": fit.statistic, "qm": fit.qm},
        chunk=chunk_rows(k, p),
        qm_index=qm_index,
        progress=progress,
    )
    warn_not_converged(out["converged"], "permutation fits", settings["method"])
    # The fit's QM covers the same coefficients as the permuted ones (metafor's btt).
    return _package(
        names,
        np.asarray(res.estimate, float),
        np.asarray(res.statistic, float),
        np.asarray(res.pval, float),
        float(res.qm),
        out,
        settings,
        exact=use_exact,
        n=n,
        n_exact=n_exact,
        seed=seed,
    )


def _package(
    names, estimate, stat_obs, pval_model, qm_obs, out, settings, *, exact, n, n_exact, seed
) -> PermutationResult:
    """The :class:`PermutationResult` of observed statistics and the permuted fits."""
    pval, qm_pval = _permutation_pvalues(out["stat"], out["qm"], stat_obs, qm_obs)
    return PermutationResult(
        coef_names=tuple(names),
        estimate=estimate,
        statistic=stat_obs,
        pval=pval,
        pval_model=pval_model,
        qm=qm_obs,
        qm_pval=qm_pval,
        exact=exact,
        iterations=n,
        exact_iterations=n_exact,
        method=settings["method"],
        test=settings["test"],
        seed=None if exact else seed,
        statistic_perm=out["stat"],
        estimate_perm=out["beta"],
        qm_perm=out["qm"],
    )


def permutation_test(
    res,
    iterations: int = 1000,
    seed=None,
    exact: bool | None = None,
    progress: ProgressCallback | None = None,
) -> PermutationResult:
    """Permutation test of the coefficients of a fitted model (metafor's ``permutest``).

    Parameters
    ----------
    res : MetaResult or MetaRegressionResult
        An inverse-variance model. Every refit uses its method, test, level and control.
    iterations : int
        Number of random permutations (the observed data count as the first) when the
        test is not exact.
    seed : int or numpy Generator, optional
        Seed of the random permutations.
    exact : bool, optional
        ``None`` (default): enumerate every permutation when there are no more than
        ``iterations`` of them (metafor's rule: ``2^k`` sign vectors without moderators,
        ``k!/prod(n_g!)`` row orders with moderators); ``True``: always enumerate (up to
        2^24 fits); ``False``: always sample.
    progress : callable, optional
        ``progress(fraction_done)``, called between chunks of refits (from worker
        threads); raising :class:`igmeta.Cancelled` (or any exception) in it stops the
        test and the exception propagates.

    Returns
    -------
    PermutationResult

    Notes
    -----
    Without moderators, the statistic is recomputed for ``s_i y_i`` with signs
    ``s_i = +-1`` (the data are symmetric about 0 under beta = 0). With moderators, the
    rows of ``X`` are permuted, which is the same as permuting ``(y_i, v_i)`` against a
    fixed ``X``. The two-sided p-value of coefficient j is
    ``mean(|T*_j| >= |T_j| - sqrt(eps))`` over the permutations (including the observed
    one), and the omnibus p-value is ``mean(QM* >= QM - sqrt(eps))``. Exact p-values are
    multiples of ``1/2^k``; random ones depend on the seed (they will not reproduce R's
    random numbers). Permutations whose tau^2 estimator does not converge are left out of
    the p-values (metafor: NA, removed).

    References
    ----------
    Follmann DA, Proschan MA (1999). Biometrics 55:732-737.
    doi:10.1111/j.0006-341X.1999.00732.x
    Higgins JPT, Thompson SG (2004). Stat Med 23:1663-1682. doi:10.1002/sim.1752
    """
    iterations = int(round(iterations))
    if iterations < 2:
        raise ValueError("iterations must be at least 2")
    if isinstance(res, MetaRegressionResult):
        return _regression_test(res, iterations, seed, exact, progress)
    if isinstance(res, MetaResult):
        return _intercept_test(res, iterations, seed, exact, progress)
    raise TypeError("permutation_test needs a result of meta_analysis() or meta_regression()")
