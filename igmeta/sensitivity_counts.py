"""Leave-one-out and cumulative refits of Mantel-Haenszel and Peto models.

metafor's ``leave1out`` and ``cumul`` methods for ``rma.mh`` and ``rma.peto`` refit the
model on subsets of the 2x2 tables with the original settings (measure, continuity
correction, ``drop00``, level); a refit that fails gives a row of NA. The pooled
estimates of these methods are sums over tables, not inverse-variance weighted least
squares, so they do not go through the batched kernel: each subset is one call of
:func:`igmeta.mantel_haenszel.meta_analysis_mh` or ``meta_analysis_peto`` (k is small:
the counts of one trial per row).
"""

from __future__ import annotations

import warnings

import numpy as np

from igmeta.mantel_haenszel import meta_analysis_mh, meta_analysis_peto
from igmeta.results import MetaResult

__all__ = ["COUNT_METHODS", "refit_counts"]

#: Pooling methods whose refits go through this module.
COUNT_METHODS = ("MH", "PETO")

_FIELDS = ("estimate", "se", "statistic", "pval", "ci_lower", "ci_upper", "q", "q_pval")
_HETEROGENEITY = ("i2", "h2")


def _refit_function(res: MetaResult):
    data = res.effects.data
    common = {
        "zero_cells": res.extra["zero_cells"],
        "level": res.level,
        "add": res.effects.add,
    }
    if res.method == "MH":

        def refit(keep: np.ndarray) -> MetaResult:
            return meta_analysis_mh(
                res.measure,
                ai=data["ai"][keep],
                bi=data["bi"][keep],
                ci=data["ci"][keep],
                di=data["di"][keep],
                study=[res.study[i] for i in np.flatnonzero(keep)],
                drop00=res.effects.drop00,
                **common,
            )

        return refit

    def refit(keep: np.ndarray) -> MetaResult:
        return meta_analysis_peto(
            ai=data["ai"][keep],
            bi=data["bi"][keep],
            ci=data["ci"][keep],
            di=data["di"][keep],
            study=[res.study[i] for i in np.flatnonzero(keep)],
            **common,
        )

    return refit


def refit_counts(res: MetaResult, mask: np.ndarray) -> dict[str, np.ndarray]:
    """Refit a Mantel-Haenszel or Peto model on subsets of its tables.

    Parameters
    ----------
    res : MetaResult
        A result of :func:`~igmeta.mantel_haenszel.meta_analysis_mh` or
        :func:`~igmeta.mantel_haenszel.meta_analysis_peto`.
    mask : ndarray of bool, shape (B, k)
        Row b selects the tables (in the order of ``res.study``) of refit b.

    Returns
    -------
    dict of ndarray
        ``estimate``, ``se``, ``statistic`` (z), ``pval``, ``ci_lower``, ``ci_upper``,
        ``q``, ``q_pval``, ``i2``, ``h2`` (analysis scale) and ``k`` (tables pooled) per
        refit; ``tau2``, ``pi_lower`` and ``pi_upper`` are NaN (common-effect models).
        A refit that cannot be computed (e.g. no table with events left) is a row of NaN
        with k = 0, as metafor gives NA. Warnings of the refits are not repeated (the
        full model's warnings stand for them, as in metafor).
    """
    mask = np.asarray(mask, dtype=bool)
    n = mask.shape[0]
    out = {name: np.full(n, np.nan) for name in (*_FIELDS, *_HETEROGENEITY)}
    out.update(tau2=np.full(n, np.nan), pi_lower=np.full(n, np.nan), pi_upper=np.full(n, np.nan))
    out["k"] = np.zeros(n, dtype=int)
    refit = _refit_function(res)
    for b in range(n):
        if not mask[b].any():
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                fit = refit(mask[b])
            except ValueError:
                continue
        for name in _FIELDS:
            out[name][b] = getattr(fit, name)
        out["i2"][b], out["h2"][b] = fit.i2, fit.h2
        out["k"][b] = fit.k
    return out
