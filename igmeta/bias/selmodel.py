"""Selection models as metafor's ``selmodel``: step function (Vevea & Hedges 1995) and beta.

The observed effects follow the random-effects model weighted by the relative probability
that a study with its one-sided p-value is published: ``delta_j`` in the j-th interval of
p-values, with ``delta_1 = 1`` for the first (most significant) interval. All parameters
are estimated by maximum likelihood, as ``selmodel(fit, type = "stepfun", steps = ...)``
in metafor 3.8-1 (``alternative = "greater"``). The beta model (Citkowicz & Vevea 2017)
weights by ``p^(delta1-1) (1-p)^(delta2-1)`` instead, as ``selmodel(fit, type = "beta")``.
Both share the optimiser, the Hessian, the likelihood-ratio test and the result type.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special, stats

from igmeta.bias._common import check_result, finite_studies, refuse_user_weights
from igmeta.results import MetaResult

__all__ = [
    "DEFAULT_STEPS",
    "SelectionModelResult",
    "beta_selection_model",
    "step_selection_model",
]

#: metafor's cut points of the one-sided p-values in its usual example (significant at
#: two-sided 5% in the expected direction, or not).
DEFAULT_STEPS = (0.025, 1.0)
#: metafor's bounds of the selection weights (``delta.min``, ``delta.max``).
_DELTA_MAX = 100.0
#: tau^2 below this is 0 (metafor: ``10 * .Machine$double.eps``).
_TAU2_ZERO = 10 * np.finfo(float).eps
#: Beta model: metafor's ``pval.min`` (p-values are clamped to [pval.min, 1 - pval.min]) and
#: ``delta.min``; Gauss-Legendre nodes of the integral between the clamped p-values.
_BETA_PVAL_MIN = 1e-5
_BETA_DELTA_MIN = 1e-5
_BETA_NODES = 96
_SQRT_2PI = float(np.sqrt(2 * np.pi))
#: z = y / sqrt(v_i) where the one-sided p-value reaches pval.min.
_BETA_EDGE = float(stats.norm.isf(_BETA_PVAL_MIN))


@dataclass(frozen=True, slots=True)
class SelectionModelResult:
    """A selection model: step function or beta (``model_type``).

    Attributes
    ----------
    steps : tuple of float
        Upper bounds of the intervals of one-sided p-values (the last is 1); empty for the
        beta model.
    k : int
        Number of studies.
    k_per_interval : tuple of int
        Studies whose p-value lies in each interval (empty for the beta model).
    estimate, se, zval, pval, ci_lower, ci_upper : float
        The pooled effect adjusted for selection, with Wald z inference (metafor).
    level : float
        Confidence level.
    alternative : str
        Direction of the one-sided p-values (``"greater"`` or ``"less"``).
    tau2, se_tau2 : float
        Heterogeneity and its standard error (0 and NaN for a common-effect model).
    delta, se_delta : ndarray
        Step function: selection weights of the intervals (the first fixed at 1, its SE
        NaN). Beta model: ``delta1``, ``delta2`` of ``p^(delta1-1) (1-p)^(delta2-1)``.
    delta_ci_lower, delta_ci_upper : ndarray
        Wald intervals of the weights, truncated at 0.
    ll, ll0 : float
        Maximised log-likelihoods with and without selection (``delta = 1``).
    lrt, lrt_df, lrt_pval : float
        Likelihood-ratio test of no selection (all estimated ``delta_j = 1``).
    common_effect : bool
        True when tau^2 is fixed at 0 (the model was a common-effect model).
    warnings : tuple of str
        Plain-English warnings.
    model_type : str
        ``"stepfun"`` or ``"beta"`` (metafor's ``type``).
    """

    steps: tuple[float, ...]
    k: int
    k_per_interval: tuple[int, ...]
    estimate: float
    se: float
    zval: float
    pval: float
    ci_lower: float
    ci_upper: float
    level: float
    alternative: str
    tau2: float
    se_tau2: float
    delta: np.ndarray
    se_delta: np.ndarray
    delta_ci_lower: np.ndarray
    delta_ci_upper: np.ndarray
    ll: float
    ll0: float
    lrt: float
    lrt_df: float
    lrt_pval: float
    common_effect: bool
    warnings: tuple[str, ...] = ()
    model_type: str = "stepfun"


def _loglik(mu, tau2, delta, yi, vi, group, cuts) -> float:
    """Log-likelihood of the step-function model (metafor's ``.selmodel.ll.stepfun``).

    ``cuts[:, j]`` is the effect size at which a study's one-sided p-value equals
    ``steps[j]``; ``group`` the interval of each study's p-value.
    """
    sd = np.sqrt(vi + tau2)
    # P(p <= steps[j]) = P(y >= cut_j) for each study and cut point.
    upper = stats.norm.sf(cuts, loc=mu, scale=sd[:, None])
    upper[:, -1] = 1.0
    prob = np.diff(np.column_stack([np.zeros(len(yi)), upper]), axis=1)
    a_i = prob @ delta
    return float(np.sum(np.log(delta[group]) + stats.norm.logpdf(yi, mu, sd) - np.log(a_i)))


def _hessian(func, x: np.ndarray) -> np.ndarray:
    """Hessian of ``func`` at ``x`` by central differences with Richardson extrapolation."""
    n = len(x)
    base = 1e-3 * np.maximum(np.abs(x), 1e-2)

    def at(h):
        out = np.empty((n, n))
        for i in range(n):
            for j in range(i, n):
                ei, ej = np.zeros(n), np.zeros(n)
                ei[i], ej[j] = h[i], h[j]
                val = (
                    func(x + ei + ej) - func(x + ei - ej) - func(x - ei + ej) + func(x - ei - ej)
                ) / (4 * h[i] * h[j])
                out[i, j] = out[j, i] = val
        return out

    h1, h2, h3 = at(base), at(base / 2), at(base / 4)
    r1, r2 = (4 * h2 - h1) / 3, (4 * h3 - h2) / 3
    return (16 * r2 - r1) / 15


def step_selection_model(
    res: MetaResult,
    steps=DEFAULT_STEPS,
    level: float | None = None,
    alternative: str = "greater",
) -> SelectionModelResult:
    """Fit a step-function selection model (metafor ``selmodel(type = "stepfun")``).

    Parameters
    ----------
    res : MetaResult
        A pooled model. Its ``yi`` and ``vi`` are used; a common-effect model keeps
        tau^2 = 0, any random-effects model is refitted by maximum likelihood (as metafor
        does, whatever the tau^2 estimator).
    steps : sequence of float
        Increasing cut points of the one-sided p-values, ending at 1.
    level : float, optional
        Confidence level (default: the model's).
    alternative : {"greater", "less"}
        Direction of the one-sided p-values (metafor's ``alternative``): ``"greater"``
        (default) when significant studies are those with large positive effects,
        ``"less"`` when they are those with negative effects (e.g. log risk ratios of a
        protective treatment). ``"less"`` is ``"greater"`` for the negated effects.

    Returns
    -------
    SelectionModelResult

    Raises
    ------
    ValueError
        Too few studies (fewer than the number of parameters: effect, tau^2, weights);
        an interval of p-values without any study (its weight cannot be estimated;
        metafor stops for the weighted intervals, and for the first, reference interval
        its estimate of the other weights runs off, which is refused here); the
        optimiser not converging; a singular Hessian.

    Notes
    -----
    With ``p_i = 1 - Phi(y_i / sqrt(v_i))`` in interval ``j(i)`` and
    ``s_i = sqrt(v_i + tau^2)``, the log-likelihood is
    ``sum_i [log delta_j(i) + log phi((y_i - mu)/s_i) - log s_i - log A_i]`` with
    ``A_i = sum_j delta_j P(p_i in interval j | mu, s_i)``. Standard errors come from the
    inverse Hessian of ``-ll`` in (mu, tau^2, delta_2..), z-tests and Wald intervals as in
    metafor; the likelihood-ratio test compares with the model with all ``delta_j = 1``
    (the maximum-likelihood random-effects model), on as many df as estimated weights.
    When tau^2 is estimated as 0 it is held fixed for the Hessian (metafor's optimiser,
    working on log tau^2, stops at a tiny positive value instead; the other standard
    errors agree).

    References
    ----------
    Vevea JL, Hedges LV (1995). A general linear model for estimating effect size in the
    presence of publication bias. Psychometrika 60:419-435. doi:10.1007/BF02294384
    Viechtbauer W (2022). metafor ``selmodel`` documentation, version 3.8-1.
    """
    check_result(res, "The selection model")
    steps_arr = np.asarray(steps, dtype=float)
    if (
        steps_arr.ndim != 1
        or len(steps_arr) < 2
        or steps_arr[-1] != 1.0
        or np.any(np.diff(steps_arr) <= 0)
        or steps_arr[0] <= 0
    ):
        raise ValueError("steps must be increasing p-values in (0, 1] ending with 1.")
    yi, vi, common, level, sign = _prepare(res, level, alternative, len(steps_arr) - 1)
    pvals = stats.norm.sf(yi / np.sqrt(vi))
    group = np.searchsorted(steps_arr, pvals, side="left")
    counts = np.bincount(group, minlength=len(steps_arr))
    if np.any(counts == 0):
        empty = [
            f"{lo:g} < p <= {hi:g}"
            for lo, hi, c in zip(np.r_[0, steps_arr[:-1]], steps_arr, counts, strict=True)
            if c == 0
        ]
        raise ValueError(
            "No study has a one-sided p-value in the interval "
            f"{', '.join(empty)}: the selection weight of that interval cannot be "
            "estimated. Choose other cut points or do not use this model."
        )
    cuts = np.sqrt(vi)[:, None] * stats.norm.isf(steps_arr)[None, :]

    def loglik(mu, tau2, free):
        return _loglik(mu, tau2, np.r_[1.0, free], yi, vi, group, cuts)

    n_free = len(steps_arr) - 1
    return _fit_selection(
        res,
        yi=yi,
        vi=vi,
        sign=sign,
        common=common,
        level=level,
        alternative=alternative,
        loglik=loglik,
        bounds=(np.zeros(n_free), np.full(n_free, _DELTA_MAX)),
        delta_null=np.ones(n_free),
        fixed_delta=(1.0,),
        model_type="stepfun",
        steps=tuple(float(s) for s in steps_arr),
        k_per_interval=tuple(int(c) for c in counts),
    )


def _beta_loglik(mu, tau2, delta, yi, vi, log_p, log_1mp, nodes) -> float:
    """Log-likelihood of the beta selection model (metafor's ``.selmodel.ll.cont``).

    ``log_p``/``log_1mp`` are the logs of each study's clamped one-sided p-value and of
    its complement; ``nodes`` the quadrature of :func:`_beta_nodes`.
    """
    d1, d2 = delta
    sd = np.sqrt(vi + tau2)
    x, wx, node_logp, node_log1mp = nodes
    weight = np.exp((d1 - 1) * node_logp + (d2 - 1) * node_log1mp)
    sei = np.sqrt(vi)
    # Effect sizes between the clamped p-values, on the scale z = y / sqrt(v_i).
    z = (sei[:, None] * x[None, :] - mu) / sd[:, None]
    middle = (np.exp(-0.5 * z * z) @ (wx * weight)) * sei / (sd * _SQRT_2PI)
    edge = _BETA_EDGE
    w_small_p = _BETA_PVAL_MIN ** (d1 - 1) * (1 - _BETA_PVAL_MIN) ** (d2 - 1)
    w_large_p = (1 - _BETA_PVAL_MIN) ** (d1 - 1) * _BETA_PVAL_MIN ** (d2 - 1)
    a_i = (
        middle
        + w_small_p * special.ndtr((mu - edge * sei) / sd)
        + w_large_p * special.ndtr((-edge * sei - mu) / sd)
    )
    log_w = (d1 - 1) * log_p + (d2 - 1) * log_1mp
    resid = (yi - mu) / sd
    log_dens = -0.5 * resid * resid - np.log(sd * _SQRT_2PI)
    return float(np.sum(log_w + log_dens - np.log(a_i)))


def _beta_nodes(n: int = _BETA_NODES):
    """Gauss-Legendre nodes on ``|z| <= isf(pval_min)`` with the logs of p and 1 - p there."""
    t, w = np.polynomial.legendre.leggauss(n)
    x = _BETA_EDGE * t
    return x, _BETA_EDGE * w, stats.norm.logsf(x), stats.norm.logcdf(x)


def beta_selection_model(
    res: MetaResult,
    level: float | None = None,
    alternative: str = "greater",
) -> SelectionModelResult:
    """Fit the beta selection model (metafor ``selmodel(type = "beta")``).

    Parameters
    ----------
    res : MetaResult
        A pooled model. Its ``yi`` and ``vi`` are used; a common-effect model keeps
        tau^2 = 0, any random-effects model is refitted by maximum likelihood (as metafor
        does, whatever the tau^2 estimator).
    level : float, optional
        Confidence level (default: the model's).
    alternative : {"greater", "less"}
        Direction of the one-sided p-values, as for :func:`step_selection_model`.

    Returns
    -------
    SelectionModelResult
        With ``model_type = "beta"``, ``delta = (delta1, delta2)``, no steps, and the
        likelihood-ratio test of ``delta1 = delta2 = 1`` on 2 df.

    Raises
    ------
    ValueError
        Too few studies (fewer than the number of parameters: effect, tau^2 and the two
        deltas), the optimiser not converging, a singular Hessian.

    Notes
    -----
    The relative probability that a study with one-sided p-value ``p`` is published is
    ``w(p) = p^(delta1 - 1) (1 - p)^(delta2 - 1)`` (Citkowicz & Vevea 2017), with ``p``
    clamped to ``[1e-5, 1 - 1e-5]`` (metafor's ``pval.min``) so that the weight stays
    finite. With ``s_i = sqrt(v_i + tau^2)`` the log-likelihood is
    ``sum_i [log w(p_i) + log phi((y_i - mu)/s_i) - log s_i - log A_i]``, where
    ``A_i = int w(p(y)) phi((y - mu)/s_i)/s_i dy`` and ``p(y) = 1 - Phi(y/sqrt(v_i))``.
    Beyond the clamped p-values the weight is constant, so those two tails of ``A_i``
    are normal probabilities; the rest, ``|y|/sqrt(v_i) <= Phi^-1(1 - 1e-5)``, is a
    96-point Gauss-Legendre rule (the integrand is smooth there; metafor uses
    ``integrate`` over the whole line). The deltas are bounded to ``[1e-5, 100]``
    (metafor's ``delta.min``, ``delta.max``); standard errors, z-tests and the
    likelihood-ratio test are as for :func:`step_selection_model`.

    References
    ----------
    Citkowicz M, Vevea JL (2017). A parsimonious weight function for modeling publication
    bias. Psychological Methods 22:28-41. doi:10.1037/met0000119
    Viechtbauer W (2022). metafor ``selmodel`` documentation, version 3.8-1.
    """
    check_result(res, "The selection model")
    yi, vi, common, level, sign = _prepare(res, level, alternative, 2)
    pvals = np.clip(stats.norm.sf(yi / np.sqrt(vi)), _BETA_PVAL_MIN, 1 - _BETA_PVAL_MIN)
    log_p, log_1mp = np.log(pvals), np.log1p(-pvals)
    nodes = _beta_nodes()

    def loglik(mu, tau2, free):
        return _beta_loglik(mu, tau2, free, yi, vi, log_p, log_1mp, nodes)

    return _fit_selection(
        res,
        yi=yi,
        vi=vi,
        sign=sign,
        common=common,
        level=level,
        alternative=alternative,
        loglik=loglik,
        bounds=(np.full(2, _BETA_DELTA_MIN), np.full(2, _DELTA_MAX)),
        delta_null=np.ones(2),
        fixed_delta=(),
        model_type="beta",
        steps=(),
        k_per_interval=(),
    )


def _prepare(res: MetaResult, level, alternative: str, n_delta: int):
    """Check the model and direction; the studies' effects (negated for ``"less"``)."""
    if res.method in ("MH", "PETO"):
        raise ValueError(
            "The selection model needs an inverse-variance model; refit with method='FE' "
            "or a random-effects estimator."
        )
    refuse_user_weights(
        res,
        "The selection model",
        "its likelihood weights studies by 1/(v + tau\u00b2) (metafor refuses it too).",
    )
    level = res.level if level is None else (level / 100 if level > 1 else level)
    if alternative not in ("greater", "less"):
        raise ValueError(f"alternative must be 'greater' or 'less', got {alternative!r}")
    sign = 1.0 if alternative == "greater" else -1.0
    yi, vi, _ = finite_studies(res)
    common = res.method in ("FE", "EE", "CE")
    n_par = 1 + (0 if common else 1) + n_delta
    if len(yi) < n_par:
        raise ValueError(
            f"The selection model has {n_par} parameters to estimate and needs at least "
            f"as many studies; this analysis has {len(yi)}."
        )
    return sign * yi, vi, common, level, sign


def _fit_selection(
    res: MetaResult,
    *,
    yi,
    vi,
    sign,
    common,
    level,
    alternative,
    loglik,
    bounds,
    delta_null,
    fixed_delta,
    model_type,
    steps,
    k_per_interval,
) -> SelectionModelResult:
    """Maximise ``loglik(mu, tau2, deltas)`` and assemble the result (both models).

    The estimated deltas are mapped into ``bounds`` by a scaled logistic function, tau^2
    by ``exp`` (as metafor); ``fixed_delta`` are the weights reported before them (the
    step function's reference interval, 1).
    """
    lo, hi = (np.asarray(b, dtype=float) for b in bounds)
    n_delta = len(lo)
    k = len(yi)

    def unpack(theta, delta_fixed):
        mu = theta[0]
        tau2 = 0.0 if common else float(np.exp(theta[1]))
        tau2 = 0.0 if tau2 < _TAU2_ZERO else tau2
        if delta_fixed:
            delta = delta_null
        else:
            delta = lo + (hi - lo) / (1 + np.exp(-theta[1 if common else 2 :]))
        return mu, tau2, delta

    def fit(delta_fixed: bool):
        def nll(theta):
            return -loglik(*unpack(theta, delta_fixed))

        start = [sign * float(res.estimate)]
        if not common:
            start.append(float(np.log(max(res.tau2, 0.0) + 0.01)))
        if not delta_fixed:
            start += list(np.log((delta_null - lo) / (hi - delta_null)))
        opt = optimize.minimize(nll, np.array(start), method="BFGS", options={"gtol": 1e-9})
        polish = optimize.minimize(
            nll, opt.x, method="Nelder-Mead", options={"xatol": 1e-12, "fatol": 1e-14}
        )
        best = polish if polish.fun <= opt.fun else opt
        if not np.isfinite(best.fun) or not (opt.success or polish.success):
            raise ValueError(
                "The selection model did not converge (the likelihood has no clear "
                "maximum for these studies)."
            )
        return unpack(best.x, delta_fixed), -best.fun

    (mu, tau2, delta), ll = fit(False)
    mu = sign * mu
    _, ll0 = fit(True)
    collected: list[str] = []
    eps = np.finfo(float).eps ** 0.25
    if np.any(delta <= lo + eps) or np.any(delta >= hi - 100 * eps):
        collected.append(
            f"A selection weight is at the edge of its range ({lo.min():g} or "
            f"{hi.max():g}): treat the selection model with caution."
        )

    # tau^2 on the boundary (0) is held fixed for the standard errors: the likelihood
    # still rises towards negative tau^2 there, so its curvature is no information.
    free_tau2 = not common and tau2 > 0
    if not common and not free_tau2:
        collected.append(
            "tau\u00b2 of the selection model is estimated as 0; the standard errors treat "
            "it as fixed at 0."
        )

    def nll_raw(x):
        t2 = x[1] if free_tau2 else 0.0
        return -loglik(x[0], t2, x[2 if free_tau2 else 1 :])

    x_hat = np.r_[sign * mu, [tau2] if free_tau2 else [], delta]
    try:
        cov = np.linalg.inv(_hessian(nll_raw, x_hat))
    except np.linalg.LinAlgError as exc:
        raise ValueError(
            "The selection model's information matrix is singular: its standard errors "
            "cannot be computed."
        ) from exc
    var = np.diag(cov)
    if np.any(var <= 0) or not np.all(np.isfinite(var)):
        raise ValueError(
            "The selection model's information matrix is not positive definite: its "
            "standard errors cannot be computed."
        )
    sd = np.sqrt(var)
    crit = float(stats.norm.isf((1 - level) / 2))
    se = float(sd[0])
    se_tau2 = float(sd[1]) if free_tau2 else float("nan")
    all_delta = np.r_[fixed_delta, delta]
    se_delta = np.r_[[np.nan] * len(fixed_delta), sd[2 if free_tau2 else 1 :]]
    lrt = max(2 * (ll - ll0), 0.0)
    return SelectionModelResult(
        steps=steps,
        k=k,
        k_per_interval=k_per_interval,
        estimate=float(mu),
        se=se,
        zval=float(mu / se),
        pval=float(2 * stats.norm.sf(abs(mu / se))),
        ci_lower=float(mu - crit * se),
        ci_upper=float(mu + crit * se),
        alternative=alternative,
        level=level,
        tau2=float(tau2),
        se_tau2=se_tau2,
        delta=all_delta,
        se_delta=se_delta,
        delta_ci_lower=np.maximum(all_delta - crit * se_delta, 0.0),
        delta_ci_upper=all_delta + crit * se_delta,
        ll=float(ll),
        ll0=float(ll0),
        lrt=float(lrt),
        lrt_df=float(n_delta),
        lrt_pval=float(stats.chi2.sf(lrt, n_delta)),
        common_effect=common,
        warnings=tuple(collected),
        model_type=model_type,
    )
