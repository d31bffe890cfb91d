"""Mantel-Haenszel pooling of incidence rates: rate ratio (IRR) and rate difference (IRD),
metafor's ``rma.mh(x1i, t1i, x2i, t2i, measure = "IRR" / "IRD")``.

Per study: events ``x1i, x2i`` in person-times ``t1i, t2i`` (``T = t1 + t2``). With metafor's
defaults the pooled estimate uses the raw counts:

- IRR: ``R = sum x1 t2 / T``, ``S = sum x2 t1 / T``, ``log(R / S)`` with variance
  ``sum (t1/T)(t2/T)(x1 + x2) / (R S)`` (Greenland and Robins 1985), and the
  Mantel-Haenszel test ``(|sum x1 - (x1 + x2) t1/T| - 0.5)^2 / sum (x1 + x2)(t1/T)(t2/T)``.
  No events in one of the groups over all studies: not estimable (metafor's NA).
- IRD: ``sum (x1 t2 - x2 t1)/T / sum t1 t2 / T`` with variance
  ``sum (t1 t2 / T)^2 (x1/t1^2 + x2/t2^2) / (sum t1 t2 / T)^2``.

Heterogeneity (Q, I², H²) and the log-likelihoods come from the per-study ``escalc``
values (0.5 added to both counts of a study with a zero count, double-zero studies without
an estimate), around the pooled estimate, as in :mod:`igmeta.mantel_haenszel`.

References
----------
Greenland S, Robins JM (1985). Estimation of a common effect parameter from sparse
follow-up data. Biometrics 41:55-68. doi:10.2307/2530643
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from igmeta.effects import effect_sizes, study_labels
from igmeta.kernel import normalise_level
from igmeta.mantel_haenszel import _fsum, _heterogeneity, _logliks, _wald
from igmeta.results import MetaResult
from igmeta.warnings import DroppedStudiesWarning, SmallSampleWarning, warn

__all__ = ["meta_analysis_mh_rates"]


def _read(x1i, t1i, x2i, t2i, study, collected: list[str]):
    """The complete studies' counts and person-times, and their labels."""
    cols = [_numbers(v) for v in (x1i, t1i, x2i, t2i)]
    k = cols[0].shape[0]
    if k == 0 or any(c.shape != (k,) for c in cols):
        raise ValueError("x1i, t1i, x2i and t2i must be vectors of the same, non-zero length")
    names = np.asarray(study_labels(study, k), dtype=object)
    cells = np.vstack(cols)
    missing = ~np.isfinite(cells).all(axis=0)
    if missing.all():
        raise ValueError(
            "Every study has a missing or non-numeric count or person-time: nothing to pool."
        )
    if missing.any():
        warn(
            DroppedStudiesWarning,
            "Left out (missing or non-numeric counts or person-times): "
            + ", ".join(names[missing])
            + ".",
            collected,
        )
    cells, names = cells[:, ~missing], names[~missing]
    bad = (cells[[0, 2]] < 0).any(axis=0) | (cells[[1, 3]] <= 0).any(axis=0)
    if bad.any():
        raise ValueError(
            "Negative event counts or person-times that are not positive in: "
            + ", ".join(names[bad])
            + "."
        )
    return (*cells, tuple(names))


def _numbers(values) -> np.ndarray:
    """Numbers from any column-like input; text that is not a number becomes NaN."""
    cells = pd.Series(list(np.ravel(np.asarray(values, dtype=object))), dtype=object)
    return pd.to_numeric(cells, errors="coerce").to_numpy(dtype=float)


def meta_analysis_mh_rates(
    measure: str,
    *,
    x1i,
    t1i,
    x2i,
    t2i,
    study: Sequence[str] | None = None,
    level: float = 0.95,
    add: float = 0.5,
    correct: bool = True,
) -> MetaResult:
    """Mantel-Haenszel common-effect meta-analysis of incidence rates (``rma.mh``).

    Parameters
    ----------
    measure : {"IRR", "IRD"}
        Incidence rate ratio (pooled on the log scale) or rate difference.
    x1i, x2i : array_like
        Events in group 1 and group 2.
    t1i, t2i : array_like
        Person-times of group 1 and group 2 (positive).
    study : sequence of str, optional
        Study labels.
    level : float
        Confidence level (0.95 or 95).
    add : float
        Added to both counts of a study with a zero count for its per-study estimate (the
        heterogeneity statistics); the pooled estimate uses the raw counts.
    correct : bool
        Continuity correction (0.5) of the Mantel-Haenszel test (IRR).

    Returns
    -------
    MetaResult
        ``method="MH"``, ``tau2=0``; ``weights`` are the Mantel-Haenszel weights in percent
        (``x2 t1 / T`` for IRR, ``t1 t2 / T`` for IRD); ``extra`` holds metafor's ``k.yi``,
        ``MH`` and ``MHp`` (IRR; None for IRD or without events).

    Raises
    ------
    ValueError
        For an unknown measure, vectors of different lengths, negative counts, person-times
        that are not positive, or no complete study.

    Warns
    -----
    DroppedStudiesWarning
        Studies with a missing count or person-time are left out, named (metafor omits
        them with a warning).
    """
    measure = str(measure).upper()
    if measure not in ("IRR", "IRD"):
        raise ValueError(f"measure must be 'IRR' or 'IRD', got {measure!r}")
    level = normalise_level(level)
    collected: list[str] = []
    x1, t1, x2, t2, labels = _read(x1i, t1i, x2i, t2i, study, collected)
    T = t1 + t2
    nan = float("nan")
    extra: dict = {"MH": None, "MHp": None}
    if measure == "IRR":
        R, S = _fsum(x1 * t2 / T), _fsum(x2 * t1 / T)
        weights = x2 * t1 / T
        if _fsum(x1) == 0 or _fsum(x2) == 0:
            beta = se = nan
            warn(
                SmallSampleWarning,
                "No events in one of the groups in any study: the pooled rate ratio "
                "cannot be estimated (metafor gives NA).",
                collected,
            )
        else:
            beta = float(np.log(R / S))
            se = float(np.sqrt(_fsum((t1 / T) * (t2 / T) * (x1 + x2)) / (R * S)))
        xt = x1 + x2
        if _fsum(xt) != 0:
            mh = (abs(_fsum(x1 - xt * t1 / T)) - (0.5 if correct else 0.0)) ** 2 / _fsum(
                xt * (t1 / T) * (t2 / T)
            )
            extra.update(MH=float(mh), MHp=float(stats.chi2.sf(mh, 1)))
    else:
        weights = t1 * t2 / T
        W = _fsum(weights)
        beta = _fsum((x1 * t2 - x2 * t1) / T) / W
        se = float(np.sqrt(_fsum(weights**2 * (x1 / t1**2 + x2 / t2**2)))) / W
    zval, pval, lo, hi = _wald(beta, se, level)
    with warnings.catch_warnings(record=True) as caught:  # kept in the result's warnings
        warnings.simplefilter("always")
        es = effect_sizes(
            measure,
            x1i=x1,
            t1i=t1,
            x2i=x2,
            t2i=t2,
            study=labels,
            add=add,
            to="only0",
            drop00=True,
        )
    collected += [str(w.message) for w in caught]
    yi, vi = np.asarray(es.yi, float), np.asarray(es.vi, float)
    het = _heterogeneity(yi, vi, beta)
    ok = np.isfinite(yi)
    rss = _fsum((yi[ok] - beta) ** 2 / vi[ok]) if ok.any() else nan
    ll_ml, ll_reml = _logliks(yi, vi, rss)
    total = _fsum(weights)
    extra["k.yi"] = het["k_yi"]
    return MetaResult(
        measure=measure,
        method="MH",
        test="z",
        level=level,
        k=len(labels),
        estimate=beta,
        se=se,
        statistic=zval,
        pval=pval,
        ci_lower=lo,
        ci_upper=hi,
        pi_lower=nan,
        pi_upper=nan,
        ddf=nan,
        tau2=0.0,
        se_tau2=nan,
        q=het["q"],
        q_df=float(max(het["k_yi"] - 1, 0)),
        q_pval=het["q_pval"],
        i2=het["i2"],
        h2=het["h2"],
        vt=nan,
        s2w=1.0,
        weights=weights / total * 100 if total > 0 else weights,
        loglik_ml=ll_ml,
        loglik_reml=ll_reml,
        yi=yi,
        vi=vi,
        study=labels,
        dropped=tuple(np.asarray(labels, dtype=object)[~ok]),
        transform="exp" if measure == "IRR" else "none",
        transform_ni=None,
        converged=True,
        iterations=0,
        control={},
        warnings=tuple(dict.fromkeys(collected)),
        effects=es,
        extra=extra,
    )
