"""Effect sizes from means: MD, SMD, SMDH, ROM (two groups) and SMCR (pre-post change).

Formulas follow metafor 3.8-1 ``escalc`` (Viechtbauer 2010, doi:10.18637/jss.v036.i03);
the ``vtype`` options are metafor's. Impossible inputs (negative SDs, sizes <= 0,
correlations beyond +-1) raise ``ValueError`` naming the studies, where metafor stops.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import special

from igmeta.effects_inputs import reject_columns, weighted_mean

__all__ = ["CHANGE_MEASURES", "MEANS_MEASURES", "VTYPES", "mean_change", "two_group_means"]

MEANS_MEASURES = ("MD", "SMD", "SMDH", "ROM")
CHANGE_MEASURES = ("SMCR",)
#: The variance types each measure accepts (the first is metafor's default, "LS").
VTYPES = {
    "MD": ("LS", "UB", "HO"),
    "SMD": ("LS", "UB", "LS2", "AV"),
    "SMDH": ("LS", "LS2"),
    "ROM": ("LS", "HO", "AV", "AVHO"),
    "SMCR": ("LS", "LS2"),
}


def check_vtype(measure: str, vtype: str) -> None:
    """Raise ``ValueError`` unless ``vtype`` is one metafor accepts for ``measure``."""
    allowed = VTYPES[measure]
    if vtype not in allowed:
        raise ValueError(f"vtype for {measure} must be one of {allowed}, got {vtype!r}")


def hedges_correction(m: np.ndarray) -> np.ndarray:
    """Exact small-sample correction ``c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``.

    NaN for ``m <= 1``, where it is undefined (metafor's ``.cmicalc``).
    """
    m = np.asarray(m, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.exp(special.gammaln(m / 2) - 0.5 * np.log(m / 2) - special.gammaln((m - 1) / 2))
    return np.where(m > 1, c, np.nan)


def two_group_means(
    measure: str, m1i, sd1i, n1i, m2i, sd2i, n2i, vtype: str, study: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Means, SDs and sizes of two groups -> ``(yi, vi)`` for MD, SMD, SMDH or ROM.

    Parameters
    ----------
    measure : {"MD", "SMD", "SMDH", "ROM"}
    m1i, sd1i, n1i, m2i, sd2i, n2i : ndarray
        Means, standard deviations and sizes of groups 1 and 2.
    vtype : str
        Variance type, see :data:`VTYPES`.
    study : sequence of str
        Labels, to name studies with impossible inputs.

    Returns
    -------
    yi, vi : ndarray

    Notes
    -----
    With ``m = n1 + n2 - 2``, pooled SD ``sp`` and ``c(m)`` from :func:`hedges_correction`:

    * MD: ``yi = m1 - m2``; LS/UB ``vi = sd1^2/n1 + sd2^2/n2``; HO ``vi = sp^2 (1/n1 + 1/n2)``.
    * SMD: ``yi = c(m) (m1 - m2)/sp``; LS ``vi = 1/n1 + 1/n2 + yi^2/(2(n1+n2))``;
      UB ``vi = 1/n1 + 1/n2 + (1 - (m-2)/(m c(m)^2)) yi^2``; LS2 ``c(m)^2 (1/n1 + 1/n2 +
      d^2/(2(n1+n2)))``; AV uses the size-weighted mean of ``yi`` in place of ``yi``.
    * SMDH (Bonett 2009, doi:10.1037/a0016619): ``s = sqrt((sd1^2 + sd2^2)/2)``,
      ``yi = c(m) (m1 - m2)/s``; LS ``vi = c(m)^2 [yi^2 (sd1^4/(n1-1) + sd2^4/(n2-1)) /
      (2 (sd1^2+sd2^2)^2) + (sd1^2/(n1-1) + sd2^2/(n2-1)) / s^2]``.
    * ROM (Hedges, Gurevitch & Curtis 1999, doi:10.1890/0012-9658(1999)080[1150:TMAORR]2.0.CO;2):
      ``yi = log(m1/m2)``; LS ``vi = sd1^2/(n1 m1^2) + sd2^2/(n2 m2^2)``; HO uses ``sp``;
      AV/AVHO use size-weighted mean coefficients of variation.
    """
    check_vtype(measure, vtype)
    reject_columns({"sd1i": sd1i, "sd2i": sd2i}, lambda sd: sd < 0, study, "negative SD")
    reject_columns({"n1i": n1i, "n2i": n2i}, lambda n: n <= 0, study, "group size <= 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        m = n1i + n2i - 2
        sp = np.sqrt(((n1i - 1) * sd1i**2 + (n2i - 1) * sd2i**2) / m)
        if measure == "MD":
            yi = m1i - m2i
            vi = sp**2 * (1 / n1i + 1 / n2i) if vtype == "HO" else sd1i**2 / n1i + sd2i**2 / n2i
        elif measure == "SMD":
            yi, vi = _smd(m1i, m2i, n1i, n2i, sp, m, vtype)
        elif measure == "SMDH":
            c = hedges_correction(m)
            s2 = sd1i**2 + sd2i**2
            yi = c * (m1i - m2i) / np.sqrt(s2 / 2)
            if vtype == "LS":
                core = yi**2 * (sd1i**4 / (n1i - 1) + sd2i**4 / (n2i - 1)) / (2 * s2**2)
                vi = c**2 * (core + (sd1i**2 / (n1i - 1) + sd2i**2 / (n2i - 1)) / (s2 / 2))
            else:
                vi = (
                    yi**2 * (sd1i**2 / n1i + sd2i**2 / n2i) / (2 * s2**2)
                    + 2 * (sd1i**2 / n1i + sd2i**2 / n2i) / s2
                )
        elif measure == "ROM":
            yi = np.log(m1i / m2i)
            vi = _rom_variance(m1i, sd1i, n1i, m2i, sd2i, n2i, sp, vtype)
        else:  # pragma: no cover - guarded by the caller
            raise ValueError(measure)
    return yi, vi


def _smd(m1i, m2i, n1i, n2i, sp, m, vtype):
    c = hedges_correction(m)
    d = (m1i - m2i) / sp
    yi = c * d
    base = 1 / n1i + 1 / n2i
    if vtype == "UB":
        return yi, base + (1 - (m - 2) / (m * c**2)) * yi**2
    if vtype == "LS2":
        return yi, c**2 * (base + d**2 / (2 * (n1i + n2i)))
    centre = weighted_mean(yi, n1i + n2i) if vtype == "AV" else yi
    return yi, base + centre**2 / (2 * (n1i + n2i))


def _rom_variance(m1i, sd1i, n1i, m2i, sd2i, n2i, sp, vtype):
    cv1, cv2 = sd1i / m1i, sd2i / m2i
    if vtype == "LS":
        return cv1**2 / n1i + cv2**2 / n2i
    if vtype == "HO":
        return sp**2 / (n1i * m1i**2) + sp**2 / (n2i * m2i**2)
    if vtype == "AV":
        return weighted_mean(cv1, n1i) ** 2 / n1i + weighted_mean(cv2, n2i) ** 2 / n2i
    keep = ~(np.isnan(n1i) | np.isnan(n2i) | np.isnan(cv1) | np.isnan(cv2))
    pooled_cv = np.sum((n1i * cv1 + n2i * cv2)[keep]) / np.sum((n1i + n2i)[keep])
    return pooled_cv**2 * (1 / n1i + 1 / n2i)


def mean_change(
    measure: str, m1i, m2i, sd1i, ni, ri, vtype: str, study: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Pre-post means of one group -> ``(yi, vi)`` for SMCR (raw-score standardisation).

    Parameters
    ----------
    measure : {"SMCR"}
    m1i, m2i : ndarray
        Means at the two time points (metafor: ``yi`` estimates ``(m1 - m2)/sd1``).
    sd1i : ndarray
        Standard deviation at the first time point (the standardiser).
    ni : ndarray
        Group size.
    ri : ndarray
        Correlation between the two time points.
    vtype : {"LS", "LS2"}
    study : sequence of str

    Returns
    -------
    yi, vi : ndarray

    Notes
    -----
    Becker (1988, doi:10.1111/j.2044-8317.1988.tb00901.x); with ``m = ni - 1``:
    ``yi = c(m) (m1 - m2)/sd1``, LS ``vi = 2(1 - ri)/ni + yi^2/(2 ni)``,
    LS2 ``vi = c(m)^2 (2(1 - ri)/ni + d^2/(2 ni))``.
    """
    check_vtype(measure, vtype)
    reject_columns({"sd1i": sd1i}, lambda sd: sd < 0, study, "negative SD")
    reject_columns({"ri": ri}, lambda r: np.abs(r) > 1, study, "correlation beyond -1..1")
    reject_columns({"ni": ni}, lambda n: n <= 0, study, "sample size <= 0")
    with np.errstate(divide="ignore", invalid="ignore"):
        c = hedges_correction(ni - 1)
        d = (m1i - m2i) / sd1i
        yi = c * d
        if vtype == "LS":
            vi = 2 * (1 - ri) / ni + yi**2 / (2 * ni)
        else:
            vi = c**2 * (2 * (1 - ri) / ni + d**2 / (2 * ni))
    return yi, vi
