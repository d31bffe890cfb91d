"""Mantel-Haenszel and Peto pooling of 2x2 tables (metafor's ``rma.mh`` and ``rma.peto``).

Both methods pool the tables directly instead of pooling per-study effect sizes, so they
stay valid when events are rare. The per-study effect sizes are still computed (with
metafor's first-element settings: ``add`` to every cell of a table with a zero cell,
double-zero tables dropped) for display and for the heterogeneity statistics.

Two zero-cell conventions are offered (``zero_cells``):

``"metafor"`` (default)
    metafor 3.8-1's ``rma.mh``/``rma.peto`` defaults: ``add = c(1/2, 0)``,
    ``to = c("only0", "none")``, ``drop00 = c(TRUE, FALSE)``. The pooled estimate uses
    the raw counts of every table with no correction; double-zero tables stay in the
    sums (they add nothing to the MH odds ratio, but do enter the MH risk-difference
    weights, and an "all events in both groups" table does enter the MH risk ratio).

``"revman"``
    RevMan 5's convention, documented in the Cochrane Handbook 5.1, section 9.4.4 ("The
    RevMan software automatically adds 0.5 to each cell of the 2x2 table for any such
    study", i.e. any study with a zero cell) and section 16.9.3 (studies with no events
    in both arms are excluded from meta-analyses of odds ratios and risk ratios, but are
    included for risk differences, whose value 0 is defined). Here:

    * MH odds ratio and risk ratio: a table with no events in both groups, or with
      every participant having the event in both groups, is left out of the pooled
      estimate (RevMan shows it as "not estimable"); every remaining table with a zero
      cell gets ``add`` (0.5) added to all four cells *before* the MH sums.
    * MH risk difference: every table is kept; every table with a zero cell (double-zero
      tables included) gets ``add`` added to all four cells before the MH sums.
    * Peto: no correction anywhere (Peto's method needs none, and RevMan applies none);
      double-zero tables carry no information (their hypergeometric variance is 0) and
      are left out. The per-study Peto log odds ratios are computed from the raw counts.

    The MH formulas themselves (including metafor's Sato-Greenland-Robins variance of
    the MH risk difference) are the same in both conventions, so ``"revman"`` equals
    metafor's ``rma.mh`` run on the corrected tables with ``add=0, to="none"``.

    Known differences from RevMan 5 itself (not reproduced here): RevMan's MH risk
    difference uses the Greenland-Robins (1985) variance rather than Sato's, and (as R's
    ``meta`` package documents for its RevMan-compatible ``MH.exact=FALSE``) takes the
    point estimate from the uncorrected counts, so ``"revman"`` RD intervals can differ
    slightly from RevMan's. For the risk ratio, ``meta`` drops only tables without events
    in both groups, whereas here tables with every participant having the event in both
    groups are dropped as well (for both OR and RR).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from igmeta.effects import EffectSizes, labels_at, study_labels
from igmeta.formulas import h2_from_q, i2_from_q
from igmeta.kernel import normalise_level
from igmeta.results import MetaResult
from igmeta.warnings import (
    DroppedStudiesWarning,
    SmallSampleWarning,
    SparseDataWarning,
    warn,
)

__all__ = [
    "MH_MEASURES",
    "ZERO_CELL_CONVENTIONS",
    "meta_analysis_mh",
    "meta_analysis_peto",
]

#: Effect measures pooled by :func:`meta_analysis_mh`.
MH_MEASURES = ("OR", "RR", "RD")
#: Accepted values of ``zero_cells``.
ZERO_CELL_CONVENTIONS = ("metafor", "revman")

_MEASURE_NAMES = {
    "OR": "odds ratio",
    "RR": "risk ratio",
    "RD": "risk difference",
    "PETO": "Peto odds ratio",
}
_WEIGHT_DEFINITIONS = {
    "OR": "Mantel-Haenszel weights b*c/N (the terms of the denominator of the MH odds ratio)",
    "RR": "Mantel-Haenszel weights c*n1/N (the terms of the denominator of the MH risk ratio)",
    "RD": "Mantel-Haenszel weights n1*n2/N",
    "PETO": "Peto weights: the hypergeometric variances V = (a+c)(b+d) n1 n2 / (N^2 (N-1))",
}
_LOG_2PI = math.log(2 * math.pi)
_CMH_KEYS = ("CO", "COp", "MH", "MHp", "BD", "BDp", "TA", "TAp")


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True, slots=True)
class _Tables:
    """Validated 2x2 tables: events ``ai``/``ci`` and non-events ``bi``/``di``."""

    ai: np.ndarray
    bi: np.ndarray
    ci: np.ndarray
    di: np.ndarray
    study: tuple[str, ...]

    @property
    def k(self) -> int:
        return int(self.ai.shape[0])

    @property
    def double_zero(self) -> np.ndarray:
        """No events in both groups, or only events in both groups (metafor's drop00)."""
        return ((self.ai == 0) & (self.ci == 0)) | ((self.bi == 0) & (self.di == 0))

    @property
    def has_zero(self) -> np.ndarray:
        return (self.ai == 0) | (self.bi == 0) | (self.ci == 0) | (self.di == 0)

    def names(self, mask: np.ndarray) -> tuple[str, ...]:
        return labels_at(self.study, mask)


def _column(values, name: str) -> np.ndarray:
    try:
        series = pd.Series(np.asarray(values, dtype=object).ravel())
    except TypeError as exc:  # pragma: no cover - defensive
        raise ValueError(f"{name} must be a sequence of counts") from exc
    return np.asarray(pd.to_numeric(series, errors="coerce"), dtype=float)


def _list(names: Sequence[str]) -> str:
    return ", ".join(names)


def _read_tables(ai, n1i, ci, n2i, bi, di, study, collected: list[str]) -> _Tables:
    """Check the counts and return the complete 2x2 tables (ValueError on bad input).

    Tables with a missing or non-numeric count are left out with a
    :class:`~igmeta.warnings.DroppedStudiesWarning` naming them, as metafor omits tables
    with NAs ("Tables with NAs omitted from model fitting.").
    """
    if ai is None or ci is None:
        raise ValueError("give the events of both groups: ai (group 1) and ci (group 2)")
    a, c = _column(ai, "ai"), _column(ci, "ci")
    k = a.shape[0]
    if k == 0:
        raise ValueError("no tables given: nothing to pool")
    arms = {}
    for events, others, total, label, other_name in (
        (a, bi, n1i, "1", "bi"),
        (c, di, n2i, "2", "di"),
    ):
        if others is None and total is None:
            raise ValueError(
                f"give group {label}'s size (n{label}i) or its non-events ({other_name})"
            )
        tot = _column(total, f"n{label}i") if total is not None else None
        non = _column(others, other_name) if others is not None else None
        for arr in (tot, non):
            if arr is not None and arr.shape != events.shape:
                raise ValueError(
                    "ai, ci and the group sizes / non-events must have the same length"
                )
        if non is None:
            non = tot - events
        elif tot is not None:
            both = np.isfinite(tot) & np.isfinite(events + non)
            if not np.array_equal(tot[both], (events + non)[both]):
                raise ValueError(
                    f"group {label}: events plus non-events ({other_name}) do not add up to "
                    f"the group size n{label}i"
                )
        arms[label] = non
    b, d = arms["1"], arms["2"]
    labels = study_labels(study, k)
    names = np.asarray(labels, dtype=object)
    cells = np.vstack([a, b, c, d])
    missing = ~np.isfinite(cells).all(axis=0)
    if missing.all():
        raise ValueError(
            "Every study has a missing or non-numeric count (or a group size that is "
            "missing): nothing to pool. Complete the counts of: " + _list(names) + "."
        )
    if missing.any():
        warn(
            DroppedStudiesWarning,
            f"Left out (missing or non-numeric counts): {_list(names[missing])}.",
            collected,
        )
        cells, names = cells[:, ~missing], names[~missing]
        labels = tuple(names)
        a, b, c, d = cells
    negative = (cells < 0).any(axis=0)
    if negative.any():
        raise ValueError(
            "Negative counts (or more events than participants) in: " + _list(names[negative]) + "."
        )
    empty = ((a + b) == 0) | ((c + d) == 0)
    if empty.any():
        raise ValueError("A group has no participants in: " + _list(names[empty]) + ".")
    return _Tables(a, b, c, d, labels)


# --------------------------------------------------------------------------- helpers


def _fsum(values: np.ndarray) -> float:
    """Accurate sum (R sums doubles in extended precision; fsum is closer than pairwise)."""
    arr = np.asarray(values, dtype=float).ravel()
    if np.isfinite(arr).all():
        try:
            return math.fsum(arr.tolist())
        except OverflowError:  # e.g. counts near 1e308: R's sum overflows to Inf
            pass
    with np.errstate(over="ignore", invalid="ignore"):
        return float(np.sum(arr))  # Inf/NaN propagate as in R (fsum would raise)


def _study_effects(measure: str, t: _Tables, add: float, drop00: bool):
    """Per-study ``escalc`` values with ``to="only0"``: (yi, vi, corrected)."""
    a, b, c, d = (x.copy() for x in (t.ai, t.bi, t.ci, t.di))
    keep = ~t.double_zero if drop00 else np.ones(t.k, dtype=bool)
    corrected = t.has_zero & keep & (add != 0)
    if corrected.any():
        a, b, c, d = (np.where(corrected, x + add, x) for x in (a, b, c, d))
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = a / n1, c / n2
        if measure == "RR":
            yi = np.log(p1) - np.log(p2)
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
        elif measure == "OR":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RD":
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
        else:  # PETO
            xt, yt, n = a + c, b + d, n1 + n2
            e = xt * n1 / n
            v = xt * yt * (n1 / n) * (n2 / n) / (n - 1)
            yi = (a - e) / v
            vi = 1 / v
    ok = keep & np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    return np.where(ok, yi, np.nan), np.where(ok, vi, np.nan), corrected


def _heterogeneity(yi: np.ndarray, vi: np.ndarray, beta: float) -> dict:
    """metafor's rma.mh QE, QEp, I2, H2 and log-likelihoods around the pooled estimate."""
    ok = np.isfinite(yi)
    y, v = yi[ok], vi[ok]
    k_yi = int(ok.sum())
    w = 1 / v
    if k_yi > 1:
        q = _max0(_fsum(w * (y - beta) ** 2))
        df = k_yi - 1
        q_pval = float(stats.chi2.sf(q, df))
        i2 = float(i2_from_q(q, df))
        h2 = float(h2_from_q(q, df))
    else:
        q, q_pval, i2, h2 = 0.0, 1.0, 0.0, 1.0
    return {"k_yi": k_yi, "q": q, "q_pval": q_pval, "i2": i2, "h2": h2}


def _logliks(yi: np.ndarray, vi: np.ndarray, rss: float) -> tuple[float, float]:
    """metafor's ML and REML log-likelihoods of the per-study values (section 3)."""
    ok = np.isfinite(yi)
    v = vi[ok]
    k_yi = int(ok.sum())
    if k_yi < 1:
        return float("nan"), float("nan")
    sum_log_v = _fsum(np.log(v))
    ll_ml = -0.5 * k_yi * _LOG_2PI - 0.5 * sum_log_v - 0.5 * rss
    ll_reml = (
        -0.5 * (k_yi - 1) * _LOG_2PI
        + 0.5 * math.log(k_yi)
        - 0.5 * sum_log_v
        - 0.5 * float(np.log(_fsum(1 / v)))
        - 0.5 * rss
    )
    return ll_ml, ll_reml


def _wald(beta: float, se: float, level: float) -> tuple[float, float, float, float]:
    """z, p and CI as R computes them: NaN/Inf propagate (se = 0 gives z = beta/0)."""
    crit = stats.norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = float(np.float64(beta) / np.float64(se))
    pval = float(2 * stats.norm.sf(abs(zval)))
    return zval, pval, beta - crit * se, beta + crit * se


def _max0(value: float) -> float:
    """R's ``max(0, x)``: NaN (NA) stays NaN."""
    return value if np.isnan(value) else max(0.0, value)


def _log(value: float) -> float:
    """log without math's exceptions (log 0 = -Inf, as in R)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.log(np.float64(value)))


def _sqrt(value: float) -> float:
    """sqrt without math's exceptions (sqrt of a negative value is NaN, as in R)."""
    with np.errstate(invalid="ignore"):
        return float(np.sqrt(np.float64(value)))


def _ratio(num: float, den: float) -> float:
    """num / den with IEEE results (x/0 = +/-Inf, 0/0 = NaN), as in R."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return float(np.float64(num) / np.float64(den))


def _na(value: float) -> float | None:
    return None if value is None or not np.isfinite(value) else float(value)


def _no_tables_check(size: int, measure: str) -> None:
    """ValueError when no table is left to pool (RevMan leaves out every table)."""
    if size == 0:
        raise ValueError(
            "Every study has no events in both groups (or only events in both groups), so "
            f"no pooled {_MEASURE_NAMES[measure]} can be estimated: nothing to pool."
        )


def _not_estimable(reason: str) -> dict:
    """metafor's NA estimate (beta, se, z, p and CI all NA), with the reason in words."""
    nan = float("nan")
    return {"beta": nan, "se": nan, "not_estimable": reason}


# --------------------------------------------------------------------------- MH sums


def _mh_or(a, b, c, d, correct: bool) -> dict:
    """MH odds ratio with the Robins-Breslow-Greenland variance and metafor's tests.

    As in metafor, the estimate is NA (NaN here, with the reason under
    ``"not_estimable"``) when R = sum(a d / N) or S = sum(b c / N) is zero.
    """
    n = a + b + c + d
    n1, n2 = a + b, c + d
    p = a / n + d / n
    q = b / n + c / n
    r_i = (a / n) * d
    s_i = (b / n) * c
    r, s = _fsum(r_i), _fsum(s_i)
    xt, yt = a + c, b + d
    extra = dict.fromkeys(_CMH_KEYS)
    extra["k_pos"] = 0
    cc = 0.5 if correct else 0.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if _fsum(xt) != 0 and _fsum(yt) != 0:
            dev = abs(_fsum(a - (n1 / n) * xt)) - cc
            co = _ratio(dev**2, _fsum((n1 / n) * (n2 / n) * (xt * (yt / n))))
            mh = _ratio(dev**2, _fsum((n1 / n) * (n2 / n) * (xt * (yt / (n - 1)))))
            extra.update(
                CO=co, COp=float(stats.chi2.sf(co, 1)), MH=mh, MHp=float(stats.chi2.sf(mh, 1))
            )
    base = {"weights": s_i, "contrib": r_i + s_i, "tests": extra}
    if r == 0 or s == 0:
        if r == 0 and s == 0:
            why = (
                "no study has events in one group together with non-events in the other "
                "(for example, no events anywhere, or every participant with the event)"
            )
        else:
            side = "group 1" if r == 0 else "group 2"
            why = (
                f"it is {'0' if r == 0 else 'infinite'}: no study has both events in {side} "
                "and non-events in the other group"
            )
        return {
            **base,
            **_not_estimable(
                f"The Mantel-Haenszel odds ratio cannot be estimated from these counts: {why} "
                "(metafor gives NA). Peto's method or RevMan's zero-cell convention (0.5 "
                "added to tables with a zero cell) may give an estimate."
            ),
        }
    psi = _ratio(r, s)
    beta = _log(psi)
    se = _sqrt(
        0.5
        * (
            _ratio(_fsum(p * r_i), r**2)
            + _ratio(_fsum(p * s_i + q * r_i), r * s)
            + _ratio(_fsum(q * s_i), s**2)
        )
    )
    # Breslow-Day (and Tarone's correction): expected a under the common odds ratio psi.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if psi == 1:
            n11 = (n1 / n) * xt
        else:
            big_a = psi * (n1 + xt) + (n2 - xt)
            big_b = np.sqrt(big_a**2 - 4 * n1 * xt * psi * (psi - 1))
            n11 = (big_a - big_b) / (2 * (psi - 1))
        pos = (n11 > 0) & (xt > 0) & (yt > 0)
        k_pos = int(pos.sum())
        e11 = n11[pos]
        e12 = n1[pos] - e11
        e21 = xt[pos] - e11
        e22 = e11 - n1[pos] - xt[pos] + n[pos]
        inv = (1 / e11 + 1 / e12 + 1 / e21 + 1 / e22) ** (-1)
        resid = a[pos] - e11
        # Near-degenerate tables can make these Inf/NaN, as in metafor (reported as None).
        bd = np.maximum(0.0, np.float64(_fsum(resid**2 / inv)))
        ta = np.maximum(0.0, bd - np.float64(_fsum(resid)) ** 2 / np.float64(_fsum(inv)))
    extra.update(BD=float(bd), TA=float(ta), k_pos=k_pos)
    if k_pos > 1:
        extra.update(
            BDp=float(stats.chi2.sf(bd, k_pos - 1)) if np.isfinite(bd) else None,
            TAp=float(stats.chi2.sf(ta, k_pos - 1)) if np.isfinite(ta) else None,
        )
    return {**base, "beta": beta, "se": se}


def _mh_rr(a, b, c, d) -> dict:
    """MH risk ratio with the Greenland-Robins variance.

    NA (NaN, with the reason under ``"not_estimable"``) when group 1 or group 2 has no
    events in any table, as in metafor.
    """
    n = a + b + c + d
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r_i = a * (n2 / n)
        s_i = c * (n1 / n)
    base = {"weights": s_i, "contrib": r_i + s_i, "tests": {}}
    if _fsum(a) == 0 or _fsum(c) == 0:
        if _fsum(a) == 0 and _fsum(c) == 0:
            why = "no study has any events in either group"
        else:
            group = "1" if _fsum(a) == 0 else "2"
            why = (
                f"no study has any events in group {group}, so the risk ratio is "
                f"{'0' if group == '1' else 'infinite'}"
            )
        return {
            **base,
            **_not_estimable(
                f"The Mantel-Haenszel risk ratio cannot be estimated from these counts: {why} "
                "(metafor gives NA). A risk difference, or RevMan's zero-cell convention (0.5 "
                "added to tables with a zero cell), may give an estimate."
            ),
        }
    r, s = _fsum(r_i), _fsum(s_i)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        num = _fsum((n1 / n) * (n2 / n) * (a + c) - (a / n) * c)
    return {**base, "beta": _log(_ratio(r, s)), "se": _sqrt(_ratio(num, r * s))}


def _mh_rd(a, b, c, d) -> dict:
    """MH risk difference with the Sato-Greenland-Robins variance (as in metafor).

    Always computed, as in metafor: with no events anywhere (or every participant having
    the event) the estimate is 0 with a standard error of 0.
    """
    n = a + b + c + d
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = n1 * (n2 / n)
        sum_w = _fsum(w)
        beta = _ratio(_fsum(a * (n2 / n) - c * (n1 / n)), sum_w)
        var = _ratio(
            beta
            * _fsum(c * (n1 / n) ** 2 - a * (n2 / n) ** 2 + (n1 / n) * (n2 / n) * (n2 - n1) / 2)
            + _fsum(a * (n2 - c) / n + c * (n1 - a) / n) / 2,
            sum_w**2,
        )
    return {"beta": beta, "se": _sqrt(var), "weights": w, "contrib": w, "tests": {}}


# --------------------------------------------------------------------------- results


def _check_convention(zero_cells: str) -> str:
    conv = str(zero_cells).lower()
    if conv not in ZERO_CELL_CONVENTIONS:
        raise ValueError(f"zero_cells must be one of {ZERO_CELL_CONVENTIONS}, got {zero_cells!r}")
    return conv


def _check_add(add: float) -> float:
    add = float(add)
    if not (np.isfinite(add) and add >= 0):
        raise ValueError(f"add must be a non-negative number, got {add}")
    return add


def _estimability(pooled: dict, name: str, level: float, collected: list[str]) -> str | None:
    """Explain an NA estimate or a standard error of 0 (metafor returns both without a word).

    Returns the reason when the estimate or its confidence interval is undefined (None
    otherwise); a front end shows it instead of the missing numbers.
    """
    reason = pooled.get("not_estimable")
    beta, se = pooled["beta"], pooled["se"]
    if reason is None and se == 0:
        warn(
            SparseDataWarning,
            f"The pooled {name} has a standard error of 0 (metafor's variance formula gives "
            "0 because every group of every table has either no events or only events), so "
            "its confidence interval has width 0 and no z-test or p-value can be given.",
            collected,
        )
        return None
    if reason is None:
        _, _, lo, hi = _wald(beta, se, level)
        if np.isfinite([beta, se, lo, hi]).all():
            return None
        reason = (
            f"The pooled {name} or its standard error cannot be computed from these counts "
            "(numerically extreme or degenerate values). Check the flagged rows."
        )
    warn(SparseDataWarning, reason, collected)
    return reason


def _double_zero_warning(
    t: _Tables,
    in_sums: np.ndarray,
    contrib: np.ndarray,
    yi: np.ndarray,
    name: str,
    collected: list[str],
) -> None:
    """Explain what happened to double-zero tables (no or only events in both groups)."""
    dz = t.double_zero
    if not dz.any():
        return
    no_estimate = ~np.isfinite(yi)
    groups = {
        f"left out of the pooled {name}": dz & ~in_sums,
        f"kept in the pooled {name} but contribute nothing to it": dz & in_sums & ~(contrib > 0),
        f"still count in the pooled {name}": dz & in_sums & (contrib > 0),
    }
    parts = []
    for fate, mask in groups.items():
        if not mask.any():
            continue
        text = f"{_list(t.names(mask))} ({fate}"
        if (mask & no_estimate).any():
            text += "; no study-level estimate, so not in the heterogeneity statistics"
        parts.append(text + ")")
    warn(
        SparseDataWarning,
        "No events (or only events) in both groups: " + "; ".join(parts) + ".",
        collected,
    )


def _package(
    *,
    measure: str,
    method: str,
    t: _Tables,
    level: float,
    pooled: dict,
    in_sums: np.ndarray,
    yi: np.ndarray,
    vi: np.ndarray,
    per_study_corrected: np.ndarray,
    add: float,
    drop00: bool,
    het: dict,
    rss: float,
    extra: dict,
    collected: list[str],
) -> MetaResult:
    beta, se = pooled["beta"], pooled["se"]
    zval, pval, lo, hi = _wald(beta, se, level)
    weights = np.zeros(t.k)
    weights[in_sums] = pooled["weights"]
    total = _fsum(weights)
    weights = weights / total * 100 if total > 0 else weights
    ll_ml, ll_reml = _logliks(yi, vi, rss)
    k_yi = het["k_yi"]
    if k_yi <= 1:
        warn(
            SmallSampleWarning,
            f"Only {k_yi} stud{'y has' if k_yi == 1 else 'ies have'} a study-level estimate: "
            "heterogeneity (Q, I\u00b2, H\u00b2) cannot be assessed.",
            collected,
        )
    effects = EffectSizes(
        measure=measure,
        yi=yi,
        vi=vi,
        study=t.study,
        data={
            "ai": t.ai,
            "bi": t.bi,
            "ci": t.ci,
            "di": t.di,
            "n1i": t.ai + t.bi,
            "n2i": t.ci + t.di,
        },
        corrected=per_study_corrected,
        add=add,
        to="only0",
        drop00=drop00,
        vtype="LS",
        warnings=tuple(dict.fromkeys(collected)),
    )
    return MetaResult(
        measure=measure,
        method=method,
        test="z",
        level=level,
        k=int(in_sums.sum()),
        estimate=beta,
        se=se,
        statistic=zval,
        pval=pval,
        ci_lower=lo,
        ci_upper=hi,
        pi_lower=float("nan"),
        pi_upper=float("nan"),
        ddf=float("nan"),
        tau2=0.0,
        se_tau2=float("nan"),
        q=het["q"],
        q_df=float(max(k_yi - 1, 0)),
        q_pval=het["q_pval"],
        i2=het["i2"],
        h2=het["h2"],
        vt=float("nan"),
        s2w=1.0,
        weights=weights,
        loglik_ml=ll_ml,
        loglik_reml=ll_reml,
        yi=yi,
        vi=vi,
        study=t.study,
        dropped=t.names(~np.isfinite(yi)),
        transform="none" if measure == "RD" else "exp",
        transform_ni=None,
        converged=True,
        iterations=0,
        control={},
        warnings=tuple(dict.fromkeys(collected)),
        effects=effects,
        extra=extra,
    )


def meta_analysis_mh(
    measure: str,
    *,
    ai,
    n1i=None,
    ci,
    n2i=None,
    bi=None,
    di=None,
    study: Sequence[str] | None = None,
    zero_cells: str = "metafor",
    level: float = 0.95,
    add: float = 0.5,
    drop00: bool = True,
    correct: bool = True,
) -> MetaResult:
    """Mantel-Haenszel common-effect meta-analysis of 2x2 tables (metafor's ``rma.mh``).

    Parameters
    ----------
    measure : {"OR", "RR", "RD"}
        Odds ratio, risk ratio (both pooled on the log scale) or risk difference.
    ai, ci : array_like
        Events in group 1 (e.g. treatment) and group 2 (control).
    n1i, n2i : array_like, optional
        Group sizes. Give these or the non-events ``bi``, ``di``.
    bi, di : array_like, optional
        Non-events in group 1 and group 2.
    study : sequence of str, optional
        Study labels (all k tables are kept in the result, in input order).
    zero_cells : {"metafor", "revman"}
        Zero-cell convention of the pooled estimate (see the module docstring):
        metafor's raw counts, or RevMan 5's 0.5 added to every cell of each table with a
        zero cell, with double-zero tables left out for OR and RR.
    level : float
        Confidence level (0.95 or 95).
    add : float
        Continuity correction added to all cells of tables with a zero cell, for the
        per-study effect sizes (both conventions) and, with ``zero_cells="revman"``, for
        the pooled estimate too.
    drop00 : bool
        Give double-zero tables (no events, or only events, in both groups) no per-study
        effect size (metafor's default). With ``zero_cells="revman"`` it also leaves them
        out of the pooled OR and RR, as RevMan does; with ``drop00=False`` they are then
        corrected and kept.
    correct : bool
        Continuity correction (0.5) in the Cochran and Cochran-Mantel-Haenszel tests (OR).

    Returns
    -------
    MetaResult
        ``method="MH"``, ``test="z"``, ``tau2=0``. ``k`` counts the tables entering the MH
        sums (all tables with ``"metafor"``; RevMan leaves double-zero tables out of OR/RR).
        ``yi``/``vi``/``study``/``weights`` have one entry per input table; ``yi`` and
        ``vi`` are NaN for tables without a study-level estimate (listed in ``dropped``).
        ``weights`` are the MH weights in percent: b*c/N (OR), c*n1/N (RR), n1*n2/N (RD)
        -- the weights that make the MH estimate a weighted mean of the study OR, RR or
        RD, computed from the counts entering the sums (0 for excluded tables).
        ``extra`` holds metafor's ``k.yi``, ``k.pos``, ``CO``, ``COp``, ``MH``, ``MHp``,
        ``BD``, ``BDp``, ``TA``, ``TAp`` (None where metafor gives NA, or Inf/NaN in
        near-degenerate Breslow-Day cases; all None but ``k.yi`` for RR and RD), plus
        ``zero_cells``, ``zero_cells_description``, ``corrected_in_pooling`` and
        ``excluded_from_pooling`` (study labels) and ``weights_definition``.

    Raises
    ------
    ValueError
        Invalid counts (negative, more events than participants, an empty group), every
        table with a missing count, or (RevMan convention) every table left out.

    Notes
    -----
    Awkward tables (as metafor 3.8-1): tables with a missing or non-numeric
    count are left out (``DroppedStudiesWarning``) and the rest pooled. The OR is NA
    (NaN) when sum(a d/N) or sum(b c/N) is 0, the RR when group 1 or group 2 has no
    events in any table; ``extra["not_estimable"]`` then holds the reason in words (also
    issued as a warning). The RD is always estimated: 0 with a standard error of 0 when no
    table has any events (z and p NaN, explained by a warning); likewise the RR is 0 with
    se 0 when every participant has the event.

    With N = n1 + n2 per table (after the zero-cell convention):

    * OR: R = sum(a d / N), S = sum(b c / N), OR_MH = R/S; Robins-Breslow-Greenland
      variance of log OR_MH: 1/2 [sum P R_i / R^2 + sum (P S_i + Q R_i)/(R S) +
      sum Q S_i / S^2], with P = (a+d)/N, Q = (b+c)/N.
    * RR: R = sum(a n2 / N), S = sum(c n1 / N); var(log RR_MH) =
      sum(n1 n2 (a+c)/N^2 - a c / N) / (R S) (Greenland and Robins).
    * RD: RD_MH = sum((a n2 - c n1)/N) / sum(n1 n2 / N); Sato-Greenland-Robins variance
      [RD_MH sum(c (n1/N)^2 - a (n2/N)^2 + (n1/N)(n2/N)(n2-n1)/2) +
      sum(a (n2-c) + c (n1-a))/(2N)] / (sum n1 n2 / N)^2.
    * Heterogeneity: Q = sum (y_i - beta_MH)^2 / v_i over the per-study estimates
      (centred on the MH estimate), df = k.yi - 1, I^2 = max(0, 100 (Q - df)/Q),
      H^2 = Q/df; Q = 0, I^2 = 0, H^2 = 1 when k.yi <= 1.
    * Cochran and CMH tests: (|sum(a - n1 x/N)| - 0.5)^2 over sum(n1 n2 x y / N^3) and
      sum(n1 n2 x y / (N^2 (N-1))), x = a+c, y = b+d; Breslow-Day and Tarone with
      k.pos - 1 df.
    * Log-likelihoods (metafor): ll_ML = -k.yi/2 log(2 pi) - 1/2 sum log v_i - Q/2 and
      ll_REML = -(k.yi-1)/2 log(2 pi) + 1/2 log k.yi - 1/2 sum log v_i
      - 1/2 log sum(1/v_i) - Q/2 (NaN when k.yi = 0).

    Warns
    -----
    SparseDataWarning
        When a continuity correction is applied (naming the studies, and saying whether
        it reaches the pooled estimate), and when double-zero tables are left out of the
        pooled estimate or the heterogeneity statistics.
    SmallSampleWarning
        When at most one table has a study-level estimate (no heterogeneity assessment).
    DroppedStudiesWarning
        When tables with missing or non-numeric counts are left out (naming them).

    References
    ----------
    Mantel N, Haenszel W (1959). J Natl Cancer Inst 22:719-748. doi:10.1093/jnci/22.4.719
    Greenland S, Robins JM (1985). Biometrics 41:55-68. doi:10.2307/2530643
    Robins J, Breslow N, Greenland S (1986). Biometrics 42:311-323. doi:10.2307/2531052
    Sato T, Greenland S, Robins JM (1989). Biometrics 45:1323-1324. doi:10.2307/2531784
    Tarone RE (1985). Biometrika 72:91-95. doi:10.1093/biomet/72.1.91
    Higgins JPT, Green S (eds) (2011). Cochrane Handbook 5.1, sections 9.4.4 and 16.9.3.
    """
    code = str(measure).upper()
    if code not in MH_MEASURES:
        raise ValueError(f"Mantel-Haenszel pooling supports {MH_MEASURES}, got {measure!r}")
    conv = _check_convention(zero_cells)
    add = _check_add(add)
    level = normalise_level(level)
    collected: list[str] = []
    t = _read_tables(ai, n1i, ci, n2i, bi, di, study, collected)
    name = _MEASURE_NAMES[code]
    dz = t.double_zero

    yi, vi, per_study_corrected = _study_effects(code, t, add, drop00)

    in_sums = np.ones(t.k, dtype=bool)
    pool_corrected = np.zeros(t.k, dtype=bool)
    a, b, c, d = t.ai, t.bi, t.ci, t.di
    if conv == "revman":
        if code in ("OR", "RR") and drop00:
            in_sums = ~dz
        pool_corrected = t.has_zero & in_sums & (add > 0)
    _no_tables_check(int(in_sums.sum()), code)
    a, b, c, d = (np.where(pool_corrected, x + add, x)[in_sums] for x in (a, b, c, d))
    if code == "OR":
        pooled = _mh_or(a, b, c, d, correct)
    elif code == "RR":
        pooled = _mh_rr(a, b, c, d)
    else:
        pooled = _mh_rd(a, b, c, d)

    if conv == "revman" and pool_corrected.any():
        warn(
            SparseDataWarning,
            f"{add:g} was added to every cell of {_list(t.names(pool_corrected))} (a zero "
            "cell; RevMan 5 convention) before the Mantel-Haenszel sums and for the "
            "study-level estimates.",
            collected,
        )
    only_study = per_study_corrected & ~pool_corrected
    if only_study.any():
        warn(
            SparseDataWarning,
            f"{add:g} was added to every cell of {_list(t.names(only_study))} (a zero cell) "
            "for the study-level estimates shown per study and used in the heterogeneity "
            f"statistics; the pooled Mantel-Haenszel {name} uses the uncorrected counts.",
            collected,
        )
    contrib = np.zeros(t.k)
    contrib[in_sums] = pooled["contrib"]
    _double_zero_warning(t, in_sums, contrib, yi, name, collected)
    not_estimable = _estimability(pooled, f"Mantel-Haenszel {name}", level, collected)

    het = _heterogeneity(yi, vi, pooled["beta"])
    tests = pooled["tests"]
    extra = {
        "not_estimable": not_estimable,
        "k.yi": het["k_yi"],
        "k.pos": tests.get("k_pos"),
        **{key: _na(tests.get(key)) for key in _CMH_KEYS},
        "zero_cells": conv,
        "zero_cells_description": _describe(conv, code, add),
        "corrected_in_pooling": t.names(pool_corrected),
        "excluded_from_pooling": t.names(~in_sums),
        "weights_definition": _WEIGHT_DEFINITIONS[code],
    }
    return _package(
        measure=code,
        method="MH",
        t=t,
        level=level,
        pooled=pooled,
        in_sums=in_sums,
        yi=yi,
        vi=vi,
        per_study_corrected=per_study_corrected,
        add=add,
        drop00=drop00,
        het=het,
        rss=het["q"],
        extra=extra,
        collected=collected,
    )


def _describe(conv: str, measure: str, add: float) -> str:
    if conv == "metafor":
        return (
            "metafor (rma.mh/rma.peto defaults): pooled estimate from the uncorrected counts "
            f"of all tables; {add:g} added to every cell of tables with a zero cell for the "
            "study-level estimates only (double-zero tables get none with drop00)."
        )
    if measure == "PETO":
        return (
            "RevMan 5: Peto's method with no continuity correction; tables with no events "
            "(or only events) in both groups are left out."
        )
    excluded = (
        "tables with no events (or only events) in both groups are left out, as RevMan does"
        if measure in ("OR", "RR")
        else "all tables are kept (RevMan includes double-zero studies for risk differences)"
    )
    return (
        f"RevMan 5: {add:g} added to every cell of each table with a zero cell before the "
        f"Mantel-Haenszel sums; {excluded}."
    )


def meta_analysis_peto(
    *,
    ai,
    n1i=None,
    ci,
    n2i=None,
    bi=None,
    di=None,
    study: Sequence[str] | None = None,
    zero_cells: str = "metafor",
    level: float = 0.95,
    add: float = 0.5,
) -> MetaResult:
    """Peto's one-step odds ratio meta-analysis of 2x2 tables (metafor's ``rma.peto``).

    Parameters
    ----------
    ai, ci, n1i, n2i, bi, di, study, level
        As in :func:`meta_analysis_mh`.
    zero_cells : {"metafor", "revman"}
        ``"metafor"``: the per-study Peto log odds ratios (display, log-likelihood) get
        ``add`` in every cell of tables with a zero cell, as metafor does; ``"revman"``:
        no correction anywhere. The pooled estimate and Q never use a correction.
    add : float
        Continuity correction of the per-study values with ``zero_cells="metafor"``.

    Returns
    -------
    MetaResult
        ``measure="PETO"``, ``method="PETO"``, ``transform="exp"``. ``weights`` are the
        hypergeometric variances V_i in percent. ``extra`` holds ``k.yi``, ``k.pos``
        (tables with V_i > 0) and the zero-cell details as in :func:`meta_analysis_mh`.

    Raises
    ------
    ValueError
        Invalid counts, every table with a missing count, or no table with both outcomes
        (every V_i = 0; metafor stops with "One of the two outcomes never occurred"):
        nothing to pool. Tables with a missing count are left out with a
        ``DroppedStudiesWarning`` and ``extra["not_estimable"]`` is as in
        :func:`meta_analysis_mh`.

    Notes
    -----
    With O_i = a, E_i = n1 (a+c)/N and V_i = (a+c)(b+d) n1 n2 / (N^2 (N-1)):
    log OR_Peto = sum(O-E) / sum V, se = 1/sqrt(sum V). Heterogeneity
    Q = sum (O-E)^2/V - (sum(O-E))^2 / sum V over tables with V > 0, df = k.yi - 1,
    I^2 = max(0, 100 (Q - df)/Q), H^2 = Q/df. The log-likelihoods use the per-study
    values y_i = (O-E)/V, v_i = 1/V (corrected as described under ``zero_cells``).

    Warns
    -----
    SparseDataWarning
        When the per-study values are corrected, or double-zero tables are left out.
    SmallSampleWarning
        When at most one table has a study-level estimate.

    References
    ----------
    Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Prog Cardiovasc Dis
    27:335-371. doi:10.1016/S0033-0620(85)80003-7
    Viechtbauer W (2010). J Stat Softw 36(3). doi:10.18637/jss.v036.i03
    """
    conv = _check_convention(zero_cells)
    add = _check_add(add)
    level = normalise_level(level)
    collected: list[str] = []
    t = _read_tables(ai, n1i, ci, n2i, bi, di, study, collected)
    dz = t.double_zero

    study_add = add if conv == "metafor" else 0.0
    yi, vi, per_study_corrected = _study_effects("PETO", t, study_add, True)
    in_sums = ~dz if conv == "revman" else np.ones(t.k, dtype=bool)
    a, b, c, d = t.ai[in_sums], t.bi[in_sums], t.ci[in_sums], t.di[in_sums]
    _no_tables_check(a.size, "PETO")
    n1, n2 = a + b, c + d
    n = n1 + n2
    xt, yt = a + c, b + d
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        e = xt * n1 / n
        v = xt * yt * (n1 / n) * (n2 / n) / (n - 1)
        sum_v = _fsum(v)
        if sum_v == 0:
            raise ValueError(
                "In every table entering the pooled estimate one of the two outcomes never "
                "occurs (no events, or only events, in both groups), so Peto's method cannot "
                "be used (metafor stops with the same error): nothing to pool."
            )
        o_e = a - e
        beta = _ratio(_fsum(o_e), sum_v)
        se = _sqrt(_ratio(1, sum_v))
        pos = v > 0
        k_pos = int(pos.sum())
        q = _max0(_fsum(o_e[pos] ** 2 / v[pos]) - _ratio(_fsum(o_e) ** 2, sum_v))
        ok = np.isfinite(yi)
        k_yi = int(ok.sum())
        if k_pos > 1:
            df = k_yi - 1
            q_pval = float(stats.chi2.sf(q, df))
            i2 = float(i2_from_q(q, df))
            h2 = float(h2_from_q(q, df))
        else:
            q_pval, i2, h2 = 1.0, 0.0, 1.0
        rss = _fsum((yi[ok] - beta) ** 2 / vi[ok])
    het = {"k_yi": k_yi, "q": q, "q_pval": q_pval, "i2": i2, "h2": h2}

    if per_study_corrected.any():
        warn(
            SparseDataWarning,
            f"{add:g} was added to every cell of {_list(t.names(per_study_corrected))} (a "
            "zero cell) for the study-level Peto odds ratios shown per study (metafor "
            "convention); the pooled Peto odds ratio and Q use the uncorrected counts.",
            collected,
        )
    contrib = np.zeros(t.k)
    contrib[in_sums] = v
    _double_zero_warning(t, in_sums, contrib, yi, _MEASURE_NAMES["PETO"], collected)

    pooled = {"beta": beta, "se": se, "weights": v}
    extra = {
        "not_estimable": _estimability(pooled, _MEASURE_NAMES["PETO"], level, collected),
        "k.yi": k_yi,
        "k.pos": k_pos,
        "zero_cells": conv,
        "zero_cells_description": _describe(conv, "PETO", add),
        "corrected_in_pooling": (),
        "excluded_from_pooling": t.names(~in_sums),
        "weights_definition": _WEIGHT_DEFINITIONS["PETO"],
    }
    return _package(
        measure="PETO",
        method="PETO",
        t=t,
        level=level,
        pooled=pooled,
        in_sums=in_sums,
        yi=yi,
        vi=vi,
        per_study_corrected=per_study_corrected,
        add=study_add,
        drop00=True,
        het=het,
        rss=rss,
        extra=extra,
        collected=collected,
    )
