"""Reproducible code: the current analysis as an R script (metafor) or a Python script.

:func:`r_script` writes a self-contained script for R with metafor 3.8-1: the analysed
studies as a ``data.frame``, then ``escalc`` and ``rma`` (inverse variance), ``rma.mh``
(Mantel-Haenszel) or ``rma.peto`` (Peto) with exactly the dashboard's settings (measure,
method, test, level, ``add``/``to``/``drop00``, zero-cell convention), the subgroup fits
and the test for subgroup differences. :func:`python_script` writes the same analysis with
igmeta's public API (:func:`igmeta.app.pipeline.analysis.run_analysis` on the embedded table).

Both scripts end with a machine-readable block between the lines :data:`BEGIN` and
:data:`END`, one ``name=value`` per line (values with ``sprintf("%.10f")``; p-values with
``"%.10e"``, since they can be far below 1e-10). :func:`parse_results` reads it back and
:func:`result_values` gives the dashboard's own numbers under the same names, so the
scripts can be checked against the dashboard.

Safety: user text (study labels, subgroup names, column names) only ever appears inside
escaped string literals -- R strings with ``\\u{...}`` escapes for anything but printable
ASCII, Python ``repr`` of a JSON string -- never in comments or code. Every setting that
becomes code is checked against the known options.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from igmeta.app.intake.schema import CLUSTER_COLUMN
from igmeta.app.pipeline.analysis import AnalysisBundle, AnalysisSettings, run_analysis
from igmeta.app.store.scenarios import settings_to_json, table_to_json
from igmeta.bias import (
    beta_selection_model,
    egger_test,
    pet_peese,
    step_selection_model,
    trim_and_fill,
)
from igmeta.effects import (
    BINARY_MEASURES,
    CONTINUOUS_MEASURES,
    MEASURE_INPUTS,
    PROPORTION_MEASURES,
    RATE_MEASURES,
    RATE_PAIR_MEASURES,
    default_add,
    measure_info,
)
from igmeta.result_frames import model_label

__all__ = [
    "BEGIN",
    "BIAS_STEPS",
    "END",
    "FOREST_PDF",
    "FUNNEL_PDF",
    "CodegenError",
    "bias_values",
    "compare_values",
    "escalc_call",
    "parse_results",
    "python_script",
    "r_bias_section",
    "r_script",
    "r_string",
    "r_three_level",
    "result_values",
]

BEGIN = "# BEGIN IGMETA RESULTS"
END = "# END IGMETA RESULTS"
#: Files the R script draws its plots into (in the working directory).
FOREST_PDF = "igmeta_forest.pdf"
FUNNEL_PDF = "igmeta_funnel.pdf"

_BINARY_MEASURES = ("RR", "OR", "RD")
_PROPORTION_MEASURES = ("PR", "PLO", "PAS", "PFT")
_CONTINUOUS_MEASURES = CONTINUOUS_MEASURES
#: Measures whose escalc call takes add and to (counts), and those that also take drop00.
_CORRECTED = (*BINARY_MEASURES, *PROPORTION_MEASURES, *RATE_MEASURES, *RATE_PAIR_MEASURES)
_DROP00 = (*BINARY_MEASURES, *RATE_PAIR_MEASURES)
#: HSk and PMM run through run_analysis (metafor 3.8-1 has both); GENQ with its column
#: of user weights (``weights = <column>``).
_ESTIMATORS = ("REML", "ML", "DL", "PM", "EB", "SJ", "HE", "HS", "HSk", "PMM", "GENQ", "FE")
#: A table column name that can be written as an R name of ``dat`` as it is.
_R_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,40}")
_ITERATIVE = ("REML", "ML", "PM", "PMM", "EB")
_TARGETS = ("only0", "all", "if0all", "none")
#: robust() arguments of each cluster-robust option of the three-level model.
_ROBUST = {
    "none": None,
    "CR1": "adjust = TRUE",
    "CR2": "clubSandwich = TRUE",
}
_R_TRANSFORMS = {
    "none": None,
    "exp": "exp",
    "ilogit": "transf.ilogit",
    "iarcsin": "transf.iarcsin",
    "ipft.hm": "transf.ipft.hm",
    "ztor": "transf.ztor",
}


class CodegenError(ValueError):
    """The analysis cannot be written as a script (message in plain words)."""


# --------------------------------------------------------------------------- R literals


def r_string(value: object) -> str:
    """An R string literal that reads back as ``value`` (printable ASCII kept, the rest
    escaped as ``\\u{XXXX}``/``\\U{XXXXXXXX}``; NUL and lone surrogates dropped)."""
    out = ['"']
    for ch in str(value):
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        elif code == 0 or 0xD800 <= code <= 0xDFFF:
            continue
        elif code <= 0xFFFF:
            out.append(f"\\u{{{code:04X}}}")
        else:
            out.append(f"\\U{{{code:08X}}}")
    out.append('"')
    return "".join(out)


def _r_number(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    number = float(value)
    if math.isnan(number):
        return "NA"
    if math.isinf(number):
        return "Inf" if number > 0 else "-Inf"
    if number.is_integer() and abs(number) < 1e15:
        return f"{int(number):d}"
    return repr(number)


def _r_vector(values: Iterable, strings: bool = False) -> str:
    items = []
    for v in values:
        if strings:
            items.append(
                "NA" if v is None or (isinstance(v, float) and math.isnan(v)) else r_string(v)
            )
        else:
            items.append(_r_number(v))
    return "c(" + ", ".join(items) + ")"


def _level(settings: AnalysisSettings) -> str:
    level = float(settings.level)
    if not 0 < level < 1:
        raise CodegenError(f"Confidence level {level!r} is not a fraction between 0 and 1.")
    return f"{level * 100:.10g}"


def _check(settings: AnalysisSettings) -> None:
    """Every setting that becomes code must be one of the known options."""
    s = settings
    known = {
        "comparison": _BINARY_MEASURES,
        "single_arm": _PROPORTION_MEASURES,
        "continuous": _CONTINUOUS_MEASURES,
        "correlation": ("ZCOR",),
    }
    if s.analysis in known and s.measure not in known[s.analysis]:
        raise CodegenError(f"Unknown effect measure {s.measure!r} for this analysis.")
    if s.analysis not in (*known, "generic"):
        raise CodegenError(f"Unknown analysis {s.analysis!r}.")
    if s.pooling not in ("IV", "MH", "PETO") or s.model not in ("random", "common"):
        raise CodegenError("Unknown pooling method or model.")
    if s.tau2_method not in _ESTIMATORS or s.test not in ("z", "knha"):
        raise CodegenError("Unknown tau\u00b2 estimator or test.")
    if s.robust not in _ROBUST:
        raise CodegenError("Unknown cluster-robust option.")
    if s.to not in _TARGETS or s.zero_cells not in ("metafor", "revman"):
        raise CodegenError("Unknown continuity-correction option.")
    if not (math.isfinite(float(s.add)) and float(s.add) >= 0):
        raise CodegenError("The continuity correction must be a non-negative number.")


# --------------------------------------------------------------------------- the data


def _used_data(bundle: AnalysisBundle, table: pd.DataFrame) -> tuple[dict, list, list]:
    """(columns for the data frame, subgroup of each used row or None, levels)."""
    s = bundle.settings
    numeric = bundle.validation.numeric.iloc[bundle.used_rows].reset_index(drop=True)
    labels = list(bundle.effects.study)
    cols: dict[str, list] = {"study": labels}

    def take(name: str, source: str | None = None) -> None:
        cols[name] = numeric[source or name].astype(float).tolist()

    if s.analysis == "comparison":
        for name in ("ai", "n1i", "ci", "n2i"):
            take(name)
    elif s.analysis == "single_arm":
        xi, ni = ("xi", "ni") if "xi" in numeric else ("ai", "n1i")
        take("xi", xi)
        take("ni", ni)
    elif s.analysis == "continuous":
        for name in ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"):
            take(name)
    elif s.analysis == "correlation":
        take("ri")
        take("ni")
    else:
        cols["yi"] = np.asarray(bundle.effects.yi, float).tolist()
        cols["vi"] = np.asarray(bundle.effects.vi, float).tolist()
    if s.weights_column is not None:
        cols.setdefault(weights_name(s), numeric[s.weights_column].astype(float).tolist())
    groups: list = []
    levels: list = []
    if bundle.subgroups is not None:
        raw = table[bundle.subgroups.column].astype("string").fillna("").str.strip()
        groups = [g if g else None for g in raw.iloc[bundle.used_rows].tolist()]
        levels = list(bundle.subgroups.levels)
    return cols, groups, levels


def weights_name(s: AnalysisSettings) -> str:
    """The R name of the GENQ weights in ``dat``: the table column's own name when it is a
    plain R name that does not clash with the script's columns, else ``genq_weights``."""
    column = s.weights_column or ""
    reserved = {"study", "group", "yi", "vi", "dat", "res", "T", "F", "TRUE", "FALSE"}
    if _R_NAME.fullmatch(column) and column not in reserved:
        return column
    return "genq_weights"


def _not_analysed(bundle: AnalysisBundle, table: pd.DataFrame) -> list[str]:
    used = set(bundle.used_rows.tolist())
    labels = bundle.validation.labels
    return [str(labels[i]) for i in range(len(table)) if i not in used]


# --------------------------------------------------------------------------- R script


def _r_fit_call(s: AnalysisSettings, subset: str | None = None) -> str:
    sub = f", subset = {subset}" if subset else ""
    level = _level(s)
    if s.analysis == "comparison" and s.pooling == "MH":
        extra = ', add = 0, to = "none"' if s.zero_cells == "revman" else ""
        return (
            f'rma.mh(measure = "{s.binary_measure}", ai = ai, n1i = n1i, ci = ci, '
            f"n2i = n2i, data = dat{sub}{extra}, level = {level})"
        )
    if s.analysis == "comparison" and s.pooling == "PETO":
        extra = ', add = 0, to = "none"' if s.zero_cells == "revman" else ""
        return (
            f"rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat{sub}{extra}, "
            f"level = {level})"
        )
    method = s.method
    control = ", control = ctrl" if method in _ITERATIVE else ""
    weights = f", weights = {weights_name(s)}" if s.weights_column is not None else ""
    return (
        f'rma(yi, vi{weights}, data = dat{sub}, method = "{method}", test = "{s.test}", '
        f"level = {level}{control})"
    )


def escalc_call(
    measure: str,
    *,
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
    vtype: str = "LS",
) -> str:
    """The R line ``dat <- escalc(...)`` for ``measure`` with igmeta's settings.

    The inputs are the data frame's columns named as in
    :data:`igmeta.effects.MEASURE_INPUTS`; ``add`` and ``to`` are written for count
    measures (2x2 tables, proportions, incidence rates), ``drop00`` for two-group counts,
    ``vtype`` when it is not the default ``"LS"``. ``add=None`` writes the default of
    :func:`igmeta.effects.default_add` (0 for PAS, PFT, AS, PHI and IRSD, else 0.5).

    Raises
    ------
    CodegenError
        For a measure without escalc inputs or an unknown ``to``/``vtype``.
    """
    if measure not in MEASURE_INPUTS:
        raise CodegenError(f"No escalc call for the effect measure {measure!r}.")
    if to not in _TARGETS or not vtype.isalnum():
        raise CodegenError("Unknown continuity-correction option or variance type.")
    args = [f'measure = "{measure}"']
    args += [f"{name} = {name}" for name in MEASURE_INPUTS[measure]]
    args.append("data = dat")
    if measure in _CORRECTED:
        add = default_add(measure) if add is None else add
        args += [f"add = {_r_number(add)}", f'to = "{to}"']
    if measure in _DROP00:
        args.append(f"drop00 = {'TRUE' if drop00 else 'FALSE'}")
    if vtype != "LS":
        args.append(f'vtype = "{vtype}"')
    return f"dat <- escalc({', '.join(args)})"


def _r_escalc(s: AnalysisSettings) -> str:
    if s.analysis == "generic":
        return (
            "# Generic effects: yi and vi as igmeta computed them from your table "
            "(log scale for ratios)."
        )
    measure = {"comparison": s.binary_measure, "single_arm": s.proportion_measure}.get(
        s.analysis, s.measure
    )
    add = None if s.analysis == "single_arm" and default_add(measure) == 0 else s.add
    return escalc_call(measure, add=add, to=s.to, drop00=s.drop00)


def _r_revman_block(s: AnalysisSettings) -> list[str]:
    measure = "PETO" if s.pooling == "PETO" else s.binary_measure
    lines = [
        "# RevMan 5 zero-cell convention (Cochrane Handbook 5.1, sections 9.4.4 and 16.9.3),",
        "# applied here before pooling, exactly as igmeta does:",
    ]
    drop = measure in ("RR", "OR", "PETO")
    if drop:
        lines.append("# - tables with no events (or only events) in both groups are left out;")
    if measure != "PETO":
        lines += [
            "# - 0.5 is added to every cell of each remaining table with a zero cell;",
            '# - rma.mh() then pools these corrected counts with add = 0, to = "none".',
        ]
    else:
        lines.append("# - Peto needs no correction: rma.peto() pools raw counts (add = 0).")
    lines.append("dz <- (dat$ai == 0 & dat$ci == 0) | (dat$ai == dat$n1i & dat$ci == dat$n2i)")
    if drop:
        lines.append("dat <- dat[!dz, ]")
    lines.append("arms <- dat  # the counts as typed, for the forest plot's columns")
    if measure != "PETO":
        lines += [
            "zc <- dat$ai == 0 | dat$ci == 0 | dat$ai == dat$n1i | dat$ci == dat$n2i",
            "dat$ai[zc] <- dat$ai[zc] + 0.5",
            "dat$ci[zc] <- dat$ci[zc] + 0.5",
            "dat$n1i[zc] <- dat$n1i[zc] + 1",
            "dat$n2i[zc] <- dat$n2i[zc] + 1",
        ]
    return lines


def _r_predict(transform: str) -> str:
    fn = _R_TRANSFORMS.get(transform)
    if transform not in _R_TRANSFORMS:
        raise CodegenError(f"Unknown back-transform {transform!r}.")
    if fn is None:
        return "pred <- predict(res)"
    if transform == "ipft.hm":
        return (
            "pred <- predict(res, transf = transf.ipft.hm, "
            "targs = list(ni = dat$ni[!is.na(dat$yi) & !is.na(dat$vi)]))"
        )
    return f"pred <- predict(res, transf = {fn})"


def r_script(
    table: pd.DataFrame,
    settings: AnalysisSettings,
    bundle: AnalysisBundle | None = None,
    *,
    plots: bool = True,
    three_level: bool = False,
    publication_bias: bool = False,
) -> str:
    """The analysis as an R script for metafor 3.8-1.

    Parameters
    ----------
    table : DataFrame
        The study table (canonical columns).
    settings : AnalysisSettings
    bundle : AnalysisBundle, optional
        ``run_analysis(table, settings)`` if already computed.
    plots : bool, default True
        Also draw the forest plot and the funnel plot into the PDF files
        :data:`FOREST_PDF` and :data:`FUNNEL_PDF` (see :func:`_r_forest`, :func:`_r_funnel`).
    three_level : bool, default False
        Also fit the three-level model of the table's ``cluster`` column
        (:func:`r_three_level`) and report it (names ``ml_*``).
    publication_bias : bool, default False
        Also run the Publication bias page's analyses (:func:`r_bias_section`); their
        numbers are in :func:`bias_values`.

    Raises
    ------
    CodegenError
        When there is no pooled result or a setting is unknown.
    """
    _check(settings)
    bundle = bundle if bundle is not None else run_analysis(table, settings)
    if bundle.result is None or bundle.effects is None:
        raise CodegenError(bundle.error or "There is no pooled result to reproduce.")
    s = bundle.settings
    res = bundle.result
    cols, groups, levels = _used_data(bundle, table)
    mh_peto = s.analysis == "comparison" and s.pooling in ("MH", "PETO")
    random = res.is_random_effects
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Meta-analysis exported from the igmeta dashboard on " + stamp + ".",
        "# Reproduces the dashboard's numbers with R and metafor 3.8-1:",
        "#   Rscript this_file.R",
        *(
            [f"# It draws the forest and funnel plots into {FOREST_PDF} and {FUNNEL_PDF}."]
            if plots
            else []
        ),
        "# The results are printed, then repeated in a machine-readable block at the end.",
        "suppressPackageStartupMessages(library(metafor))",
        'if (packageVersion("metafor") != "3.8.1")',
        '  message("Note: written for metafor 3.8-1; this is metafor ", '
        'packageVersion("metafor"), ".")',
        "",
        "# The analysed studies (excluded, filtered and flagged rows are not included).",
        "dat <- data.frame(",
    ]
    entries = [
        f"  {name} = {_r_vector(values, strings=(name == 'study'))}"
        for name, values in cols.items()
    ]
    if groups:
        entries.append(f"  group = {_r_vector(groups, strings=True)}")
    lines.append(",\n".join(entries + ["  stringsAsFactors = FALSE"]))
    lines.append(")")
    skipped = _not_analysed(bundle, table)
    skipped_r = _r_vector(skipped, strings=True) if skipped else "character(0)"
    lines.append(f"not_analysed <- {skipped_r}")
    if groups:
        lines.append(f"subgroup_column <- {r_string(bundle.subgroups.column)}")
    if s.weights_column is not None:
        lines.append(
            f"weights_column <- {r_string(s.weights_column)}  "
            f"# table column of the GENQ weights, dat${weights_name(s)}"
        )
    lines.append("")
    if s.method in _ITERATIVE and not mh_peto:
        control = "threshold = 1e-10, maxiter = 1000"
        if s.method in ("PM", "PMM", "EB"):
            control += ", tol = 1e-12"
            lines.append("# tol: precision of the root finding behind the PM/PMM/EB estimators.")
        lines.append(f"ctrl <- list({control})")
    if mh_peto:
        if s.zero_cells == "revman":
            lines += _r_revman_block(s)
        else:
            lines.append(
                "# metafor's zero-cell handling (rma.mh/rma.peto defaults): raw counts "
                "in the pooled estimate,"
            )
            lines.append("# 0.5 added to zero-cell tables for the study-level estimates only.")
    else:
        lines.append(_r_escalc(s))
    lines.append(f"res <- {_r_fit_call(s)}")
    lines.append("print(res)")
    lines.append("het <- c(QE = res$QE, QEp = res$QEp, I2 = res$I2)")
    if mh_peto and s.zero_cells == "revman" and s.pooling == "MH" and s.binary_measure == "RD":
        lines += [
            "# Heterogeneity as igmeta reports it: a double-zero table has no study-level",
            "# risk difference (metafor's drop00 for study-level estimates), so it is left",
            "# out of Q, although its corrected counts are in the pooled MH sums.",
            "h <- !dz & !is.na(res$yi)",
            "QE <- sum((res$yi[h] - as.numeric(res$beta))^2 / res$vi[h])",
            "df_h <- sum(h) - 1",
            "if (df_h > 0) het <- c(QE = QE, QEp = pchisq(QE, df_h, lower.tail = FALSE),",
            "                       I2 = if (QE > 0) max(0, 100 * (QE - df_h) / QE) else 0)",
        ]
    lines.append(_r_predict(res.transform))
    lines.append("print(pred)")
    if groups:
        lines += [
            "",
            "# Subgroups (sorted as in igmeta) and the test for subgroup differences.",
            f"lv <- {_r_vector(levels, strings=True)}",
        ]
        lines.append(f"sub <- lapply(lv, function(g) {_r_fit_call(s, 'group %in% g')})")
        lines.append("names(sub) <- lv")
        lines.append("print(sub)")
        lines += _r_subgroup_test(bundle)
    if three_level:
        lines += ["", *r_three_level(bundle, table)]
    if plots:
        lines += [
            "",
            "# Plots: cairo_pdf draws any UTF-8 label; pdf() is the fallback without cairo.",
            "open_pdf <- function(file, width, height)",
            '  if (capabilities("cairo")) cairo_pdf(file, width, height) else '
            "pdf(file, width, height)",
        ]
        lines += _r_forest(bundle, groups, levels)
        lines += _r_funnel(bundle)
    if publication_bias:
        lines += r_bias_section(bundle)
    lines += [
        "",
        'report <- function(name, value, digits = "%.10f")',
        '  cat(name, "=", sprintf(digits, as.numeric(value)), "\\n", sep = "")',
        f'cat("{BEGIN}\\n")',
        'report("k", res$k)',
        'report("estimate", res$beta)',
        'report("se", res$se)',
        'report("ci_lb", res$ci.lb)',
        'report("ci_ub", res$ci.ub)',
        'report("pval", res$pval, "%.10e")',
        'report("QE", het[["QE"]])',
        'report("QEp", het[["QEp"]], "%.10e")',
        'report("I2", het[["I2"]])',
        'report("estimate_nat", pred$pred)',
        'report("ci_lb_nat", pred$ci.lb)',
        'report("ci_ub_nat", pred$ci.ub)',
    ]
    if random:
        lines += [
            'report("tau2", res$tau2)',
            'report("pi_lb_nat", pred$pi.lb)',
            'report("pi_ub_nat", pred$pi.ub)',
        ]
    if groups:
        lines += [
            "for (i in seq_along(sub)) {",
            '  report(sprintf("subgroup%d_k", i), sub[[i]]$k)',
            '  report(sprintf("subgroup%d_estimate", i), sub[[i]]$beta)',
            '  report(sprintf("subgroup%d_se", i), sub[[i]]$se)',
            '  report(sprintf("subgroup%d_ci_lb", i), sub[[i]]$ci.lb)',
            '  report(sprintf("subgroup%d_ci_ub", i), sub[[i]]$ci.ub)',
            "}",
            'report("subgroup_test_stat", subgroup_test_stat)',
            'report("subgroup_test_pval", subgroup_test_pval, "%.10e")',
        ]
    if three_level:
        lines += [
            'report("ml_k", res_ml$k)',
            'report("ml_estimate", pred_ml$pred)',
            'report("ml_se", pred_ml$se)',
            'report("ml_ci_lb", pred_ml$ci.lb)',
            'report("ml_ci_ub", pred_ml$ci.ub)',
            'report("ml_pi_lb", pred_ml$pi.lb)',
            'report("ml_pi_ub", pred_ml$pi.ub)',
            'report("ml_pval", res_ml$pval, "%.10e")',
            "for (j in 1:2) {",
            '  report(sprintf("ml_sigma2_%d", j), res_ml$sigma2[j], "%.12e")',
            '  report(sprintf("ml_sigma2_%d_lb", j), ci_ml[[j]]$random[1, 2], "%.12e")',
            '  report(sprintf("ml_sigma2_%d_ub", j), ci_ml[[j]]$random[1, 3], "%.12e")',
            "}",
        ]
        if _ROBUST.get(s.robust):
            lines += [
                'report("ml_robust_se", rob_ml$se)',
                'report("ml_robust_ci_lb", rob_ml$ci.lb)',
                'report("ml_robust_ci_ub", rob_ml$ci.ub)',
                'report("ml_robust_pval", rob_ml$pval, "%.10e")',
                'report("ml_robust_ddf", rob_ml$ddf)',
            ]
    if publication_bias:
        lines += _r_bias_report(bundle)
    lines.append(f'cat("{END}\\n")')
    return "\n".join(lines) + "\n"


def r_three_level(bundle: AnalysisBundle, table: pd.DataFrame) -> list[str]:
    """R lines fitting the three-level model ``rma.mv(yi, vi, random = ~ 1 | cluster/es_id)``.

    They follow the lines of :func:`r_script` (the data frame ``dat`` of the analysed rows)
    and define ``res_ml``, ``ci_ml`` (profile-likelihood CIs) and ``pred_ml``, with the
    settings of the dashboard's three-level panel: REML (ML when the sidebar's estimator is
    ML), t-tests under Hartung-Knapp, rows without a cluster left out; with a cluster-robust
    option (``settings.robust``) also ``rob_ml``, metafor's ``robust(res_ml, cluster)``
    (CR1, or CR2 with ``clubSandwich = TRUE``, which needs the R package clubSandwich).

    Parameters
    ----------
    bundle : AnalysisBundle
    table : DataFrame
        The study table with a ``cluster`` column.

    Returns
    -------
    list of str

    Raises
    ------
    CodegenError
        When the table has no ``cluster`` column or there are no per-study estimates.
    """
    if CLUSTER_COLUMN not in table.columns or bundle.effects is None:
        raise CodegenError(
            f"The three-level model needs a '{CLUSTER_COLUMN}' column and per-study estimates."
        )
    s = bundle.settings
    method = "ML" if s.tau2_method == "ML" else "REML"
    test = "t" if s.test == "knha" else "z"
    raw = table[CLUSTER_COLUMN].iloc[bundle.used_rows]
    clusters = [None if pd.isna(v) or str(v).strip() == "" else str(v).strip() for v in raw]
    lines = ["# Three-level model: estimates (rows) within clusters (metafor's rma.mv)."]
    mh_peto = s.analysis == "comparison" and s.pooling in ("MH", "PETO")
    if mh_peto:
        lines += [
            "# Per-study estimates as igmeta computed them for this model.",
            f"dat$yi <- {_r_vector(np.asarray(bundle.effects.yi, float).tolist())}",
            f"dat$vi <- {_r_vector(np.asarray(bundle.effects.vi, float).tolist())}",
        ]
    lines += [
        f"dat$cluster <- {_r_vector(clusters, strings=True)}",
        "dat$es_id <- seq_len(nrow(dat))",
        "res_ml <- rma.mv(yi, vi, random = ~ 1 | cluster/es_id, data = dat,",
        f'                 subset = !is.na(cluster), method = "{method}", test = "{test}",',
        f"                 level = {_level(s)})",
        "print(res_ml)",
        "# Profile-likelihood CIs of both variances (uniroot tightened from its default).",
        "ci_ml <- confint(res_ml, control = list(tol = 1e-10))",
        "print(ci_ml)",
        "pred_ml <- predict(res_ml)",
        "print(pred_ml)",
    ]
    robust_args = _ROBUST.get(s.robust)
    if robust_args:
        needs = " (needs the R package clubSandwich)" if s.robust == "CR2" else ""
        lines += [
            f"# Cluster-robust tests ({s.robust}) of the three-level model{needs}.",
            f"rob_ml <- robust(res_ml, cluster = cluster, {robust_args})",
            "print(rob_ml)",
        ]
    return lines


def _r_subgroup_test(bundle: AnalysisBundle) -> list[str]:
    test = bundle.subgroups.test
    if test.name == "separate_tau2":
        return [
            "# Test for subgroup differences: Q on the subgroup estimates with their own",
            "# standard errors (separate fits per subgroup; RevMan's test).",
            "qt <- rma(yi = sapply(sub, function(f) as.numeric(f$beta)),",
            '          sei = sapply(sub, function(f) f$se), method = "FE")',
            "subgroup_test_stat <- qt$QE",
            "subgroup_test_pval <- qt$QEp",
        ]
    full = bundle.subgroups.full
    if full is not None and full.moderator_fixed is not None:
        level = _level(bundle.settings)
        return [
            "# Test for subgroup differences: common-effect Q-between (moderator test).",
            "qt <- rma(yi, vi, mods = ~ factor(group, levels = lv), data = dat,",
            f'          subset = group %in% lv, method = "FE", level = {level})',
            "subgroup_test_stat <- qt$QM",
            "subgroup_test_pval <- qt$QMp",
        ]
    return [
        "# Test for subgroup differences: Q-between = Q(all) - sum of Q(within).",
        'all_fe <- rma(yi, vi, data = dat, subset = group %in% lv, method = "FE")',
        "subgroup_test_stat <- all_fe$QE - sum(sapply(sub, function(f) f$QE))",
        "subgroup_test_pval <- pchisq(subgroup_test_stat, df = length(lv) - 1, lower.tail = FALSE)",
    ]


# --------------------------------------------------------------------------- R plots

#: Arm columns of the forest plot as the dashboard shows them: (data-frame columns,
#: column headers, group header of each column).
_R_ARMS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "comparison": (
        ("ai", "n1i", "ci", "n2i"),
        ("Events", "Total", "Events", "Total"),
        ("Treatment", "Treatment", "Control", "Control"),
    ),
    "single_arm": (("xi", "ni"), ("Events", "Total"), ("", "")),
    "continuous": (
        ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
        ("Mean", "SD", "Total", "Mean", "SD", "Total"),
        ("Treatment",) * 3 + ("Control",) * 3,
    ),
    "correlation": (("ni",), ("Total",), ("",)),
}
#: Inches per forest-plot row and the fixed part (axis, header, margins) of the height.
_INCH_PER_ROW = 0.25
_INCH_FIXED = 2.0


def _r_transf(bundle: AnalysisBundle, ni: str) -> str:
    """The back-transform arguments of forest()/addpoly(): ``atransf = exp`` for ratio
    measures (log axis labelled on the ratio scale), ``transf = ...`` otherwise, as
    :func:`_r_predict`; ``ni`` is the R expression of the sample sizes for Freeman-Tukey."""
    transform = bundle.result.transform
    if transform not in _R_TRANSFORMS:
        raise CodegenError(f"Unknown back-transform {transform!r}.")
    fn = _R_TRANSFORMS[transform]
    if fn is None:
        return ""
    if transform == "exp":
        return ", atransf = exp"
    if transform == "ipft.hm":
        return f", transf = transf.ipft.hm, targs = list(ni = {ni})"
    return f", transf = {fn}"


#: R lines of metafor's documented "forest plot with subgroups" layout, computed from the
#: analysed rows (RevMan's convention may have dropped some): the first subgroup at the
#: top, each block a label row, its studies in table order and its subtotal row, blocks
#: one empty line apart; studies outside every level form a last block without subtotal.
#: The overall summary stays at row -1.
_R_SUBGROUP_LAYOUT = (
    "gi <- match(dat$group, lv)",
    "rows <- numeric(nrow(dat))",
    "subgroup_rows <- subtotal_rows <- numeric(length(lv))",
    "row <- 1",
    "rest <- which(is.na(gi))",
    "if (length(rest) > 0) {",
    "  rows[rest] <- row + rev(seq_along(rest)) - 1",
    "  row <- row + length(rest) + 2",
    "}",
    "for (b in rev(seq_along(lv))) {",
    "  members <- which(gi == b)",
    "  subtotal_rows[b] <- row",
    "  rows[members] <- row + rev(seq_along(members))",
    "  subgroup_rows[b] <- row + length(members) + 1",
    "  row <- subgroup_rows[b] + 2",
    "}",
)


def _r_forest(bundle: AnalysisBundle, groups: list, levels: list) -> list[str]:
    """R lines drawing the dashboard's forest plot into :data:`FOREST_PDF`.

    ``forest(res, ...)`` with the study labels, back-transform, confidence level, weights,
    the arm columns (``ilab``, headers via ``text()``), the prediction interval when the
    dashboard shows it (``addpred``) and, with subgroups, metafor's documented subgroup
    layout (``rows=``, subgroup labels with ``text()``, ``addpoly()`` for each subgroup fit).
    Excluded studies are not drawn (the dashboard draws them greyed out); they are named
    in ``not_analysed``. The x limits come from a first call on a null device, then the
    arm columns are placed left of the plotted interval.
    """
    s = bundle.settings
    res = bundle.result
    level = _level(s)
    revman = s.analysis == "comparison" and s.pooling in ("MH", "PETO") and s.zero_cells == "revman"
    arms = "arms" if revman else "dat"
    columns, headers, tops = _R_ARMS.get(s.analysis, ((), (), ()))
    label = measure_info(s.measure).label
    pred = res.is_random_effects and s.show_prediction and np.isfinite(res.pi_lower)
    args = [
        'slab = gsub("[[:cntrl:]]+", " ", dat$study)',
        f"mlab = {r_string('Overall: ' + model_label(bundle.result, bundle.settings.zero_cells))}",
        f"level = {level}",
        "showweights = TRUE",
        f'header = c("Study", {r_string(f"{label} [{level}% CI]")})',
        f"xlab = {r_string(label)}",
    ]
    if pred:
        args.append("addpred = TRUE")
    if s.analysis == "single_arm":
        args.append("refline = NA")
    transf = _r_transf(bundle, "dat$ni")
    lines = [
        "",
        f"# Forest plot ({FOREST_PDF}) as the dashboard draws it: labels, back-transform,",
        "# level, weights, arm columns"
        + (", prediction interval" if pred else "")
        + (", subgroups" if groups else "")
        + ". Excluded studies are",
        "# not drawn (the dashboard shows them greyed out; see not_analysed).",
        "# Studies without an estimate keep their row (na.pass), as on screen.",
        'old_na <- options(na.action = "na.pass")',
    ]
    if s.analysis == "single_arm" and res.transform == "ipft.hm":
        lines.append(
            "# transf.ipft.hm back-transforms every row with the harmonic mean of ni "
            "(igmeta: each study's own n)."
        )
    n_rows = len(bundle.effects.yi)
    extra = ""
    if groups:
        lines.append("# Subgroup layout (metafor's documented forest plot with subgroups).")
        lines += _R_SUBGROUP_LAYOUT
        extra = ", rows = rows, ylim = c(-1.5, max(subgroup_rows) + 3)"
        n_rows += 3 * len(levels) + 2
    lines.append(
        "draw_forest <- function(...) forest(res, " + ", ".join(args) + transf + extra + ", ...)"
    )
    lines += [
        "# A first call on a null device gives the layout (x limits) to place the columns.",
        "pdf(NULL)",
        "fp <- suppressWarnings(draw_forest())",
        "invisible(dev.off())",
    ]
    height = max(5.0, _INCH_FIXED + _INCH_PER_ROW * (n_rows + 4))
    if columns:
        lines += [
            f"arm_cols <- cbind({', '.join(f'{arms}${c}' for c in columns)})",
            "col_width <- 0.07 * diff(fp$xlim)",
            "arm_x <- fp$alim[1] - col_width * (ncol(arm_cols):1)",
            "xlim <- c(fp$xlim[1] - col_width * ncol(arm_cols), fp$xlim[2])",
        ]
    call = ["xlim = xlim, ilab = arm_cols, ilab.xpos = arm_x"] if columns else []
    if res.transform == "exp":
        lines += [
            "# Round ratio ticks (0.1, 0.2, 0.5, 1, 2, 5, 10...) within metafor's axis limits.",
            "ticks <- log(c(0.001, 0.01, 0.1, 0.2, 0.5, 1, 2, 5, 10, 100, 1000))",
            "at <- ticks[ticks >= fp$alim[1] & ticks <= fp$alim[2]]",
            "if (length(at) < 3) at <- fp$at",
        ]
        call.append("at = at")
    width = 10 + 0.7 * len(columns)
    lines += [
        f'open_pdf("{FOREST_PDF}", width = {width:g}, height = {height:g})',
        f"fp <- draw_forest({', '.join(call)})",
    ]
    if columns:
        lines.append(f"text(arm_x, fp$ylim[2] - 1, {_r_vector(headers, strings=True)}, font = 2)")
        for top_name in dict.fromkeys(t for t in tops if t):
            idx = [i + 1 for i, t in enumerate(tops) if t == top_name]
            lines.append(
                f"text(mean(arm_x[{_r_vector(idx)}]), fp$ylim[2], {r_string(top_name)}, font = 2)"
            )
    if groups:
        sub_transf = _r_transf(bundle, "dat$ni[dat$group %in% lv[i]]")
        lines += [
            "text(fp$xlim[1], subgroup_rows, lv, pos = 4, font = 4)",
            "for (i in seq_along(sub))",
            "  addpoly(sub[[i]], row = subtotal_rows[i], "
            f'mlab = paste("Subtotal:", lv[i]){sub_transf})',
        ]
    lines += ["invisible(dev.off())", "options(old_na)"]
    return lines


def _r_funnel(bundle: AnalysisBundle) -> list[str]:
    """R lines drawing the dashboard's funnel plot into :data:`FUNNEL_PDF`.

    Contour-enhanced (90/95/99% significance regions around 0, as
    :func:`igmeta.app.outputs.exports.funnel_for`) when the measure has a null value; a plain funnel
    around the estimate for proportions. Ratio measures get ``atransf = exp``. Skipped
    with a comment when no study has a finite effect (the dashboard draws no funnel).
    """
    res = bundle.result
    yi, vi = np.asarray(res.yi, float), np.asarray(res.vi, float)
    if not np.any(np.isfinite(yi) & np.isfinite(vi)):
        return ["", "# No funnel plot: no study has an estimate and a standard error."]
    atransf = ", atransf = exp" if res.transform == "exp" else ""
    lines = ["", f"# Funnel plot ({FUNNEL_PDF}) on the analysis scale, as the dashboard draws it."]
    if bundle.settings.analysis == "single_arm":
        call = f"funnel(res{atransf})"
    else:
        lines.append("# Contour-enhanced: shaded 90/95/99% significance regions around 0.")
        call = (
            "funnel(res, level = c(90, 95, 99), "
            'shade = c("white", "gray55", "gray75"), refline = 0, legend = TRUE'
            f"{atransf})"
        )
    lines += [
        f'open_pdf("{FUNNEL_PDF}", width = 7, height = 6)',
        call,
        "abline(v = res$beta, lty = 2)  # the pooled estimate",
        "invisible(dev.off())",
    ]
    return lines


# --------------------------------------------------------------------------- Python


_PY_TEMPLATE = '''"""Meta-analysis exported from the igmeta dashboard on {stamp}.

Reproduces the dashboard's numbers with igmeta's public API. Run it with the igmeta
package importable (e.g. from the igmeta folder: python this_file.py). The results are
printed, then repeated in a machine-readable block at the end.
"""

import json

from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.app.store.scenarios import table_from_json

# The whole study table (including excluded rows) and every setting, as JSON.
TABLE_JSON = {table_json}
SETTINGS_JSON = {settings_json}

table = table_from_json(TABLE_JSON)
settings = AnalysisSettings.from_dict(json.loads(SETTINGS_JSON))
bundle = run_analysis(table, settings)
if bundle.result is None:
    raise SystemExit(bundle.error)
res = bundle.result
print(table.to_string())
print(res.study_frame().to_string())
for message in bundle.warnings:
    print("Warning:", message)

bt = res.back_transformed()
values = {{
    "k": res.k, "estimate": res.estimate, "se": res.se, "ci_lb": res.ci_lower,
    "ci_ub": res.ci_upper, "pval": res.pval, "QE": res.q, "QEp": res.q_pval, "I2": res.i2,
    "estimate_nat": bt["estimate"], "ci_lb_nat": bt["ci_lower"], "ci_ub_nat": bt["ci_upper"],
}}
if res.is_random_effects:
    values.update(tau2=res.tau2, pi_lb_nat=bt["pi_lower"], pi_ub_nat=bt["pi_upper"])
groups = bundle.subgroups
if groups is not None:
    for i, (level, fit) in enumerate(zip(groups.levels, groups.fits), start=1):
        print(f"Subgroup {{level}}: k = {{fit.k}}, estimate = {{fit.estimate:.4f}} "
              f"[{{fit.ci_lower:.4f}}, {{fit.ci_upper:.4f}}]")
        values.update({{f"subgroup{{i}}_k": fit.k, f"subgroup{{i}}_estimate": fit.estimate,
                       f"subgroup{{i}}_se": fit.se, f"subgroup{{i}}_ci_lb": fit.ci_lower,
                       f"subgroup{{i}}_ci_ub": fit.ci_upper}})
    values.update(subgroup_test_stat=groups.test.statistic,
                  subgroup_test_pval=groups.test.pval)
print({begin!r})
for name, value in values.items():
    print(f"{{name}}={{value:.10e}}" if "pval" in name or name == "QEp" else
          f"{{name}}={{value:.10f}}")
print({end!r})
'''


def python_script(table: pd.DataFrame, settings: AnalysisSettings) -> str:
    """The analysis as a Python script using igmeta's public API (table embedded as JSON)."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return _PY_TEMPLATE.format(
        stamp=stamp,
        table_json=repr(table_to_json(table)),
        settings_json=repr(settings_to_json(settings)),
        begin=BEGIN,
        end=END,
    )


# ------------------------------------------------------------------ publication bias

#: Cut points of the step-function selection model on the Publication bias page.
BIAS_STEPS = (0.025, 1.0)


def _bias_direction(bundle: AnalysisBundle) -> str:
    """Significant = in the direction of the pooled effect (the page's ``alternative``)."""
    return "less" if bundle.result.estimate < 0 else "greater"


def r_bias_section(bundle: AnalysisBundle, trimfill_estimator: str = "L0") -> list[str]:
    """R lines fitting the Publication bias page's analyses (reported as :func:`bias_values`).

    Egger's test (``regtest``, meta-regression and classical ``lm`` forms), trim-and-fill
    (``trimfill``), PET and PEESE (weighted ``lm`` on ``sqrt(vi)`` and ``vi``, as
    :func:`igmeta.bias.pet_peese`), and the step-function and beta selection models
    (``selmodel``). Each runs inside ``tryCatch`` so that one that cannot be fitted
    reports ``NA`` and the script goes on. Inverse-variance models only (the page
    explains why the others have no such analyses): an empty list otherwise.
    """
    if bundle.settings.analysis == "comparison" and bundle.settings.pooling in ("MH", "PETO"):
        return []
    alternative = r_string(_bias_direction(bundle))
    steps = _r_vector(BIAS_STEPS)
    return [
        "",
        "# Publication bias (the Publication bias page). An analysis that cannot be",
        "# fitted reports NA. selmodel() refits the model by maximum likelihood; the beta",
        "# model's numbers can differ from igmeta's in the 3rd-4th digit because metafor",
        "# integrates with rel.tol = .Machine$double.eps^0.25 (igmeta integrates exactly).",
        "try_na <- function(expr) tryCatch(expr, error = function(e) {",
        '  message("Not estimable: ", conditionMessage(e)); NULL })',
        "eg <- try_na(regtest(res))",
        'eg_lm <- try_na(regtest(res, model = "lm"))',
        f"tf <- try_na(trimfill(res, estimator = {r_string(trimfill_estimator)}))",
        "dat_b <- data.frame(yi = as.numeric(res$yi), vi = res$vi)",
        "pet <- try_na(summary(lm(yi ~ sqrt(vi), weights = 1 / vi, data = dat_b)))",
        "peese <- try_na(summary(lm(yi ~ vi, weights = 1 / vi, data = dat_b)))",
        'sel_step <- try_na(selmodel(res, type = "stepfun", '
        f"steps = {steps}, alternative = {alternative}))",
        f'sel_beta <- try_na(selmodel(res, type = "beta", alternative = {alternative}))',
        "print(list(eg, eg_lm, tf, pet, peese, sel_step, sel_beta))",
    ]


def _r_bias_report(bundle: AnalysisBundle) -> list[str]:
    """The machine-readable lines of :func:`r_bias_section` (inside the results block)."""
    if not r_bias_section(bundle):
        return []
    return [
        "or_na <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else x",
        'report("egger_stat", or_na(eg$zval))',
        'report("egger_pval", or_na(eg$pval), "%.10e")',
        'report("egger_lm_stat", or_na(eg_lm$zval))',
        'report("egger_lm_pval", or_na(eg_lm$pval), "%.10e")',
        'report("trimfill_k0", or_na(tf$k0))',
        'report("trimfill_estimate", or_na(tf$beta))',
        'report("trimfill_se", or_na(tf$se))',
        'report("pet_estimate", or_na(pet$coefficients[1, 1]))',
        'report("pet_se", or_na(pet$coefficients[1, 2]))',
        'report("peese_estimate", or_na(peese$coefficients[1, 1]))',
        'report("peese_se", or_na(peese$coefficients[1, 2]))',
        'report("selmodel_step_estimate", or_na(sel_step$beta))',
        'report("selmodel_step_se", or_na(sel_step$se))',
        'report("selmodel_step_delta2", or_na(sel_step$delta[2]))',
        'report("selmodel_step_lrt_pval", or_na(sel_step$LRTp), "%.10e")',
        'report("selmodel_beta_estimate", or_na(sel_beta$beta))',
        'report("selmodel_beta_se", or_na(sel_beta$se))',
        'report("selmodel_beta_delta1", or_na(sel_beta$delta[1]))',
        'report("selmodel_beta_delta2", or_na(sel_beta$delta[2]))',
        'report("selmodel_beta_lrt_pval", or_na(sel_beta$LRTp), "%.10e")',
    ]


def bias_values(bundle: AnalysisBundle, trimfill_estimator: str = "L0") -> dict[str, float]:
    """The Publication bias page's numbers under the names :func:`r_bias_section` prints.

    An analysis the engine refuses (``ValueError``) is NaN, as the script's ``NA``.
    """
    res = bundle.result
    if res is None or not r_bias_section(bundle):
        return {}
    direction = _bias_direction(bundle)

    def attempt(func):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return func()
        except ValueError:
            return None

    eg = attempt(lambda: egger_test(res))
    eg_lm = attempt(lambda: egger_test(res, model="lm"))
    tf = attempt(lambda: trim_and_fill(res, estimator=trimfill_estimator))
    pp = attempt(lambda: pet_peese(res))
    step = attempt(lambda: step_selection_model(res, steps=BIAS_STEPS, alternative=direction))
    beta = attempt(lambda: beta_selection_model(res, alternative=direction))
    nan = float("nan")

    def get(obj, read):
        return float(read(obj)) if obj is not None else nan

    return {
        "egger_stat": get(eg, lambda r: r.zval),
        "egger_pval": get(eg, lambda r: r.pval),
        "egger_lm_stat": get(eg_lm, lambda r: r.zval),
        "egger_lm_pval": get(eg_lm, lambda r: r.pval),
        "trimfill_k0": get(tf, lambda r: r.k0),
        "trimfill_estimate": get(tf, lambda r: r.estimate),
        "trimfill_se": get(tf, lambda r: r.model.se),
        "pet_estimate": get(pp, lambda r: r.pet.beta[0]),
        "pet_se": get(pp, lambda r: r.pet.se[0]),
        "peese_estimate": get(pp, lambda r: r.peese.beta[0]),
        "peese_se": get(pp, lambda r: r.peese.se[0]),
        "selmodel_step_estimate": get(step, lambda r: r.estimate),
        "selmodel_step_se": get(step, lambda r: r.se),
        "selmodel_step_delta2": get(step, lambda r: r.delta[1]),
        "selmodel_step_lrt_pval": get(step, lambda r: r.lrt_pval),
        "selmodel_beta_estimate": get(beta, lambda r: r.estimate),
        "selmodel_beta_se": get(beta, lambda r: r.se),
        "selmodel_beta_delta1": get(beta, lambda r: r.delta[0]),
        "selmodel_beta_delta2": get(beta, lambda r: r.delta[1]),
        "selmodel_beta_lrt_pval": get(beta, lambda r: r.lrt_pval),
    }


# --------------------------------------------------------------------------- checking


def result_values(bundle: AnalysisBundle) -> dict[str, float]:
    """The dashboard's numbers under the names the scripts print."""
    res = bundle.result
    if res is None:
        return {}
    bt = res.back_transformed()
    out = {
        "k": res.k,
        "estimate": res.estimate,
        "se": res.se,
        "ci_lb": res.ci_lower,
        "ci_ub": res.ci_upper,
        "pval": res.pval,
        "QE": res.q,
        "QEp": res.q_pval,
        "I2": res.i2,
        "estimate_nat": bt["estimate"],
        "ci_lb_nat": bt["ci_lower"],
        "ci_ub_nat": bt["ci_upper"],
    }
    if res.is_random_effects:
        out.update(tau2=res.tau2, pi_lb_nat=bt["pi_lower"], pi_ub_nat=bt["pi_upper"])
    groups = bundle.subgroups
    if groups is not None:
        for i, fit in enumerate(groups.fits, start=1):
            out.update(
                {
                    f"subgroup{i}_k": fit.k,
                    f"subgroup{i}_estimate": fit.estimate,
                    f"subgroup{i}_se": fit.se,
                    f"subgroup{i}_ci_lb": fit.ci_lower,
                    f"subgroup{i}_ci_ub": fit.ci_upper,
                }
            )
        out.update(subgroup_test_stat=groups.test.statistic, subgroup_test_pval=groups.test.pval)
    return {key: float(value) for key, value in out.items()}


def parse_results(output: str) -> dict[str, float]:
    """The ``name=value`` lines between :data:`BEGIN` and :data:`END` of a script's output.

    Raises
    ------
    CodegenError
        If the block is missing.
    """
    lines = output.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == BEGIN)
        stop = next(i for i in range(start + 1, len(lines)) if lines[i].strip() == END)
    except StopIteration:
        raise CodegenError("The script's output has no igmeta results block.") from None
    values: dict[str, float] = {}
    for line in lines[start + 1 : stop]:
        name, _, text = line.strip().partition("=")
        if name:
            values[name] = float("nan") if text.strip() in ("NA", "NaN", "nan") else float(text)
    return values


def compare_values(
    expected: dict[str, float], actual: dict[str, float], *, rtol: float = 1e-6, atol: float = 1e-9
) -> list[str]:
    """Names whose values differ (or are missing in ``actual``); empty when all agree."""
    bad = []
    for name, value in expected.items():
        if name not in actual:
            bad.append(f"{name}: missing")
            continue
        other = actual[name]
        if math.isnan(value) and math.isnan(other):
            continue
        if not math.isclose(value, other, rel_tol=rtol, abs_tol=atol):
            bad.append(f"{name}: expected {value!r}, got {other!r}")
    return bad
