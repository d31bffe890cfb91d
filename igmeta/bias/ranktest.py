"""Begg and Mazumdar's rank correlation test for funnel-plot asymmetry (metafor ``ranktest``).

The test correlates standardised effects with their variances using Kendall's tau. Its
p-value is exact (the permutation distribution of Kendall's statistic, as R's
``cor.test(..., method = "kendall", exact = TRUE)``) when there are no ties, and otherwise
the normal approximation with the tie-corrected variance of Kendall's S.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from igmeta.bias._common import check_result, finite_studies
from igmeta.results import MetaResult
from igmeta.warnings import MetaAnalysisWarning, SmallSampleWarning, warn

__all__ = [
    "EXACT_MAX_K",
    "BeggResult",
    "begg_test",
    "kendall_exact_pvalue",
    "kendall_inversion_cdf",
    "kendall_null_pmf",
]

#: With ``exact=None`` the exact p-value is used up to this many studies (when there are
#: no ties); beyond it the normal approximation is used (it is then accurate to many
#: digits, and R's own exact computation overflows from 171 observations on).
EXACT_MAX_K = 1000


@dataclass(frozen=True, slots=True)
class BeggResult:
    """Begg and Mazumdar's rank correlation test (metafor's ``ranktest``).

    Attributes
    ----------
    tau : float
        Kendall's tau-b between the standardised effects ``yi_star`` and the variances.
    pval : float
        Two-sided p-value.
    exact : bool
        True when the p-value comes from the exact permutation distribution; False when
        the normal approximation was used (ties, ``exact=False``, or k above
        :data:`EXACT_MAX_K` with ``exact=None``).
    ties : bool
        True when ``yi_star`` or ``vi`` has tied values (the exact distribution then does
        not apply).
    statistic : float
        The test statistic: with an exact p-value the number of concordant pairs
        ``T = (tau + 1) k (k - 1) / 4`` (R's ``T``); otherwise the z score ``S/sqrt(var S)``.
    s : float
        Kendall's score S (concordant minus discordant pairs).
    var_s : float
        Null variance of S (tie-corrected).
    k : int
        Number of studies.
    theta_fe : float
        Common-effect (inverse-variance) estimate used to centre the effects.
    yi_star : ndarray
        Standardised effects ``(yi - theta_fe) / sqrt(vi - 1/sum(1/vi))``.
    vi : ndarray
        The variances the standardised effects were correlated with.
    warnings : tuple of str
        Plain-English warnings.
    """

    tau: float
    pval: float
    exact: bool
    ties: bool
    statistic: float
    s: float
    var_s: float
    k: int
    theta_fe: float
    yi_star: np.ndarray
    vi: np.ndarray
    warnings: tuple[str, ...] = ()

    def summary(self) -> dict[str, float]:
        """Headline numbers as a flat dict."""
        return {"k": self.k, "tau": self.tau, "pval": self.pval, "exact": self.exact}


def kendall_null_pmf(n: int, upto: int | None = None) -> np.ndarray:
    """Null distribution of the number of inversions of a random permutation of ``n``.

    Parameters
    ----------
    n : int
        Number of observations (>= 1).
    upto : int, optional
        Largest number of inversions needed (default: all, ``n (n - 1) / 2``).

    Returns
    -------
    ndarray
        ``pmf[j] = P(I = j)`` for ``j = 0 .. upto``.

    Notes
    -----
    The number of permutations of ``n`` elements with ``j`` inversions obeys
    ``c(n, j) = sum_{t=0}^{min(j, n-1)} c(n-1, j-t)`` (Kendall 1938; R's ``ckendall``).
    Dividing by ``n!`` one step at a time, the probabilities satisfy
    ``p_n(j) = (1/n) sum_{t=0}^{n-1} p_{n-1}(j-t)``, a moving sum done with a cumulative
    sum per step, so the whole table costs ``O(n * upto)`` in vectorised numpy and never
    overflows (R's counts overflow for ``n > 170``). The number of concordant pairs has the
    same (symmetric) null distribution.
    """
    n = int(n)
    if n < 1:
        raise ValueError("n must be at least 1")
    total = n * (n - 1) // 2
    upto = total if upto is None else int(min(max(upto, 0), total))
    pmf = np.zeros(upto + 1)
    pmf[0] = 1.0
    for i in range(2, n + 1):
        csum = np.cumsum(pmf)
        shifted = np.zeros_like(csum)
        if i <= upto:
            shifted[i:] = csum[:-i]
        pmf = (csum - shifted) / i
    return pmf


def kendall_inversion_cdf(q: int, n: int) -> float:
    """``P(I <= q)`` for the number of inversions (or concordant pairs) of ``n`` items."""
    total = n * (n - 1) // 2
    if q < 0:
        return 0.0
    if q >= total:
        return 1.0
    if q > total - q:
        # Upper half: use the symmetry P(I <= q) = 1 - P(I <= total - q - 1).
        return float(1.0 - kendall_null_pmf(n, total - q - 1).sum())
    return float(min(1.0, kendall_null_pmf(n, q).sum()))


def kendall_exact_pvalue(concordant: int, n: int) -> float:
    """Two-sided exact p-value of Kendall's statistic, as R's ``cor.test(exact = TRUE)``.

    Parameters
    ----------
    concordant : int
        Number of concordant pairs ``T`` (no ties).
    n : int
        Number of observations.

    Returns
    -------
    float
        ``min(1, 2 p)`` with ``p = P(T >= q)`` if ``q > n(n-1)/4`` else ``P(T <= q)``.

    Notes
    -----
    By the symmetry of the null distribution, ``P(T >= q) = P(T <= N - q)`` with
    ``N = n(n-1)/2``, so ``p`` is the lower-tail probability at ``min(q, N - q)``. It is
    summed over the lower tail only, which keeps small p-values accurate (R computes
    ``1 - P(T <= q - 1)``, which is the same number up to rounding).
    """
    total = n * (n - 1) // 2
    m = min(int(concordant), total - int(concordant))
    p = float(kendall_null_pmf(n, m).sum())
    return min(1.0, 2.0 * p)


def _tie_sizes(x: np.ndarray) -> np.ndarray:
    _, counts = np.unique(x, return_counts=True)
    return counts[counts > 1].astype(float)


def _normal_approximation(tau: float, x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """R's tie-corrected normal approximation: returns (S, var_S, z)."""
    n = float(len(x))
    xt, yt = _tie_sizes(x), _tie_sizes(y)
    t0 = n * (n - 1) / 2
    t1 = np.sum(xt * (xt - 1)) / 2
    t2 = np.sum(yt * (yt - 1)) / 2
    s = tau * np.sqrt((t0 - t1) * (t0 - t2))
    v0 = n * (n - 1) * (2 * n + 5)
    vt = np.sum(xt * (xt - 1) * (2 * xt + 5))
    vu = np.sum(yt * (yt - 1) * (2 * yt + 5))
    v1 = np.sum(xt * (xt - 1)) * np.sum(yt * (yt - 1))
    v2 = np.sum(xt * (xt - 1) * (xt - 2)) * np.sum(yt * (yt - 1) * (yt - 2))
    var_s = (v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1))
    if n > 2:
        var_s += v2 / (9 * n * (n - 1) * (n - 2))
    return float(s), float(var_s), float(s / np.sqrt(var_s))


def begg_test(res: MetaResult, exact: bool | None = None) -> BeggResult:
    """Begg and Mazumdar's rank correlation test for funnel-plot asymmetry.

    Parameters
    ----------
    res : MetaResult
        A pooled model; its ``yi`` and ``vi`` are used (the model itself is not).
    exact : bool or None
        ``None`` (default, metafor's behaviour): exact p-value when neither the
        standardised effects nor the variances have ties (and k <= :data:`EXACT_MAX_K`),
        else the normal approximation. ``True``: exact whenever there are no ties (with
        ties a warning is given and the normal approximation used, as in R). ``False``:
        always the normal approximation.

    Returns
    -------
    BeggResult

    Raises
    ------
    ValueError
        With fewer than 2 studies, or when tau is undefined because all variances (or all
        standardised effects) are equal.

    Notes
    -----
    With ``w_i = 1/v_i``, ``theta = sum w y / sum w`` and ``v*_i = v_i - 1/sum w``, the
    standardised effects are ``y*_i = (y_i - theta)/sqrt(v*_i)``. The test statistic is
    Kendall's tau-b between ``y*`` and ``v``. Without ties the two-sided p-value is
    ``min(1, 2 P(T <= min(q, N - q)))`` under the exact permutation distribution of the
    number of concordant pairs ``q`` (``N = k(k-1)/2``; see :func:`kendall_null_pmf`).
    With ties, ``S = tau sqrt((N - T_x)(N - T_y))`` and
    ``var S = (v0 - v_x - v_y)/18 + v1/(2k(k-1)) + v2/(9k(k-1)(k-2))`` (Kendall's
    tie-corrected variance), ``z = S/sqrt(var S)`` without continuity correction.

    References
    ----------
    Begg CB, Mazumdar M (1994). Operating characteristics of a rank correlation test for
    publication bias. Biometrics 50:1088-1101. doi:10.2307/2533446
    Kendall MG (1938). A new measure of rank correlation. Biometrika 30:81-93.
    doi:10.1093/biomet/30.1-2.81
    """
    check_result(res, "Begg's rank correlation test")
    collected: list[str] = []
    yi, vi, _ = finite_studies(res)
    k = len(yi)
    if k < 2:
        raise ValueError("Begg's rank correlation test needs at least 2 studies.")
    if k < 3:
        warn(
            SmallSampleWarning,
            f"Begg's test with only {k} studies cannot detect funnel "
            "asymmetry (its p-value is 1 whatever the data).",
            collected,
        )
    wi = 1.0 / vi
    theta = float(np.sum(wi * yi) / np.sum(wi))
    vi_star = vi - 1.0 / np.sum(wi)
    yi_star = (yi - theta) / np.sqrt(vi_star)
    if np.unique(vi).size == 1:
        raise ValueError(
            "Begg's test is undefined when all studies have the same variance: "
            "there is no spread in precision to correlate the effects with."
        )
    if np.unique(yi_star).size == 1:
        raise ValueError("Begg's test is undefined when all standardised effects are equal.")
    tau = float(stats.kendalltau(yi_star, vi, variant="b").statistic)
    ties = bool(min(np.unique(yi_star).size, np.unique(vi).size) < k)
    if exact is None:
        use_exact = not ties and k <= EXACT_MAX_K
    else:
        use_exact = bool(exact) and not ties
        if exact and ties:
            warn(
                MetaAnalysisWarning,
                "Cannot compute the exact p-value with tied values; the "
                "normal approximation (with the tie-corrected variance) was used.",
                collected,
            )
    s, var_s, z = _normal_approximation(tau, yi_star, vi)
    if use_exact:
        total = k * (k - 1) // 2
        concordant = int(round((tau + 1) * total / 2))
        pval = kendall_exact_pvalue(concordant, k)
        statistic = float(concordant)
    else:
        pval = float(2 * stats.norm.sf(abs(z)))
        statistic = z
    return BeggResult(
        tau=tau,
        pval=pval,
        exact=use_exact,
        ties=ties,
        statistic=statistic,
        s=s,
        var_s=var_s,
        k=k,
        theta_fe=theta,
        yi_star=yi_star,
        vi=vi,
        warnings=tuple(collected),
    )
