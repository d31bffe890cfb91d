"""Result objects of a fitted meta-analysis.

A :class:`MetaResult` carries its inputs (``yi``, ``vi``, study labels, the effect-size
object) and its settings (``method``, ``test``, ``level``, ``control``), so every
downstream tool -- heterogeneity CI, leave-one-out, trim-and-fill, plots -- reads from it
instead of asking again (metafor's design).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from igmeta.effects import EffectSizes
from igmeta.formatting import format_number, format_percent, format_pvalue
from igmeta.transforms import back_transform, interval_back_transform

__all__ = ["MetaRegressionResult", "MetaResult", "ResultSummary", "subgroup_text"]

#: Decimals of the printed summaries (metafor's default ``digits = 4``).
DIGITS = 4
#: Shown instead of tau^2 and tau for models without a between-study variance.
NO_TAU2 = "\u2014"
_SCALES = {"exp": "log scale", "ilogit": "logit scale", "none": ""}


@dataclass(frozen=True, slots=True)
class ResultSummary(Mapping):
    """The printed summary of a result: plain text plus the headline numbers.

    ``str(summary)`` (and ``repr``) is the text block; the numbers are read as from a
    dict (``summary["tau2"]``), so code that used the flat dict keeps working.

    Attributes
    ----------
    text : str
        The summary block (no NaN: undefined values are written "not estimable").
    numbers : Mapping
        Headline numbers on the analysis scale (NaN where undefined).
    """

    text: str
    numbers: Mapping[str, float]

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def __getitem__(self, key: str) -> float:
        return self.numbers[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.numbers)

    def __len__(self) -> int:
        return len(self.numbers)


def _num(value: float) -> str:
    return format_number(value, DIGITS)


def _p_cell(value: float) -> str:
    """A p-value table cell: ``0.0320``, ``< 0.0001`` or "not estimable"."""
    text = format_pvalue(value)
    return text.removeprefix("p = ").removeprefix("p ")


def _table(header: list[str], rows: list[list[str]], names: bool = False) -> list[str]:
    """Right-aligned columns separated by two spaces (the first left-aligned if ``names``)."""
    cells = [header, *rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return [
        "  ".join(
            cell.ljust(width) if names and i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in cells
    ]


def _interval(lower: float, upper: float) -> str:
    return f"[{_num(lower)}, {_num(upper)}]"


def _level_text(level: float) -> str:
    return f"{100 * level:g}%"


def _model_line(res: MetaResult) -> str:
    """First line: the model, k and (for random effects) the tau^2 estimator."""
    if res.method == "MH":
        return f"Common-effect model, Mantel-Haenszel method (k = {res.k})"
    if res.method == "PETO":
        return f"Common-effect model, Peto method (k = {res.k})"
    if res.method == "FE":
        return f"Common-effect model (k = {res.k})"
    if res.method == "GLMM":
        model = res.extra.get("model_description") or res.extra.get("model", "")
        return f"Generalized linear mixed model (k = {res.k}):\n{model}"
    weights = "; user weights" if getattr(res, "user_weights", None) is not None else ""
    return f"Random-effects model (k = {res.k}; tau\u00b2 estimator: {res.method}{weights})"


def _heterogeneity_lines(res, residual: bool = False) -> list[str]:
    """tau^2 (SE), tau, I^2, H^2 (and R^2 of a meta-regression) lines, aligned as metafor
    prints them."""
    if res.method in ("FE", "MH", "PETO"):
        tau2, tau = NO_TAU2, NO_TAU2
    else:
        tau2 = f"{_num(res.tau2)} (SE = {_num(res.se_tau2)})"
        tau = _num(res.tau)
    amount, i2, h2 = (
        ("residual", "residual heterogeneity / unaccounted", "unaccounted")
        if residual
        else ("total", "total heterogeneity / total", "total")
    )
    items = [
        (f"tau\u00b2 (estimated amount of {amount} heterogeneity):", tau2),
        ("tau (square root of estimated tau\u00b2 value):", tau),
        (f"I\u00b2 ({i2} variability):", format_percent(res.i2, 2)),
        (f"H\u00b2 ({h2} variability / sampling variability):", _num(res.h2)),
    ]
    if residual and res.method != "FE":
        items.append(
            ("R\u00b2 (amount of heterogeneity accounted for):", format_percent(res.r2, 2))
        )
    width = max(len(name) for name, _ in items)
    return [f"{name.ljust(width)}  {value}" for name, value in items]


def _q_line(name: str, statistic: float, df, pval: float) -> str:
    return f"{name}(df = {format_number(df, 0)}) = {_num(statistic)}, {format_pvalue(pval)}"


def _mh_test_lines(extra: Mapping[str, Any]) -> list[str]:
    """Cochran-Mantel-Haenszel and Tarone tests of a Mantel-Haenszel odds ratio."""
    lines = []
    if extra.get("MH") is not None:
        lines.append(
            f"Cochran-Mantel-Haenszel test: CMH = {_num(extra['MH'])}, df = 1, "
            f"{format_pvalue(extra.get('MHp'))}"
        )
    if extra.get("TA") is not None and extra.get("k.pos"):
        lines.append(
            f"Tarone's test for heterogeneity: X\u00b2 = {_num(extra['TA'])}, "
            f"df = {extra['k.pos'] - 1}, {format_pvalue(extra.get('TAp'))}"
        )
    return lines


def _statistic_header(res) -> list[str]:
    return ["tval", "df"] if res.test == "knha" else ["zval"]


def _statistic_cells(res, statistic: float) -> list[str]:
    cells = [_num(statistic)]
    if res.test == "knha":
        cells.append(format_number(res.ddf, 0))
    return cells


def _results_header(res) -> str:
    scale = _SCALES.get(res.transform, "analysis scale")
    return f"Model results ({scale}):" if scale else "Model results:"


def _back_transformed_line(res: MetaResult) -> str | None:
    """Estimate, CI and (random effects) PI on the natural scale, or None without one."""
    if res.transform == "none":
        return None
    bt = res.back_transformed()
    level = _level_text(res.level)
    text = (
        f"Back-transformed ({res.transform}): estimate {_num(bt['estimate'])}, "
        f"{level} CI {_interval(bt['ci_lower'], bt['ci_upper'])}"
    )
    if res.is_random_effects:
        text += f", {level} PI {_interval(bt['pi_lower'], bt['pi_upper'])}"
    return text


def subgroup_text(column: str, levels, fits, test) -> str:
    """Per-subgroup estimates and the test for subgroup differences, as a text block.

    Parameters
    ----------
    column : str
        The grouping column.
    levels : sequence of str
        Subgroup names (printed as plain text).
    fits : sequence of MetaResult
        One fit per level.
    test : SubgroupTest
        The test for subgroup differences (``statistic``, ``df``, ``pval``, ``name``).

    Returns
    -------
    str
        A table with k, estimate, CI and I\u00b2 per subgroup (back-transformed when the
        measure has a back-transform) and the Q-between (or F) line.
    """
    rows = []
    for level, fit in zip(levels, fits, strict=True):
        est, lo, hi = fit.estimate, fit.ci_lower, fit.ci_upper
        if fit.transform != "none":
            bt = fit.back_transformed()
            est, lo, hi = bt["estimate"], bt["ci_lower"], bt["ci_upper"]
        rows.append([str(level), str(fit.k), _num(est), _num(lo), _num(hi), format_percent(fit.i2)])
    scale = f" ({fits[0].transform})" if fits and fits[0].transform != "none" else ""
    header = ["subgroup", "k", f"estimate{scale}", "ci.lb", "ci.ub", "I\u00b2"]
    lines = [f"Subgroups by {column}:", "", *_table(header, rows, names=True), ""]
    df1, df2 = test.df
    name = "F" if np.isfinite(df2) else "Q"
    df = format_number(df1, 0) + (f", {format_number(df2, 0)}" if np.isfinite(df2) else "")
    lines.append(
        f"Test for subgroup differences ({test.name.replace('_', ' ')}): "
        f"{name}(df = {df}) = {_num(test.statistic)}, {format_pvalue(test.pval)}"
    )
    return "\n".join(lines)


def _regression_text(res: MetaRegressionResult) -> str:
    """The printed block of :meth:`MetaRegressionResult.summary` (see there)."""
    model = "Fixed-effects" if res.method == "FE" else "Mixed-effects"
    estimator = "" if res.method == "FE" else f"; tau\u00b2 estimator: {res.method}"
    lines = [f"{model} meta-regression (k = {res.k}{estimator})", ""]
    lines += _heterogeneity_lines(res, residual=True)
    lines += ["", "Test for residual heterogeneity:", _q_line("QE", res.q, res.q_df, res.q_pval)]
    df1, df2 = res.qm_df
    name, df = ("F", f"{format_number(df1, 0)}, {format_number(df2, 0)}")
    if not np.isfinite(df2):
        name, df = "QM", format_number(df1, 0)
    lines += [
        "",
        "Test of moderators:",
        f"{name}(df = {df}) = {_num(res.qm)}, {format_pvalue(res.qm_pval)}",
    ]
    header = ["", "estimate", "se", *_statistic_header(res), "pval", "ci.lb", "ci.ub"]
    rows = [
        [name, _num(b), _num(se), *_statistic_cells(res, z), _p_cell(p), _num(lo), _num(hi)]
        for name, b, se, z, p, lo, hi in zip(
            res.coef_names,
            res.estimate,
            res.se,
            res.statistic,
            res.pval,
            res.ci_lower,
            res.ci_upper,
            strict=True,
        )
    ]
    lines += ["", _results_header(res), "", *_table(header, rows, names=True)]
    return "\n".join(lines)


def _meta_result_text(res: MetaResult) -> str:
    """The printed block of :meth:`MetaResult.summary` (see there)."""
    lines = [_model_line(res), ""]
    lines += _heterogeneity_lines(res)
    if res.method == "GLMM" and "QE.LRT" in res.extra:
        lines += [
            "",
            "Tests for heterogeneity:",
            _q_line("Wld", res.q, res.q_df, res.q_pval),
            _q_line("LRT", res.extra["QE.LRT"], res.q_df, res.extra.get("QEp.LRT")),
        ]
    else:
        lines += ["", "Test for heterogeneity:", _q_line("Q", res.q, res.q_df, res.q_pval)]
    if res.method == "MH":
        lines += _mh_test_lines(res.extra)
    level = _level_text(res.level)
    header = ["estimate", "se", *_statistic_header(res), "pval", "ci.lb", "ci.ub"]
    row = [
        _num(res.estimate),
        _num(res.se),
        *_statistic_cells(res, res.statistic),
        _p_cell(res.pval),
        _num(res.ci_lower),
        _num(res.ci_upper),
    ]
    lines += ["", _results_header(res), ""]
    lines += _table(header, [row])
    if res.is_random_effects:
        lines.append(f"{level} prediction interval: {_interval(res.pi_lower, res.pi_upper)}")
    back = _back_transformed_line(res)
    if back is not None:
        lines += ["", back]
    if res.dropped:
        lines.append(f"Studies left out (effect not estimable): {len(res.dropped)}")
    if not res.converged:
        lines.append(
            f"Warning: the tau\u00b2 estimator did not converge ({res.iterations} iterations)"
        )
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class MetaResult:
    """A pooled meta-analysis (common-effect, random-effects, Mantel-Haenszel or Peto).

    Attributes
    ----------
    measure : str
        Effect measure code (``"RR"``, ``"PFT"``, ``"GEN"``...).
    method : str
        ``"FE"`` (common effect), a tau^2 estimator code, ``"MH"`` or ``"PETO"``.
    test : str
        ``"z"`` or ``"knha"``.
    level : float
        Confidence level as a fraction (0.95).
    k : int
        Number of studies in the fit.
    estimate, se, statistic, pval, ci_lower, ci_upper : float
        Pooled effect on the analysis scale (log scale for ratios), its standard error,
        z (or t for knha) statistic, two-sided p-value and confidence interval.
    pi_lower, pi_upper : float
        Prediction interval (NaN for common-effect fits).
    ddf : float
        Degrees of freedom of the t-distribution (NaN for z-tests).
    tau2, se_tau2 : float
        Between-study variance and its standard error (NaN where undefined).
    q, q_df, q_pval : float
        Cochran's Q with fixed-effect weights, its df and p-value.
    i2, h2 : float
        I^2 (%) and H^2 (from tau^2 for random-effects fits, from Q otherwise).
    vt : float
        Typical within-study variance.
    s2w : float
        Knapp-Hartung scale factor (1 for z-tests).
    weights : ndarray
        Study weights in percent.
    loglik_ml, loglik_reml : float
        Log-likelihoods.
    yi, vi : ndarray
        The fitted studies' effects and variances.
    study : tuple of str
        Labels of the fitted studies.
    dropped : tuple of str
        Studies left out because their effect was undefined.
    transform : str
        Back-transform to the natural scale.
    transform_ni : ndarray or None
        Study sizes for the Freeman-Tukey back-transform.
    converged : bool
        False when an iterative estimator stopped at its iteration limit.
    iterations : int
        Iterations used by the tau^2 estimator.
    control : Mapping
        Convergence settings used.
    warnings : tuple of str
        Plain-English warnings produced by the fit and its inputs.
    effects : EffectSizes or None
        The effect-size object the fit was made from.
    extra : Mapping
        Method-specific results (e.g. Mantel-Haenszel's Cochran-Mantel-Haenszel and
        Breslow-Day tests).
    user_weights : ndarray or None
        The user weights ``a`` of the fitted studies (metafor's ``weights =``; then
        ``weights`` are ``100 a / sum a``); None for inverse-variance weights.
    """

    measure: str
    method: str
    test: str
    level: float
    k: int
    estimate: float
    se: float
    statistic: float
    pval: float
    ci_lower: float
    ci_upper: float
    pi_lower: float
    pi_upper: float
    ddf: float
    tau2: float
    se_tau2: float
    q: float
    q_df: float
    q_pval: float
    i2: float
    h2: float
    vt: float
    s2w: float
    weights: np.ndarray
    loglik_ml: float
    loglik_reml: float
    yi: np.ndarray
    vi: np.ndarray
    study: tuple[str, ...]
    dropped: tuple[str, ...] = ()
    transform: str = "none"
    transform_ni: np.ndarray | None = None
    converged: bool = True
    iterations: int = 0
    control: Mapping[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    effects: EffectSizes | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    user_weights: np.ndarray | None = None

    @property
    def tau(self) -> float:
        """Square root of tau^2."""
        return float(np.sqrt(self.tau2)) if np.isfinite(self.tau2) else float("nan")

    @property
    def zval(self) -> float:
        """The test statistic (metafor's name; a t statistic for knha)."""
        return self.statistic

    @property
    def is_random_effects(self) -> bool:
        """True for fits with a between-study variance (not FE, MH or Peto)."""
        return self.method not in ("FE", "MH", "PETO")

    def back_transformed(self) -> dict[str, float]:
        """Estimate, CI and prediction interval on the natural scale.

        Returns
        -------
        dict
            Keys ``estimate``, ``ci_lower``, ``ci_upper``, ``pi_lower``, ``pi_upper``.
            Bounds are transformed separately and put in increasing order (metafor's
            ``predict(..., transf=)``); NaN where undefined.
        """
        ni = self.transform_ni
        est = float(back_transform(self.estimate, self.transform, ni))
        ci_lo, ci_hi = interval_back_transform(self.ci_lower, self.ci_upper, self.transform, ni)
        pi_lo, pi_hi = interval_back_transform(self.pi_lower, self.pi_upper, self.transform, ni)
        return {
            "estimate": est,
            "ci_lower": float(ci_lo),
            "ci_upper": float(ci_hi),
            "pi_lower": float(pi_lo),
            "pi_upper": float(pi_hi),
        }

    def study_frame(self) -> pd.DataFrame:
        """Per-study table: study, yi, vi, sei, ci_lower, ci_upper, weight (%)."""
        from scipy import stats

        z = stats.norm.ppf(0.5 + self.level / 2)
        sei = np.sqrt(self.vi)
        return pd.DataFrame(
            {
                "study": list(self.study),
                "yi": self.yi,
                "vi": self.vi,
                "sei": sei,
                "ci_lower": self.yi - z * sei,
                "ci_upper": self.yi + z * sei,
                "weight": self.weights,
            }
        )

    def summary(self) -> ResultSummary:
        """A metafor-like printed summary (the layout follows ``print.rma.uni``).

        Returns
        -------
        ResultSummary
            ``str()`` of it is the text block: model and k; tau\u00b2 (SE), tau, I\u00b2, H\u00b2
            ("\u2014" for tau\u00b2 and tau of common-effect, Mantel-Haenszel and Peto fits); the
            Q test; estimate, se, z (or t with its df), p and CI on the analysis scale; the
            prediction interval (random effects); the back-transformed estimate, CI and PI
            when the measure has a back-transform. Numbers have 4 decimals
            (:mod:`igmeta.formatting`); undefined ones read "not estimable", never NaN.
            Indexing it (``summary["tau2"]``) gives the headline numbers.

        Examples
        --------
        >>> import igmeta as im
        >>> es = im.effect_sizes("GEN", yi=[0.1, 0.3, 0.5], vi=[0.01, 0.02, 0.04])
        >>> res = im.meta_analysis(es, method="FE")
        >>> print(res.summary())  # doctest: +NORMALIZE_WHITESPACE
        Common-effect model (k = 3)
        <BLANKLINE>
        tau² (estimated amount of total heterogeneity):  —
        tau (square root of estimated tau² value):       —
        I² (total heterogeneity / total variability):    46.15%
        H² (total variability / sampling variability):   1.8571
        <BLANKLINE>
        Test for heterogeneity:
        Q(df = 2) = 3.7143, p = 0.156
        <BLANKLINE>
        Model results:
        <BLANKLINE>
        estimate      se    zval   pval   ci.lb   ci.ub
          0.2143  0.0756  2.8347  0.005  0.0661  0.3624
        >>> res.summary()["k"]
        3
        """
        return ResultSummary(_meta_result_text(self), self._numbers())

    def __repr__(self) -> str:
        return _meta_result_text(self)

    def _numbers(self) -> dict[str, float]:
        """The headline numbers as a flat dict (analysis scale)."""
        return {
            "k": self.k,
            "estimate": self.estimate,
            "se": self.se,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
            "pi_lower": self.pi_lower,
            "pi_upper": self.pi_upper,
            "pval": self.pval,
            "tau2": self.tau2,
            "i2": self.i2,
            "h2": self.h2,
            "q": self.q,
            "q_pval": self.q_pval,
        }


@dataclass(frozen=True, slots=True)
class MetaRegressionResult:
    """A meta-regression (mixed-effects model with moderators).

    Attributes
    ----------
    coef_names : tuple of str
        Coefficient names (``"intrcpt"`` first when an intercept is fitted).
    estimate, se, statistic, pval, ci_lower, ci_upper : ndarray
        One entry per coefficient.
    vb : ndarray, shape (p, p)
        Variance-covariance matrix of the coefficients.
    qm, qm_df, qm_pval : float, tuple, float
        Omnibus test of the moderators (chi^2, or F for knha) with its degrees of freedom.
    q, q_df, q_pval : float
        Residual heterogeneity test (QE).
    tau2, se_tau2, i2, h2, vt, r2 : float
        Residual heterogeneity and the proportion of tau^2 explained (R^2, %).
    Other attributes as in :class:`MetaResult`.
    """

    measure: str
    method: str
    test: str
    level: float
    k: int
    coef_names: tuple[str, ...]
    estimate: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    pval: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    vb: np.ndarray
    ddf: float
    qm: float
    qm_df: tuple[float, float]
    qm_pval: float
    q: float
    q_df: float
    q_pval: float
    tau2: float
    se_tau2: float
    i2: float
    h2: float
    vt: float
    s2w: float
    r2: float
    weights: np.ndarray
    loglik_ml: float
    loglik_reml: float
    yi: np.ndarray
    vi: np.ndarray
    X: np.ndarray
    study: tuple[str, ...]
    converged: bool = True
    control: Mapping[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def tau(self) -> float:
        """Square root of tau^2."""
        return float(np.sqrt(self.tau2)) if np.isfinite(self.tau2) else float("nan")

    @property
    def p(self) -> int:
        """Number of coefficients."""
        return len(self.coef_names)

    @property
    def transform(self) -> str:
        """Coefficients are printed on the analysis scale (no back-transform)."""
        return "none"

    def summary(self) -> ResultSummary:
        """A metafor-like printed summary (the layout follows ``print.rma.uni`` with moderators).

        Returns
        -------
        ResultSummary
            ``str()`` of it is the text: model and k; residual tau\u00b2 (SE), tau, I\u00b2,
            H\u00b2 and R\u00b2; the residual heterogeneity test QE; the test of moderators (QM, or
            F for Hartung-Knapp); one row per coefficient (estimate, se, z or t, p, CI).
            Indexing it gives ``k``, ``tau2``, ``qm``, ``qm_pval``, ``q``, ``q_pval``, ``r2``.

        Examples
        --------
        >>> import igmeta as im
        >>> res = im.meta_regression(yi=[0.1, 0.3, 0.5, 0.4], vi=[0.01, 0.02, 0.04, 0.02],
        ...                          mods={"dose": [1, 2, 3, 4]}, method="FE")
        >>> print(res.summary().text.splitlines()[0])
        Fixed-effects meta-regression (k = 4)
        """
        numbers = {
            "k": self.k,
            "tau2": self.tau2,
            "qm": self.qm,
            "qm_pval": self.qm_pval,
            "q": self.q,
            "q_pval": self.q_pval,
            "r2": self.r2,
        }
        return ResultSummary(_regression_text(self), numbers)

    def __repr__(self) -> str:
        return _regression_text(self)

    def coefficients(self) -> pd.DataFrame:
        """Coefficient table: name, estimate, se, statistic, pval, ci_lower, ci_upper."""
        return pd.DataFrame(
            {
                "name": list(self.coef_names),
                "estimate": self.estimate,
                "se": self.se,
                "statistic": self.statistic,
                "pval": self.pval,
                "ci_lower": self.ci_lower,
                "ci_upper": self.ci_upper,
            }
        )
