"""Numerical tools of the GLMM fits: Gauss-Hermite rules, Hessians, 2-d maximisation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite import hermgauss
from scipy import optimize

__all__ = ["Maximum", "gauss_hermite", "hessian", "maximise_mu_tau"]

LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


@lru_cache(maxsize=16)
def gauss_hermite(points: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and log-weights of the ``points``-point Gauss-Hermite rule for N(0, 1).

    ``sum(exp(logw) g(z)) ~ E[g(Z)]``, Z ~ N(0, 1) (lme4's ``GHrule``): numpy's
    physicists' rule (weight exp(-x^2)) rescaled by z = sqrt(2) x, w / sqrt(pi).
    """
    x, w = hermgauss(int(points))
    z = np.sqrt(2.0) * x
    logw = np.log(w) - 0.5 * np.log(np.pi)
    z.setflags(write=False)
    logw.setflags(write=False)
    return z, logw


def hessian(f: Callable[[np.ndarray], float], x: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x`` with one Richardson extrapolation.

    ``H(h)`` uses the four-point formula for the mixed and the three-point formula for
    the pure second derivatives; the result is ``(4 H(h/2) - H(h)) / 3`` (error O(h^4)).
    """
    x = np.asarray(x, dtype=float)
    p = x.size
    f0 = f(x)

    def at(h: np.ndarray) -> np.ndarray:
        out = np.empty((p, p))
        for i in range(p):
            ei = np.zeros(p)
            ei[i] = h[i]
            out[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
            for j in range(i):
                ej = np.zeros(p)
                ej[j] = h[j]
                val = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                    4 * h[i] * h[j]
                )
                out[i, j] = out[j, i] = val
        return out

    step = np.asarray(step, dtype=float)
    return (4 * at(step / 2) - at(step)) / 3


@dataclass(frozen=True, slots=True)
class Maximum:
    """The maximiser of a log-likelihood in (mu, tau), with convergence diagnostics."""

    mu: float
    tau: float
    value: float
    evaluations: int
    converged: bool
    message: str
    gradient: np.ndarray


def maximise_mu_tau(
    loglik: Callable[[float, float], float],
    mu0: float,
    tau0: float,
    *,
    xatol: float = 1e-9,
    fatol: float = 1e-10,
    maxiter: int = 2000,
) -> Maximum:
    """Maximise ``loglik(mu, tau)`` over mu and tau >= 0.

    The log-likelihoods of these models are even functions of tau (the random effect
    enters as tau * u with u ~ N(0, 1)), so the search runs unconstrained on (mu, |tau|)
    by Nelder-Mead with tight tolerances, restarted once from its own solution (a cheap
    guard against a collapsed simplex). The gradient at the solution is checked by
    central differences; ``converged`` is False when the optimiser stopped early or the
    gradient is not small.
    """
    count = [0]

    def nll(theta: np.ndarray) -> float:
        count[0] += 1
        val = loglik(float(theta[0]), abs(float(theta[1])))
        return -val if np.isfinite(val) else np.inf

    start = np.array([mu0, max(tau0, 0.05)])
    simplex = np.array([start, start + [0.3, 0.0], start + [0.0, 0.25]])
    options = {"xatol": xatol, "fatol": fatol, "maxiter": maxiter, "initial_simplex": simplex}
    res = optimize.minimize(nll, start, method="Nelder-Mead", options=options)
    first_ok = bool(res.success)
    x1 = res.x.copy()
    simplex = np.array([x1, x1 + [0.02, 0.0], x1 + [0.0, 0.02]])
    res = optimize.minimize(
        nll, x1, method="Nelder-Mead", options={**options, "initial_simplex": simplex}
    )
    mu, tau = float(res.x[0]), abs(float(res.x[1]))
    h = 1e-5
    grad = np.array(
        [
            (nll(np.array([mu + h, tau])) - nll(np.array([mu - h, tau]))) / (2 * h),
            (nll(np.array([mu, tau + h])) - nll(np.array([mu, tau - h]))) / (2 * h),
        ]
    )
    small = bool(np.all(np.abs(grad) < 1e-4 * max(1.0, abs(float(res.fun)))))
    converged = first_ok and bool(res.success) and small and np.isfinite(res.fun)
    message = str(res.message) if res.success else f"Nelder-Mead: {res.message}"
    if not small:
        message += f" (gradient at the solution {np.array2string(-grad, precision=2)})"
    return Maximum(mu, tau, -float(res.fun), count[0], converged, message, -grad)
