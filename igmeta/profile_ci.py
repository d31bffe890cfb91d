"""Profile-likelihood confidence interval for tau^2 (metafor's ``confint(res, type="PL")``).

The interval collects the values ``t`` of tau^2 whose likelihood-ratio statistic against
the fitted model, ``-2 (ll(t) - ll(tau2_hat))``, stays below the chi^2(1) quantile. The
likelihood is the one the model was fitted with (ML or REML), maximised over the
coefficients at each ``t``.

References
----------
Hardy RJ, Thompson SG (1996). A likelihood approach to meta-analysis with random effects.
Stat Med 15:619-629. doi:10.1002/(SICI)1097-0258(19960330)15:6<619::AID-SIM188>3.0.CO;2-A
Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in
meta-analysis. Stat Med 26:37-52. doi:10.1002/sim.2514
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from igmeta.estimators import log_likelihoods
from igmeta.heterogeneity import HeterogeneityCI, _design, interval_from_bounds
from igmeta.kernel import normalise_level
from igmeta.results import MetaRegressionResult, MetaResult
from igmeta.warnings import BoundaryWarning, ConvergenceWarning, warn

__all__ = ["likelihood_bounds", "profile_tau2_ci"]

_XTOL = 1e-13


def _check_model(res) -> tuple[int, int, bool]:
    if not isinstance(res, MetaResult | MetaRegressionResult):
        raise TypeError("profile_tau2_ci needs a result of meta_analysis() or meta_regression()")
    method = str(res.method).upper()
    if method not in ("ML", "REML"):
        raise ValueError(
            f"The profile-likelihood interval for tau\u00b2 needs a model fitted by maximum "
            f"likelihood (method='ML') or restricted maximum likelihood (method='REML'); "
            f"this model uses {method}. Refit it with ML or REML, or use the Q-profile "
            f"interval (heterogeneity_ci), which works with any estimator."
        )
    p = int(getattr(res, "p", 1))
    k = int(res.k)
    if k - p < 1:
        raise ValueError(
            f"A confidence interval for tau\u00b2 needs more studies than coefficients "
            f"(k = {k}, p = {p})."
        )
    if np.any(np.asarray(res.vi, float) <= 0):
        raise ValueError("The profile-likelihood interval needs positive sampling variances.")
    return k, p, method == "REML"


def likelihood_bounds(
    excess, estimate: float, lower: float, upper: float, *, xtol: float = _XTOL
) -> tuple[float, float, bool, bool]:
    """Both roots of a profile-likelihood excess function around its minimum.

    Parameters
    ----------
    excess : callable
        ``excess(t) = -2 (ll(t) - ll(estimate)) - chi2_level(1)``: negative inside the
        interval, positive outside.
    estimate : float
        The maximum-likelihood value of the parameter (``excess(estimate) < 0``).
    lower, upper : float
        Ends of the search interval (``lower <= estimate <= upper``).
    xtol : float, default 1e-13
        Absolute tolerance of the roots.

    Returns
    -------
    tuple of (float, float, bool, bool)
        Lower bound, upper bound, whether the upper bound is only the search limit
        (``excess(upper) < 0``), and whether every root search converged. The lower bound
        is ``lower`` when ``excess(lower) < 0``.

    Notes
    -----
    Brent's method (``scipy.optimize.brentq``).
    """
    converged = True

    def root(lo: float, hi: float) -> float:
        nonlocal converged
        value, info = optimize.brentq(
            excess, lo, hi, xtol=xtol, maxiter=1000, full_output=True, disp=False
        )
        converged &= bool(info.converged)
        return float(value)

    lb = lower if excess(lower) < 0 else root(lower, estimate)
    at_limit = bool(excess(upper) < 0)
    ub = upper if at_limit else root(estimate, upper)
    return lb, ub, at_limit, converged


def profile_tau2_ci(
    res, level: float | None = None, *, tau2_max: float | None = None
) -> HeterogeneityCI:
    """Profile-likelihood confidence interval for tau^2 (and tau, I^2, H^2).

    Parameters
    ----------
    res : MetaResult or MetaRegressionResult
        A random-effects model fitted with ``method="ML"`` or ``"REML"``, k - p >= 1.
    level : float, optional
        Confidence level (0.95 or 95); default the model's level.
    tau2_max : float, optional
        Upper end of the search interval; default ``max(100, 10 tau^2)`` (metafor).

    Returns
    -------
    HeterogeneityCI
        With ``ci_type="PL"``; ``lb_sign``/``ub_sign`` are ``""`` or ``">"`` (upper bound
        beyond ``tau2_max``); ``ci_null`` is always False.

    Raises
    ------
    TypeError
        When ``res`` is not a fitted model.
    ValueError
        For a model not fitted by ML or REML, or with k - p < 1.

    Warns
    -----
    BoundaryWarning
        When the likelihood is still too high at ``tau2_max`` for an upper root: the
        upper bound is reported as ``tau2_max`` (flag ``">"``), not as NaN.
    ConvergenceWarning
        When a root search does not converge.

    Notes
    -----
    With ``ll`` the ML or REML log-likelihood of the model (profiled over the
    coefficients) and ``c = chi2_level(1)``, the bounds are the roots of
    ``f(t) = -2 (ll(t) - ll(tau2_hat)) - c`` in ``[0, tau2_hat]`` and
    ``[tau2_hat, tau2_max]``. When ``f(0) < 0`` the lower bound is 0 (tau^2 = 0 cannot be
    rejected; also whenever ``tau2_hat = 0``). When ``f(tau2_max) < 0`` the upper bound is
    ``tau2_max`` with flag ``">"``. Roots are found with Brent's method to an absolute
    tolerance of 1e-13 (metafor uses ``uniroot`` with ``tol = .Machine$double.eps^0.25``
    by default, so its bounds agree with these to about 1e-4).

    References
    ----------
    Hardy RJ, Thompson SG (1996). Stat Med 15:619-629.
    """
    k, p, restricted = _check_model(res)
    level = res.level if level is None else normalise_level(level)
    tau2_hat = float(res.tau2)
    tau2_min = 0.0
    tau2_max = max(100.0, 10.0 * tau2_hat) if tau2_max is None else float(tau2_max)
    if tau2_max < tau2_hat:
        raise ValueError(
            f"The search limit tau2_max = {tau2_max:g} is below the estimate "
            f"tau\u00b2 = {tau2_hat:g}; it must be at least the estimate."
        )
    which = 1 if restricted else 0
    design = _design(res, 1)
    objective = float(stats.chi2.ppf(level, 1))

    def loglik(t: float) -> float:
        return float(log_likelihoods(design, np.array([t]))[which][0])

    ll_hat = loglik(tau2_hat)

    def excess(t: float) -> float:
        return -2.0 * (loglik(t) - ll_hat) - objective

    notes: list[str] = []
    lb_sign = ub_sign = ""
    tau2_lb, tau2_ub, at_limit, converged = likelihood_bounds(excess, tau2_hat, tau2_min, tau2_max)
    if at_limit:
        ub_sign = ">"
        warn(
            BoundaryWarning,
            f"The likelihood is so flat that no upper confidence bound for tau\u00b2 was "
            f"found up to the search limit {tau2_max:g}: the bound is shown as that limit "
            f"and the true bound is higher. Few studies or very different studies make "
            f"tau\u00b2 poorly determined.",
            notes,
        )
    if not converged:
        warn(
            ConvergenceWarning,
            "The search for a profile-likelihood bound of tau\u00b2 did not converge; "
            "the interval may be inaccurate.",
            notes,
        )
    return interval_from_bounds(
        res,
        level=level,
        p=p,
        tau2_lower=tau2_lb,
        tau2_upper=tau2_ub,
        ci_type="PL",
        ci_null=False,
        lb_sign=lb_sign,
        ub_sign=ub_sign,
        tau2_min=tau2_min,
        tau2_max=tau2_max,
        converged=converged,
        warnings=tuple(notes),
    )
