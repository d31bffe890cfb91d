"""The three GLMMs of :func:`igmeta.glmm.meta_analysis_glmm` (metafor's ``rma.glmm``).

Each fitter returns a :class:`RawFit` on the model scale (logit or log odds ratio). All
study-level arithmetic is vectorised over studies (and quadrature nodes); the only
Python-level loops are the optimiser's iterations.

Random effects are written in lme4's "spherical" form: the study effect is ``tau * u``
with ``u ~ N(0, 1)``, so every marginal likelihood is an even function of ``tau`` and
``tau = 0`` is an ordinary point of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

from igmeta.glmm._binomial import (
    binomial_loglik,
    deviance_residuals,
    log_choose,
    saturated_glm,
    wald_heterogeneity,
)
from igmeta.glmm._numerics import gauss_hermite, hessian, maximise_mu_tau

__all__ = [
    "Hypergeometric",
    "RawFit",
    "cm_el_study_loglik",
    "fit_cm_el",
    "fit_um_fs",
    "fit_um_rs",
    "um_fs_study_loglik",
    "um_rs_study_loglik",
]

#: metafor's ``.dnchgi`` clamps log odds ratios to +/- log(1e12).
_LOG_OR_CLAMP = 12 * np.log(10.0)
#: Quadrature points of the conditional model's numerical integration.
CM_EL_POINTS = 25


@dataclass(frozen=True, slots=True)
class RawFit:
    """Numbers of one GLMM fit (model scale).

    Attributes
    ----------
    beta, se : float
        Pooled effect and its standard error (observed information).
    tau2, se_tau2 : float
        Between-study variance and its standard error (delta method on the observed
        information; NaN when the information matrix is not positive definite).
    loglik : float
        The log-likelihood metafor reports (``fit.stats["ll", "ML"]``).
    loglik_marginal : float
        The maximised marginal log-likelihood of the model itself (binomial or
        hypergeometric coefficients included).
    ll_fe, ll_qe : float
        Log-likelihoods of the common-effect and the saturated model.
    qe_wald : float
        Wald-type test of heterogeneity (saturated model).
    converged : bool
    message : str
    evaluations : int
    hessian : ndarray, shape (2, 2)
        Hessian of the (profile) marginal log-likelihood in (beta, tau).
    notes : tuple of str
        Plain-English remarks on the fit (e.g. a boundary estimate of tau^2).
    """

    beta: float
    se: float
    tau2: float
    se_tau2: float
    loglik: float
    loglik_marginal: float
    ll_fe: float
    ll_qe: float
    qe_wald: float
    converged: bool
    message: str
    evaluations: int
    hessian: np.ndarray
    notes: tuple[str, ...] = field(default_factory=tuple)


# ---------------------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------------------


def _newton_modes(
    grad_hess: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    value: Callable[[np.ndarray], np.ndarray],
    u0: np.ndarray,
    *,
    tol: float = 1e-12,
    maxiter: int = 100,
) -> np.ndarray:
    """Maximise k concave one-dimensional functions at once by damped Newton steps."""
    u = np.array(u0, dtype=float)
    current = value(u)
    for _ in range(maxiter):
        g, h = grad_hess(u)
        step = -g / h
        step = np.clip(step, -10.0, 10.0)
        new = u + step
        new_val = value(new)
        worse = ~(new_val >= current - 1e-12 * (1 + np.abs(current)))
        halvings = 0
        while worse.any() and halvings < 40:
            step = np.where(worse, step / 2, step)
            new = np.where(worse, u + step, new)
            new_val = np.where(worse, value(new), new_val)
            worse = ~(new_val >= current - 1e-12 * (1 + np.abs(current)))
            halvings += 1
        u, current = new, new_val
        if np.all(np.abs(step) < tol * (1 + np.abs(u))):
            break
    return u


def _aghq(logg, grad_hess, u0: np.ndarray, points: int) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive Gauss-Hermite log-integrals ``log int exp(logg_i(u)) phi(u) du`` per study.

    ``logg_i(u)`` excludes the N(0, 1) density; the mode ``u_i`` and curvature of
    ``logg_i(u) - u^2/2`` centre and scale the rule. Returns (log-integrals, modes).
    """

    def total(u):
        return logg(u) - 0.5 * u**2

    def total_gh(u):
        g, h = grad_hess(u)
        return g - u, h - 1.0

    mode = _newton_modes(total_gh, total, u0)
    _, h = total_gh(mode)
    sigma = 1 / np.sqrt(-h)
    if points == 1:  # Laplace
        return total(mode) + np.log(sigma), mode
    z, logw = gauss_hermite(points)
    nodes = mode[:, None] + sigma[:, None] * z[None, :]
    terms = logw[None, :] + 0.5 * z[None, :] ** 2 + total(nodes)
    return np.log(sigma) + special.logsumexp(terms, axis=1), mode


def _dl_tau(y: np.ndarray, v: np.ndarray) -> float:
    """sqrt of the DerSimonian-Laird tau^2 (a starting value only)."""
    w = 1 / v
    k = y.size
    if k < 2:
        return 0.1
    q = np.sum(w * (y - np.sum(w * y) / np.sum(w)) ** 2)
    c = np.sum(w) - np.sum(w**2) / np.sum(w)
    return float(np.sqrt(max(0.0, (q - (k - 1)) / c))) if c > 0 else 0.1


def _inference(
    loglik: Callable[[float, float], float], mu: float, tau: float
) -> tuple[float, float, np.ndarray, bool]:
    """se(beta), se(tau^2) and the Hessian from the observed information in (beta, tau)."""
    step = np.array([1e-3 * max(1.0, abs(mu)), 1e-3 * max(1.0, tau)])
    hess = hessian(lambda t: loglik(float(t[0]), abs(float(t[1]))), np.array([mu, tau]), step)
    info = -hess
    ok = bool(np.all(np.isfinite(info)))
    try:
        np.linalg.cholesky(info)
        cov = np.linalg.inv(info)
        se = float(np.sqrt(cov[0, 0]))
        se_tau2 = float(2 * tau * np.sqrt(cov[1, 1])) if tau > 0 else float("nan")
        pd = True
    except np.linalg.LinAlgError:
        pd = False
        se = float(1 / np.sqrt(info[0, 0])) if ok and info[0, 0] > 0 else float("nan")
        se_tau2 = float("nan")
    return se, se_tau2, hess, pd and ok


def _boundary_notes(tau: float) -> tuple[str, ...]:
    if tau < 1e-4:
        return (
            "tau\u00b2 was estimated as (practically) 0: the GLMM found no between-study "
            "variation beyond chance.",
        )
    return ()


# ---------------------------------------------------------------------------------------
# UM.RS: single-arm proportions, random-effects logistic model
# ---------------------------------------------------------------------------------------


def um_rs_study_loglik(
    mu: float, tau: float, x: np.ndarray, n: np.ndarray, points: int, u0: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-study log marginal likelihoods of UM.RS (binomial coefficients excluded) and modes.

    ``log int Bin(x_i | n_i, ilogit(mu + tau u)) phi(u) du`` by adaptive Gauss-Hermite
    quadrature with ``points`` nodes (1 = Laplace).
    """

    def logg(u):
        xx, nn = (x, n) if u.ndim == 1 else (x[:, None], n[:, None])
        return binomial_loglik(xx, nn, mu + tau * u)

    def grad_hess(u):
        p = special.expit(mu + tau * u)
        return tau * (x - n * p), -(tau**2) * n * p * (1 - p)

    return _aghq(logg, grad_hess, np.zeros_like(x) if u0 is None else u0, points)


def fit_um_rs(x: np.ndarray, n: np.ndarray, points: int) -> RawFit:
    """Random-effects logistic model for proportions by adaptive Gauss-Hermite quadrature.

    ``x_i ~ Bin(n_i, ilogit(mu + tau u_i))``, ``u_i ~ N(0, 1)`` (lme4 ``glmer(cbind(x,
    n - x) ~ 1 + (1 | study), nAGQ = points)``).
    """
    const = float(np.sum(log_choose(n, x)))
    state = {"u": np.zeros_like(x)}

    def per_study(mu: float, tau: float) -> tuple[np.ndarray, np.ndarray]:
        ll, mode = um_rs_study_loglik(mu, tau, x, n, points, state["u"])
        state["u"] = mode
        return ll, mode

    def loglik(mu: float, tau: float) -> float:
        return float(np.sum(per_study(mu, tau)[0]))

    y = np.log((x + 0.5) / (n - x + 0.5))
    v = 1 / (x + 0.5) + 1 / (n - x + 0.5)
    w = 1 / v
    best = maximise_mu_tau(loglik, float(np.sum(w * y) / np.sum(w)), _dl_tau(y, v))
    se, se_tau2, hess, pd = _inference(loglik, best.mu, best.tau)
    _, mode = per_study(best.mu, best.tau)
    sat = saturated_glm(x, n)
    p_hat = np.sum(x) / np.sum(n)
    ll_fe = float(np.sum(log_choose(n, x) + binomial_loglik(x, n, np.log(p_hat / (1 - p_hat)))))
    dev = float(np.sum(deviance_residuals(x, n, special.expit(best.mu + best.tau * mode))))
    return RawFit(
        beta=best.mu,
        se=se,
        tau2=best.tau**2,
        se_tau2=se_tau2,
        loglik=sat.loglik - dev / 2,
        loglik_marginal=best.value + const,
        ll_fe=ll_fe,
        ll_qe=sat.loglik,
        qe_wald=wald_heterogeneity(sat.eta, sat.var_eta),
        converged=best.converged and pd and sat.converged,
        message=best.message + ("" if pd else "; observed information not positive definite"),
        evaluations=best.evaluations,
        hessian=hess,
        notes=_boundary_notes(best.tau),
    )


# ---------------------------------------------------------------------------------------
# UM.FS: 2x2 tables, fixed study intercepts, random log odds ratio
# ---------------------------------------------------------------------------------------


def _fe_logistic_intercepts(a, b, c, d) -> tuple[float, np.ndarray, float]:
    """Common log odds ratio with fixed study intercepts (ML): (beta, alpha, loglik)."""
    n1, n2 = a + b, c + d

    def alphas(beta: float, alpha0: np.ndarray) -> np.ndarray:
        alpha = alpha0.copy()
        for _ in range(100):
            pt, pc = special.expit(alpha + beta), special.expit(alpha)
            g = a + c - n1 * pt - n2 * pc
            h = n1 * pt * (1 - pt) + n2 * pc * (1 - pc)
            step = np.clip(g / h, -5, 5)
            alpha = alpha + step
            if np.all(np.abs(step) < 1e-13 * (1 + np.abs(alpha))):
                break
        return alpha

    alpha0 = np.log((c + 0.5) / (d + 0.5))

    def profile(beta: float) -> float:
        al = alphas(beta, alpha0)
        return -float(np.sum(binomial_loglik(a, n1, al + beta) + binomial_loglik(c, n2, al)))

    y = np.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5)))
    res = optimize.minimize_scalar(
        profile, bracket=(float(np.mean(y)) - 1, float(np.mean(y)) + 1), options={"xtol": 1e-12}
    )
    beta = float(res.x)
    alpha = alphas(beta, alpha0)
    ll = float(
        np.sum(
            log_choose(n1, a)
            + log_choose(n2, c)
            + binomial_loglik(a, n1, alpha + beta)
            + binomial_loglik(c, n2, alpha)
        )
    )
    return beta, alpha, ll


def um_fs_study_loglik(
    alpha: np.ndarray,
    beta: float,
    tau: float,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    d: np.ndarray,
    points: int,
    u0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-study log marginal likelihoods of UM.FS (coefficients excluded) and modes.

    ``log int Bin(a | n1, ilogit(alpha + beta + tau u/2)) Bin(c | n2, ilogit(alpha -
    tau u/2)) phi(u) du`` by adaptive Gauss-Hermite quadrature with ``points`` nodes.
    """
    n1, n2 = a + b, c + d

    def logg(u):
        if u.ndim == 1:
            al, aa, cc, nn1, nn2 = alpha, a, c, n1, n2
        else:
            al, aa, cc = alpha[:, None], a[:, None], c[:, None]
            nn1, nn2 = n1[:, None], n2[:, None]
        return binomial_loglik(aa, nn1, al + beta + tau * u / 2) + binomial_loglik(
            cc, nn2, al - tau * u / 2
        )

    def grad_hess(u):
        pt = special.expit(alpha + beta + tau * u / 2)
        pc = special.expit(alpha - tau * u / 2)
        g = tau / 2 * (a - n1 * pt) - tau / 2 * (c - n2 * pc)
        h = -(tau**2) / 4 * (n1 * pt * (1 - pt) + n2 * pc * (1 - pc))
        return g, h

    return _aghq(logg, grad_hess, np.zeros_like(a) if u0 is None else u0, points)


def fit_um_fs(a, b, c, d, points: int) -> RawFit:
    """Unconditional model with fixed study effects and a random log odds ratio.

    ``logit p_Ti = alpha_i + beta + tau u_i / 2``, ``logit p_Ci = alpha_i - tau u_i / 2``
    (metafor's default ``coding = 1/2``), ``u_i ~ N(0, 1)``: lme4 ``glmer(cbind(x, m) ~
    -1 + X.fit + study + (group - 1 | study), nAGQ = points)``. The marginal likelihood
    is maximised over (beta, tau) with the study intercepts profiled out (each is a
    one-dimensional maximisation, done for all studies at once by Newton steps).
    """
    n1, n2 = a + b, c + d
    const = float(np.sum(log_choose(n1, a) + log_choose(n2, c)))
    beta_fe, alpha_fe, ll_fe = _fe_logistic_intercepts(a, b, c, d)
    state = {"u": np.zeros_like(a), "alpha": alpha_fe.copy()}

    def study_ll(alpha: np.ndarray, beta: float, tau: float) -> tuple[np.ndarray, np.ndarray]:
        return um_fs_study_loglik(alpha, beta, tau, a, b, c, d, points, state["u"])

    def profile(beta: float, tau: float) -> float:
        alpha = state["alpha"].copy()
        hstep = 1e-4
        for _ in range(60):
            lm = study_ll(alpha - hstep, beta, tau)[0]
            l0 = study_ll(alpha, beta, tau)[0]
            lp = study_ll(alpha + hstep, beta, tau)[0]
            g = (lp - lm) / (2 * hstep)
            h = (lp - 2 * l0 + lm) / hstep**2
            step = np.where(h < 0, -g / np.where(h < 0, h, -1.0), np.sign(g) * 0.5)
            step = np.clip(step, -2.0, 2.0)
            alpha = alpha + step
            if np.all(np.abs(step) < 1e-9):
                break
        ll, mode = study_ll(alpha, beta, tau)
        state["alpha"], state["u"] = alpha, mode
        return float(np.sum(ll))

    y = np.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5)))
    v = 1 / (a + 0.5) + 1 / (b + 0.5) + 1 / (c + 0.5) + 1 / (d + 0.5)
    best = maximise_mu_tau(profile, beta_fe, _dl_tau(y, v))
    se, se_tau2, hess, pd = _inference(profile, best.mu, best.tau)
    profile(best.mu, best.tau)
    alpha, mode = state["alpha"], state["u"]
    mu_t = special.expit(alpha + best.mu + best.tau * mode / 2)
    mu_c = special.expit(alpha - best.tau * mode / 2)
    dev = float(np.sum(deviance_residuals(a, n1, mu_t) + deviance_residuals(c, n2, mu_c)))
    sat = saturated_glm(np.concatenate([a, c]), np.concatenate([n1, n2]))
    k = a.size
    theta = sat.eta[:k] - sat.eta[k:]
    var = sat.var_eta[:k] + sat.var_eta[k:]
    return RawFit(
        beta=best.mu,
        se=se,
        tau2=best.tau**2,
        se_tau2=se_tau2,
        loglik=sat.loglik - dev / 2,
        loglik_marginal=best.value + const,
        ll_fe=ll_fe,
        ll_qe=sat.loglik,
        qe_wald=wald_heterogeneity(theta, var),
        converged=best.converged and pd and sat.converged,
        message=best.message + ("" if pd else "; observed information not positive definite"),
        evaluations=best.evaluations,
        hessian=hess,
        notes=_boundary_notes(best.tau),
    )


# ---------------------------------------------------------------------------------------
# CM.EL: conditional model, exact (noncentral hypergeometric) likelihood
# ---------------------------------------------------------------------------------------


class Hypergeometric:
    """Fisher's noncentral hypergeometric distributions of k 2x2 tables.

    Given the margins, ``a`` has ``P(a | psi) = C(n1, a) C(n2, m1 - a) psi^a / sum_x
    C(n1, x) C(n2, m1 - x) psi^x`` on ``max(0, m1 - n2) <= x <= min(n1, m1)``, with
    ``psi = exp(theta)`` the study's odds ratio (``theta`` clamped to +/- log(1e12) as in
    metafor's ``.dnchgi``). Supports are padded to a rectangle.
    """

    _CHUNK = 2_000_000
    _WINDOW = 50.0

    def __init__(self, a, b, c, d):
        n1, n2, m1 = a + b, c + d, a + c
        lo = np.maximum(0, m1 - n2)
        hi = np.minimum(n1, m1)
        width = int(np.max(hi - lo)) + 1
        xs = lo[:, None] + np.arange(width)[None, :]
        valid = xs <= hi[:, None]
        xs = np.where(valid, xs, lo[:, None])
        logc = log_choose(n1[:, None], xs) + log_choose(n2[:, None], m1[:, None] - xs)
        self.a = a
        self.xs = xs
        self.logc = np.where(valid, logc, -np.inf)
        self.log_ca = log_choose(n1, a) + log_choose(n2, m1 - a)
        self.lo, self.hi = lo, hi
        self.boundary = (a <= lo) | (a >= hi)

    def _window(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Support points (xs, log C) that carry probability for some theta in each row.

        The mode of the distribution increases with theta, so the points within
        ``_WINDOW`` log units of the largest term at the smallest theta of a row, up to
        those at its largest theta, hold all the mass (terms left out are below e^-50
        of the largest).
        """
        tmin = theta if theta.ndim == 1 else theta.min(axis=1)
        tmax = theta if theta.ndim == 1 else theta.max(axis=1)
        vmin = self.logc + self.xs * tmin[:, None]
        vmax = self.logc + self.xs * tmax[:, None]
        keep_lo = vmin >= vmin.max(axis=1, keepdims=True) - self._WINDOW
        keep_hi = vmax >= vmax.max(axis=1, keepdims=True) - self._WINDOW
        size = self.xs.shape[1]
        first = np.argmax(keep_lo, axis=1)
        last = size - 1 - np.argmax(keep_hi[:, ::-1], axis=1)
        last = np.maximum(last, first)
        idx = first[:, None] + np.arange(int(np.max(last - first)) + 1)[None, :]
        valid = idx <= last[:, None]
        idx = np.minimum(idx, size - 1)
        xs = np.take_along_axis(self.xs, idx, axis=1)
        logc = np.where(valid, np.take_along_axis(self.logc, idx, axis=1), -np.inf)
        return xs, logc

    def stats(self, theta: np.ndarray, moments: bool = False):
        """log P(a | theta) (same shape as theta) and, optionally, E[X] and Var[X]."""
        theta = np.clip(theta, -_LOG_OR_CLAMP, _LOG_OR_CLAMP)
        xs_all, logc_all = self._window(theta)
        logp = np.empty_like(theta)
        mean = np.empty_like(theta) if moments else None
        var = np.empty_like(theta) if moments else None
        q = 1 if theta.ndim == 1 else theta.shape[1]
        rows = max(1, self._CHUNK // max(1, q * xs_all.shape[1]))
        expand = (slice(None), *((None,) * (theta.ndim - 1)), slice(None))
        for start in range(0, theta.shape[0], rows):
            sl = slice(start, start + rows)
            th = theta[sl]
            xs, logc = xs_all[sl][expand], logc_all[sl][expand]
            terms = logc + xs * th[..., None]
            top = np.max(terms, axis=-1, keepdims=True)
            prob = np.exp(terms - top)
            total = np.sum(prob, axis=-1)
            logz = np.log(total) + top[..., 0]
            shape = (-1,) + (1,) * (th.ndim - 1)
            logp[sl] = self.log_ca[sl].reshape(shape) + self.a[sl].reshape(shape) * th - logz
            if moments:
                prob /= total[..., None]
                m = np.sum(prob * xs, axis=-1)
                mean[sl] = m
                var[sl] = np.maximum(np.sum(prob * (xs - m[..., None]) ** 2, axis=-1), 0.0)
        return (logp, mean, var) if moments else logp


def _conditional_mles(hg: Hypergeometric) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-study conditional MLEs of the log odds ratio, their information and log P.

    Studies with a zero cell (``a`` on the edge of its support) have no finite MLE; they
    get the clamp value (where metafor's likelihood is flat), information 0, and the
    log-probability there.
    """
    k = hg.a.size
    theta = np.zeros(k)
    inner = ~hg.boundary
    for _ in range(200):
        _, mean, var = hg.stats(theta, moments=True)
        step = np.where(inner, (hg.a - mean) / np.where(var > 0, var, 1.0), 0.0)
        step = np.clip(step, -3, 3)
        theta = theta + step
        if np.all(np.abs(step) < 1e-13 * (1 + np.abs(theta))):
            break
    theta = np.where(hg.a <= hg.lo, -_LOG_OR_CLAMP, theta)
    theta = np.where(hg.a >= hg.hi, _LOG_OR_CLAMP, theta)
    logp, _, var = hg.stats(theta, moments=True)
    return theta, np.where(inner, var, 0.0), logp


def _conditional_fe(hg: Hypergeometric) -> tuple[float, float]:
    """Common log odds ratio of the conditional model (ML) and its log-likelihood."""
    theta = 0.0
    for _ in range(200):
        _, mean, var = hg.stats(np.full(hg.a.size, theta), moments=True)
        step = float(np.clip((np.sum(hg.a) - np.sum(mean)) / np.sum(var), -3, 3))
        theta += step
        if abs(step) < 1e-14 * (1 + abs(theta)):
            break
    return theta, float(np.sum(hg.stats(np.full(hg.a.size, theta))))


def cm_el_study_loglik(
    beta: float, tau: float, hg: Hypergeometric, points: int, u0: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-study log marginal conditional likelihoods of CM.EL and the modes.

    ``log int P(a_i | beta + tau u) phi(u) du`` (hypergeometric coefficients included)
    by adaptive Gauss-Hermite quadrature; exact ``log P(a_i | beta)`` when tau = 0.
    """
    if tau == 0:
        return hg.stats(np.full(hg.a.size, float(beta))), np.zeros(hg.a.size)

    def logg(u):
        return hg.stats(beta + tau * u)

    def grad_hess(u):
        _, mean, var = hg.stats(beta + tau * u, moments=True)
        return tau * (hg.a - mean), -(tau**2) * var

    return _aghq(logg, grad_hess, np.zeros(hg.a.size) if u0 is None else u0, points)


def fit_cm_el(a, b, c, d, points: int = CM_EL_POINTS) -> RawFit:
    """Conditional model with the exact likelihood and a random log odds ratio.

    ``L = prod_i int P(a_i | theta) N(theta; beta, tau^2) d theta`` with Fisher's
    noncentral hypergeometric ``P`` (metafor ``model = "CM.EL"``), integrated by adaptive
    Gauss-Hermite quadrature with ``points`` nodes and maximised over (beta, tau).
    """
    hg = Hypergeometric(a, b, c, d)
    state = {"u": np.zeros_like(a)}

    def loglik(beta: float, tau: float) -> float:
        ll, mode = cm_el_study_loglik(beta, tau, hg, points, state["u"])
        state["u"] = mode
        return float(np.sum(ll))

    beta_fe, ll_fe = _conditional_fe(hg)
    y = np.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5)))
    v = 1 / (a + 0.5) + 1 / (b + 0.5) + 1 / (c + 0.5) + 1 / (d + 0.5)
    best = maximise_mu_tau(loglik, beta_fe, _dl_tau(y, v))
    se, se_tau2, hess, pd = _inference(loglik, best.mu, best.tau)
    theta_i, info_i, logp_i = _conditional_mles(hg)
    inner = info_i > 0
    return RawFit(
        beta=best.mu,
        se=se,
        tau2=best.tau**2,
        se_tau2=se_tau2,
        loglik=best.value,
        loglik_marginal=best.value,
        ll_fe=ll_fe,
        ll_qe=float(np.sum(logp_i)),
        qe_wald=wald_heterogeneity(theta_i[inner], 1 / info_i[inner]),
        converged=best.converged and pd,
        message=best.message + ("" if pd else "; observed information not positive definite"),
        evaluations=best.evaluations,
        hessian=hess,
        notes=_boundary_notes(best.tau),
    )
