"""Between-study variance (tau^2) estimators, vectorised over a batch of fits.

Each estimator takes a design (:mod:`igmeta.design`) describing ``B`` fits and returns
:class:`Tau2Estimate` with arrays of shape ``(B,)``. The formulas are metafor's
(``rma.uni``), including its truncation at zero, its REML/ML Fisher scoring started at
the Hedges (HE) estimate with step halving, and its comparison with the likelihood at
tau^2 = 0 (``ll0check``).

References
----------
DerSimonian R, Laird N (1986). Control Clin Trials 7:177-188. doi:10.1016/0197-2456(86)90046-2
Paule RC, Mandel J (1982). J Res Natl Bur Stand 87:377-385. doi:10.6028/jres.087.022
Sidik K, Jonkman JN (2005). Stat Med 24:4141-4150. doi:10.1002/sim.2257
Hunter JE, Schmidt FL (2004). Methods of Meta-Analysis. Sage.
Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis. Academic Press.
Morris CN (1983). J Am Stat Assoc 78:47-55. doi:10.1080/01621459.1983.10477920
Viechtbauer W (2005). J Educ Behav Stat 30:261-293. doi:10.3102/10769986030003261
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DEFAULT_CONTROL",
    "ESTIMATORS",
    "ITERATIVE_METHODS",
    "Tau2Estimate",
    "estimate_tau2",
    "log_likelihoods",
    "solve_generalised_q",
]

#: Convergence settings (metafor's ``control`` names). ``threshold`` is relative to
#: ``max(1, tau2)``; ``tol`` is the relative tolerance of the Q-equation root finder.
DEFAULT_CONTROL: Mapping[str, float] = {"threshold": 1e-13, "tol": 1e-15, "maxiter": 1000}
ITERATIVE_METHODS = ("REML", "ML", "PM", "EB")
_LOG_2PI = np.log(2 * np.pi)
_EPS = np.finfo(float).eps


@dataclass(frozen=True, slots=True)
class Tau2Estimate:
    """tau^2 estimates for a batch of fits.

    Attributes
    ----------
    tau2 : ndarray, shape (B,)
        Estimates (>= 0).
    se_tau2 : ndarray, shape (B,)
        Standard errors (NaN for FE or where undefined).
    converged : ndarray of bool, shape (B,)
        False where an iterative estimator hit ``maxiter``.
    iterations : ndarray of int, shape (B,)
        Iterations used (0 for closed forms).
    """

    tau2: np.ndarray
    se_tau2: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray


def _control(control: Mapping[str, float] | None) -> dict[str, float]:
    merged = dict(DEFAULT_CONTROL)
    if control:
        merged.update({key: val for key, val in control.items() if key in DEFAULT_CONTROL})
    return merged


def log_likelihoods(design, tau2: np.ndarray, quantities=None) -> tuple[np.ndarray, np.ndarray]:
    """Maximum- and restricted-likelihood log-likelihoods at ``tau2``.

    Returns
    -------
    ll_ml, ll_reml : ndarray, shape (B,)

    Notes
    -----
    ``ll_ML = -k/2 log 2pi - 1/2 sum log(v + tau2) - RSS/2`` and
    ``ll_REML = -(k-p)/2 log 2pi + 1/2 log|X'X| - 1/2 sum log(v + tau2)
    - 1/2 log|X'WX| - RSS/2`` with ``RSS = y'Py`` under weights ``1/(v + tau2)``
    (metafor keeps the ``log|X'X|`` term).
    """
    tau2 = np.asarray(tau2, dtype=float)
    q = quantities if quantities is not None else design.quantities(design.weights(tau2))
    sum_log = np.where(design.mask, np.log(design.v + tau2[:, None]), 0.0).sum(axis=1)
    ll_ml = -0.5 * design.k * _LOG_2PI - 0.5 * sum_log - 0.5 * q.rss
    ll_reml = (
        -0.5 * (design.k - design.p) * _LOG_2PI
        + 0.5 * design.logdet_xx()
        - 0.5 * sum_log
        - 0.5 * q.logdet_xwx
        - 0.5 * q.rss
    )
    return ll_ml, ll_reml


def solve_generalised_q(
    design, target: np.ndarray, *, tol: float = 1e-15, maxiter: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``Q(tau2) = target`` for tau2 >= 0, where ``Q(t) = y'P(t)y``.

    ``Q`` is the generalised Q statistic under weights ``1/(v + t)``; it decreases in
    ``t``. Where ``Q(0) <= target`` the answer is 0. A Newton iteration (``dQ/dt =
    -y'PPy``) safeguarded by bisection inside a bracket is run on the whole batch.

    Returns
    -------
    tau2 : ndarray, shape (B,)
    converged : ndarray of bool, shape (B,)
    """
    target = np.broadcast_to(np.asarray(target, dtype=float), (design.batch_size,)).copy()
    t = np.zeros(design.batch_size)
    q0 = design.quantities(design.weights(t)).rss
    active = q0 > target
    converged = ~active
    lo = np.zeros(design.batch_size)
    hi = np.ones(design.batch_size)
    # Grow the upper bracket until Q(hi) <= target.
    grow = active.copy()
    for _ in range(1100):
        if not grow.any():
            break
        q_hi = design.quantities(design.weights(hi)).rss
        grow &= q_hi > target
        hi = np.where(grow, hi * 4, hi)
    for _ in range(maxiter):
        if not active.any():
            break
        q = design.quantities(design.weights(t))
        f = q.rss - target
        lo = np.where(active & (f > 0), t, lo)
        hi = np.where(active & (f <= 0), t, hi)
        # Stop at the current t when Q(t) equals the target to rounding, or the bracket
        # has shrunk to nothing.
        at_root = active & (
            (np.abs(f) <= 8 * _EPS * np.maximum(target, 1.0)) | (hi - lo <= tol * hi)
        )
        converged |= at_root
        active &= ~at_root
        with np.errstate(divide="ignore", invalid="ignore"):
            step = f / q.y_ppy
        t_new = t + step
        unsafe = ~np.isfinite(t_new) | (t_new <= lo) | (t_new >= hi)
        t_new = np.where(unsafe, 0.5 * (lo + hi), t_new)
        change = np.abs(t_new - t)
        t = np.where(active, t_new, t)
        done = active & (change <= tol * np.maximum(t, 1e-8))
        converged |= done
        active &= ~done
    return t, converged


def _fixed(design, control):
    zero = np.zeros(design.batch_size)
    return Tau2Estimate(
        zero,
        np.full(design.batch_size, np.nan),
        np.ones(design.batch_size, bool),
        np.zeros(design.batch_size, int),
    )


def _closed(tau2, se):
    n = tau2.shape[0]
    return Tau2Estimate(tau2, se, np.ones(n, bool), np.zeros(n, int))


def _dl(design, control):
    df = design.k - design.p
    q = design.quantities(design.weights(np.zeros(design.batch_size)))
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.maximum(0.0, (q.rss - df) / q.tr_p)
        se = np.sqrt((2 * df + 4 * tau2 * q.tr_p + 2 * tau2**2 * q.tr_pp) / q.tr_p**2)
    return _closed(tau2, se)


def _hs(design, control):
    df = design.k - design.p
    w = design.weights(np.zeros(design.batch_size))
    q = design.quantities(w)
    sw = w.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.maximum(0.0, (q.rss - design.k) / sw)
        se = np.sqrt((2 * df + 4 * tau2 * q.tr_p + 2 * tau2**2 * q.tr_pp) / sw**2)
    return _closed(tau2, se)


def _he_tau2(design):
    df = design.k - design.p
    q = design.quantities(design.unit_weights())
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.maximum(0.0, (q.rss - q.tr_pv) / df)
    return tau2, q, df


def _he(design, control):
    tau2, q, df = _he_tau2(design)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt((2 * q.tr_pvpv + 4 * tau2 * q.tr_pv + 2 * tau2**2 * df) / df**2)
    return _closed(tau2, se)


def _sj(design, control):
    df = design.k - design.p
    k = design.k
    with np.errstate(divide="ignore", invalid="ignore"):
        ybar = (design.y * design.mask).sum(axis=1) / k
        tau2_0 = (np.where(design.mask, design.y - ybar[:, None], 0.0) ** 2).sum(axis=1) / k
        q = design.quantities(design.weights(tau2_0))
        tau2 = tau2_0 * q.rss / df
        se = np.sqrt(
            tau2_0**2 / df**2 * (2 * q.tr_pvpv + 4 * tau2 * q.sum_p2v + 2 * tau2**2 * q.tr_pp)
        )
    return _closed(tau2, se)


def _pm(design, control):
    df = design.k - design.p
    tau2, converged = solve_generalised_q(
        design, df, tol=control["tol"], maxiter=int(control["maxiter"])
    )
    w = design.weights(tau2)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(2 * design.k**2 / df / w.sum(axis=1) ** 2)
    return Tau2Estimate(tau2, se, converged, np.zeros(design.batch_size, int))


def _fisher_scoring(design, control, restricted: bool):
    """metafor's Fisher scoring for ML/REML, started at HE, with step halving."""
    tau2, _, _ = _he_tau2(design)
    tau2 = np.where(np.isfinite(tau2), tau2, 0.0)
    n = design.batch_size
    active = np.ones(n, bool)
    iterations = np.zeros(n, int)
    threshold, maxiter = control["threshold"], int(control["maxiter"])
    for _ in range(maxiter):
        if not active.any():
            break
        w = design.weights(tau2)
        q = design.quantities(w)
        with np.errstate(divide="ignore", invalid="ignore"):
            if restricted:
                adj = (q.y_ppy - q.tr_p) / q.tr_pp
            else:
                adj = (q.y_ppy - w.sum(axis=1)) / (w**2).sum(axis=1)
        adj = np.where(active & np.isfinite(adj), adj, 0.0)
        adj = np.where((tau2 <= 0) & (adj < 0), 0.0, adj)
        for _ in range(1100):
            below = tau2 + adj < 0
            if not below.any():
                break
            adj = np.where(below, adj / 2, adj)
        tau2 = tau2 + adj
        iterations += active
        active &= np.abs(adj) >= threshold * np.maximum(1.0, tau2)
    converged = ~active
    # metafor's ll0check: the iteration may have stopped at a local maximum; take
    # tau2 = 0 when the likelihood there is larger by more than ``tol``.
    positive = converged & (tau2 > threshold)
    if positive.any():
        ll_fit = log_likelihoods(design, tau2)[1 if restricted else 0]
        ll_zero = log_likelihoods(design, np.zeros(n))[1 if restricted else 0]
        tau2 = np.where(positive & (ll_zero - ll_fit > control["tol"]), 0.0, tau2)
    w = design.weights(tau2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if restricted:
            se = np.sqrt(2 / design.quantities(w).tr_pp)
        else:
            se = np.sqrt(2 / (w**2).sum(axis=1))
    return Tau2Estimate(tau2, se, converged, iterations)


def _reml(design, control):
    return _fisher_scoring(design, control, restricted=True)


def _ml(design, control):
    return _fisher_scoring(design, control, restricted=False)


#: Registry of estimators by metafor code. EB shares PM's fixed point ``Q(tau2) = k - p``.
ESTIMATORS: Mapping[str, Callable] = {
    "FE": _fixed,
    "DL": _dl,
    "HE": _he,
    "HS": _hs,
    "SJ": _sj,
    "PM": _pm,
    "EB": _pm,
    "ML": _ml,
    "REML": _reml,
}


def estimate_tau2(design, method: str, control: Mapping[str, float] | None = None) -> Tau2Estimate:
    """Estimate tau^2 for every fit of ``design`` with ``method``.

    Parameters
    ----------
    design : InterceptDesign or MatrixDesign
        The batch of fits.
    method : str
        One of ``FE DL REML ML PM SJ HE HS EB`` (metafor codes; ``EE``/``CE`` mean FE).
    control : mapping, optional
        ``threshold``, ``tol``, ``maxiter`` (see :data:`DEFAULT_CONTROL`).

    Returns
    -------
    Tau2Estimate

    Notes
    -----
    Fits with ``k - p <= 0`` have no information on tau^2: they get tau^2 = 0 and a NaN
    standard error. Formulas (intercept-only form; the matrix form uses ``P``):
    DL ``max(0, (Q - (k-p)) / tr P)``; HE ``max(0, var(y) - mean(v))``; HS
    ``max(0, (Q - k) / sum w)``; SJ ``t0 Q(t0) / (k-p)`` with ``t0 = sum (y - ybar)^2 / k``;
    PM and EB the root of ``Q(tau2) = k - p``; ML and REML Fisher scoring on
    ``y'PPy = sum w`` and ``y'PPy = tr P``.
    """
    code = method.upper()
    if code in ("EE", "CE"):
        code = "FE"
    if code not in ESTIMATORS:
        raise ValueError(f"unknown tau^2 estimator {method!r}; choose from {sorted(ESTIMATORS)}")
    result = ESTIMATORS[code](design, _control(control))
    degenerate = design.k - design.p <= 0
    if code != "FE" and degenerate.any():
        result = Tau2Estimate(
            np.where(degenerate, 0.0, result.tau2),
            np.where(degenerate, np.nan, result.se_tau2),
            result.converged | degenerate,
            result.iterations,
        )
    return result
