"""Binomial building blocks of the GLMMs: log-likelihoods and R's ``glm`` fits.

metafor's ``rma.glmm`` computes its heterogeneity tests from two ordinary logistic
regressions fitted with R's ``glm``: the common-effect model and the saturated model (one
parameter per study). :func:`saturated_glm` reproduces R's iteratively reweighted least
squares (IRLS) for the saturated model step by step -- starting values, the clamping of
the logit link at |eta| = 30, the deviance-based stopping rule and the weights that
``vcov`` uses -- so that the Wald test matches metafor even when a study has 0 or n events
(where the maximum-likelihood estimate is infinite and ``glm`` stops at a large finite
value).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = [
    "CellFit",
    "binomial_loglik",
    "deviance_residuals",
    "log_choose",
    "saturated_glm",
    "wald_heterogeneity",
]

#: R's ``glm.control()`` defaults.
GLM_EPSILON = 1e-8
GLM_MAXIT = 25
_THRESH = 30.0
_DBL_EPS = float(np.finfo(float).eps)


def log_choose(n: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log of the binomial coefficient C(n, x) (elementwise, via log-gamma)."""
    n = np.asarray(n, dtype=float)
    x = np.asarray(x, dtype=float)
    return special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)


def binomial_loglik(x, n, eta) -> np.ndarray:
    """``log dbinom(x, n, ilogit(eta))`` without the binomial coefficient (broadcasts)."""
    return x * eta - n * np.logaddexp(0.0, eta)


def _ylogy(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y != 0, y * np.log(y / mu), 0.0)


def deviance_residuals(x, n, mu) -> np.ndarray:
    """Squared binomial deviance residuals ``2 n [y log(y/mu) + (1-y) log((1-y)/(1-mu))]``.

    ``y = x/n``; the terms with y = 0 or y = 1 are 0 (R's ``binomial()$dev.resids``).
    """
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    y = x / n
    return 2 * n * (_ylogy(y, mu) + _ylogy(1 - y, 1 - mu))


def _r_linkinv(eta: np.ndarray) -> np.ndarray:
    """R's C ``logit_linkinv``: exp(eta) clamped to [eps, 1/eps] outside |eta| <= 30."""
    with np.errstate(over="ignore"):
        tmp = np.where(eta < -_THRESH, _DBL_EPS, np.where(eta > _THRESH, 1 / _DBL_EPS, np.exp(eta)))
    return tmp / (1 + tmp)


def _r_mu_eta(eta: np.ndarray) -> np.ndarray:
    """R's C ``logit_mu_eta``: d mu / d eta, eps outside |eta| <= 30."""
    with np.errstate(over="ignore"):
        opexp = 1 + np.exp(eta)
        return np.where(np.abs(eta) > _THRESH, _DBL_EPS, np.exp(eta) / (opexp * opexp))


@dataclass(frozen=True, slots=True)
class CellFit:
    """R's ``glm`` fit of a saturated binomial model (one logit per cell).

    Attributes
    ----------
    eta : ndarray
        Fitted logits (large but finite for cells with 0 or n events).
    mu : ndarray
        Fitted probabilities (after the last IRLS update).
    var_eta : ndarray
        Variances of ``eta`` as ``vcov(glm)`` reports them: 1/w with the IRLS weights
        ``w = n mu_eta^2 / (mu (1 - mu))`` of the last iteration.
    loglik : float
        ``logLik(glm)``: sum of ``log dbinom(x, n, mu)`` including the coefficients.
    converged : bool
    iterations : int
    """

    eta: np.ndarray
    mu: np.ndarray
    var_eta: np.ndarray
    loglik: float
    converged: bool
    iterations: int


def saturated_glm(x, n, *, epsilon: float = GLM_EPSILON, maxit: int = GLM_MAXIT) -> CellFit:
    """Fit the saturated logistic model by R's IRLS (``glm.fit``), cell by cell.

    Parameters
    ----------
    x, n : array_like
        Events and trials per cell (n > 0).
    epsilon, maxit : float, int
        ``glm.control`` settings.

    Returns
    -------
    CellFit

    Notes
    -----
    In a saturated model the weighted least-squares step reproduces the working response
    exactly, so each cell's logit follows its own one-dimensional IRLS
    ``eta <- eta + (y - mu) / mu_eta(eta)``, started at ``logit((n y + 0.5)/(n + 1))``;
    the iterations stop for all cells together when the total deviance changes by less
    than ``epsilon (|dev| + 0.1)`` (R's rule).
    """
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    y = x / n
    mustart = (n * y + 0.5) / (n + 1)
    eta = np.log(mustart / (1 - mustart))
    mu = _r_linkinv(eta)
    devold = float(np.sum(deviance_residuals(x, n, mu)))
    converged = False
    w2 = n * _r_mu_eta(eta) ** 2 / (mu * (1 - mu))
    iterations = 0
    for iterations in range(1, maxit + 1):  # noqa: B007 - the count is reported
        mu_eta = _r_mu_eta(eta)
        w2 = n * mu_eta**2 / (mu * (1 - mu))
        eta = eta + (y - mu) / mu_eta
        mu = _r_linkinv(eta)
        dev = float(np.sum(deviance_residuals(x, n, mu)))
        if abs(dev - devold) / (abs(dev) + 0.1) < epsilon:
            converged = True
            break
        devold = dev
    with np.errstate(divide="ignore"):
        loglik = float(np.sum(log_choose(n, x) + x * np.log(mu) + (n - x) * np.log1p(-mu)))
    return CellFit(eta, mu, 1 / w2, loglik, converged, iterations)


def wald_heterogeneity(theta: np.ndarray, var: np.ndarray) -> float:
    """Wald test that all ``theta`` are equal: ``sum w (theta - theta_w)^2``, w = 1/var.

    This is ``b2' vcov(b2)^-1 b2`` for the study-specific contrasts of a saturated model
    (metafor's ``QE.Wld``), whichever study is the reference. Cells with infinite or zero
    weight are handled as the limit (they add nothing).
    """
    w = 1 / np.asarray(var, dtype=float)
    ok = np.isfinite(w) & (w > 0) & np.isfinite(theta)
    if ok.sum() < 2:
        return 0.0
    w, th = w[ok], np.asarray(theta, dtype=float)[ok]
    centre = np.sum(w * th) / np.sum(w)
    return float(max(0.0, np.sum(w * (th - centre) ** 2)))
