"""One home for the closed forms every fit shares: I², H², the prediction interval, HK.

Each formula is written once here and used by the inverse-variance kernel
(:mod:`igmeta.kernel`), Mantel-Haenszel and Peto (:mod:`igmeta.mantel_haenszel`), the
heterogeneity CIs (:mod:`igmeta.heterogeneity`), meta-regression predictions and the
convention comparison of the dashboard. The functions are vectorised (scalars give numpy
scalars) and use IEEE arithmetic (``x/0 = ±Inf``, ``0/0 = NaN``) without warnings; what a
degenerate case (``df = 0``, NaN) means is the caller's rule, as metafor's functions
differ there.

References: Higgins and Thompson (2002) for I² and H²; Higgins, Thompson and
Spiegelhalter (2009) and Riley et al. (2011) for the prediction interval; Hartung and
Knapp (2001), Sidik and Jonkman (2002) for the Hartung-Knapp scaling.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "h2_from_q",
    "h2_from_tau2",
    "hartung_knapp_s2w",
    "i2_from_q",
    "i2_from_tau2",
    "prediction_half_width",
]


def _scalar(value: np.ndarray):
    """0-d arrays as numpy scalars, other arrays as they are."""
    return value[()] if value.ndim == 0 else value


def i2_from_q(q, df):
    """I² (%) from Cochran's Q: ``max(0, 100 (Q - df) / Q)``.

    Parameters
    ----------
    q, df : float or array_like
        Cochran's Q and its degrees of freedom.

    Returns
    -------
    float or ndarray
        0 where Q is 0; NaN where the ratio is NaN (R's ``max(0, NA)`` is ``NA``).
    """
    q = np.asarray(q, dtype=float)
    df = np.asarray(df, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = 100 * (q - df) / q
    return _scalar(np.where(q == 0, 0.0, np.where(np.isnan(raw), raw, np.maximum(0.0, raw))))


def h2_from_q(q, df):
    """H² from Cochran's Q: ``Q / df``.

    Parameters
    ----------
    q, df : float or array_like
        Cochran's Q and its degrees of freedom.

    Returns
    -------
    float or ndarray
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return _scalar(np.asarray(q, dtype=float) / np.asarray(df, dtype=float))


def i2_from_tau2(tau2, vt):
    """I² (%) from tau²: ``100 tau² / (vt + tau²)``.

    Parameters
    ----------
    tau2 : float or array_like
        Between-study variance (or a bound of its CI).
    vt : float or array_like
        The "typical" within-study variance, ``(k - p) / tr(P)`` of the common-effect fit.

    Returns
    -------
    float or ndarray
    """
    tau2 = np.asarray(tau2, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _scalar(100 * tau2 / (np.asarray(vt, dtype=float) + tau2))


def h2_from_tau2(tau2, vt):
    """H² from tau²: ``tau² / vt + 1`` (``vt`` as in :func:`i2_from_tau2`).

    Parameters
    ----------
    tau2, vt : float or array_like

    Returns
    -------
    float or ndarray
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return _scalar(np.asarray(tau2, dtype=float) / np.asarray(vt, dtype=float) + 1)


def prediction_half_width(crit, se, tau2):
    """Half width of the prediction interval: ``crit sqrt(se² + tau²)``.

    Parameters
    ----------
    crit : float or array_like
        The quantile (normal, or t for Hartung-Knapp and the t-based rules).
    se : float or array_like
        Standard error of the pooled estimate (or of a prediction).
    tau2 : float or array_like
        Between-study variance.

    Returns
    -------
    float or ndarray
        The interval is ``estimate ± half width``.
    """
    se = np.asarray(se, dtype=float)
    with np.errstate(invalid="ignore"):
        return _scalar(np.asarray(crit, dtype=float) * np.sqrt(se**2 + tau2))


def hartung_knapp_s2w(rss, df):
    """The Hartung-Knapp scale ``s2w = sum w (y - fitted)² / (k - p)``.

    Parameters
    ----------
    rss : float or array_like
        Weighted residual sum of squares under the random-effects weights.
    df : float or array_like
        ``k - p``.

    Returns
    -------
    float or ndarray
        The variance of the estimates is multiplied by ``s2w`` and t(k - p) quantiles are
        used.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return _scalar(np.asarray(rss, dtype=float) / np.asarray(df, dtype=float))
