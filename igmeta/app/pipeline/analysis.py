"""One analysis = (study table, settings): the pure pipeline behind every page.

:class:`AnalysisSettings` holds every choice a user can make; :func:`run_analysis` turns a
study table (canonical column names, see :mod:`igmeta.app.intake.schema`) and the settings into an
:class:`AnalysisBundle`: validation report, effect sizes, pooled result, subgroup
results and plain-English warnings. It never raises on user data: problems become
messages, and rows that cannot be analysed stay in the table, flagged.

Because the bundle is a pure function of its two inputs, it can be cached, saved as a
scenario, encoded in a link, exported as R or Python code and compared with another.
"""

from __future__ import annotations

import warnings as _warnings
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

import numpy as np
import pandas as pd

from igmeta.app.intake.validation import ValidationReport, validate_table
from igmeta.effects import EffectSizes, author_year_label, effect_sizes, measure_info
from igmeta.glmm import meta_analysis_glmm
from igmeta.mantel_haenszel import meta_analysis_mh, meta_analysis_peto
from igmeta.pooling import meta_analysis
from igmeta.results import MetaResult, subgroup_text
from igmeta.subgroups import SubgroupResult, SubgroupTest, separate_tau2_test, subgroup_analysis
from igmeta.warnings import MetaAnalysisWarning

__all__ = [
    "ANALYSES",
    "AnalysisBundle",
    "AnalysisSettings",
    "PUBLISHED_COMPARISON",
    "PUBLISHED_SINGLE_ARM",
    "SubgroupSummary",
    "run_analysis",
]

#: Analyses by data type: (analysis code, label).
ANALYSES = {
    "binary": (
        ("comparison", "Treatment vs control (2x2 tables)"),
        ("single_arm", "Pooled share of responders (treatment arms)"),
    ),
    "proportion": (("single_arm", "Pooled proportion"),),
    "continuous": (("continuous", "Mean difference / SMD"),),
    "correlation": (("correlation", "Correlation"),),
    "generic": (("generic", "Generic effect (yi, vi)"),),
}


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """Every user choice of an analysis (hashable, serialisable).

    Attributes
    ----------
    data_type : str
        ``"binary"``, ``"proportion"``, ``"continuous"``, ``"correlation"`` or ``"generic"``.
    analysis : str
        ``"comparison"`` (2x2 tables), ``"single_arm"`` (proportions of the treatment arm),
        ``"continuous"``, ``"correlation"`` or ``"generic"``.
    binary_measure, proportion_measure, continuous_measure : str
        Effect measures per analysis (RR/OR/RD; PR/PLO/PAS/PFT; MD/SMD).
    generic_measure : str
        Label of generic effects; a ratio code (``"RR"``, ``"OR"``, ``"HR"``) means ``yi`` is
        a log ratio and results are back-transformed with exp.
    pooling : str
        ``"IV"`` (inverse variance), ``"MH"`` (Mantel-Haenszel), ``"PETO"`` or ``"GLMM"``
        (random-effects logistic models; odds ratios and logit proportions).
    model : str
        ``"random"`` or ``"common"`` (inverse-variance pooling only).
    tau2_method : str
        tau^2 estimator for random effects.
    test : str
        ``"z"`` or ``"knha"`` (Hartung-Knapp).
    level : float
        Confidence level (fraction).
    add, to, drop00 : float, str, bool
        Continuity correction for effect sizes (metafor's escalc arguments).
    zero_cells : str
        Zero-cell handling inside Mantel-Haenszel/Peto: ``"metafor"`` or ``"revman"``.
    glmm_model : str
        GLMM for odds ratios (``pooling="GLMM"``): ``"UM.FS"`` (unconditional, fixed study
        effects) or ``"CM.EL"`` (conditional, exact likelihood). Proportions use the
        random-effects logistic model.
    subgroup_column : str or None
        Column that defines subgroups (e.g. ``"design"``); None for no subgroups.
    subgroup_levels : tuple of str or None
        Subgroups included in the analysis (None = all).
    show_prediction : bool
        Show the prediction interval.
    three_level : bool
        Fit the three-level model (studies within clusters, metafor's ``rma.mv``) when the
        table has a usable ``cluster`` column; on by default, so that a cluster column on
        upload turns it on.
    robust : str
        Cluster-robust tests of the three-level model: ``"none"``, ``"CR1"`` (metafor's
        ``robust()``) or ``"CR2"`` (``robust(..., clubSandwich = TRUE)``).
    genq_weights : str or None
        The numeric table column of user weights for ``tau2_method="GENQ"`` (metafor's
        ``rma(..., method = "GENQ", weights = <column>)``); ignored by other estimators.
    """

    data_type: str = "binary"
    analysis: str = "comparison"
    binary_measure: str = "RR"
    proportion_measure: str = "PFT"
    continuous_measure: str = "SMD"
    generic_measure: str = "GEN"
    pooling: str = "IV"
    model: str = "random"
    tau2_method: str = "REML"
    test: str = "z"
    level: float = 0.95
    add: float = 0.5
    to: str = "only0"
    drop00: bool = False
    zero_cells: str = "metafor"
    glmm_model: str = "UM.FS"
    subgroup_column: str | None = "design"
    subgroup_levels: tuple[str, ...] | None = None
    show_prediction: bool = True
    three_level: bool = True
    robust: str = "none"
    genq_weights: str | None = None

    @property
    def measure(self) -> str:
        """The effect measure of the selected analysis."""
        if self.analysis == "comparison" and self.pooling in ("PETO", "GLMM"):
            return "OR"
        if self.analysis == "single_arm" and self.pooling == "GLMM":
            return "PLO"
        return {
            "comparison": self.binary_measure,
            "single_arm": self.proportion_measure,
            "continuous": self.continuous_measure,
            "correlation": "ZCOR",
            "generic": self.generic_measure,
        }[self.analysis]

    @property
    def method(self) -> str:
        """The pooling method code as metafor names it (FE, a tau^2 estimator, MH, PETO)."""
        if self.analysis == "comparison" and self.pooling in ("MH", "PETO"):
            return self.pooling
        if self.analysis in ("comparison", "single_arm") and self.pooling == "GLMM":
            return "GLMM"
        return "FE" if self.model == "common" else self.tau2_method

    @property
    def weights_column(self) -> str | None:
        """The column of user weights the fit uses (GENQ only), else None."""
        return self.genq_weights if self.method == "GENQ" else None

    @property
    def pools_counts(self) -> bool:
        """True when the pooled estimate comes from the counts (MH, Peto, GLMM), not from
        inverse-variance weighting of per-study effects."""
        return self.method in ("MH", "PETO", "GLMM")

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON representation (tuples become lists)."""
        out = asdict(self)
        if out["subgroup_levels"] is not None:
            out["subgroup_levels"] = list(out["subgroup_levels"])
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisSettings:
        """Rebuild settings from :meth:`to_dict` output, ignoring unknown keys."""
        known = {f.name for f in fields(cls)}
        clean = {key: val for key, val in dict(data).items() if key in known}
        if clean.get("subgroup_levels") is not None:
            clean["subgroup_levels"] = tuple(str(v) for v in clean["subgroup_levels"])
        return cls(**clean)

    def with_changes(self, **changes) -> AnalysisSettings:
        """A copy with some settings changed."""
        return replace(self, **changes)


#: The published IG analysis (Liampas et al. 2022): IG vs placebo by Mantel-Haenszel RR
#: with RevMan's zero-cell convention, common effect.
PUBLISHED_COMPARISON = AnalysisSettings(
    analysis="comparison",
    binary_measure="RR",
    pooling="MH",
    model="common",
    zero_cells="revman",
    subgroup_column="design",
    subgroup_levels=None,
)
#: The published pooled share of IG-treated responders: common-effect, raw proportions.
PUBLISHED_SINGLE_ARM = AnalysisSettings(
    analysis="single_arm",
    proportion_measure="PR",
    pooling="IV",
    model="common",
    subgroup_column="design",
    subgroup_levels=None,
)


@dataclass(frozen=True, slots=True)
class SubgroupSummary:
    """Per-subgroup fits and the test for subgroup differences, for any pooling method.

    Attributes
    ----------
    column : str
        The grouping column.
    levels : tuple of str
    fits : tuple of MetaResult
    rows : tuple of ndarray
        Table row positions (0-based, in the full study table) of each subgroup's studies.
    test : SubgroupTest
        The test reported with the fitted model (separate tau^2 for random effects,
        Q-between for common-effect/MH/Peto models).
    full : SubgroupResult or None
        The inverse-variance subgroup analysis with all three tests (None for MH/Peto).
    """

    column: str
    levels: tuple[str, ...]
    fits: tuple[MetaResult, ...]
    rows: tuple[np.ndarray, ...]
    test: SubgroupTest
    full: SubgroupResult | None = None


@dataclass(frozen=True, slots=True)
class AnalysisBundle:
    """Everything a page shows for one (table, settings) pair.

    Attributes
    ----------
    settings : AnalysisSettings
    validation : ValidationReport
        Row/column issues of the table.
    used_rows : ndarray of int
        Positions (0-based) of the table rows that entered the analysis.
    effects : EffectSizes or None
        Effect sizes of the used rows.
    display_rows : ndarray of int
        Rows shown in plots: analysable rows of the selected subgroups, including rows the
        user excluded (drawn greyed, so that they can be switched back on).
    display_effects : EffectSizes or None
        Effect sizes of ``display_rows``.
    result : MetaResult or None
        The pooled result (None when nothing could be pooled; see ``error``).
    subgroups : SubgroupSummary or None
    warnings : tuple of str
        Plain-English warnings from validation and the engine.
    error : str or None
        Why there is no result, in plain words.
    """

    settings: AnalysisSettings
    validation: ValidationReport
    used_rows: np.ndarray
    effects: EffectSizes | None
    result: MetaResult | None
    subgroups: SubgroupSummary | None
    warnings: tuple[str, ...] = ()
    error: str | None = None
    display_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    display_effects: EffectSizes | None = None

    @property
    def ok(self) -> bool:
        """True when a pooled result exists."""
        return self.result is not None

    def __repr__(self) -> str:
        """The settings in one line, the pooled result's summary (or why there is none),
        the subgroups and the number of warnings, as plain text."""
        s = self.settings
        lines = [
            f"AnalysisBundle: {s.analysis} analysis of {s.measure}, pooling {s.pooling}, "
            f"{len(self.used_rows)} table rows used",
            "",
        ]
        lines.append(str(self.result) if self.result is not None else f"No result: {self.error}")
        groups = self.subgroups
        if groups is not None:
            lines += ["", subgroup_text(groups.column, groups.levels, groups.fits, groups.test)]
        if self.warnings:
            lines += ["", f"{len(self.warnings)} warning(s); see .warnings"]
        return "\n".join(lines)


#: Exceptions that extreme or degenerate user numbers can cause in the engine; turned
#: into a message instead of escaping from :func:`run_analysis`.
_DATA_ERRORS = (ValueError, ArithmeticError, np.linalg.LinAlgError)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].to_numpy(dtype=float) if name in frame else None


def _effects_for(numeric: pd.DataFrame, labels: list[str], s: AnalysisSettings) -> EffectSizes:
    measure = s.measure
    common = {"study": labels}
    if s.analysis == "comparison":
        return effect_sizes(
            measure,
            ai=_column(numeric, "ai"),
            n1i=_column(numeric, "n1i"),
            ci=_column(numeric, "ci"),
            n2i=_column(numeric, "n2i"),
            add=s.add,
            to=s.to,
            drop00=s.drop00,
            **common,
        )
    if s.analysis == "single_arm":
        xi, ni = ("xi", "ni") if "xi" in numeric else ("ai", "n1i")
        add = None if measure in ("PAS", "PFT") else s.add
        return effect_sizes(
            measure, xi=_column(numeric, xi), ni=_column(numeric, ni), add=add, to=s.to, **common
        )
    if s.analysis == "continuous":
        return effect_sizes(
            measure,
            **{c: _column(numeric, c) for c in ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")},
            **common,
        )
    if s.analysis == "correlation":
        return effect_sizes("ZCOR", ri=_column(numeric, "ri"), ni=_column(numeric, "ni"), **common)
    if "yi" in numeric and numeric["yi"].notna().any():
        if "vi" in numeric and numeric["vi"].notna().any():
            return effect_sizes(
                measure, yi=_column(numeric, "yi"), vi=_column(numeric, "vi"), **common
            )
        return effect_sizes(
            measure, yi=_column(numeric, "yi"), sei=_column(numeric, "sei"), **common
        )
    return effect_sizes(
        measure,
        estimate=_column(numeric, "estimate"),
        ci_lower=_column(numeric, "ci_lower"),
        ci_upper=_column(numeric, "ci_upper"),
        **common,
    )


def _pool(
    es: EffectSizes, numeric: pd.DataFrame, labels: list[str], s: AnalysisSettings
) -> MetaResult:
    if s.method == "GLMM":
        if s.analysis == "single_arm":
            xi, ni = ("xi", "ni") if "xi" in numeric else ("ai", "n1i")
            return meta_analysis_glmm(
                "PLO", xi=_column(numeric, xi), ni=_column(numeric, ni), study=labels, level=s.level
            )
        counts = {name: _column(numeric, name) for name in ("ai", "n1i", "ci", "n2i")}
        return meta_analysis_glmm("OR", study=labels, model=s.glmm_model, level=s.level, **counts)
    if s.analysis == "comparison" and s.pooling in ("MH", "PETO"):
        counts = {name: _column(numeric, name) for name in ("ai", "n1i", "ci", "n2i")}
        if s.pooling == "MH":
            return meta_analysis_mh(
                s.binary_measure, study=labels, zero_cells=s.zero_cells, level=s.level, **counts
            )
        return meta_analysis_peto(study=labels, zero_cells=s.zero_cells, level=s.level, **counts)
    transform = "exp" if s.analysis == "generic" and measure_info(s.measure).log_scale else None
    return meta_analysis(
        es,
        method=s.method,
        test=s.test,
        level=s.level,
        transform=transform,
        weights=_user_weights(numeric, s),
    )


def _user_weights(numeric: pd.DataFrame, s: AnalysisSettings) -> np.ndarray | None:
    """The user weights of the rows in ``numeric`` (GENQ), else None."""
    column = s.weights_column
    if column is None:
        if s.method == "GENQ":
            raise ValueError(
                "The GENQ estimator needs a column of weights: choose one in the sidebar "
                "(a numeric column of the table), or choose another tau\u00b2 estimator."
            )
        return None
    return numeric[column].to_numpy(dtype=float)


def _subgroups(
    table: pd.DataFrame,
    rows: np.ndarray,
    es: EffectSizes,
    numeric: pd.DataFrame,
    labels: list[str],
    s: AnalysisSettings,
) -> SubgroupSummary | None:
    column = s.subgroup_column
    if not column or column not in table:
        return None
    groups = table[column].iloc[rows].astype("string").fillna("").str.strip().to_numpy()
    levels = tuple(sorted({g for g in groups if g}))
    if len(levels) < 2:
        return None
    positions = tuple(np.flatnonzero(groups == lev) for lev in levels)
    if s.pools_counts:
        fits = tuple(
            _pool(es.subset(pos), numeric.iloc[pos], [labels[i] for i in pos], s)
            for pos in positions
        )
        for group, fit in zip(levels, fits, strict=True):
            if not (np.isfinite([fit.estimate, fit.se]).all() and fit.se > 0):
                reason = fit.extra.get("not_estimable") or "its standard error is 0"
                raise ValueError(f"subgroup {group!r}: {reason}")
        return SubgroupSummary(
            column, levels, fits, tuple(rows[p] for p in positions), separate_tau2_test(fits)
        )
    full = subgroup_analysis(
        es,
        groups,
        by_name=column,
        method=s.method,
        test=s.test,
        level=s.level,
        weights=_user_weights(numeric, s),
    )
    return SubgroupSummary(
        column, full.levels, full.fits, tuple(rows[p] for p in positions), full.test, full
    )


def _display_rows(table: pd.DataFrame, report: ValidationReport, s: AnalysisSettings) -> np.ndarray:
    usable = np.asarray(report.row_valid, bool).copy()
    if s.analysis == "comparison" and report.has_comparison is not None:
        usable &= np.asarray(report.has_comparison, bool)
    if s.subgroup_column and s.subgroup_levels is not None and s.subgroup_column in table:
        groups = table[s.subgroup_column].astype("string").fillna("").str.strip()
        usable &= groups.isin(list(s.subgroup_levels)).to_numpy()
    return np.flatnonzero(usable)


def _labels(table: pd.DataFrame, rows: np.ndarray) -> list[str]:
    """Study labels of ``rows``: the name with its year ("Author Year"), else "Row i"."""
    if "study" not in table:
        return [f"Row {i + 1}" for i in rows]
    values = table["study"].iloc[rows]
    years = table["year"].iloc[rows] if "year" in table else [None] * len(rows)
    labels = [author_year_label(v, y) for v, y in zip(values, years, strict=True)]
    return [
        label if label.strip() else f"Row {i + 1}" for i, label in zip(rows, labels, strict=True)
    ]


def run_analysis(table: pd.DataFrame, settings: AnalysisSettings) -> AnalysisBundle:
    """Validate the table, compute effect sizes, pool, and run the subgroup analysis.

    Parameters
    ----------
    table : DataFrame
        The study table with canonical column names (``study``, ``include``, counts ...).
    settings : AnalysisSettings

    Returns
    -------
    AnalysisBundle
        Never raises for problems in the data: ``error`` explains a missing result.
    """
    report = validate_table(
        table,
        settings.data_type,
        weights_column=settings.weights_column,
        weights_comparison_only=settings.analysis == "comparison",
    )
    display = _display_rows(table, report, settings)
    rows = display[np.asarray(report.included, bool)[display]]
    base = dict(settings=settings, validation=report, used_rows=rows, display_rows=display)
    if rows.size == 0:
        return AnalysisBundle(
            **base,
            effects=None,
            result=None,
            subgroups=None,
            error="No study can be analysed with these settings: check the "
            "'include' column, the subgroup filter and the flagged rows.",
        )
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            shown = _effects_for(
                report.numeric.iloc[display].reset_index(drop=True),
                _labels(table, display),
                settings,
            )
            numeric = report.numeric.iloc[rows].reset_index(drop=True)
            labels = _labels(table, rows)
            caught.clear()
            es = _effects_for(numeric, labels, settings)
            result = _pool(es, numeric, labels, settings)
            try:
                groups = _subgroups(table, rows, es, numeric, labels, settings)
            except _DATA_ERRORS as exc:
                groups = None
                _warnings.warn(f"No subgroup analysis: {exc}", MetaAnalysisWarning, stacklevel=2)
        except _DATA_ERRORS as exc:
            return AnalysisBundle(
                **base,
                effects=None,
                result=None,
                subgroups=None,
                error=str(exc),
                warnings=tuple(
                    dict.fromkeys(
                        str(w.message)
                        for w in caught
                        if issubclass(w.category, MetaAnalysisWarning)
                    )
                ),
            )
    messages = [str(w.message) for w in caught if issubclass(w.category, MetaAnalysisWarning)]
    if not np.isfinite([result.estimate, result.se, result.ci_lower, result.ci_upper]).all():
        return AnalysisBundle(
            **base,
            effects=None,
            result=None,
            subgroups=None,
            warnings=tuple(dict.fromkeys(messages)),
            error=result.extra.get("not_estimable")
            or "The pooled estimate cannot be computed for these data "
            "(numerically extreme or degenerate variances). Check the flagged "
            "rows and the continuity correction.",
        )
    return AnalysisBundle(
        **base,
        effects=es,
        result=result,
        subgroups=groups,
        warnings=tuple(dict.fromkeys(messages)),
        display_effects=shown,
    )
