"""Effect sizes from correlations: COR (raw), UCOR (bias-corrected) and ZCOR (Fisher's z).

Formulas follow metafor 3.8-1 ``escalc``. For COR and UCOR, correlations beyond +-1 and
sample sizes <= 0 raise ``ValueError`` naming the studies (metafor stops).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import integrate, special

from igmeta.effects_inputs import reject_columns, weighted_mean

__all__ = ["CORRELATION_VTYPES", "correlations"]

#: Variance types per measure (the first is the default).
CORRELATION_VTYPES = {"COR": ("LS", "AV"), "UCOR": ("LS", "UB", "AV"), "ZCOR": ("LS",)}


#: From this ``c`` on, 2F1 is summed as its power series; below it, Euler's integral.
_SERIES_FROM = 25.0


def _hyp2f1_one(a: float, b: float, c: float, x: float) -> float:
    if not (np.isfinite(c) and np.isfinite(x) and c > a + b):
        return np.nan
    if c >= _SERIES_FROM:
        # The power series: for a, b <= 1 its terms fall at least like k! Gamma(c)/Gamma(c+k),
        # so a few dozen terms reach double precision even at x = 1.
        term = total = 1.0
        k = 0
        while abs(term) > 1e-17 * abs(total) and k < 10_000:
            term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * x
            total += term
            k += 1
        return total
    if x == 1:  # Gauss's theorem
        return float(
            np.exp(
                special.gammaln(c)
                + special.gammaln(c - a - b)
                - special.gammaln(c - a)
                - special.gammaln(c - b)
            )
        )
    # Euler's integral, 2F1 = B(b, c-b)^-1 int_0^1 t^(b-1) (1-t)^(c-b-1) (1-xt)^(-a) dt, with
    # QUADPACK's algebraic-weight rule for the endpoint factors.
    value, _ = integrate.quad(
        lambda t: (1 - x * t) ** (-a),
        0.0,
        1.0,
        weight="alg",
        wvar=(b - 1, c - b - 1),
        epsabs=0.0,
        epsrel=1e-13,
        limit=200,
    )
    return float(value * np.exp(-special.betaln(b, c - b)))


def _hyp2f1(a: float, b: float, c: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gauss hypergeometric 2F1 for ``0 <= x <= 1``, NaN unless ``c > a + b`` (metafor's
    ``.Fcalc``, which calls GSL).

    ``scipy.special.hyp2f1`` returns inf or NaN for large ``c`` with ``x`` near 1 (e.g.
    ``c = 570``, ``x = 0.9975``), so it is evaluated study by study: the power series for
    large ``c`` (``ni >= 52``), Euler's integral otherwise. Where metafor's GSL
    ``hyperg_2F1`` is accurate the two agree to about 1e-13; GSL is not accurate for
    ``x`` near 1 with small integer ``c - a - b`` (``ni`` from 6 to about 50 with
    ``|ri| < 0.1``: up to 1e-3 relative in ``yi``) nor for ``ni`` around 1e7, where this
    function follows the exact value (checked with mpmath and closed forms) instead.
    """
    c, x = np.broadcast_arrays(np.asarray(c, dtype=float), np.asarray(x, dtype=float))
    return np.array([_hyp2f1_one(a, b, ci, xi) for ci, xi in zip(c, x, strict=True)])


def correlations(
    measure: str, ri, ni, vtype: str, study: Sequence[str], collected: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Correlations ``ri`` from samples of size ``ni`` -> ``(yi, vi)``.

    Parameters
    ----------
    measure : {"COR", "UCOR", "ZCOR"}
    ri, ni : ndarray
    vtype : str
        ``"LS"``; ``"AV"`` (COR, UCOR: the size-weighted mean ``yi`` in the variance);
        ``"UB"`` (UCOR only: unbiased variance).
    study : sequence of str
    collected : list of str
        Receives a note when UCOR is undefined (``ni <= 4``).

    Returns
    -------
    yi, vi : ndarray

    Notes
    -----
    * COR: ``yi = ri``, LS ``vi = (1 - yi^2)^2 / (ni - 1)``.
    * UCOR (Olkin & Pratt 1958, doi:10.1214/aoms/1177706717):
      ``yi = ri 2F1(1/2, 1/2, (ni-2)/2, 1 - ri^2)``; UB
      ``vi = yi^2 - (1 - (ni-3)/(ni-2) (1 - ri^2) 2F1(1, 1, ni/2, 1 - ri^2))``.
    * ZCOR: ``yi = atanh(ri)``, ``vi = 1/(ni - 3)``.

    ``vi`` is undefined (NaN) for ``ni <= 3``, as in metafor.
    """
    allowed = CORRELATION_VTYPES[measure]
    if vtype not in allowed:
        raise ValueError(f"vtype for {measure} must be one of {allowed}, got {vtype!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "ZCOR":
            return np.arctanh(ri), 1 / (ni - 3)
        reject_columns({"ri": ri}, lambda r: np.abs(r) > 1, study, "correlation beyond -1..1")
        reject_columns({"ni": ni}, lambda n: n <= 0, study, "sample size <= 0")
        if measure == "COR":
            yi = ri
        else:
            yi = ri * _hyp2f1(0.5, 0.5, (ni - 2) / 2, 1 - ri**2)
            if np.any(ni <= 4):
                collected.append(
                    "The bias-corrected correlation (UCOR) needs more than 4 participants."
                )
        if vtype == "UB":
            vi = yi**2 - (1 - (ni - 3) / (ni - 2) * (1 - ri**2) * _hyp2f1(1, 1, ni / 2, 1 - ri**2))
        else:
            centre = weighted_mean(yi, ni) if vtype == "AV" else yi
            vi = (1 - centre**2) ** 2 / (ni - 1)
    # metafor leaves the variance undefined for ni <= 3 whatever the measure
    return yi, np.where(ni <= 3, np.nan, vi)
