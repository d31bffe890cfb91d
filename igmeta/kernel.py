"""The batched model fit: every quantity of a meta-analysis for B fits at once.

:func:`fit_batch` is the single place where a fitted model's numbers are computed.
``meta_analysis`` calls it with one fit; leave-one-out, cumulative analysis, influence,
GOSH and permutation tests call it with many fits (one row of the design's mask each).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from igmeta.design import _rowsum
from igmeta.estimators import Tau2Estimate, estimate_tau2, log_likelihoods, user_weights
from igmeta.formulas import (
    h2_from_q,
    h2_from_tau2,
    hartung_knapp_s2w,
    i2_from_q,
    i2_from_tau2,
    prediction_half_width,
)

__all__ = ["FitArrays", "fit_batch", "normalise_level"]


def normalise_level(level: float) -> float:
    """Accept a confidence level as 0.95 or 95 and return it as a fraction."""
    level = float(level)
    if level > 1:
        level /= 100.0
    if not 0 < level < 1:
        raise ValueError(f"confidence level must lie in (0, 1) or (0, 100), got {level}")
    return level


#: WLS quantities the fit needs at the random-effects weights.
_FIT_NEED = ("beta", "vb", "rss", "logdet_xwx")


def _fe_quantities(design):
    if hasattr(design, "fe_quantities"):
        return design.fe_quantities()
    w = design.weights(np.zeros(design.batch_size))
    return w, design.quantities(w)


def _chi2_sf(x: np.ndarray, df: np.ndarray) -> np.ndarray:
    """``scipy.stats.chi2.sf(x, df)`` through ``scipy.special.chdtrc`` (same numbers,
    without the distribution object's overhead): 1 below the support, NaN for df <= 0."""
    out = special.chdtrc(df, x)
    return np.where(df > 0, np.where(x < 0, 1.0, out), np.nan)


def _f_sf(x: np.ndarray, dfn: float, dfd: np.ndarray) -> np.ndarray:
    """``scipy.stats.f.sf(x, dfn, dfd)`` through ``scipy.special.fdtrc``."""
    out = special.fdtrc(dfn, dfd, x)
    return np.where((dfd > 0) & (dfn > 0), np.where(x < 0, 1.0, out), np.nan)


@dataclass(frozen=True, slots=True)
class FitArrays:
    """Results of B fits. Coefficient arrays have shape (B, p); the rest (B,).

    Attributes
    ----------
    beta, se, statistic, pval, ci_lower, ci_upper : ndarray, shape (B, p)
        Coefficients with their (possibly Knapp-Hartung adjusted) inference.
    vb : ndarray, shape (B, p, p)
        Variance-covariance matrix of the coefficients.
    ddf : ndarray
        Residual degrees of freedom k - p for ``test="knha"``, NaN for z-tests.
    tau2 : Tau2Estimate
        The between-study variance and its standard error.
    q, q_df, q_pval : ndarray
        Cochran's Q (fixed-effect weights, residual Q for meta-regression).
    i2, h2, vt : ndarray
        I^2 (%), H^2 and the typical within-study variance.
    s2w : ndarray
        Knapp-Hartung scale factor (1 for z-tests).
    qm, qm_df, qm_pval : ndarray
        Omnibus test of the coefficients in ``qm_index`` (F for knha).
    pi_lower, pi_upper : ndarray
        Prediction interval for the first coefficient (intercept-only models; NaN for FE).
    weights : ndarray, shape (B, k)
        Weights in percent (0 outside the mask).
    ll_ml, ll_reml : ndarray
        Log-likelihoods.
    k : ndarray of int
        Number of studies in each fit.
    """

    beta: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pval: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    vb: np.ndarray
    ddf: np.ndarray
    tau2: Tau2Estimate
    q: np.ndarray
    q_df: np.ndarray
    q_pval: np.ndarray
    i2: np.ndarray
    h2: np.ndarray
    vt: np.ndarray
    s2w: np.ndarray
    qm: np.ndarray
    qm_df: np.ndarray
    qm_pval: np.ndarray
    pi_lower: np.ndarray
    pi_upper: np.ndarray
    weights: np.ndarray
    ll_ml: np.ndarray
    ll_reml: np.ndarray
    k: np.ndarray


def _user_weighted(design, a: np.ndarray, tau2: np.ndarray, q_iv):
    """Coefficients, their variance and the log-likelihood's extra RSS under user weights.

    ``beta_a = (X'AX)^-1 X'Ay`` and ``vb_a = (X'AX)^-1 X'A M A X (X'AX)^-1`` with
    ``M = diag(v + tau2)`` (metafor's ``rma.uni`` with ``weights``). The extra RSS is
    ``sum w (y - X beta_a)^2 - sum w (y - X beta_w)^2 = d' X'WX d`` with
    ``d = beta_a - beta_w`` and ``W = diag(1/(v + tau2))``.
    """
    q_a = design.quantities(a, need=("beta", "vb"))
    m = np.where(design.mask, design.v + np.asarray(tau2, float)[:, None], 0.0)
    x = getattr(design, "X", None)
    if x is None:
        meat = _rowsum(a * a * m)[:, None, None]
    else:
        meat = np.einsum("kp,bk,kq->bpq", x, a * a * m, x)
    vb = q_a.vb @ meat @ q_a.vb
    d = q_a.beta - q_iv.beta
    extra = np.einsum("bi,bij,bj->b", d, np.linalg.inv(q_iv.vb), d)
    return q_a.beta, vb, extra


def fit_batch(
    design,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    control: Mapping[str, float] | None = None,
    qm_index: Sequence[int] | None = None,
    tau2: Tau2Estimate | None = None,
    weights=None,
) -> FitArrays:
    """Fit ``design.batch_size`` random- or common-effect models in one pass.

    Parameters
    ----------
    design : InterceptDesign or MatrixDesign
        Outcomes, variances, design matrix and the mask of studies in each fit.
    method : str
        tau^2 estimator code (``"FE"`` for the common-effect model).
    test : {"z", "knha"}
        Normal-theory inference, or Hartung-Knapp-Sidik-Jonkman (t with k - p df and
        the variance scaled by ``s2w``, not truncated).
    level : float
        Confidence level (0.95 or 95).
    control : mapping, optional
        Convergence settings for iterative estimators.
    qm_index : sequence of int, optional
        Coefficients tested by the omnibus QM test (default: all but an intercept in
        column 0 when p > 1, else the single coefficient).
    tau2 : Tau2Estimate, optional
        Use these tau^2 values instead of estimating them.
    weights : array_like, shape (k,) or (B, k), optional
        User weights ``a`` (metafor's ``rma(..., weights = a)``): the coefficients become
        ``(X'AX)^-1 X'Ay`` with the sandwich variance of :func:`_user_weighted`; GENQ
        also estimates tau^2 with them. None for inverse-variance weights.

    Returns
    -------
    FitArrays

    Notes
    -----
    ``w = 1/(v + tau2)``, ``beta = (X'WX)^-1 X'Wy``, ``vb = (X'WX)^-1`` (times ``s2w =
    y'Py/(k-p)`` for knha). Q uses ``w = 1/v``. ``vt = (k-p)/tr(P_FE)``. For FE,
    ``I2 = max(0, 100 (Q - df)/Q)``, ``H2 = Q/df``; otherwise ``I2 = 100 tau2/(vt + tau2)``
    and ``H2 = tau2/vt + 1``. Prediction interval ``beta +/- crit sqrt(se^2 + tau2)`` with
    crit the normal (z) or t(k-p) (knha) quantile. With user weights, Q, I2, H2, tau^2
    (except GENQ's) and the knha factor ``s2w`` stay those of the inverse-variance fit,
    as in metafor 3.8-1, and the log-likelihoods use ``RSS = sum w (y - X beta_a)^2``.
    """
    level = normalise_level(level)
    test = test.lower()
    if test not in ("z", "knha"):
        raise ValueError(f"test must be 'z' or 'knha', got {test!r}")
    method = "FE" if method.upper() in ("EE", "CE") else method.upper()
    user = None if weights is None else user_weights(design, weights)
    est = tau2 if tau2 is not None else estimate_tau2(design, method, control, weights=user)
    b = design.batch_size
    df = (design.k - design.p).astype(float)
    w_fe, q_fe = _fe_quantities(design)
    t2 = np.asarray(est.tau2, dtype=float)
    if method == "FE" or not t2.any():
        # tau2 = 0 everywhere: the random-effects weights are the fixed-effect ones.
        w, q_re = w_fe, q_fe
    else:
        w = design.weights(t2)
        q_re = design.quantities(w, need=_FIT_NEED)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = q_fe.rss
        q_pval = np.where(df > 0, _chi2_sf(q, np.maximum(df, 1)), 1.0)
        vt = df / q_fe.tr_p
        if method == "FE":
            i2 = np.where(df > 0, i2_from_q(q, df), 0.0)
            h2 = np.where(df > 0, h2_from_q(q, df), 1.0)
        else:
            i2 = np.where(df > 0, i2_from_tau2(t2, vt), 0.0)
            h2 = np.where(df > 0, h2_from_tau2(t2, vt), 1.0)
        i2 = np.where(np.isnan(i2) & (df > 0), 0.0, i2)
        if test == "knha":
            s2w = hartung_knapp_s2w(q_re.rss, df)
            crit = special.stdtrit(df, 0.5 + level / 2)
            ddf = df
        else:
            s2w = np.ones(b)
            crit = np.full(b, special.ndtri(0.5 + level / 2))
            ddf = np.full(b, np.nan)
        beta, vb, rss_extra = q_re.beta, q_re.vb, 0.0
        if user is not None:
            beta, vb, rss_extra = _user_weighted(design, user, t2, q_re)
        vb = vb * s2w[:, None, None]
        se = np.sqrt(np.diagonal(vb, axis1=1, axis2=2))
        statistic = beta / se
        if test == "knha":
            pval = 2 * special.stdtr(df[:, None], -np.abs(statistic))
        else:
            pval = 2 * special.ndtr(-np.abs(statistic))
        ci_lower = beta - crit[:, None] * se
        ci_upper = beta + crit[:, None] * se
        if qm_index is None:
            qm_index = list(range(1, design.p)) if design.p > 1 else [0]
        idx = np.asarray(qm_index, dtype=int)
        if idx.size == 1:
            j = int(idx[0])
            qm = beta[:, j] ** 2 / vb[:, j, j]
        else:
            sub_b = beta[:, idx]
            sub_vb = vb[:, idx][:, :, idx]
            qm = np.einsum("bi,bij,bj->b", sub_b, np.linalg.inv(sub_vb), sub_b)
        m = float(len(idx))
        if test == "knha":
            qm = qm / m
            qm_pval = _f_sf(qm, m, df)
            qm_df = np.stack([np.full(b, m), df], axis=1)
        else:
            # chi2(1) tail = two-sided normal tail at sqrt(QM) (chdtrc is slow for 1 df)
            qm_pval = 2 * special.ndtr(-np.sqrt(qm)) if m == 1 else _chi2_sf(qm, np.full(b, m))
            qm_df = np.stack([np.full(b, m), np.full(b, np.nan)], axis=1)
        if method == "FE" or design.p > 1:
            pi_lower = pi_upper = np.full(b, np.nan)
        else:
            half = prediction_half_width(crit, se[:, 0], t2)
            pi_lower, pi_upper = beta[:, 0] - half, beta[:, 0] + half
        shown = w if user is None else user
        weights = 100 * shown / _rowsum(shown)[:, None]
    ll_ml, ll_reml = log_likelihoods(design, t2, q_re)
    ll_ml, ll_reml = ll_ml - 0.5 * rss_extra, ll_reml - 0.5 * rss_extra
    return FitArrays(
        beta=beta,
        se=se,
        statistic=statistic,
        pval=pval,
        ci_lower=ci_lower,
        ci_upper=ci_upper,
        vb=vb,
        ddf=ddf,
        tau2=est,
        q=q,
        q_df=df,
        q_pval=q_pval,
        i2=i2,
        h2=h2,
        vt=vt,
        s2w=s2w,
        qm=qm,
        qm_df=qm_df,
        qm_pval=qm_pval,
        pi_lower=pi_lower,
        pi_upper=pi_upper,
        weights=weights,
        ll_ml=ll_ml,
        ll_reml=ll_reml,
        k=design.k,
    )
