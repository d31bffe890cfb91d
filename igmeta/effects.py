"""Per-study effect sizes: the equivalent of metafor's ``escalc``.

Every function here is vectorised over studies. Argument names follow metafor
(``ai, bi, ci, di, n1i, n2i`` for 2x2 tables, ``xi, ni`` for single-arm proportions,
``m1i, sd1i, n1i, m2i, sd2i, n2i`` for means, ``m1i, m2i, sd1i, ni, ri`` for pre-post
change, ``ri, ni`` for correlations, ``xi, ti`` / ``x1i, t1i, x2i, t2i`` for incidence
rates, ``yi, vi`` / ``sei`` for generic input). :func:`effect_sizes` dispatches to one small
module per family: :mod:`igmeta.effects_means`, :mod:`igmeta.effects_correlations`,
:mod:`igmeta.effects_rates`, :mod:`igmeta.effects_tables` (AS, PHI, YUQ), with shared checks
in :mod:`igmeta.effects_inputs`; RR/OR/RD and proportions are computed here.

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package.
J Stat Softw 36(3). doi:10.18637/jss.v036.i03
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from igmeta.effects_correlations import correlations
from igmeta.effects_inputs import correction_mask
from igmeta.effects_means import CHANGE_MEASURES, MEANS_MEASURES, mean_change, two_group_means
from igmeta.effects_rates import (
    RATE_MEASURES,
    RATE_PAIR_MEASURES,
    one_group_rates,
    two_group_rates,
)
from igmeta.effects_tables import TABLE_MEASURES, table_effect
from igmeta.warnings import DroppedStudiesWarning, SparseDataWarning, warn

__all__ = [
    "BINARY_MEASURES",
    "CHANGE_MEASURES",
    "CONTINUOUS_MEASURES",
    "CORRELATION_MEASURES",
    "EffectSizes",
    "MEASURE_INPUTS",
    "PROPORTION_MEASURES",
    "RATE_MEASURES",
    "RATE_PAIR_MEASURES",
    "RATIO_MEASURES",
    "SINGLE_GROUP_MEASURES",
    "author_year_label",
    "default_add",
    "effect_sizes",
    "measure_info",
]

BINARY_MEASURES = ("RR", "OR", "RD", *TABLE_MEASURES)
PROPORTION_MEASURES = ("PR", "PLO", "PAS", "PFT")
CONTINUOUS_MEASURES = MEANS_MEASURES
CORRELATION_MEASURES = ("ZCOR", "COR", "UCOR")
#: The input columns of each measure, in escalc's argument names (2x2 tables also accept
#: ``bi``/``di`` and proportions ``mi`` in place of the totals).
MEASURE_INPUTS = {
    **dict.fromkeys(BINARY_MEASURES, ("ai", "n1i", "ci", "n2i")),
    **dict.fromkeys(PROPORTION_MEASURES, ("xi", "ni")),
    **dict.fromkeys(CONTINUOUS_MEASURES, ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")),
    **dict.fromkeys(CHANGE_MEASURES, ("m1i", "m2i", "sd1i", "ni", "ri")),
    **dict.fromkeys(CORRELATION_MEASURES, ("ri", "ni")),
    **dict.fromkeys(RATE_MEASURES, ("xi", "ti")),
    **dict.fromkeys(RATE_PAIR_MEASURES, ("x1i", "t1i", "x2i", "t2i")),
}
#: Measures of one group (no null value): proportions and incidence rates.
SINGLE_GROUP_MEASURES = (*PROPORTION_MEASURES, *RATE_MEASURES)
#: Measures whose analysis scale is the log of a ratio (natural-scale input is logged).
RATIO_MEASURES = ("RR", "OR", "HR", "IRR", "ROM", "PETO")
_CORRECTED_CELLS = dict.fromkeys((*RATE_MEASURES, *RATE_PAIR_MEASURES), "the event counts")
#: Measures whose ``add`` defaults to 0 in metafor (0.5 for the others).
_NO_ADD_BY_DEFAULT = ("PAS", "PFT", "AS", "PHI", "IRSD")

_LABELS = {
    "RR": "Risk ratio",
    "OR": "Odds ratio",
    "RD": "Risk difference",
    "PR": "Proportion",
    "PLO": "Proportion (logit)",
    "PAS": "Proportion (arcsine)",
    "PFT": "Proportion (Freeman-Tukey)",
    "MD": "Mean difference",
    "SMD": "Standardised mean difference (Hedges' g)",
    "SMDH": "Standardised mean difference (unequal variances)",
    "ROM": "Ratio of means",
    "SMCR": "Standardised mean change (raw-score standardisation)",
    "ZCOR": "Correlation (Fisher's z)",
    "COR": "Correlation",
    "UCOR": "Correlation (bias-corrected)",
    "IR": "Incidence rate",
    "IRLN": "Incidence rate (log)",
    "IRR": "Incidence rate ratio",
    "IRD": "Incidence rate difference",
    "IRSD": "Incidence rate difference (square root)",
    "AS": "Risk difference (arcsine)",
    "PHI": "Phi coefficient",
    "YUQ": "Yule's Q",
    "HR": "Hazard ratio",
    "PETO": "Odds ratio (Peto)",
    "GEN": "Generic effect",
}
_TRANSFORMS = {
    "RR": "exp",
    "OR": "exp",
    "HR": "exp",
    "IRR": "exp",
    "ROM": "exp",
    "IRLN": "exp",
    "PETO": "exp",
    "PLO": "ilogit",
    "PAS": "iarcsin",
    "PFT": "ipft.hm",
    "ZCOR": "ztor",
}


@dataclass(frozen=True, slots=True)
class MeasureInfo:
    """Display facts about an effect measure.

    Attributes
    ----------
    code : str
        metafor's measure code.
    label : str
        Name shown to users, on the natural scale.
    transform : str
        Back-transform from the analysis scale ("none" when the scales coincide).
    null_value : float
        The no-effect value on the natural scale (1 for ratios, 0 otherwise), or NaN
        when there is no null (single-arm proportions).
    log_scale : bool
        Whether the natural scale is best drawn on a log axis.
    """

    code: str
    label: str
    transform: str
    null_value: float
    log_scale: bool


def default_add(measure: str) -> float:
    """metafor's default continuity correction ``add`` for ``measure``: 0 for PAS, PFT, AS,
    PHI and IRSD, 0.5 otherwise."""
    return 0.0 if measure.upper() in _NO_ADD_BY_DEFAULT else 0.5


def measure_info(measure: str) -> MeasureInfo:
    """Return display facts (label, back-transform, null value) for ``measure``.

    Parameters
    ----------
    measure : str
        A metafor measure code such as ``"RR"`` or ``"PFT"``.

    Returns
    -------
    MeasureInfo
    """
    code = measure.upper()
    transform = _TRANSFORMS.get(code, "none")
    is_ratio = code in RATIO_MEASURES
    null = float("nan") if code in SINGLE_GROUP_MEASURES else (1.0 if is_ratio else 0.0)
    return MeasureInfo(code, _LABELS.get(code, code), transform, null, is_ratio)


@dataclass(frozen=True, slots=True)
class EffectSizes:
    """Per-study effect sizes and sampling variances with the inputs that made them.

    Attributes
    ----------
    measure : str
        metafor measure code.
    yi, vi : ndarray
        Effect sizes on the analysis scale and their sampling variances. NaN where a
        study's effect is undefined (e.g. a double-zero table with ``drop00=True``).
    study : tuple of str
        Study labels.
    data : Mapping[str, ndarray]
        The input columns as given (before any continuity correction).
    corrected : ndarray of bool
        Which studies received the continuity correction.
    add, to, drop00, vtype
        The escalc settings used.
    warnings : tuple of str
        Plain-English warnings raised while computing.
    """

    measure: str
    yi: np.ndarray
    vi: np.ndarray
    study: tuple[str, ...]
    data: Mapping[str, np.ndarray] = field(default_factory=dict)
    corrected: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    add: float = 0.5
    to: str = "only0"
    drop00: bool = False
    vtype: str = "LS"
    warnings: tuple[str, ...] = ()

    @property
    def k(self) -> int:
        """Number of studies (including those with undefined effects)."""
        return int(self.yi.shape[0])

    @property
    def sei(self) -> np.ndarray:
        """Standard errors, ``sqrt(vi)``."""
        return np.sqrt(self.vi)

    def confidence_intervals(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Per-study Wald intervals ``yi -/+ z * sqrt(vi)`` on the analysis scale."""
        z = stats.norm.ppf(0.5 + level / 2)
        half = z * np.sqrt(self.vi)
        return self.yi - half, self.yi + half

    def to_frame(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy per-study table: study, yi, vi, sei, ci_lower, ci_upper, corrected."""
        lower, upper = self.confidence_intervals(level)
        return pd.DataFrame(
            {
                "study": list(self.study),
                "yi": self.yi,
                "vi": self.vi,
                "sei": self.sei,
                "ci_lower": lower,
                "ci_upper": upper,
                "corrected": self.corrected,
            }
        )

    def subset(self, rows: np.ndarray) -> EffectSizes:
        """Return the effect sizes of the selected rows (boolean mask or indices)."""
        rows = np.asarray(rows)
        return EffectSizes(
            measure=self.measure,
            yi=self.yi[rows],
            vi=self.vi[rows],
            study=labels_at(self.study, rows),
            data={key: np.asarray(val)[rows] for key, val in self.data.items()},
            corrected=self.corrected[rows],
            add=self.add,
            to=self.to,
            drop00=self.drop00,
            vtype=self.vtype,
            warnings=self.warnings,
        )


def _as_float(values: Sequence[float] | np.ndarray | None) -> np.ndarray | None:
    if values is None:
        return None
    return np.asarray(
        pd.to_numeric(pd.Series(np.asarray(values).ravel()), errors="coerce"), dtype=float
    )


class DefaultStudyLabels(Sequence):
    """The labels ``"Study 1"``, ..., ``"Study k"``, made when asked for.

    Fits without study names (``yi``/``vi`` arrays from a script) get these labels.
    Building a million Python strings takes longer than a million-study REML fit, so
    they are not built until a label is read. Behaves as the tuple of the labels
    (indexing, slicing, iteration, ``==`` with tuples and lists, ``hash``).

    Parameters
    ----------
    k : int
        Number of studies.
    """

    __slots__ = ("_k",)

    def __init__(self, k: int) -> None:
        self._k = int(k)

    def __len__(self) -> int:
        return self._k

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(f"Study {i + 1}" for i in range(*index.indices(self._k)))
        i = operator.index(index)
        if i < 0:
            i += self._k
        if not 0 <= i < self._k:
            raise IndexError("study label index out of range")
        return f"Study {i + 1}"

    def __iter__(self):
        return (f"Study {i + 1}" for i in range(self._k))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DefaultStudyLabels):
            return self._k == other._k
        if isinstance(other, tuple | list):
            return len(other) == self._k and tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"DefaultStudyLabels({self._k})"

    def __reduce__(self):
        return (DefaultStudyLabels, (self._k,))


def labels_at(study: Sequence[str], rows) -> tuple[str, ...]:
    """The labels of the selected studies (a boolean mask or positions), in order."""
    rows = np.asarray(rows)
    positions = np.flatnonzero(rows) if rows.dtype == bool else rows.ravel()
    return tuple(study[int(i)] for i in positions)


def study_labels(study: Sequence[str] | None, k: int) -> Sequence[str]:
    """Study labels as strings; blank or missing labels become ``"Study i"``.

    Without ``study``, a :class:`DefaultStudyLabels` (the labels made on demand)."""
    if study is None:
        return DefaultStudyLabels(k)
    labels = [
        str(s) if s is not None and str(s).strip() else f"Study {i + 1}"
        for i, s in enumerate(study)
    ]
    if len(labels) != k:
        raise ValueError(f"study has {len(labels)} labels for {k} studies")
    return tuple(labels)


def _is_missing(value: object) -> bool:
    """None, NaN or pd.NA (a scalar cell)."""
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def author_year_label(name: object, year: object) -> str:
    """A study label with its year, ``"Smith" + 2001 -> "Smith 2001"``, as RevMan shows it.

    The year is not repeated when the name already ends with it (``"Smith 2001"``,
    ``"Smith 2001a"``, ``"Smith (2001)"``). A missing year or name leaves the name
    as it is, and so does a year that is not a whole number of up to four digits (it is
    flagged by the checks); a year typed as ``2001.0`` is shown as ``2001``.
    """
    text = "" if _is_missing(name) else str(name)
    if isinstance(year, float | np.floating) and np.isfinite(year) and float(year).is_integer():
        year = int(year)
    when = "" if _is_missing(year) else str(year).strip()
    if not text.strip() or not re.fullmatch(r"\d{1,4}", when):
        return text
    text = text.strip()
    if re.search(rf"(?<![0-9]){re.escape(when)}[a-z]?\)?$", text):
        return text
    return f"{text} {when}"


def _binary(measure: str, ai, bi, ci, di, add: float, to: str, drop00: bool, vtype: str, collected):
    """2x2 tables -> (yi, vi, corrected)."""
    ai, bi, ci, di = (np.array(a, dtype=float) for a in (ai, bi, ci, di))
    double_zero = ((ai == 0) & (ci == 0)) | ((bi == 0) & (di == 0))
    if drop00 and double_zero.any():
        ai, bi, ci, di = (np.where(double_zero, np.nan, a) for a in (ai, bi, ci, di))
    has_zero = (ai == 0) | (bi == 0) | (ci == 0) | (di == 0)
    corrected = correction_mask(has_zero, to) & (add != 0) & ~np.isnan(ai + bi + ci + di)
    if corrected.any():
        ai, bi, ci, di = (np.where(corrected, a + add, a) for a in (ai, bi, ci, di))
    n1i, n2i = ai + bi, ci + di
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "RR":
            yi = np.log(ai / n1i) - np.log(ci / n2i)
            vi = 1 / ai - 1 / n1i + 1 / ci - 1 / n2i
        elif measure == "OR":
            yi = np.log(ai * di / (bi * ci))
            vi = 1 / ai + 1 / bi + 1 / ci + 1 / di
        elif measure == "RD":
            p1, p2 = ai / n1i, ci / n2i
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1i + p2 * (1 - p2) / n2i
        else:
            yi, vi = table_effect(measure, ai, bi, ci, di, vtype)
    if drop00 and double_zero.any():
        collected.append(
            f"{int(double_zero.sum())} double-zero stud{'y' if double_zero.sum() == 1 else 'ies'}"
            " (no events or only events in both groups) left out (drop00)."
        )
    return yi, vi, corrected


def _proportion(measure: str, xi, ni, add: float, to: str):
    """Single-arm proportions -> (yi, vi, corrected)."""
    xi, ni = np.array(xi, dtype=float), np.array(ni, dtype=float)
    mi = ni - xi
    has_zero = (xi == 0) | (mi == 0)
    corrected = correction_mask(has_zero, to) & (add != 0) & ~np.isnan(xi + ni)
    if corrected.any():
        xi = np.where(corrected, xi + add, xi)
        mi = np.where(corrected, mi + add, mi)
    ni = xi + mi
    with np.errstate(divide="ignore", invalid="ignore"):
        p = xi / ni
        if measure == "PR":
            yi, vi = p, p * (1 - p) / ni
        elif measure == "PLO":
            yi, vi = np.log(p / (1 - p)), 1 / xi + 1 / mi
        elif measure == "PAS":
            yi, vi = np.arcsin(np.sqrt(p)), 1 / (4 * ni)
        elif measure == "PFT":
            yi = 0.5 * (np.arcsin(np.sqrt(xi / (ni + 1))) + np.arcsin(np.sqrt((xi + 1) / (ni + 1))))
            vi = 1 / (4 * ni + 2)
        else:  # pragma: no cover
            raise ValueError(measure)
    return yi, vi, corrected


def _inputs(study, **columns) -> tuple[dict[str, np.ndarray], Sequence[str]]:
    """The named input columns as float arrays (in the given order) and the study labels.

    Raises ``ValueError`` naming a missing column or columns of different lengths."""
    missing = [name for name, values in columns.items() if values is None]
    if missing:
        raise ValueError(f"missing input column(s): {', '.join(missing)}")
    data = {name: _as_float(values) for name, values in columns.items()}
    lengths = {name: len(values) for name, values in data.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"input columns differ in length: {lengths}")
    return data, study_labels(study, next(iter(lengths.values())))


def _generic(measure, yi, vi, sei, estimate, ci_lower, ci_upper, ci_level):
    if yi is not None:
        if vi is None and sei is None:
            raise ValueError("generic input needs vi or sei with yi")
        var = vi if vi is not None else sei**2
        return yi, var
    if estimate is None or ci_lower is None or ci_upper is None:
        raise ValueError("generic input needs yi with vi/sei, or estimate with ci_lower/ci_upper")
    z = stats.norm.ppf(0.5 + ci_level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure.upper() in RATIO_MEASURES:
            estimate, ci_lower, ci_upper = np.log(estimate), np.log(ci_lower), np.log(ci_upper)
        var = ((ci_upper - ci_lower) / (2 * z)) ** 2
    return estimate, var


def effect_sizes(
    measure: str,
    *,
    ai=None,
    bi=None,
    ci=None,
    di=None,
    n1i=None,
    n2i=None,
    xi=None,
    ni=None,
    mi=None,
    m1i=None,
    sd1i=None,
    m2i=None,
    sd2i=None,
    ri=None,
    x1i=None,
    t1i=None,
    x2i=None,
    t2i=None,
    ti=None,
    yi=None,
    vi=None,
    sei=None,
    estimate=None,
    ci_lower=None,
    ci_upper=None,
    ci_level: float = 0.95,
    study: Sequence[str] | None = None,
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
    vtype: str = "LS",
) -> EffectSizes:
    """Compute per-study effect sizes and sampling variances (metafor's ``escalc``).

    Parameters
    ----------
    measure : str
        ``"RR"``, ``"OR"``, ``"RD"``, ``"AS"``, ``"PHI"``, ``"YUQ"`` (2x2 tables: ``ai`` and
        ``ci`` events with ``n1i``, ``n2i`` totals or ``bi``, ``di`` non-events); ``"PR"``,
        ``"PLO"``, ``"PAS"``, ``"PFT"`` (``xi`` events of ``ni``, or ``mi`` non-events);
        ``"MD"``, ``"SMD"``, ``"SMDH"``, ``"ROM"`` (``m1i, sd1i, n1i, m2i, sd2i, n2i``);
        ``"SMCR"`` (pre-post: ``m1i, m2i, sd1i, ni, ri``); ``"ZCOR"``, ``"COR"``, ``"UCOR"``
        (``ri``, ``ni``); ``"IR"``, ``"IRLN"`` (``xi`` events in ``ti`` person-time);
        ``"IRR"``, ``"IRD"``, ``"IRSD"`` (``x1i, t1i, x2i, t2i``); any other code (e.g.
        ``"GEN"``, ``"HR"``) for generic input ``yi`` with ``vi`` or ``sei``, or
        ``estimate`` with ``ci_lower``/``ci_upper`` at ``ci_level`` (ratio measures given on
        the natural scale are logged).
    add : float, optional
        Continuity correction. Default 0.5, except 0 for PAS, PFT, AS, PHI and IRSD
        (metafor's defaults). For incidence rates it is added to the event counts only.
    to : {"only0", "all", "if0all", "none"}
        Which studies get ``add`` (to all cells): those with a zero cell, all, all if any
        study has a zero cell, or none.
    drop00 : bool
        Set double-zero tables (no events, or only events, in both groups; for IRR, IRD,
        IRSD no events in either group) to NaN.
    vtype : str
        metafor's variance type: ``"LS"`` large-sample (default); ``"HO"`` pooled SD (MD,
        ROM); ``"UB"`` unbiased (SMD, UCOR); ``"LS2"`` (SMD, SMDH, SMCR); ``"AV"``,
        ``"AVHO"`` averaged (SMD, ROM, COR, UCOR); ``"ST"``, ``"CS"`` (PHI). See
        :mod:`igmeta.effects_means`, :mod:`igmeta.effects_correlations`,
        :mod:`igmeta.effects_rates` and :mod:`igmeta.effects_tables` for the formulas.
    study : sequence of str, optional
        Study labels.

    Returns
    -------
    EffectSizes

    Notes
    -----
    After correction (``n1i = ai + bi``, ``n2i = ci + di``):

    * RR: ``yi = log(ai/n1i) - log(ci/n2i)``, ``vi = 1/ai - 1/n1i + 1/ci - 1/n2i``
    * OR: ``yi = log(ai di / (bi ci))``, ``vi = 1/ai + 1/bi + 1/ci + 1/di``
    * RD: ``yi = p1 - p2``, ``vi = p1(1-p1)/n1i + p2(1-p2)/n2i``
    * PFT: ``yi = [asin(sqrt(x/(n+1))) + asin(sqrt((x+1)/(n+1)))]/2``, ``vi = 1/(4n+2)``
    * SMD: Hedges' g with the exact correction ``c(m)``, ``m = n1+n2-2``, and
      ``vi = 1/n1 + 1/n2 + g^2 / (2(n1+n2))``.

    Studies whose effect or variance is not finite get NaN (and a warning naming them);
    fitting functions leave them out, as metafor does. Impossible inputs of the means,
    correlation and rate measures (negative SDs or counts, sizes or person-times <= 0,
    correlations beyond +-1), where metafor stops, raise ``ValueError`` naming the studies.
    """
    code = measure.upper()
    collected: list[str] = []
    data: dict[str, np.ndarray] = {}
    corrected = None
    if add is None:
        add = default_add(code)
    generic_input = yi is not None or estimate is not None
    if generic_input:
        arrays = [_as_float(a) for a in (yi, vi, sei, estimate, ci_lower, ci_upper)]
        y, v = _generic(code, *arrays, ci_level)
        data = {"yi": y, "vi": v}
        if ni is not None:
            data["ni"] = _as_float(ni)
    elif code in BINARY_MEASURES:
        ai, ci = _as_float(ai), _as_float(ci)
        if bi is None:
            bi = _as_float(n1i) - ai
        if di is None:
            di = _as_float(n2i) - ci
        bi, di = _as_float(bi), _as_float(di)
        data = {"ai": ai, "bi": bi, "ci": ci, "di": di, "n1i": ai + bi, "n2i": ci + di}
        y, v, corrected = _binary(code, ai, bi, ci, di, add, to, drop00, vtype, collected)
    elif code in PROPORTION_MEASURES:
        xi = _as_float(xi)
        ni = _as_float(ni) if ni is not None else xi + _as_float(mi)
        data = {"xi": xi, "ni": ni, "mi": ni - xi}
        y, v, corrected = _proportion(code, xi, ni, add, to)
    elif code in CONTINUOUS_MEASURES:
        data, labels = _inputs(study, m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i)
        y, v = two_group_means(code, *data.values(), vtype, labels)
    elif code in CHANGE_MEASURES:
        data, labels = _inputs(study, m1i=m1i, m2i=m2i, sd1i=sd1i, ni=ni, ri=ri)
        y, v = mean_change(code, *data.values(), vtype, labels)
    elif code in CORRELATION_MEASURES:
        data, labels = _inputs(study, ri=ri, ni=ni)
        y, v = correlations(code, *data.values(), vtype, labels, collected)
    elif code in RATE_MEASURES:
        data, labels = _inputs(study, xi=xi, ti=ti)
        y, v, corrected = one_group_rates(code, *data.values(), add, to, labels)
    elif code in RATE_PAIR_MEASURES:
        data, labels = _inputs(study, x1i=x1i, t1i=t1i, x2i=x2i, t2i=t2i)
        y, v, corrected = two_group_rates(code, *data.values(), add, to, drop00, labels, collected)
    else:
        raise ValueError(
            f"measure {measure!r} needs generic input: yi with vi or sei, or estimate with "
            "ci_lower and ci_upper"
        )
    y, v = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    if corrected is None:
        corrected = np.zeros(y.shape[0], dtype=bool)
    labels = study_labels(study, y.shape[0])
    undefined = ~(np.isfinite(y) & np.isfinite(v) & (v >= 0))
    y, v = np.where(undefined, np.nan, y), np.where(undefined, np.nan, v)
    if corrected.any():
        names = ", ".join(np.asarray(labels, dtype=object)[corrected])
        warn(
            SparseDataWarning,
            f"Continuity correction of {add:g} added to {_CORRECTED_CELLS.get(code, 'all cells')}"
            f" of: {names}.",
            collected,
        )
    if undefined.any():
        names = ", ".join(np.asarray(labels, dtype=object)[undefined])
        warn(
            DroppedStudiesWarning,
            f"Effect size or variance undefined (left out of fits): {names}.",
            collected,
        )
    return EffectSizes(
        measure=code,
        yi=y,
        vi=v,
        study=labels,
        data=data,
        corrected=corrected,
        add=float(add),
        to=to,
        drop00=bool(drop00),
        vtype=vtype,
        warnings=tuple(collected),
    )
