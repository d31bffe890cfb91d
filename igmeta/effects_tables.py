"""2x2-table measures beyond RR/OR/RD: AS (arcsine risk difference), PHI and YUQ.

Called by :mod:`igmeta.effects` after its zero-cell handling (``add``, ``to``, ``drop00``);
metafor 3.8-1 defaults ``add`` to 0 for AS and PHI, 0.5 for YUQ.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PHI_VTYPES", "TABLE_MEASURES", "table_effect"]

TABLE_MEASURES = ("AS", "PHI", "YUQ")
#: Variance types for PHI ("CS" is the same formula as "LS" in metafor).
PHI_VTYPES = ("LS", "ST", "CS")


def table_effect(measure: str, ai, bi, ci, di, vtype: str = "LS") -> tuple[np.ndarray, np.ndarray]:
    """Corrected 2x2 cells -> ``(yi, vi)`` for AS, PHI or YUQ.

    Notes
    -----
    With ``p1 = ai/n1``, ``p2 = ci/n2``:

    * AS (Rücker et al. 2009, doi:10.1002/sim.3609): ``yi = asin(sqrt(p1)) - asin(sqrt(p2))``,
      ``vi = 1/(4 n1) + 1/(4 n2)``.
    * PHI: ``yi = (ai di - bi ci) / sqrt(n1 n2 (ai+ci)(bi+di))``; LS/CS is the large-sample
      variance (Yule 1912), ST the stratified-sampling one (metafor's formulas).
    * YUQ: ``yi = (OR - 1)/(OR + 1)``, ``vi = (1 - yi^2)^2 (1/ai + 1/bi + 1/ci + 1/di) / 4``.
    """
    n1, n2 = ai + bi, ci + di
    p1, p2 = ai / n1, ci / n2
    if measure == "AS":
        return np.arcsin(np.sqrt(p1)) - np.arcsin(np.sqrt(p2)), 1 / (4 * n1) + 1 / (4 * n2)
    if measure == "YUQ":
        odds_ratio = (ai / bi) / (ci / di)
        yi = (odds_ratio - 1) / (odds_ratio + 1)
        return yi, 0.25 * (1 - yi**2) ** 2 * (1 / ai + 1 / bi + 1 / ci + 1 / di)
    if vtype not in PHI_VTYPES:
        raise ValueError(f"vtype for PHI must be one of {PHI_VTYPES}, got {vtype!r}")
    n = n1 + n2
    yi = (ai * di - bi * ci) / np.sqrt(n1 * n2 * (ai + ci) * (bi + di))
    if vtype == "ST":
        q1, q2 = 1 - p1, 1 - p2
        mix = p2 * q1 + p1 * q2
        vi = (
            n**2
            * (
                4 * n1**3 * p1**2 * p2 * q1**2 * q2
                + 4 * n2**3 * p1 * p2**2 * q1 * q2**2
                + n1 * n2**2 * p2 * q2 * mix * (p2 * q1 + p1 * (4 * q1 + q2))
                + n1**2 * n2 * p1 * q1 * mix * (p1 * q2 + p2 * (q1 + 4 * q2))
            )
            / (4 * (ai + ci) ** 3 * (bi + di) ** 3)
        )
        return yi, vi
    r1, r2 = n1 / n, n2 / n
    c1, c2 = (ai + ci) / n, (bi + di) / n
    vi = (
        1
        / n
        * (
            1
            - yi**2
            + yi * (1 + 0.5 * yi**2) * (r1 - r2) * (c1 - c2) / np.sqrt(r1 * r2 * c1 * c2)
            - 0.75 * yi**2 * ((r1 - r2) ** 2 / (r1 * r2) + (c1 - c2) ** 2 / (c1 * c2))
        )
    )
    return yi, vi
