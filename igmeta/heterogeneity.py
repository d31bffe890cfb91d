"""Confidence intervals for the heterogeneity statistics tau^2, tau, I^2 and H^2.

The Q-profile method (metafor's ``confint(res)``, type ``"QP"``) inverts the generalised
Q statistic ``Q(tau^2) = sum_i (y_i - beta(tau^2))^2 / (v_i + tau^2)``, which decreases in
tau^2 and follows a chi^2 distribution with k - p degrees of freedom at the true tau^2.

References
----------
Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in
meta-analysis. Stat Med 26:37-52. doi:10.1002/sim.2514
Knapp G, Biggerstaff BJ, Hartung J (2006). Assessing the amount of heterogeneity in
random-effects meta-analysis. Biom J 48:271-285. doi:10.1002/bimj.200510175
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from igmeta.design import InterceptDesign, MatrixDesign
from igmeta.estimators import solve_generalised_q
from igmeta.formulas import h2_from_tau2, i2_from_tau2
from igmeta.kernel import normalise_level
from igmeta.results import MetaRegressionResult, MetaResult
from igmeta.warnings import BoundaryWarning, ConvergenceWarning, warn

__all__ = ["HeterogeneityCI", "heterogeneity_ci", "interval_from_bounds"]


@dataclass(frozen=True, slots=True)
class HeterogeneityCI:
    """Confidence intervals for tau^2, tau, I^2 and H^2 (Q-profile or profile likelihood).

    Attributes
    ----------
    level : float
        Confidence level (fraction).
    method : str
        tau^2 estimator of the model (it gives the point estimates; the bounds do not
        depend on it).
    k, p : int
        Studies and coefficients of the model; the chi^2 has k - p degrees of freedom.
    q : float
        Cochran's Q of the model.
    vt : float
        Typical within-study variance used for the I^2 and H^2 bounds.
    tau2, tau2_lower, tau2_upper : float
        Estimate and confidence bounds of tau^2.
    tau, tau_lower, tau_upper : float
        The same for tau (square roots).
    i2, i2_lower, i2_upper : float
        The same for I^2 (%).
    h2, h2_lower, h2_upper : float
        The same for H^2.
    ci_null : bool
        True when ``Q(0)`` is already below the lower chi^2 quantile: the interval is
        the null set, reported as [0, 0] (metafor's ``ci.null``).
    lb_sign, ub_sign : str
        metafor's flags: ``"<"`` (the true bound is below the reported value, i.e. the
        interval is the null set), ``">"`` (the bound lies beyond the search limit
        ``tau2_max`` and is reported as ``tau2_max``), or ``""`` (an actual root, or the
        natural lower limit 0).
    tau2_min, tau2_max : float
        The search interval for the bounds.
    converged : bool
        False when the root finder did not converge.
    warnings : tuple of str
        Plain-English notes (null interval, bound at the search limit, no convergence).
    ci_type : str
        ``"QP"`` (Q-profile, :func:`heterogeneity_ci`) or ``"PL"`` (profile likelihood,
        :func:`igmeta.profile_ci.profile_tau2_ci`): metafor's ``confint(type=)``.
    """

    level: float
    method: str
    k: int
    p: int
    q: float
    vt: float
    tau2: float
    tau2_lower: float
    tau2_upper: float
    tau: float
    tau_lower: float
    tau_upper: float
    i2: float
    i2_lower: float
    i2_upper: float
    h2: float
    h2_lower: float
    h2_upper: float
    ci_null: bool
    lb_sign: str
    ub_sign: str
    tau2_min: float
    tau2_max: float
    converged: bool
    warnings: tuple[str, ...] = ()
    ci_type: str = "QP"

    def to_frame(self) -> pd.DataFrame:
        """Table with rows ``tau2``, ``tau``, ``I2``, ``H2`` and columns ``estimate``,
        ``ci_lower``, ``ci_upper``."""
        return pd.DataFrame(
            {
                "estimate": [self.tau2, self.tau, self.i2, self.h2],
                "ci_lower": [self.tau2_lower, self.tau_lower, self.i2_lower, self.h2_lower],
                "ci_upper": [self.tau2_upper, self.tau_upper, self.i2_upper, self.h2_upper],
            },
            index=pd.Index(["tau2", "tau", "I2", "H2"], name="parameter"),
        )


def _design(res, rows: int):
    y = np.tile(np.asarray(res.yi, float), (rows, 1))
    v = np.tile(np.asarray(res.vi, float), (rows, 1))
    if isinstance(res, MetaRegressionResult):
        return MatrixDesign(y, v, res.X)
    return InterceptDesign(y, v)


def heterogeneity_ci(
    res, level: float | None = None, *, tau2_max: float | None = None
) -> HeterogeneityCI:
    """Q-profile confidence intervals for tau^2, tau, I^2 and H^2 (metafor's ``confint``).

    Parameters
    ----------
    res : MetaResult or MetaRegressionResult
        A random-effects model (any tau^2 estimator) with k - p >= 1.
    level : float, optional
        Confidence level (0.95 or 95); default the model's level.
    tau2_max : float, optional
        Upper end of the search interval; default ``max(100, 10 tau^2)`` (metafor).

    Returns
    -------
    HeterogeneityCI

    Raises
    ------
    ValueError
        For a common-effect (FE), Mantel-Haenszel or Peto model, or when k - p < 1.

    Notes
    -----
    With ``Q(t) = y'P(t)y`` (``P`` built with weights ``1/(v_i + t)``), df = k - p and
    ``alpha = 1 - level``:

    * lower bound: the root of ``Q(t) = chi2_{1-alpha/2}(df)``, or 0 if ``Q(0)`` is below it;
    * upper bound: the root of ``Q(t) = chi2_{alpha/2}(df)``; if ``Q(0)`` is below it, both
      bounds are 0 with flags ``"<"`` and ``ci_null`` is true.

    Roots are searched in ``[0, tau2_max]``; a bound beyond ``tau2_max`` is reported as
    ``tau2_max`` with flag ``">"``. The I^2 and H^2 bounds are ``100 t/(vt + t)`` and
    ``t/vt + 1`` at each bound t, with the model's ``vt``; the tau bounds are ``sqrt(t)``.
    The point estimates are the model's own tau^2, I^2 and H^2.

    References
    ----------
    Viechtbauer W (2007). Stat Med 26:37-52. doi:10.1002/sim.2514
    """
    if not isinstance(res, MetaResult | MetaRegressionResult):
        raise TypeError("heterogeneity_ci needs a result of meta_analysis() or meta_regression()")
    method = str(res.method).upper()
    if method in ("FE", "EE", "CE", "MH", "PETO"):
        raise ValueError(
            "The model has no between-study variance (a common-effect model), so there "
            "is no tau\u00b2 to give a confidence interval for. Fit a random-effects model "
            "(e.g. method='REML' or 'DL'); the Q-profile interval does not depend on the "
            "estimator."
        )
    p = int(getattr(res, "p", 1))
    k = int(res.k)
    df = k - p
    if df < 1:
        raise ValueError(
            f"A confidence interval for tau\u00b2 needs more studies than "
            f"coefficients (k = {k}, p = {p})."
        )
    if np.any(np.asarray(res.vi, float) <= 0):
        raise ValueError("The Q-profile interval needs positive sampling variances.")
    level = res.level if level is None else normalise_level(level)
    alpha = 1.0 - level
    crit_u = float(stats.chi2.isf(alpha / 2, df))  # for the lower bound
    crit_l = float(stats.chi2.ppf(alpha / 2, df))  # for the upper bound
    tau2_min = 0.0
    if tau2_max is None:
        tau2_max = max(100.0, 10.0 * float(res.tau2), 10.0 * tau2_min)
    tau2_max = float(tau2_max)

    design = _design(res, 2)
    q_ends = design.quantities(design.weights(np.array([tau2_min, tau2_max]))).rss
    q_min, q_max = float(q_ends[0]), float(q_ends[1])

    # Which roots are needed (metafor's case analysis), then solve them in one batch.
    need_ub = not (q_min < crit_l) and not (q_max > crit_l)
    need_lb = not (q_max > crit_u) and not (q_min < crit_u)
    targets = np.array([crit_u if need_lb else np.inf, crit_l if need_ub else np.inf])
    roots, ok = solve_generalised_q(design, targets)
    converged = bool((ok[0] or not need_lb) and (ok[1] or not need_ub))

    ci_null, lb_sign, ub_sign = False, "", ""
    if q_min < crit_l:
        tau2_lb = tau2_ub = tau2_min
        lb_sign = ub_sign = "<"
        ci_null = tau2_min <= 0
    elif q_max > crit_l:
        tau2_ub, ub_sign = tau2_max, ">"
    else:
        tau2_ub = float(roots[1])
    if q_max > crit_u:
        tau2_lb = tau2_ub = tau2_max
        lb_sign = ub_sign = ">"
    elif q_min < crit_u:
        tau2_lb = tau2_min
        if tau2_min > 0:
            lb_sign = "<"
    else:
        tau2_lb = float(roots[0])

    notes: list[str] = []
    if ci_null:
        warn(
            BoundaryWarning,
            "The studies vary less than expected by chance alone, so "
            "the confidence interval for tau\u00b2 is empty; it is shown as [0, 0].",
            notes,
        )
    elif ub_sign == ">":
        warn(
            BoundaryWarning,
            f"The upper confidence bound for tau\u00b2 lies beyond the "
            f"search limit {tau2_max:g} and is shown as that limit.",
            notes,
        )
    if not converged:
        warn(
            ConvergenceWarning,
            "The search for a confidence bound of tau\u00b2 did not "
            "converge; the interval may be inaccurate.",
            notes,
        )

    return interval_from_bounds(
        res,
        level=level,
        p=p,
        tau2_lower=float(tau2_lb),
        tau2_upper=float(tau2_ub),
        ci_null=bool(ci_null),
        lb_sign=lb_sign,
        ub_sign=ub_sign,
        tau2_min=tau2_min,
        tau2_max=tau2_max,
        converged=converged,
        warnings=tuple(notes),
    )


def interval_from_bounds(
    res, *, level: float, p: int, tau2_lower: float, tau2_upper: float, ci_type: str = "QP", **flags
) -> HeterogeneityCI:
    """Package tau^2 bounds with the matching tau, I^2 and H^2 bounds.

    Parameters
    ----------
    res : MetaResult or MetaRegressionResult
        The model (its tau^2, I^2, H^2, Q and typical variance ``vt``).
    level : float
        Confidence level (fraction).
    p : int
        Number of coefficients of the model.
    tau2_lower, tau2_upper : float
        The bounds for tau^2.
    ci_type : str
        ``"QP"`` or ``"PL"``.
    **flags
        ``ci_null``, ``lb_sign``, ``ub_sign``, ``tau2_min``, ``tau2_max``, ``converged``,
        ``warnings`` (see :class:`HeterogeneityCI`).

    Returns
    -------
    HeterogeneityCI

    Notes
    -----
    I^2 and H^2 bounds are ``100 t/(vt + t)`` and ``t/vt + 1`` at each bound t, tau bounds
    ``sqrt(t)`` (metafor's ``confint``); the point estimates are the model's own.
    """
    vt = float(res.vt)
    bounds = np.array([tau2_lower, tau2_upper])
    i2_b = i2_from_tau2(bounds, vt)
    h2_b = h2_from_tau2(bounds, vt)
    tau_b = np.sqrt(bounds)
    tau2 = float(res.tau2)
    return HeterogeneityCI(
        level=level,
        method=str(res.method).upper(),
        k=int(res.k),
        p=p,
        q=float(res.q),
        vt=vt,
        tau2=tau2,
        tau2_lower=float(tau2_lower),
        tau2_upper=float(tau2_upper),
        tau=float(np.sqrt(tau2)) if tau2 >= 0 else float("nan"),
        tau_lower=float(tau_b[0]),
        tau_upper=float(tau_b[1]),
        i2=float(res.i2),
        i2_lower=float(i2_b[0]),
        i2_upper=float(i2_b[1]),
        h2=float(res.h2),
        h2_lower=float(h2_b[0]),
        h2_upper=float(h2_b[1]),
        ci_type=ci_type,
        **flags,
    )
