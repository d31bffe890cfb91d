"""Checks and zero-cell corrections shared by the effect-size families of :mod:`igmeta.effects`.

metafor's ``escalc`` stops on impossible inputs (negative counts or SDs, non-positive sizes
or person-times, correlations beyond +-1); here such studies raise a ``ValueError`` that
names them, so the caller can point at the row instead of failing later.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["CORRECTION_TARGETS", "correction_mask", "reject", "reject_columns", "weighted_mean"]

CORRECTION_TARGETS = ("only0", "all", "if0all", "none")


def correction_mask(has_zero: np.ndarray, to: str) -> np.ndarray:
    """Which studies get the continuity correction ``add``, following metafor's ``to``.

    Parameters
    ----------
    has_zero : ndarray of bool
        Studies with a zero cell (or zero event count).
    to : {"only0", "all", "if0all", "none"}
        Studies with a zero, all, all if any study has a zero, or none.

    Returns
    -------
    ndarray of bool
    """
    if to not in CORRECTION_TARGETS:
        raise ValueError(f"to must be one of {CORRECTION_TARGETS}, got {to!r}")
    if to == "all":
        return np.ones_like(has_zero)
    if to == "only0":
        return has_zero.copy()
    if to == "if0all":
        return np.full_like(has_zero, bool(has_zero.any()))
    return np.zeros_like(has_zero)


def reject(bad: np.ndarray, study: Sequence[str], problem: str) -> None:
    """Raise ``ValueError`` naming the studies where ``bad`` is True (NaN inputs never are).

    Parameters
    ----------
    bad : ndarray of bool
        Studies with an impossible input.
    study : sequence of str
        Study labels.
    problem : str
        What is wrong, e.g. ``"negative standard deviation (sd1i or sd2i)"``.
    """
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        names = ", ".join(str(study[int(i)]) for i in np.flatnonzero(bad))
        raise ValueError(f"Impossible input, {problem}: {names}.")


def reject_columns(columns: dict[str, np.ndarray], bad, study: Sequence[str], problem: str) -> None:
    """:func:`reject` for each named column: ``bad(values)`` marks its impossible entries,
    and the message names the column, e.g. ``"negative event count (x2i)"``."""
    for name, values in columns.items():
        reject(bad(values), study, f"{problem} ({name})")


def weighted_mean(x: np.ndarray, w: np.ndarray) -> float:
    """``sum(w x) / sum(w)`` over studies where neither is NaN (metafor's ``.wmean``)."""
    keep = ~(np.isnan(x) | np.isnan(w))
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(x[keep] * w[keep]) / np.sum(w[keep]))
