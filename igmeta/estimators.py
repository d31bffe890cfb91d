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
DerSimonian R, Kacker R (2007). Contemp Clin Trials 28:105-114. doi:10.1016/j.cct.2006.04.004
Viechtbauer W, Lopez-Lopez JA, Sanchez-Meca J, Marin-Martinez F (2015). Psychol Methods
20:360-374. doi:10.1037/met0000023
Hunter JE, Schmidt FL (2004). Methods of Meta-Analysis. Sage.
Hedges LV, Olkin I (1985). Statistical Methods for Meta-Analysis. Academic Press.
Morris CN (1983). J Am Stat Assoc 78:47-55. doi:10.1080/01621459.1983.10477920
Viechtbauer W (2005). J Educ Behav Stat 30:261-293. doi:10.3102/10769986030003261
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from igmeta.design import _rowdot, _rowsum

__all__ = [
    "DEFAULT_CONTROL",
    "ESTIMATORS",
    "ITERATIVE_METHODS",
    "Tau2Estimate",
    "estimate_tau2",
    "log_likelihoods",
    "solve_generalised_q",
    "user_weights",
]

#: Convergence settings (metafor's ``control`` names). ``threshold`` is relative to
#: ``max(1, tau2)``; ``tol`` is the relative tolerance of the Q-equation root finder.
DEFAULT_CONTROL: Mapping[str, float] = {"threshold": 1e-13, "tol": 1e-15, "maxiter": 1000}
ITERATIVE_METHODS = ("REML", "ML", "PM", "PMM", "EB")
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


def _rows(values, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(values, dtype=float), (n,))


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
    q = quantities
    if q is None or q.rss is None or q.logdet_xwx is None:
        q = design.quantities(design.weights(tau2), need=("rss", "logdet_xwx"))
    sum_log = design.sum_log_vt(tau2)
    ll_ml = -0.5 * design.k * _LOG_2PI - 0.5 * sum_log - 0.5 * q.rss
    ll_reml = (
        -0.5 * (design.k - design.p) * _LOG_2PI
        + 0.5 * design.logdet_xx()
        - 0.5 * sum_log
        - 0.5 * q.logdet_xwx
        - 0.5 * q.rss
    )
    return ll_ml, ll_reml


class _Active:
    """The rows of a batch that are still iterating, as a compact working design.

    Iterative estimators update only the active rows. The working design is re-cut to
    the active rows whenever fewer than three quarters of its rows are still active, so
    the arithmetic per iteration follows the number of unconverged fits, not the batch
    size. Each fit's numbers do not depend on the other rows of its batch.
    """

    def __init__(self, design, active: np.ndarray):
        self.index = np.arange(design.batch_size)
        self.design = design
        self.live = np.array(active, dtype=bool)
        self.compact()

    @property
    def any(self) -> bool:
        return self.index.size > 0 and bool(self.live.any())

    def rows(self) -> np.ndarray:
        """Global indices of the rows of the working design."""
        return self.index

    def retire(self, done: np.ndarray) -> None:
        """Mark rows of the working design (bool, working-design length) as finished."""
        self.live &= ~done

    def compact(self) -> None:
        """Re-cut the working design when enough rows finished.

        A batch keeps at least two rows (a finished one rides along), so that its sums
        stay those of a batch (see :func:`igmeta.design._rowsum`).
        """
        n_live = int(np.count_nonzero(self.live))
        size = self.live.size
        if n_live == size or n_live > 0.75 * size or (n_live == 1 and size <= 2):
            return
        if n_live == 0:
            self.index = self.index[:0]
            self.live = self.live[:0]
            return
        keep = np.flatnonzero(self.live)
        live = np.ones(keep.size, bool)
        if keep.size == 1:
            keep = np.array([keep[0], 0 if keep[0] != 0 else 1])
            live = np.array([True, False])
        self.index = self.index[keep]
        self.design = self.design.take(keep)
        self.live = live


def solve_generalised_q(
    design, target: np.ndarray, *, tol: float = 1e-15, maxiter: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``Q(tau2) = target`` for tau2 >= 0, where ``Q(t) = y'P(t)y``.

    ``Q`` is the generalised Q statistic under weights ``1/(v + t)``; it decreases in
    ``t``. Where ``Q(0) <= target`` the answer is 0. A Newton iteration (``dQ/dt =
    -y'PPy``) safeguarded by bisection inside a bracket is run on the whole batch
    (only on the fits that have not yet converged).

    Returns
    -------
    tau2 : ndarray, shape (B,)
    converged : ndarray of bool, shape (B,)
    """
    n = design.batch_size
    target = np.array(_rows(target, n))
    t = np.zeros(n)
    if hasattr(design, "fe_quantities"):
        q0 = design.fe_quantities()[1].rss
    else:
        q0 = design.quantities(design.weights(t), need=("rss",)).rss
    active = q0 > target
    converged = ~active
    if not active.any():
        return t, converged
    lo = np.zeros(n)
    hi = np.ones(n)
    # Grow the upper bracket until Q(hi) <= target.
    work = _Active(design, active)
    for _ in range(1100):
        if not work.any:
            break
        rows = work.rows()
        d = work.design
        q_hi = d.quantities(d.weights(hi[rows]), need=("rss",)).rss
        grow = work.live & (q_hi > target[rows])
        hi[rows] = np.where(grow, hi[rows] * 4, hi[rows])
        work.retire(~grow)
        work.compact()
    work = _Active(design, active)
    for _ in range(maxiter):
        if not work.any:
            break
        rows = work.rows()
        d = work.design
        live = work.live
        t_r, lo_r, hi_r, target_r = t[rows], lo[rows], hi[rows], target[rows]
        q = d.quantities(d.weights(t_r), need=("rss", "y_ppy"))
        f = q.rss - target_r
        lo_r = np.where(live & (f > 0), t_r, lo_r)
        hi_r = np.where(live & (f <= 0), t_r, hi_r)
        # Stop at the current t when Q(t) equals the target to rounding, or the bracket
        # has shrunk to nothing.
        at_root = live & (
            (np.abs(f) <= 8 * _EPS * np.maximum(target_r, 1.0)) | (hi_r - lo_r <= tol * hi_r)
        )
        converged[rows] |= at_root
        live = live & ~at_root
        with np.errstate(divide="ignore", invalid="ignore"):
            step = f / q.y_ppy
        t_new = t_r + step
        unsafe = ~np.isfinite(t_new) | (t_new <= lo_r) | (t_new >= hi_r)
        t_new = np.where(unsafe, 0.5 * (lo_r + hi_r), t_new)
        change = np.abs(t_new - t_r)
        t_r = np.where(live, t_new, t_r)
        done = live & (change <= tol * np.maximum(t_r, 1e-8))
        converged[rows] |= done
        t[rows], lo[rows], hi[rows] = t_r, lo_r, hi_r
        work.retire(at_root | done)
        work.compact()
    return t, converged


def _n(design) -> int:
    return design.batch_size


def _fixed(design, control):
    n = _n(design)
    return Tau2Estimate(np.zeros(n), np.full(n, np.nan), np.ones(n, bool), np.zeros(n, int))


def _closed(tau2, se):
    n = tau2.shape[0]
    return Tau2Estimate(tau2, se, np.ones(n, bool), np.zeros(n, int))


def _fe_q(design):
    """Quantities under the fixed-effect weights 1/v (cached by the design)."""
    if hasattr(design, "fe_quantities"):
        return design.fe_quantities()
    w = design.weights(np.zeros(_n(design)))
    return w, design.quantities(w)


def _dl(design, control):
    df = design.k - design.p
    q = _fe_q(design)[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.maximum(0.0, (q.rss - df) / q.tr_p)
        se = np.sqrt((2 * df + 4 * tau2 * q.tr_p + 2 * tau2**2 * q.tr_pp) / q.tr_p**2)
    return _closed(tau2, se)


def _hunter_schmidt(design, scale):
    """``max(0, (scale Q - k) / sum w)`` with ``w = 1/v``; the standard error is scaled too."""
    df = design.k - design.p
    w, q = _fe_q(design)
    sw = _rowsum(w)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.maximum(0.0, (scale * q.rss - design.k) / sw)
        se = scale * np.sqrt((2 * df + 4 * tau2 * q.tr_p + 2 * tau2**2 * q.tr_pp) / sw**2)
    return _closed(tau2, se)


def _hs(design, control):
    return _hunter_schmidt(design, 1.0)


def _hsk(design, control):
    with np.errstate(divide="ignore", invalid="ignore"):
        return _hunter_schmidt(design, design.k / (design.k - design.p))


def user_weights(design, weights) -> np.ndarray:
    """User weights ``a`` broadcast to the design's ``(B, k)``, 0 outside each fit.

    Raises
    ------
    ValueError
        When the count does not match the studies, or naming the rows (1-based) whose
        weight is missing, negative or infinite (metafor refuses them too).
    """
    a = np.asarray(weights, dtype=float)
    if a.shape[-1:] != design.y.shape[-1:] or a.ndim > 2:
        raise ValueError(
            f"Weights need one value per study: got {a.shape[-1] if a.ndim else 1} weights "
            f"for {design.y.shape[-1]} studies."
        )
    a = np.broadcast_to(a, design.y.shape)
    bad = design.mask & ~(np.isfinite(a) & (a >= 0))
    if bad.any():
        rows = ", ".join(str(i + 1) for i in np.unique(np.nonzero(bad)[-1]))
        raise ValueError(
            f"Weights must be finite and not negative; check the weight of study (row) {rows}."
        )
    return np.where(design.mask, a, 0.0)


def _genq(design, control, weights):
    """Generalised Q estimator with user weights ``a`` (metafor's ``method="GENQ"``)."""
    a = user_weights(design, weights)
    q = design.quantities(a, need=("rss", "tr_p", "tr_pp", "tr_pv", "tr_pvpv", "sum_p2v"))
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.maximum(0.0, (q.rss - q.tr_pv) / q.tr_p)
        se = np.sqrt((2 * q.tr_pvpv + 4 * tau2 * q.sum_p2v + 2 * tau2**2 * q.tr_pp) / q.tr_p**2)
    return _closed(tau2, se)


def _he_tau2(design, need=("rss", "tr_pv")):
    df = design.k - design.p
    q = design.quantities(design.unit_weights(), need=need)
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = np.maximum(0.0, (q.rss - q.tr_pv) / df)
    return tau2, q, df


def _he(design, control):
    tau2, q, df = _he_tau2(design, need=("rss", "tr_pv", "tr_pvpv"))
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt((2 * q.tr_pvpv + 4 * tau2 * q.tr_pv + 2 * tau2**2 * df) / df**2)
    return _closed(tau2, se)


def _sj(design, control):
    df = design.k - design.p
    k = design.k
    with np.errstate(divide="ignore", invalid="ignore"):
        ybar = _rowsum(design.y * design.mask) / k
        tau2_0 = _rowsum(np.where(design.mask, design.y - ybar[:, None], 0.0) ** 2) / k
        q = design.quantities(design.weights(tau2_0), need=("rss", "tr_pvpv", "sum_p2v", "tr_pp"))
        tau2 = tau2_0 * q.rss / df
        se = np.sqrt(
            tau2_0**2 / df**2 * (2 * q.tr_pvpv + 4 * tau2 * q.sum_p2v + 2 * tau2**2 * q.tr_pp)
        )
    return _closed(tau2, se)


def _q_root(design, control, target):
    """Root of ``Q(tau2) = target`` (0 when ``Q(0)`` is already below it)."""
    df = design.k - design.p
    tau2, converged = solve_generalised_q(
        design, target, tol=control["tol"], maxiter=int(control["maxiter"])
    )
    w = design.weights(tau2)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(2 * design.k**2 / df / _rowsum(w) ** 2)
    return Tau2Estimate(tau2, se, converged, np.zeros(_n(design), int))


def _pm(design, control):
    return _q_root(design, control, design.k - design.p)


def _pmm(design, control):
    return _q_root(design, control, stats.chi2.ppf(0.5, np.maximum(design.k - design.p, 1)))


def _fisher_scoring(design, control, restricted: bool):
    """metafor's Fisher scoring for ML/REML, started at HE, with step halving.

    Only the fits still iterating are computed (see :class:`_Active`); each fit's
    sequence of iterates is that of a batch of one.
    """
    n = _n(design)
    tau2, _, _ = _he_tau2(design)
    tau2 = np.where(np.isfinite(tau2), tau2, 0.0)
    iterations = np.zeros(n, int)
    converged = np.zeros(n, bool)
    threshold, maxiter = control["threshold"], int(control["maxiter"])
    need = ("tr_p", "tr_pp", "y_ppy") if restricted else ("y_ppy",)
    work = _Active(design, np.ones(n, bool))
    for _ in range(maxiter):
        if not work.any:
            break
        rows, d, live = work.rows(), work.design, work.live
        t = tau2[rows]
        w = d.weights(t)
        q = d.quantities(w, need=need)
        with np.errstate(divide="ignore", invalid="ignore"):
            if restricted:
                adj = (q.y_ppy - q.tr_p) / q.tr_pp
            else:
                adj = (q.y_ppy - _rowsum(w)) / _rowdot(w, w)
        adj = np.where(live & np.isfinite(adj), adj, 0.0)
        adj = np.where((t <= 0) & (adj < 0), 0.0, adj)
        for _ in range(1100):
            below = t + adj < 0
            if not below.any():
                break
            adj = np.where(below, adj / 2, adj)
        t = t + adj
        tau2[rows] = t
        iterations[rows] += live
        done = live & ~(np.abs(adj) >= threshold * np.maximum(1.0, t))
        converged[rows] |= done
        work.retire(done)
        work.compact()
    # metafor's ll0check: the iteration may have stopped at a local maximum; take
    # tau2 = 0 when the likelihood there is larger by more than ``tol``.
    positive = converged & (tau2 > threshold)
    if positive.any():
        which = 1 if restricted else 0
        sub = design if positive.all() else design.take(positive)
        ll_fit = log_likelihoods(sub, tau2[positive])[which]
        ll_zero = log_likelihoods(sub, np.zeros(sub.batch_size))[which]
        tau2[positive] = np.where(ll_zero - ll_fit > control["tol"], 0.0, tau2[positive])
    w = design.weights(tau2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if restricted:
            se = np.sqrt(2 / design.quantities(w, need=("tr_pp",)).tr_pp)
        else:
            se = np.sqrt(2 / _rowdot(w, w))
    return Tau2Estimate(tau2, se, converged, iterations)


def _reml(design, control):
    return _fisher_scoring(design, control, restricted=True)


def _ml(design, control):
    return _fisher_scoring(design, control, restricted=False)


#: Registry of estimators by metafor code. EB shares PM's fixed point ``Q(tau2) = k - p``.
#: GENQ takes a third argument, the user's weights (see :func:`estimate_tau2`).
ESTIMATORS: Mapping[str, Callable] = {
    "FE": _fixed,
    "DL": _dl,
    "GENQ": _genq,
    "HE": _he,
    "HS": _hs,
    "HSk": _hsk,
    "SJ": _sj,
    "PM": _pm,
    "PMM": _pmm,
    "EB": _pm,
    "ML": _ml,
    "REML": _reml,
}


def _registry_code(method: str) -> str:
    code = method.upper()
    if code in ("EE", "CE"):
        return "FE"
    by_upper = {name.upper(): name for name in ESTIMATORS}
    if code not in by_upper:
        raise ValueError(f"unknown tau^2 estimator {method!r}; choose from {sorted(ESTIMATORS)}")
    return by_upper[code]


def estimate_tau2(
    design, method: str, control: Mapping[str, float] | None = None, *, weights=None
) -> Tau2Estimate:
    """Estimate tau^2 for every fit of ``design`` with ``method``.

    Parameters
    ----------
    design : InterceptDesign or MatrixDesign
        The batch of fits.
    method : str
        One of ``FE DL GENQ REML ML PM PMM SJ HE HS HSk EB`` (metafor codes, any case;
        ``EE``/``CE`` mean FE).
    control : mapping, optional
        ``threshold``, ``tol``, ``maxiter`` (see :data:`DEFAULT_CONTROL`).
    weights : array_like, shape (k,) or (B, k), optional
        The weights ``a_i`` of the generalised Q statistic; required for GENQ and
        ignored otherwise.

    Returns
    -------
    Tau2Estimate

    Raises
    ------
    ValueError
        For an unknown method, or GENQ without weights.

    Notes
    -----
    Fits with ``k - p <= 0`` have no information on tau^2: they get tau^2 = 0 and a NaN
    standard error. Formulas (intercept-only form; the matrix form uses ``P``):
    DL ``max(0, (Q - (k-p)) / tr P)``; HE ``max(0, var(y) - mean(v))``; HS
    ``max(0, (Q - k) / sum w)``; HSk ``max(0, (k/(k-p) Q - k) / sum w)`` (its standard
    error is HS's times ``k/(k-p)``); GENQ ``max(0, (Q_a - tr(P_a V)) / tr P_a)`` with
    ``P_a`` built from the weights ``a``; SJ ``t0 Q(t0) / (k-p)`` with
    ``t0 = sum (y - ybar)^2 / k``; PM and EB the root of ``Q(tau2) = k - p`` and PMM the
    root of ``Q(tau2) = chi2_0.5(k - p)`` (the median-unbiased Paule-Mandel), 0 when
    ``Q(0)`` is already below the target; ML and REML Fisher scoring on
    ``y'PPy = sum w`` and ``y'PPy = tr P``.
    """
    code = _registry_code(method)
    if code == "GENQ":
        if weights is None:
            raise ValueError(
                "The generalised Q estimator (GENQ) needs weights for the studies "
                "(metafor's rma(..., method='GENQ', weights=)); none were given."
            )
        result = _genq(design, _control(control), weights)
    else:
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
