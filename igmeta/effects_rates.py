"""Effect sizes from event counts and person-time: IR, IRLN (one group), IRR, IRD, IRSD.

Formulas and zero handling follow metafor 3.8-1 ``escalc``: ``add`` (default 0.5, but 0 for
IRSD) is added to the event counts of the studies chosen by ``to`` (default ``"only0"``:
studies with a zero count); ``drop00`` (two groups only) sets studies with no events in
either group to NaN. Person-time is never corrected. Negative counts and person-times
<= 0 raise ``ValueError`` naming the studies, where metafor stops.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from igmeta.effects_inputs import correction_mask, reject_columns

__all__ = ["RATE_MEASURES", "RATE_PAIR_MEASURES", "one_group_rates", "two_group_rates"]

RATE_MEASURES = ("IR", "IRLN")
RATE_PAIR_MEASURES = ("IRR", "IRD", "IRSD")


def _corrected(counts: tuple[np.ndarray, ...], has_zero, add: float, to: str):
    total = sum(counts)
    corrected = correction_mask(has_zero, to) & (add != 0) & ~np.isnan(total)
    return tuple(np.where(corrected, x + add, x) for x in counts), corrected


def one_group_rates(
    measure: str, xi, ti, add: float, to: str, study: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events ``xi`` in person-time ``ti`` -> ``(yi, vi, corrected)`` for IR or IRLN.

    Notes
    -----
    With ``ir = xi/ti`` after correction: IR ``yi = ir``, ``vi = ir/ti``;
    IRLN ``yi = log(ir)``, ``vi = 1/xi``.
    """
    reject_columns({"xi": xi}, lambda x: x < 0, study, "negative event count")
    reject_columns({"ti": ti}, lambda t: t <= 0, study, "person-time <= 0")
    (xi,), corrected = _corrected((xi,), xi == 0, add, to)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = xi / ti
        if measure == "IR":
            yi, vi = rate, rate / ti
        else:
            yi, vi = np.log(rate), 1 / xi
    return yi, vi, corrected


def two_group_rates(
    measure: str,
    x1i,
    t1i,
    x2i,
    t2i,
    add: float,
    to: str,
    drop00: bool,
    study: Sequence[str],
    collected: list[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Events and person-time of two groups -> ``(yi, vi, corrected)`` for IRR, IRD or IRSD.

    Parameters
    ----------
    measure : {"IRR", "IRD", "IRSD"}
    x1i, t1i, x2i, t2i : ndarray
        Events and person-time of groups 1 and 2.
    add, to, drop00
        metafor's zero handling (see the module docstring).
    study : sequence of str
    collected : list of str
        Receives a note when ``drop00`` leaves studies out.

    Returns
    -------
    yi, vi : ndarray
    corrected : ndarray of bool

    Notes
    -----
    With ``ir1 = x1/t1``, ``ir2 = x2/t2`` after correction:

    * IRR: ``yi = log(ir1) - log(ir2)``, ``vi = 1/x1 + 1/x2``
    * IRD: ``yi = ir1 - ir2``, ``vi = ir1/t1 + ir2/t2``
    * IRSD: ``yi = sqrt(ir1) - sqrt(ir2)``, ``vi = 1/(4 t1) + 1/(4 t2)``
    """
    reject_columns({"x1i": x1i, "x2i": x2i}, lambda x: x < 0, study, "negative event count")
    reject_columns({"t1i": t1i, "t2i": t2i}, lambda t: t <= 0, study, "person-time <= 0")
    no_events = (x1i == 0) & (x2i == 0)
    if drop00 and no_events.any():
        x1i, x2i = np.where(no_events, np.nan, x1i), np.where(no_events, np.nan, x2i)
        count = int(no_events.sum())
        collected.append(
            f"{count} stud{'y' if count == 1 else 'ies'} with no events in either group"
            " left out (drop00)."
        )
    (x1i, x2i), corrected = _corrected((x1i, x2i), (x1i == 0) | (x2i == 0), add, to)
    with np.errstate(divide="ignore", invalid="ignore"):
        ir1, ir2 = x1i / t1i, x2i / t2i
        if measure == "IRR":
            yi, vi = np.log(ir1) - np.log(ir2), 1 / x1i + 1 / x2i
        elif measure == "IRD":
            yi, vi = ir1 - ir2, ir1 / t1i + ir2 / t2i
        else:
            yi, vi = np.sqrt(ir1) - np.sqrt(ir2), 1 / (4 * t1i) + 1 / (4 * t2i)
    return yi, vi, corrected
