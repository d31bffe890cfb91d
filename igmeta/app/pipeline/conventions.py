"""Why tools disagree: the conventions of metafor, RevMan 5, RevMan Web and R's meta.

Different meta-analysis programs give different numbers for the same data, not because
one of them is wrong but because each follows its own documented rules for a handful of
choices. This module writes those rules down as :class:`Convention` presets, recomputes
an analysis under each preset with the engine (:func:`apply_convention`), and names the
rule(s) behind every difference (:func:`compare_conventions`).

Rules covered (the ``Convention`` fields):

``tau2_method``
    Between-study variance estimator (``"REML"``, ``"DL"``).
``random_ci``
    Confidence interval of the random-effects mean: ``"z"`` (Wald), ``"HK"``
    (Hartung-Knapp-Sidik-Jonkman, t(k-1) with the variance scaled by ``s2w``) or
    ``"HK-adhoc"`` (Knapp and Hartung's 2003 ad hoc rule: ``s2w`` truncated at 1, so the
    interval is never narrower than the Wald one's variance; :func:`knapp_hartung_se`).
``prediction``
    Prediction interval ``mu +/- crit sqrt(se^2 + tau^2)`` with ``crit`` from the normal,
    t(k-1) or t(k-2) distribution, or ``"none"`` (:func:`prediction_interval`).
``i2``
    I^2 from Cochran's Q (``max(0, (Q - df)/Q)``, :func:`i2_from_q`), from tau^2
    (``tau^2/(tau^2 + vt)``, :func:`i2_from_tau2`), or metafor's rule: from tau^2 for
    random-effects fits and from Q for common-effect fits (``"tau2-if-random"``).
``mh_zero_cells``
    Zero cells inside Mantel-Haenszel sums: ``"metafor"`` (raw counts) or ``"revman"``
    (0.5 added to every cell of a table with a zero cell; double-zero tables left out
    for OR/RR), see :func:`igmeta.mantel_haenszel.meta_analysis_mh`.
``rr_zero_cell_n``
    Study-level risk ratio of a table with a zero cell: ``"2*add"`` (0.5 added to every
    cell, so n grows by 1: metafor's escalc, RevMan 5) or ``"1*add"`` (0.5 added to the
    events and to n: R meta's default ``RR.Cochrane = FALSE``).
``double_zero``
    Inverse-variance OR/RR: tables without events (or with only events) in both groups
    ``"keep"`` (corrected, metafor's escalc default ``drop00 = FALSE``) or ``"drop"``.
``mh_random_tau2``
    Random effects after choosing Mantel-Haenszel: ``"MH-centred DL"`` (DerSimonian-Laird
    tau^2 from the Q statistic centred on the MH estimate, :func:`tau2_dl_from_q`: RevMan 5
    and meta's ``Q.Cochrane = TRUE``) or ``"IV"`` (the preset's tau^2 estimator on the
    study-level effects).
``logit_proportions``
    Pooling of logit proportions: ``"IV"`` (inverse variance) or ``"GLMM"`` (the
    binomial-normal model, :func:`igmeta.glmm.meta_analysis_glmm`).
``ft_backtransform``
    Freeman-Tukey back-transform: ``"harmonic"`` (Miller 1978 with the harmonic mean of
    the n_i; every tool here). :func:`proportion_comparison` shows what other choices of
    n would give.

Facts behind the presets, with their sources, are in each preset's ``sources`` and, where
they could not be confirmed, ``unverified`` (see :data:`PRESETS`).

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat
Softw 36(3). doi:10.18637/jss.v036.i03
Balduzzi S, Rucker G, Schwarzer G (2019). How to perform a meta-analysis with R: a
practical tutorial. Evid Based Ment Health 22:153-160. doi:10.1136/ebmental-2019-300117
Higgins JPT, Green S (eds) (2011). Cochrane Handbook 5.1, section 9.4.4.
Knapp G, Hartung J (2003). Stat Med 22:2693-2710. doi:10.1002/sim.1482
Higgins JPT, Thompson SG, Spiegelhalter DJ (2009). J R Stat Soc A 172:137-159.
doi:10.1111/j.1467-985X.2008.00552.x
Schwarzer G, Chemaitelly H, Abu-Raddad LJ, Rucker G (2019). Seriously misleading results
using inverse of Freeman-Tukey double arcsine transformation in meta-analysis of single
proportions. Res Synth Methods 10:476-483. doi:10.1002/jrsm.1348
Miller JJ (1978). The inverse of the Freeman-Tukey double arcsine transformation. Am Stat
32:138. doi:10.1080/00031305.1978.10479283
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from igmeta import formulas
from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.design import InterceptDesign
from igmeta.effects import effect_sizes, measure_info
from igmeta.estimators import Tau2Estimate
from igmeta.glmm import meta_analysis_glmm
from igmeta.kernel import fit_batch, normalise_level
from igmeta.mantel_haenszel import meta_analysis_mh, meta_analysis_peto
from igmeta.transforms import back_transform, interval_back_transform

__all__ = [
    "BASELINE",
    "COMMON_EFFECT",
    "FT_N_RATIO",
    "MATERIAL_DIFFERENCE_PP",
    "PRESETS",
    "RULE_LABELS",
    "Convention",
    "ConventionResult",
    "ProportionComparison",
    "apply_convention",
    "compare_conventions",
    "estimates_tau2",
    "i2_from_q",
    "i2_from_tau2",
    "knapp_hartung_se",
    "prediction_interval",
    "proportion_comparison",
    "q_statistic",
    "tau2_dl_from_q",
]

#: Pooled shares that differ by more than this many percentage points between methods
#: are flagged as a material disagreement.
MATERIAL_DIFFERENCE_PP = 5.0
#: The Freeman-Tukey back-transform is flagged when max(n_i)/min(n_i) exceeds this ratio
#: (Schwarzer et al. 2019 show seriously misleading back-transforms when study sizes
#: differ widely; the threshold is this app's rule of thumb, not theirs).
FT_N_RATIO = 10.0

# ---------------------------------------------------------------------------------------
# Small pure rules
# ---------------------------------------------------------------------------------------


def q_statistic(yi, vi, centre: float) -> float:
    """Cochran's Q around ``centre``: ``sum (y_i - centre)^2 / v_i``."""
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    return float(np.sum((yi - centre) ** 2 / vi))


def i2_from_q(q: float, df: float) -> float:
    """I^2 (%) from Q (Higgins and Thompson 2002): ``max(0, 100 (Q - df)/Q)``; 0 if df < 1."""
    if df < 1 or not q > 0:
        return 0.0
    return float(formulas.i2_from_q(q, df))


def i2_from_tau2(tau2: float, vt: float) -> float:
    """I^2 (%) from tau^2: ``100 tau^2 / (tau^2 + vt)`` with ``vt`` the typical variance."""
    if not np.isfinite(vt) or tau2 + vt <= 0:
        return 0.0
    return float(formulas.i2_from_tau2(tau2, vt))


def tau2_dl_from_q(q: float, wi) -> float:
    """DerSimonian-Laird tau^2 from a given Q: ``max(0, (Q - (k-1)) / (sum w - sum w^2/sum w))``.

    With Q centred on the Mantel-Haenszel estimate this is RevMan 5's random-effects
    tau^2 after choosing Mantel-Haenszel (meta's ``Q.Cochrane = TRUE``).
    """
    w = np.asarray(wi, dtype=float)
    k = w.size
    c = float(np.sum(w) - np.sum(w**2) / np.sum(w)) if k else 0.0
    if k < 2 or c <= 0:
        return 0.0
    return float(max(0.0, (q - (k - 1)) / c))


def knapp_hartung_se(se_z: float, s2w: float, *, adhoc: bool) -> float:
    """Hartung-Knapp standard error ``se_z sqrt(s2w)``; with ``adhoc``, ``s2w`` is truncated at 1.

    ``se_z`` is the usual random-effects standard error ``1/sqrt(sum w)``; ``s2w =
    sum w (y - mu)^2 / (k - 1)``. The ad hoc rule (Knapp and Hartung 2003) uses
    ``max(1, s2w)`` so that the interval is never based on a smaller variance than the
    Wald interval (meta's ``adhoc.hakn.ci = "se"``).
    """
    factor = max(1.0, s2w) if adhoc else s2w
    return float(se_z * np.sqrt(factor))


def prediction_interval(
    estimate: float, se: float, tau2: float, k: int, distribution: str, level: float = 0.95
) -> tuple[float, float]:
    """Prediction interval ``estimate +/- crit sqrt(se^2 + tau^2)``.

    Parameters
    ----------
    distribution : {"z", "t(k-1)", "t(k-2)", "none"}
        Normal quantile (metafor with a z-test), t with k - 1 df (metafor with knha; R meta
        >= 8.0 ``method.predict = "V"``), t with k - 2 df (Higgins et al. 2009; R meta
        <= 7.0 ``"HTS"``), or no interval (NaN, NaN). The t versions need k - 1 (or k - 2)
        >= 1, else NaN.
    """
    level = normalise_level(level)
    if distribution == "none":
        return float("nan"), float("nan")
    p = 0.5 + level / 2
    if distribution == "z":
        crit = float(special.ndtri(p))
    elif distribution in ("t(k-1)", "t(k-2)"):
        df = k - (1 if distribution == "t(k-1)" else 2)
        if df < 1:
            return float("nan"), float("nan")
        crit = float(special.stdtrit(df, p))
    else:
        raise ValueError(f"unknown prediction distribution {distribution!r}")
    half = float(formulas.prediction_half_width(crit, se, tau2))
    return estimate - half, estimate + half


# ---------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Convention:
    """A named set of rules that decide a meta-analysis' numbers (see the module docstring).

    Attributes
    ----------
    name : str
        Preset name.
    description : str
        One line on what the preset reproduces.
    tau2_method, random_ci, prediction, i2, mh_zero_cells, rr_zero_cell_n, double_zero,
    mh_random_tau2, logit_proportions, ft_backtransform : str
        The rules.
    prediction_shown : bool
        Whether the tool reports the prediction interval by default (it is computed
        either way).
    sources : tuple of str
        Where each rule was checked.
    unverified : tuple of str
        Rules assumed without a source that confirms them.
    """

    name: str
    description: str
    tau2_method: str = "REML"
    random_ci: str = "z"
    prediction: str = "z"
    i2: str = "tau2-if-random"
    mh_zero_cells: str = "metafor"
    rr_zero_cell_n: str = "2*add"
    double_zero: str = "keep"
    mh_random_tau2: str = "IV"
    logit_proportions: str = "IV"
    ft_backtransform: str = "harmonic"
    prediction_shown: bool = True
    sources: tuple[str, ...] = ()
    unverified: tuple[str, ...] = ()

    def rules(self) -> dict[str, str]:
        """The rule values by name (the fields listed in :data:`RULE_LABELS`)."""
        return {name: getattr(self, name) for name in RULE_LABELS}

    def with_rules(self, **changes: str) -> Convention:
        """A copy with some rules changed."""
        return replace(self, **changes)


#: Rule names in display order, with their plain-English labels.
RULE_LABELS: dict[str, str] = {
    "tau2_method": "tau\u00b2 estimator",
    "random_ci": "confidence interval of the random-effects mean",
    "prediction": "prediction interval",
    "i2": "I\u00b2 definition",
    "mh_zero_cells": "zero cells inside Mantel-Haenszel",
    "rr_zero_cell_n": "continuity correction of study risk ratios",
    "double_zero": "double-zero studies (inverse variance)",
    "mh_random_tau2": "tau\u00b2 after choosing Mantel-Haenszel",
    "logit_proportions": "pooling of logit proportions",
    "ft_backtransform": "Freeman-Tukey back-transform",
}

_VALUE_TEXT: dict[str, dict[str, str]] = {
    "tau2_method": {"REML": "REML", "DL": "DerSimonian-Laird"},
    "random_ci": {"z": "normal (Wald)", "HK": "Hartung-Knapp (t, k-1)",
                  "HK-adhoc": "Hartung-Knapp with s2w truncated at 1"},
    "prediction": {"z": "normal quantile", "t(k-1)": "t with k-1 df",
                   "t(k-2)": "t with k-2 df", "none": "not computed"},
    "i2": {"Q": "from Q", "tau2": "from tau\u00b2",
           "tau2-if-random": "from tau\u00b2 (random effects) / Q (common effect)"},
    "mh_zero_cells": {"metafor": "raw counts", "revman": "0.5 added to every cell"},
    "rr_zero_cell_n": {"2*add": "0.5 per cell (n + 1)", "1*add": "0.5 to events and to n"},
    "double_zero": {"keep": "kept with 0.5 per cell", "drop": "left out"},
    "mh_random_tau2": {"IV": "estimated from the study effects",
                       "MH-centred DL": "DerSimonian-Laird from Q around the MH estimate"},
    "logit_proportions": {"IV": "inverse variance", "GLMM": "GLMM (binomial-normal)"},
    "ft_backtransform": {"harmonic": "harmonic mean of n"},
}  # fmt: skip

_METAFOR = Convention(
    name="metafor",
    description="R metafor 3.8-1 defaults (rma, rma.mh, escalc): the engine's reference.",
    sources=(
        "metafor 3.8-1 rma.uni: method = 'REML', test = 'z' (Viechtbauer 2010, "
        "doi:10.18637/jss.v036.i03); read from the installed package source.",
        "escalc: add = 1/2, to = 'only0', drop00 = FALSE (0.5 added to every cell of a "
        "table with a zero cell, double-zero tables kept).",
        "rma.mh: the MH sums use the raw counts; 0.5 is added only to the study-level "
        "values (shared/oracle README; igmeta.mantel_haenszel).",
        "I\u00b2 = 100 tau\u00b2/(tau\u00b2 + vt) for random-effects fits, from Q for "
        "common-effect fits; predict.rma: normal quantile with test = 'z', t(k-p) with "
        "'knha' (igmeta.kernel, checked against the oracle).",
        "Freeman-Tukey back-transform: transf.ipft.hm (harmonic mean of ni).",
    ),
)

_REVMAN5 = Convention(
    name="RevMan 5",
    description="Cochrane Review Manager 5 (up to 2023).",
    tau2_method="DL",
    prediction="none",
    prediction_shown=False,
    i2="Q",
    mh_zero_cells="revman",
    double_zero="drop",
    mh_random_tau2="MH-centred DL",
    sources=(
        "Cochrane Handbook 5.1, section 9.4.4: RevMan automatically adds 0.5 to each cell "
        "of the 2x2 table of a study with a zero cell "
        "(handbook-5-1.cochrane.org/chapter_9/9_4_4_0_introductory_text.htm).",
        "R meta settings.meta('RevMan5') (meta source, R/settings.meta.R): method.tau = "
        "'DL' and method.random.ci = 'classic' ('only available method in RevMan 5'), "
        "method.I2 = 'Q' ('only available method in RevMan 5'), MH.exact = FALSE, "
        "RR.Cochrane = TRUE, Q.Cochrane = TRUE, prediction = FALSE.",
        "R meta meta-package.R: with Q.Cochrane = TRUE the heterogeneity statistic Q is "
        "based on the Mantel-Haenszel estimate, 'the estimator for tau\u00b2 implemented "
        "in RevMan 5'.",
        "Double-zero studies are left out of OR/RR (igmeta.mantel_haenszel 'revman'; meta "
        "allstudies = FALSE).",
    ),
    unverified=(
        "Deeks & Higgins, 'Statistical algorithms in Review Manager 5' was not read "
        "directly; the RevMan 5 rules come from the Handbook and meta's RevMan5 preset.",
        "RevMan 5 has no single-proportion analysis: for proportions this row applies its "
        "generic inverse-variance rules to the same effect sizes.",
    ),
)

_REVMAN_WEB = Convention(
    name="RevMan Web (2024+)",
    description="Cochrane RevMan with the random-effects methods implemented in 2024-25.",
    tau2_method="REML",
    random_ci="HK",
    prediction="t(k-1)",
    i2="tau2",
    mh_zero_cells="revman",
    double_zero="drop",
    mh_random_tau2="IV",
    sources=(
        "Cochrane Methods, 'Random-effects meta-analysis methods for Intervention "
        "Reviews' (methods.cochrane.org/methods-cochrane/random-effects-meta-analysis-"
        "methods-intervention-reviews): REML for tau\u00b2, Q-profile CI for tau\u00b2, "
        "Hartung-Knapp-Sidik-Jonkman CI, prediction intervals 'using the t-distribution "
        "or the normal distribution'; addendum May 2024: I\u00b2 computed from tau\u00b2; "
        "implemented in RevMan January 2025.",
        "Cochrane community news 'Embracing new random-effects methods for systematic "
        "reviews of interventions'.",
    ),
    unverified=(
        "Which of the new methods are switched on by default (assumed: REML, HKSJ and the "
        "prediction interval all on).",
        "The prediction interval's distribution (assumed t with k-1 df and the HKSJ "
        "standard error, as metafor's rma(test = 'knha')).",
        "Whether the HKSJ variance is truncated (assumed: not truncated).",
        "Zero-cell handling and double-zero exclusion (assumed unchanged from RevMan 5).",
        "I\u00b2 from tau\u00b2 also for common-effect analyses (assumed, with REML tau\u00b2).",
    ),
)

_META = Convention(
    name="R meta defaults",
    description="R package meta (version 8.x) defaults: metabin, metaprop, metagen.",
    tau2_method="REML",
    prediction="t(k-1)",
    prediction_shown=False,
    i2="Q",
    mh_zero_cells="revman",
    rr_zero_cell_n="1*add",
    double_zero="drop",
    mh_random_tau2="IV",
    logit_proportions="GLMM",
    sources=(
        "meta source R/settings.meta.R (reset values): method.tau = 'REML', "
        "method.random.ci = 'classic', method.I2 = 'Q', prediction = FALSE, "
        "method.predict = 'V', incr = 0.5, method.incr = 'only0', MH.exact = FALSE, "
        "RR.Cochrane = FALSE, Q.Cochrane = TRUE, allstudies = FALSE, smprop = 'PLOGIT'.",
        "meta R/metabin.R: with MH.exact = FALSE the increment is added to every cell "
        "inside the MH sums (OR and RR, n + 2 incr); with RR.Cochrane = FALSE a zero-cell "
        "risk ratio is (a + incr)/(n1 + incr) over (c + incr)/(n2 + incr).",
        "meta R/metaprop.R: the GLMM (random-intercept logistic regression via "
        "metafor::rma.glmm) is the default method for the logit transformation, without "
        "continuity correction; Freeman-Tukey back-transformed with the harmonic mean "
        "(Schwarzer et al. 2019, doi:10.1002/jrsm.1348).",
        "settings.meta('meta7') restores method.predict = 'HTS' (t with k-2 df): meta 7.0 "
        "and earlier used k-2.",
    ),
    unverified=(
        "method.predict = 'V' meaning t with k-1 df is taken from meta 8.0-0's NEWS as "
        "quoted in a secondary source; the meta source confirms only that the default "
        "changed from 'HTS' (k-2).",
        "For GLMMs meta's I\u00b2 is computed here from the Wald-type Q of rma.glmm.",
    ),
)

#: The four presets by name.
PRESETS: dict[str, Convention] = {c.name: c for c in (_METAFOR, _REVMAN5, _REVMAN_WEB, _META)}
#: The preset every other one is compared with (the engine's reference).
BASELINE = "metafor"


# ---------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConventionResult:
    """An analysis recomputed under one convention.

    Attributes
    ----------
    preset : str
    measure : str
    method : str
        Plain-English description of the model that was fitted.
    k : int
        Studies in the pooled estimate.
    estimate, se, ci_lower, ci_upper, pval : float
        On the analysis scale (log scale for ratios, logit for GLMM proportions...).
    pi_lower, pi_upper : float
        Prediction interval (NaN for common-effect fits or when the tool has none).
    prediction_shown : bool
        Whether the tool shows the prediction interval by default.
    tau2, q, i2 : float
        Between-study variance, the Q statistic the preset reports, I^2 (%).
    transform : str
        Back-transform to the natural scale.
    transform_ni : ndarray or None
        Study sizes for the Freeman-Tukey back-transform.
    rules : mapping
        The preset's rules.
    notes : tuple of str
    error : str or None
        Why there is no result.
    """

    preset: str
    measure: str
    method: str
    k: int
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pval: float
    pi_lower: float
    pi_upper: float
    prediction_shown: bool
    tau2: float
    q: float
    i2: float
    transform: str
    transform_ni: np.ndarray | None = None
    rules: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when a pooled result exists."""
        return self.error is None

    def back_transformed(self) -> dict[str, float]:
        """Estimate, CI and PI on the natural scale (bounds ordered)."""
        ni = self.transform_ni
        est = float(back_transform(self.estimate, self.transform, ni))
        lo, hi = interval_back_transform(self.ci_lower, self.ci_upper, self.transform, ni)
        plo, phi = interval_back_transform(self.pi_lower, self.pi_upper, self.transform, ni)
        return {"estimate": est, "ci_lower": float(lo), "ci_upper": float(hi),
                "pi_lower": float(plo), "pi_upper": float(phi)}  # fmt: skip

    def headline(self) -> np.ndarray:
        """(estimate, ci_lower, ci_upper, pi_lower, pi_upper, i2, tau2) for comparisons."""
        return np.array([self.estimate, self.ci_lower, self.ci_upper, self.pi_lower,
                         self.pi_upper, self.i2, self.tau2], dtype=float)  # fmt: skip


def _failed(preset: str, settings: AnalysisSettings, error: str) -> ConventionResult:
    nan = float("nan")
    return ConventionResult(preset, settings.measure, "", 0, nan, nan, nan, nan, nan, nan,
                            nan, False, nan, nan, nan, "none", error=error)  # fmt: skip


# ---------------------------------------------------------------------------------------
# Data of one analysis
# ---------------------------------------------------------------------------------------


@dataclass
class _Data:
    """The analysable rows of a (table, settings) pair, plus a cache for GLMM fits."""

    settings: AnalysisSettings
    kind: str  # "comparison", "single_arm" or "effects"
    labels: list[str]
    counts: dict[str, np.ndarray]
    effects: Any
    error: str | None = None
    cache: dict[str, Any] = field(default_factory=dict)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].to_numpy(dtype=float)


def _prepare(table: pd.DataFrame, settings: AnalysisSettings) -> _Data:
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        bundle = run_analysis(table, settings)
    kind = settings.analysis if settings.analysis in ("comparison", "single_arm") else "effects"
    if bundle.effects is None or bundle.result is None:
        return _Data(settings, kind, [], {}, None, error=bundle.error or "No result.")
    numeric = bundle.validation.numeric.iloc[bundle.used_rows].reset_index(drop=True)
    labels = list(bundle.effects.study)
    counts: dict[str, np.ndarray] = {}
    if kind == "comparison":
        counts = {name: _column(numeric, name) for name in ("ai", "n1i", "ci", "n2i")}
    elif kind == "single_arm":
        xi, ni = ("xi", "ni") if "xi" in numeric else ("ai", "n1i")
        counts = {"xi": _column(numeric, xi), "ni": _column(numeric, ni)}
    return _Data(settings, kind, labels, counts, bundle.effects)


# ---------------------------------------------------------------------------------------
# Fitting under a convention
# ---------------------------------------------------------------------------------------


def _binary_effects(measure: str, d: _Data, conv: Convention) -> tuple[np.ndarray, ...]:
    """Study-level effects under the preset's zero-cell rules: (yi, vi, fitted mask)."""
    a, n1, c, n2 = (d.counts[k] for k in ("ai", "n1i", "ci", "n2i"))
    b, dd = n1 - a, n2 - c
    double = ((a == 0) & (c == 0)) | ((b == 0) & (dd == 0))
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        es = effect_sizes(measure, ai=a, bi=b, ci=c, di=dd, add=0.5, to="only0", drop00=False)
    yi, vi = es.yi.copy(), es.vi.copy()
    if measure == "RR" and conv.rr_zero_cell_n == "1*add":
        zero = (a == 0) | (b == 0) | (c == 0) | (dd == 0)
        inc = np.where(zero, 0.5, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            y_meta = np.log((a + inc) / (n1 + inc)) - np.log((c + inc) / (n2 + inc))
            v_meta = 1 / (a + inc) - 1 / (n1 + inc) + 1 / (c + inc) - 1 / (n2 + inc)
        yi, vi = np.where(zero, y_meta, yi), np.where(zero, v_meta, vi)
    keep = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    if measure in ("OR", "RR") and conv.double_zero == "drop":
        keep &= ~double
    return yi, vi, keep, double


def _iv(yi, vi, conv: Convention, model: str, level: float,
        tau2_fixed: float | None = None) -> dict[str, float]:  # fmt: skip
    """Inverse-variance pooling with the preset's tau^2, CI and PI rules."""
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    k = yi.size
    design = InterceptDesign(yi, vi)
    random = model == "random"
    test = "knha" if random and conv.random_ci in ("HK", "HK-adhoc") and k >= 2 else "z"
    method = conv.tau2_method if random else "FE"
    given = None
    if random and tau2_fixed is not None:
        method = "DL"
        given = Tau2Estimate(np.array([tau2_fixed]), np.array([np.nan]), np.array([True]),
                             np.array([0]))  # fmt: skip
    fit = fit_batch(design, method, test, level, tau2=given)
    est, se = float(fit.beta[0, 0]), float(fit.se[0, 0])
    tau2 = float(fit.tau2.tau2[0]) if random else 0.0
    s2w = float(fit.s2w[0])
    df = k - 1
    if test == "knha" and conv.random_ci == "HK-adhoc":
        se = knapp_hartung_se(se / np.sqrt(s2w), s2w, adhoc=True) if s2w > 0 else se
    p = 0.5 + normalise_level(level) / 2
    if test == "knha":
        crit = float(special.stdtrit(df, p))
        pval = float(2 * special.stdtr(df, -abs(est / se)))
    else:
        crit = float(special.ndtri(p))
        pval = float(2 * special.ndtr(-abs(est / se)))
    q = float(fit.q[0])
    vt = float(fit.vt[0])
    if random:
        pi = prediction_interval(est, se, tau2, k, conv.prediction, level)
    else:
        pi = (float("nan"), float("nan"))
    if conv.i2 == "tau2" and not random and k > 1:
        tau2_for_i2 = float(fit_batch(design, conv.tau2_method, "z", level).tau2.tau2[0])
        i2 = i2_from_tau2(tau2_for_i2, vt)
    elif conv.i2 == "tau2" or (conv.i2 == "tau2-if-random" and random):
        i2 = i2_from_tau2(tau2, vt) if k > 1 else 0.0
    else:
        i2 = i2_from_q(q, df)
    return {"estimate": est, "se": se, "ci_lower": est - crit * se, "ci_upper": est + crit * se,
            "pval": pval, "pi_lower": pi[0], "pi_upper": pi[1], "tau2": tau2, "q": q,
            "i2": i2, "k": k, "vt": vt}  # fmt: skip


def _result(d: _Data, conv: Convention, numbers: dict, method: str, measure: str,
            transform: str, ni=None, notes=()) -> ConventionResult:  # fmt: skip
    return ConventionResult(
        preset=conv.name,
        measure=measure,
        method=method,
        k=int(numbers["k"]),
        estimate=float(numbers["estimate"]),
        se=float(numbers["se"]),
        ci_lower=float(numbers["ci_lower"]),
        ci_upper=float(numbers["ci_upper"]),
        pval=float(numbers["pval"]),
        pi_lower=float(numbers["pi_lower"]),
        pi_upper=float(numbers["pi_upper"]),
        prediction_shown=conv.prediction_shown and np.isfinite(numbers["pi_lower"]),
        tau2=float(numbers["tau2"]),
        q=float(numbers["q"]),
        i2=float(numbers["i2"]),
        transform=transform,
        transform_ni=ni,
        rules=conv.rules(),
        notes=tuple(notes),
    )


#: Part of the method text of every common-effect fit (no tau² is estimated there).
COMMON_EFFECT = "common effect"


def estimates_tau2(method: str) -> bool:
    """Whether a fit described by ``method`` (a method text of this module) has a tau²."""
    return COMMON_EFFECT not in method


def _model_text(model: str, conv: Convention) -> str:
    if model != "random":
        return COMMON_EFFECT
    ci = {"z": "", "HK": ", Hartung-Knapp CI", "HK-adhoc": ", Hartung-Knapp CI (ad hoc)"}
    return f"random effects ({_VALUE_TEXT['tau2_method'][conv.tau2_method]}{ci[conv.random_ci]})"


def _comparison(d: _Data, conv: Convention) -> ConventionResult:
    s = d.settings
    measure, level, model = s.binary_measure, s.level, s.model
    transform = measure_info(measure).transform
    a, n1, c, n2 = (d.counts[k] for k in ("ai", "n1i", "ci", "n2i"))
    notes: list[str] = []
    if s.pooling == "PETO":
        zero = "revman" if conv.mh_zero_cells == "revman" else "metafor"
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            peto = meta_analysis_peto(ai=a, n1i=n1, ci=c, n2i=n2, zero_cells=zero, level=level)
        numbers = {"estimate": peto.estimate, "se": peto.se, "ci_lower": peto.ci_lower,
                   "ci_upper": peto.ci_upper, "pval": peto.pval, "pi_lower": np.nan,
                   "pi_upper": np.nan, "tau2": 0.0, "q": peto.q, "k": peto.k,
                   "i2": i2_from_q(peto.q, peto.q_df)}  # fmt: skip
        return _result(d, conv, numbers, f"Peto odds ratio ({COMMON_EFFECT})", "PETO", "exp")
    yi, vi, keep, double = _binary_effects(measure, d, conv)
    if not keep.any():
        raise ValueError("No study has a defined effect size under this convention.")
    if s.pooling != "MH":
        numbers = _iv(yi[keep], vi[keep], conv, model, level)
        return _result(d, conv, numbers, f"inverse variance, {_model_text(model, conv)}",
                       measure, transform, notes=notes)  # fmt: skip
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        mh = meta_analysis_mh(measure, ai=a, n1i=n1, ci=c, n2i=n2, level=level,
                              zero_cells=conv.mh_zero_cells)  # fmt: skip
    in_q = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    if measure in ("OR", "RR"):
        in_q &= ~double
    y_q, v_q = yi[in_q], vi[in_q]
    q_mh = q_statistic(y_q, v_q, mh.estimate)
    df = int(in_q.sum()) - 1
    if model != "random":
        numbers = {"estimate": mh.estimate, "se": mh.se, "ci_lower": mh.ci_lower,
                   "ci_upper": mh.ci_upper, "pval": mh.pval, "pi_lower": np.nan,
                   "pi_upper": np.nan, "tau2": 0.0, "q": q_mh, "k": mh.k}  # fmt: skip
        if conv.i2 == "tau2" and df >= 1:
            iv = _iv(yi[keep], vi[keep], conv, "common", level)
            numbers["i2"] = iv["i2"]
        else:
            numbers["i2"] = i2_from_q(q_mh, df)
        return _result(d, conv, numbers, f"Mantel-Haenszel ({COMMON_EFFECT})", measure,
                       transform, notes=notes)  # fmt: skip
    if conv.mh_random_tau2 == "MH-centred DL" and conv.tau2_method == "DL":
        tau2 = tau2_dl_from_q(q_mh, 1 / v_q)
        numbers = _iv(y_q, v_q, conv, "random", level, tau2_fixed=tau2)
        method = "random effects, DerSimonian-Laird tau\u00b2 from Q around the MH estimate"
    else:
        numbers = _iv(yi[keep], vi[keep], conv, "random", level)
        method = f"inverse variance, {_model_text('random', conv)} (no random-effects MH)"
    if conv.i2 == "Q":
        numbers["q"] = q_mh
        numbers["i2"] = i2_from_q(q_mh, df)
    return _result(d, conv, numbers, method, measure, transform, notes=notes)


def _glmm(d: _Data):
    key = "glmm"
    if key not in d.cache:
        try:
            with _warnings.catch_warnings():
                _warnings.simplefilter("ignore")
                d.cache[key] = meta_analysis_glmm(
                    "PLO",
                    xi=d.counts["xi"],
                    ni=d.counts["ni"],
                    study=d.labels,
                    level=d.settings.level,
                )
        except ValueError as exc:
            d.cache[key] = exc
    return d.cache[key]


def _logistic_common(x: np.ndarray, n: np.ndarray, level: float) -> dict[str, float]:
    """Common-effect logistic model: logit(sum x / sum n), se sqrt(1/sum x + 1/(sum n - sum x))."""
    sx, sn = float(np.sum(x)), float(np.sum(n))
    if sx <= 0 or sx >= sn:
        raise ValueError("No events (or only events): the pooled logit is infinite.")
    est = float(np.log(sx / (sn - sx)))
    se = float(np.sqrt(1 / sx + 1 / (sn - sx)))
    crit = float(special.ndtri(0.5 + normalise_level(level) / 2))
    return {"estimate": est, "se": se, "ci_lower": est - crit * se, "ci_upper": est + crit * se,
            "pval": float(2 * special.ndtr(-abs(est / se)))}  # fmt: skip


def _single_arm(d: _Data, conv: Convention) -> ConventionResult:
    s = d.settings
    measure, level, model = s.proportion_measure, s.level, s.model
    x, n = d.counts["xi"], d.counts["ni"]
    notes: list[str] = []
    if conv.name == "RevMan 5" or conv.name.startswith("RevMan Web"):
        notes.append("RevMan has no single-proportion analysis: its generic inverse-variance "
                     "rules are applied to the same effect sizes.")  # fmt: skip
    if measure == "PLO" and conv.logit_proportions == "GLMM":
        fit = _glmm(d)
        if isinstance(fit, Exception):
            raise ValueError(str(fit))
        if model == "random":
            numbers = {"estimate": fit.estimate, "se": fit.se, "ci_lower": fit.ci_lower,
                       "ci_upper": fit.ci_upper, "pval": fit.pval, "tau2": fit.tau2}  # fmt: skip
            pi = prediction_interval(fit.estimate, fit.se, fit.tau2, fit.k, conv.prediction,
                                     level)  # fmt: skip
            method = "GLMM (random-intercept logistic regression, ML, 7-point AGHQ)"
            if not fit.converged:
                notes.append("The GLMM fit may not have converged.")
        else:
            numbers = {**_logistic_common(x, n, level), "tau2": 0.0}
            pi = (float("nan"), float("nan"))
            method = f"GLMM ({COMMON_EFFECT} logistic regression)"
        q = fit.extra["QE.Wld"]
        i2 = fit.i2 if (conv.i2 != "Q" and model == "random") else i2_from_q(q, fit.k - 1)
        numbers.update({"pi_lower": pi[0], "pi_upper": pi[1], "q": q, "i2": i2, "k": fit.k})
        return _result(d, conv, numbers, method, "PLO", "ilogit", notes=notes)
    add = None if measure in ("PAS", "PFT") else 0.5
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        es = effect_sizes(measure, xi=x, ni=n, add=add, to="only0")
    ok = np.isfinite(es.yi) & np.isfinite(es.vi)
    numbers = _iv(es.yi[ok], es.vi[ok], conv, model, level)
    transform = measure_info(measure).transform
    ni = n if transform == "ipft.hm" else None
    return _result(d, conv, numbers, f"inverse variance, {_model_text(model, conv)}", measure,
                   transform, ni=ni, notes=notes)  # fmt: skip


def _effects(d: _Data, conv: Convention) -> ConventionResult:
    s = d.settings
    es = d.effects
    ok = np.isfinite(es.yi) & np.isfinite(es.vi)
    numbers = _iv(es.yi[ok], es.vi[ok], conv, s.model, s.level)
    info = measure_info(es.measure)
    transform = "exp" if s.analysis == "generic" and info.log_scale else info.transform
    return _result(d, conv, numbers, f"inverse variance, {_model_text(s.model, conv)}",
                   es.measure, transform)  # fmt: skip


def _evaluate(d: _Data, conv: Convention) -> ConventionResult:
    if d.error is not None:
        return _failed(conv.name, d.settings, d.error)
    try:
        if d.kind == "comparison":
            return _comparison(d, conv)
        if d.kind == "single_arm":
            return _single_arm(d, conv)
        return _effects(d, conv)
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError) as exc:
        return _failed(conv.name, d.settings, str(exc))


def _resolve(preset: str | Convention) -> Convention:
    if isinstance(preset, Convention):
        return preset
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {list(PRESETS)}")
    return PRESETS[preset]


def apply_convention(
    table: pd.DataFrame, settings: AnalysisSettings, preset: str | Convention
) -> ConventionResult:
    """Recompute the analysis of ``(table, settings)`` under a tool's conventions.

    Parameters
    ----------
    table : DataFrame
        Study table with canonical columns (as for
        :func:`igmeta.app.pipeline.analysis.run_analysis`).
    settings : AnalysisSettings
        The analysis (data type, measure, IV/MH/Peto pooling, common or random effects,
        level and row filters are kept; the preset decides tau^2 estimator, CI and PI
        method, I^2 definition and zero-cell handling).
    preset : str or Convention
        A name from :data:`PRESETS` or a custom :class:`Convention`.

    Returns
    -------
    ConventionResult
        Never raises for data problems: ``error`` says why there is no result.

    Notes
    -----
    Mantel-Haenszel with a random-effects model: metafor has no random-effects MH, so
    presets with ``mh_random_tau2 = "IV"`` fit the random-effects model to the
    study-level effects; RevMan 5 (``"MH-centred DL"``) computes Q around the MH estimate,
    ``tau^2 = max(0, (Q - df)/(sum w - sum w^2/sum w))`` and pools the study effects with
    weights ``1/(v_i + tau^2)``.
    """
    return _evaluate(_prepare(table, settings), _resolve(preset))


# ---------------------------------------------------------------------------------------
# Side by side, with the reasons
# ---------------------------------------------------------------------------------------


def _changed_parts(a: ConventionResult, b: ConventionResult) -> list[str]:
    ha, hb = a.headline(), b.headline()
    same = np.isclose(ha, hb, rtol=1e-9, atol=1e-12, equal_nan=True)
    parts = []
    if not same[:3].all():
        parts.append("estimate/CI")
    if not same[3:5].all():
        parts.append("prediction interval")
    if not same[5]:
        parts.append("I\u00b2")
    if not same[6]:
        parts.append("tau\u00b2")
    return parts


def _reasons(d: _Data, conv: Convention, base: Convention, res: ConventionResult,
             base_res: ConventionResult) -> list[str]:  # fmt: skip
    if not (res.ok and base_res.ok) or not _changed_parts(res, base_res):
        return []
    differing = [r for r in RULE_LABELS if getattr(conv, r) != getattr(base, r)]
    reasons = []
    for rule in differing:
        alt = _evaluate(d, conv.with_rules(**{rule: getattr(base, rule)}))
        if not alt.ok:
            continue
        parts = _changed_parts(res, alt)
        if parts:
            reasons.append(
                f"{RULE_LABELS[rule]}: {_VALUE_TEXT[rule][getattr(conv, rule)]} (vs "
                f"{_VALUE_TEXT[rule][getattr(base, rule)]}) changes {', '.join(parts)}"
            )
    if not reasons and differing:
        names = ", ".join(RULE_LABELS[r] for r in differing)
        reasons.append(f"the combination of: {names}")
    return reasons


def _current_reasons(settings: AnalysisSettings) -> list[str]:
    base = AnalysisSettings()
    out = []
    if settings.model == "random" and settings.tau2_method != base.tau2_method:
        out.append(f"tau\u00b2 estimator {settings.tau2_method} (metafor default REML)")
    if settings.model == "random" and settings.test != "z":
        out.append("Hartung-Knapp CI and t(k-1) prediction interval (metafor default z)")
    if (
        settings.analysis == "comparison"
        and settings.pooling in ("MH", "PETO")
        and (settings.zero_cells != "metafor")
    ):
        out.append(f"zero cells: {settings.zero_cells} convention (metafor default: raw "
                   "counts in the MH/Peto sums)")  # fmt: skip
    if (settings.add, settings.to, settings.drop00) != (base.add, base.to, base.drop00):
        out.append(f"continuity correction add={settings.add:g}, to={settings.to}, "
                   f"drop00={settings.drop00}")  # fmt: skip
    return out


def _current_method(settings: AnalysisSettings) -> str:
    if settings.analysis == "comparison" and settings.pooling == "MH":
        return f"Mantel-Haenszel ({COMMON_EFFECT}), this app"
    if settings.analysis == "comparison" and settings.pooling == "PETO":
        return f"Peto odds ratio ({COMMON_EFFECT}), this app"
    if settings.model != "random":
        return f"inverse variance, {COMMON_EFFECT}, this app"
    ci = ", Hartung-Knapp CI" if settings.test == "knha" else ""
    return f"inverse variance, random effects ({settings.tau2_method}{ci}), this app"


def compare_conventions(
    table: pd.DataFrame, settings: AnalysisSettings, *, include_current: bool = True
) -> pd.DataFrame:
    """Run every preset side by side and name the rule(s) behind each difference.

    Parameters
    ----------
    table, settings
        As for :func:`apply_convention`.
    include_current : bool
        Add a first row with the app's own result for the current settings.

    Returns
    -------
    DataFrame
        One row per preset (after ``"Current settings"`` if requested), columns:
        ``preset``, ``method``, ``k``, ``estimate``, ``ci_lower``, ``ci_upper``,
        ``pi_lower``, ``pi_upper`` (natural scale: ratios exponentiated, proportions
        back-transformed), ``pi_shown`` (the tool shows the PI by default), ``pval``,
        ``tau2`` (NaN for common-effect fits, which estimate none), ``i2`` (%),
        ``estimate_model``, ``ci_lower_model``, ``ci_upper_model``
        (analysis scale), ``differs`` (any headline number differs from the metafor
        preset), ``reasons`` (the rules that, switched back to metafor's value one at a
        time, change the numbers; "" when nothing differs), ``error``.

    Notes
    -----
    Attribution is one rule at a time: for a preset P and each rule where P differs from
    metafor, P is recomputed with that rule set to metafor's value; the rule is named
    when that changes the estimate/CI, the prediction interval, I^2 or tau^2. If no single
    rule changes anything although the results differ, the differing rules are named
    together.
    """
    d = _prepare(table, settings)
    base = PRESETS[BASELINE]
    results = {name: _evaluate(d, conv) for name, conv in PRESETS.items()}
    rows = []
    if include_current:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            bundle = run_analysis(table, settings)
        res = bundle.result
        if res is not None:
            bt = res.back_transformed()
            rows.append({
                "preset": "Current settings", "method": _current_method(settings), "k": res.k,
                **bt, "pi_shown": bool(settings.show_prediction and np.isfinite(res.pi_lower)),
                "pval": res.pval, "tau2": res.tau2, "i2": res.i2,
                "estimate_model": res.estimate, "ci_lower_model": res.ci_lower,
                "ci_upper_model": res.ci_upper,
                "differs": not np.allclose(
                    [res.estimate, res.ci_lower, res.ci_upper],
                    results[BASELINE].headline()[:3], rtol=1e-9, atol=1e-12, equal_nan=True),
                "reasons": "; ".join(_current_reasons(settings)), "error": None,
            })  # fmt: skip
    for name, res in results.items():
        if not res.ok:
            rows.append({"preset": name, "method": "", "k": 0, "estimate": np.nan,
                         "ci_lower": np.nan, "ci_upper": np.nan, "pi_lower": np.nan,
                         "pi_upper": np.nan, "pi_shown": False, "pval": np.nan,
                         "tau2": np.nan, "i2": np.nan, "estimate_model": np.nan,
                         "ci_lower_model": np.nan, "ci_upper_model": np.nan,
                         "differs": False, "reasons": "", "error": res.error})  # fmt: skip
            continue
        reasons = [] if name == BASELINE else _reasons(d, PRESETS[name], base, res,
                                                       results[BASELINE])  # fmt: skip
        differs = name != BASELINE and bool(_changed_parts(res, results[BASELINE]))
        rows.append({"preset": name, "method": res.method, "k": res.k,
                     **res.back_transformed(), "pi_shown": res.prediction_shown,
                     "pval": res.pval, "tau2": res.tau2, "i2": res.i2,
                     "estimate_model": res.estimate, "ci_lower_model": res.ci_lower,
                     "ci_upper_model": res.ci_upper, "differs": differs,
                     "reasons": "; ".join(reasons), "error": None})  # fmt: skip
    for row in rows:
        if row["method"] and not estimates_tau2(row["method"]):
            row["tau2"] = np.nan
    columns = ["preset", "method", "k", "estimate", "ci_lower", "ci_upper", "pi_lower",
               "pi_upper", "pi_shown", "pval", "tau2", "i2", "estimate_model",
               "ci_lower_model", "ci_upper_model", "differs", "reasons", "error"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


# ---------------------------------------------------------------------------------------
# Proportions: GLMM, logit, arcsine, Freeman-Tukey, raw side by side
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProportionComparison:
    """The pooled share under five methods, with warnings where they disagree.

    Attributes
    ----------
    frame : DataFrame
        Columns ``method``, ``measure``, ``estimate``, ``ci_lower``, ``ci_upper``,
        ``pi_lower``, ``pi_upper`` (proportions, 0-1), ``k``, ``note``. The Freeman-Tukey
        rows include the back-transform at the smallest and largest study size (the
        sensitivity analysis Schwarzer et al. 2019 recommend).
    spread_pp : float
        Largest minus smallest pooled share of the five main methods, in percentage
        points.
    n_ratio : float
        max(n_i) / min(n_i).
    warnings : tuple of str
        Plain-English warnings (see :data:`MATERIAL_DIFFERENCE_PP`, :data:`FT_N_RATIO`).
    """

    frame: pd.DataFrame
    spread_pp: float
    n_ratio: float
    warnings: tuple[str, ...] = ()


def proportion_comparison(table: pd.DataFrame, settings: AnalysisSettings) -> ProportionComparison:
    """Pool the share of events with a GLMM and with IV on four scales, side by side.

    The model (common or random effects), tau^2 estimator, test and level come from
    ``settings``; the data are the single-arm proportions (for 2x2 data, the treatment
    arms). IV pooling uses metafor's escalc (0.5 added to studies with 0 or n events for
    PR/PLO; none for PAS/PFT); the GLMM uses the exact counts.

    Rules for the warnings (this app's, documented here): the five pooled shares differ
    by more than :data:`MATERIAL_DIFFERENCE_PP` percentage points; or max(n_i)/min(n_i) >
    :data:`FT_N_RATIO`, where the Freeman-Tukey back-transform with a single (harmonic
    mean) n can mislead (Schwarzer et al. 2019).
    """
    s = (
        settings.with_changes(analysis="single_arm")
        if settings.analysis != "single_arm"
        else (settings)
    )
    d = _prepare(table, s)
    if s.method == "GENQ":
        d = replace(
            d,
            error="Not available with the GENQ estimator: its user weights belong to the "
            "analysis' own effect sizes, not to the five ways of pooling proportions here; "
            "choose another tau\u00b2 estimator to compare them.",
        )
    if d.error is not None or "xi" not in d.counts:
        empty = pd.DataFrame(columns=["method", "measure", "estimate", "ci_lower", "ci_upper",
                                      "pi_lower", "pi_upper", "k", "note"])  # fmt: skip
        return ProportionComparison(empty, float("nan"), float("nan"),
                                    (d.error or "No proportions to pool.",))  # fmt: skip
    conv = PRESETS[BASELINE].with_rules(
        tau2_method=s.tau2_method,
        random_ci="HK" if s.test == "knha" else "z",
        prediction="t(k-1)" if s.test == "knha" else "z",
    )
    rows = []
    specs = [("GLMM (logit, binomial-normal)", "PLO", "GLMM"),
             ("Logit (inverse variance)", "PLO", "IV"),
             ("Arcsine (inverse variance)", "PAS", "IV"),
             ("Freeman-Tukey (harmonic-mean back-transform)", "PFT", "IV"),
             ("Raw proportions (inverse variance)", "PR", "IV")]  # fmt: skip
    main: list[float] = []
    n = d.counts["ni"]
    for label, measure, how in specs:
        d.settings = s.with_changes(proportion_measure=measure)
        res = _evaluate(d, conv.with_rules(logit_proportions=how))
        if not res.ok:
            rows.append({"method": label, "measure": measure, "estimate": np.nan,
                         "ci_lower": np.nan, "ci_upper": np.nan, "pi_lower": np.nan,
                         "pi_upper": np.nan, "k": 0, "note": res.error})  # fmt: skip
            continue
        bt = res.back_transformed()
        main.append(bt["estimate"])
        rows.append({"method": label, "measure": measure, **bt, "k": res.k,
                     "note": "; ".join(res.notes)})  # fmt: skip
        if measure == "PFT":
            for what, n_used in (("smallest", float(np.min(n))), ("largest", float(np.max(n)))):
                alt = {
                    key: float(back_transform(getattr(res, src), "ipft.hm", [n_used]))
                    for key, src in (("estimate", "estimate"), ("ci_lower", "ci_lower"),
                                     ("ci_upper", "ci_upper"), ("pi_lower", "pi_lower"),
                                     ("pi_upper", "pi_upper"))
                }  # fmt: skip
                rows.append({"method": f"Freeman-Tukey back-transformed at the {what} n "
                             f"({n_used:g})", "measure": "PFT", **alt, "k": res.k,
                             "note": "sensitivity analysis of the back-transform"})  # fmt: skip
    d.settings = s
    frame = pd.DataFrame(
        rows,
        columns=[
            "method",
            "measure",
            "estimate",
            "ci_lower",
            "ci_upper",
            "pi_lower",
            "pi_upper",
            "k",
            "note",
        ],
    )
    spread = 100 * (max(main) - min(main)) if len(main) >= 2 else float("nan")
    n_ratio = float(np.max(n) / np.min(n)) if np.min(n) > 0 else float("inf")
    warns = []
    if spread > MATERIAL_DIFFERENCE_PP:
        warns.append(f"The methods disagree materially: the pooled shares span {spread:.1f} "
                     f"percentage points (more than {MATERIAL_DIFFERENCE_PP:g}).")  # fmt: skip
    if n_ratio > FT_N_RATIO:
        warns.append(f"Study sizes differ more than {FT_N_RATIO:g}-fold (largest/smallest = "
                     f"{n_ratio:.1f}): the Freeman-Tukey back-transform, which uses one "
                     "(harmonic mean) n for all studies, can be seriously misleading "
                     "(Schwarzer et al. 2019). Prefer the GLMM or the logit.")  # fmt: skip
    for row in rows:
        if row["method"].startswith("GLMM") and row["note"]:
            warns.append(f"GLMM: {row['note']}")
    return ProportionComparison(frame, float(spread), n_ratio, tuple(warns))


def _rule_names() -> tuple[str, ...]:  # pragma: no cover - documentation helper
    return tuple(f.name for f in fields(Convention) if f.name in RULE_LABELS)
