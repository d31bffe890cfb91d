"""Back-transforms from the analysis scale to the natural scale (metafor's ``transf.*``)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["TRANSFORMS", "back_transform", "interval_back_transform", "ipft"]


def _exp(x, ni=None):
    return np.exp(x)


def _ilogit(x, ni=None):
    return 1.0 / (1.0 + np.exp(-x))


def _ztor(x, ni=None):
    return np.tanh(x)


def _iarcsin(x, ni=None):
    x = np.asarray(x, dtype=float)
    z = np.sin(x) ** 2
    z = np.where(x < 0, 0.0, z)
    return np.where(x > np.pi / 2, 1.0, z)


def _pft(p, n):
    return 0.5 * (np.arcsin(np.sqrt(p * n / (n + 1))) + np.arcsin(np.sqrt((p * n + 1) / (n + 1))))


def _ipft_hm(x, ni=None):
    """Freeman-Tukey back-transform at the harmonic mean of ``ni`` (transf.ipft.hm)."""
    if ni is None:
        raise ValueError("the Freeman-Tukey back-transform needs the study sizes ni")
    ni = np.asarray(ni, dtype=float)
    return ipft(x, 1.0 / np.mean(1.0 / ni[np.isfinite(ni) & (ni > 0)]))


def ipft(x, n):
    """Inverse of the Freeman-Tukey transform for sample size ``n`` (broadcasts).

    Used with each study's own ``n`` for per-study intervals, and with the harmonic mean
    of all ``ni`` for pooled values (``ipft.hm``).
    """
    n = np.asarray(n, dtype=float)
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        s2x = np.sin(2 * x)
        z = 0.5 * (1 - np.sign(np.cos(2 * x)) * np.sqrt(1 - (s2x + (s2x - 1 / s2x) / n) ** 2))
    z = np.where(x > _pft(1.0, n), 1.0, z)
    return np.where(x < _pft(0.0, n), 0.0, z)


def _identity(x, ni=None):
    return np.asarray(x, dtype=float)


#: Back-transforms by name (metafor: exp, transf.ilogit, transf.iarcsin, transf.ipft.hm,
#: transf.ztor).
TRANSFORMS: dict[str, Callable] = {
    "none": _identity,
    "exp": _exp,
    "ilogit": _ilogit,
    "iarcsin": _iarcsin,
    "ipft.hm": _ipft_hm,
    "ztor": _ztor,
}


def back_transform(values, transform: str, ni=None) -> np.ndarray:
    """Apply the back-transform ``transform`` to ``values``.

    Parameters
    ----------
    values : array_like
        Values on the analysis scale.
    transform : str
        One of :data:`TRANSFORMS`.
    ni : array_like, optional
        Study sizes, needed by ``"ipft.hm"`` (harmonic mean of all ``ni``).

    Notes
    -----
    ``ipft.hm``: with ``n`` the harmonic mean of ``ni``,
    ``p = 1/2 (1 - sign(cos 2x) sqrt(1 - (sin 2x + (sin 2x - 1/sin 2x)/n)^2))``, set
    to 1 above ``pft(1, n)`` and 0 below ``pft(0, n)`` (Miller 1978,
    doi:10.1080/00031305.1978.10479283). NaN where undefined.
    """
    if transform not in TRANSFORMS:
        raise ValueError(f"unknown transform {transform!r}; choose from {sorted(TRANSFORMS)}")
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(TRANSFORMS[transform](np.asarray(values, dtype=float), ni), dtype=float)


def interval_back_transform(lower, upper, transform: str, ni=None) -> tuple[np.ndarray, np.ndarray]:
    """Back-transform interval bounds separately and order them so that lower <= upper."""
    lo = back_transform(lower, transform, ni)
    hi = back_transform(upper, transform, ni)
    swap = lo > hi
    return np.where(swap, hi, lo), np.where(swap, lo, hi)
