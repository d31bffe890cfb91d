"""Meta-regression of a study table: moderators from its columns, predictions, regplot data.

:func:`fit_moderators` fits metafor's ``rma(yi, vi, mods = ~ ...)`` on the studies an
analysis uses, with moderators taken from the study table (numeric columns as they are,
text columns as treatment-coded factors, as :func:`igmeta.pooling.design_matrix`);
:func:`predict` is metafor's ``predict(res, newmods = ...)`` (fitted value, its CI and
the prediction interval); :func:`regression_band` gives the line and CI band of a bubble
plot (metafor's ``regplot``) over one numeric moderator, the others held at their means
(numeric) or reference level (factors).

References
----------
Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw
2010;36(3):1-48. doi:10.18637/jss.v036.i03
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from igmeta.app.intake.schema import CANONICAL_COLUMNS, INCLUDE_COLUMN, STUDY_COLUMN
from igmeta.app.outputs.codegen import _r_vector, r_string
from igmeta.app.pipeline.analysis import AnalysisBundle
from igmeta.effects import measure_info
from igmeta.estimators import ESTIMATORS, ITERATIVE_METHODS
from igmeta.formulas import prediction_half_width
from igmeta.pooling import design_matrix, meta_regression
from igmeta.results import MetaRegressionResult

__all__ = [
    "ModeratorFit",
    "fit_moderators",
    "moderator_candidates",
    "moderator_kinds",
    "new_design",
    "predict",
    "r_script",
    "regplot_points",
    "regression_band",
]


@dataclass(frozen=True, slots=True, eq=False)
class ModeratorFit:
    """A meta-regression of an analysis on moderators of its study table.

    Attributes
    ----------
    result : MetaRegressionResult
    moderators : DataFrame
        The moderator values of the fitted studies (one row per study, in fit order):
        floats for numeric moderators, text for categorical ones.
    kinds : dict
        ``column -> "numeric" | "categorical"``.
    left_out : tuple of str
        Analysed studies left out for an empty moderator cell.
    """

    result: MetaRegressionResult
    moderators: pd.DataFrame
    kinds: dict[str, str]
    left_out: tuple[str, ...] = ()


def moderator_candidates(table: pd.DataFrame) -> list[str]:
    """Columns of ``table`` that can be moderators: all but the study label, the include
    flag, the provenance note and the effect-size input columns of every data type."""
    reserved = {STUDY_COLUMN, INCLUDE_COLUMN, "provenance"}
    reserved.update(c for columns in CANONICAL_COLUMNS.values() for c in columns)
    return [str(c) for c in table.columns if c not in reserved]


def moderator_kinds(table: pd.DataFrame, columns: Sequence[str]) -> dict[str, str]:
    """``"numeric"`` for columns whose non-empty cells are all numbers, else ``"categorical"``."""
    out = {}
    for column in columns:
        values = table[column]
        text = values.astype("string").str.strip()
        filled = values[text.notna() & (text != "")]
        numeric = (
            not pd.api.types.is_bool_dtype(values)
            and len(filled) > 0
            and pd.to_numeric(filled, errors="coerce").notna().all()
        )
        out[column] = "numeric" if numeric else "categorical"
    return out


def _coded(frame: pd.DataFrame, kinds: Mapping[str, str]) -> pd.DataFrame:
    """Numeric moderators as floats, categorical ones as stripped text (None when empty)."""
    coded = {}
    for column, kind in kinds.items():
        values = frame[column]
        if kind == "numeric":
            coded[column] = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
        else:
            text = values.astype("string").str.strip()
            coded[column] = [None if pd.isna(v) or v == "" else str(v) for v in text]
    return pd.DataFrame(coded)


def _user_weights(bundle: AnalysisBundle) -> np.ndarray | None:
    """The GENQ user weights of the bundle's analysed rows (aligned with its effects)."""
    column = bundle.settings.weights_column
    if column is None:
        return None
    numeric = bundle.validation.numeric
    return numeric[column].iloc[np.asarray(bundle.used_rows, dtype=int)].to_numpy(dtype=float)


def fit_moderators(
    bundle: AnalysisBundle, table: pd.DataFrame, columns: Sequence[str]
) -> ModeratorFit:
    """Fit the analysis' model with ``columns`` of ``table`` as moderators.

    Uses the analysis' effect sizes (the studies it pooled), its tau\u00b2 estimator
    (common-effect for Mantel-Haenszel and Peto analyses), its test (z or Hartung-Knapp)
    and confidence level: ``rma(yi, vi, mods = ~ ..., method, test, level)``. Studies
    with an empty moderator cell are left out (metafor drops rows with NA) and named in
    :attr:`ModeratorFit.left_out`.

    Raises
    ------
    ValueError
        Without a pooled result, without moderators, or when the model cannot be fitted
        (too few studies, collinear moderators); the message says why.
    """
    res = bundle.result
    if res is None or bundle.effects is None:
        raise ValueError("There is no pooled analysis to extend with moderators.")
    if not columns:
        raise ValueError("Choose at least one moderator.")
    kinds = moderator_kinds(table, columns)
    mods = _coded(table.iloc[np.asarray(bundle.used_rows, dtype=int)], kinds)
    es = bundle.effects
    weights = _user_weights(bundle)
    if len(mods) != es.k:  # pragma: no cover - the bundle's invariant
        raise ValueError("The moderators do not line up with the analysed studies.")
    complete = mods.notna().all(axis=1).to_numpy()
    left_out = tuple(np.asarray(es.study, dtype=object)[~complete].astype(str))
    if not complete.all():
        es, mods = es.subset(complete), mods.loc[complete].reset_index(drop=True)
        weights = None if weights is None else weights[complete]
    for column in kinds:
        if mods[column].nunique() < 2:
            raise ValueError(
                f"The moderator {column!r} has the same value in every analysed study "
                "(with a value): it cannot explain differences between them."
            )
    method = res.method if res.method in ESTIMATORS else "FE"
    try:
        result = meta_regression(
            es,
            mods=mods,
            method=method,
            test=res.test,
            level=res.level,
            control=res.control,
            weights=weights,
        )
    except ValueError as exc:
        reason = str(exc)
        if left_out:
            reason += f" (left out for an empty moderator cell: {', '.join(left_out)})"
        raise ValueError(reason[:1].upper() + reason[1:] + ".") from exc
    return ModeratorFit(result, mods, dict(kinds), left_out)


def new_design(fit: ModeratorFit, values: pd.DataFrame) -> np.ndarray:
    """Design-matrix rows (intercept included) for new moderator ``values``.

    Categorical values must be levels seen in the fit; the coding is the fit's
    (treatment contrasts against the first level in sorted order).
    """
    values = _coded(values.reset_index(drop=True), fit.kinds)
    for column, kind in fit.kinds.items():
        if kind == "categorical":
            unknown = set(values[column]) - set(fit.moderators[column])
            if unknown:
                raise ValueError(
                    f"{column}: {sorted(map(str, unknown))} is not a level of the fitted studies."
                )
        elif not np.isfinite(values[column].to_numpy(dtype=float)).all():
            raise ValueError(f"{column}: give a number.")
    both = pd.concat([fit.moderators, values], ignore_index=True)
    X, names = design_matrix(both, len(both), intercept=True)
    if names != fit.result.coef_names:  # pragma: no cover - same levels, same coding
        raise ValueError("The new moderator values are coded differently from the fit.")
    return X[len(fit.moderators) :]


def predict(res: MetaRegressionResult, X_new: np.ndarray) -> pd.DataFrame:
    """metafor's ``predict(res, newmods = ...)`` on the analysis scale.

    Parameters
    ----------
    res : MetaRegressionResult
    X_new : ndarray, shape (m, p)
        Design rows, the intercept column included (:func:`new_design`).

    Returns
    -------
    DataFrame
        Columns ``pred``, ``se``, ``ci_lower``, ``ci_upper``, ``pi_lower``, ``pi_upper``.

    Notes
    -----
    ``pred = x'b``, ``se = sqrt(x' V_b x)``, CI ``pred +/- crit se`` and PI
    ``pred +/- crit sqrt(se^2 + tau^2)``, with crit the normal quantile, or the t quantile
    on ``k - p`` degrees of freedom for Hartung-Knapp (``test = "knha"``).
    """
    X_new = np.atleast_2d(np.asarray(X_new, dtype=float))
    pred = X_new @ res.estimate
    se = np.sqrt(np.einsum("ij,jk,ik->i", X_new, res.vb, X_new))
    upper = 0.5 + res.level / 2
    crit = special.stdtrit(res.ddf, upper) if res.test == "knha" else special.ndtri(upper)
    half = prediction_half_width(crit, se, res.tau2)
    return pd.DataFrame(
        {
            "pred": pred,
            "se": se,
            "ci_lower": pred - crit * se,
            "ci_upper": pred + crit * se,
            "pi_lower": pred - half,
            "pi_upper": pred + half,
        }
    )


def regression_band(fit: ModeratorFit, moderator: str, points: int = 101) -> pd.DataFrame:
    """The fitted line and its CI/PI over a numeric ``moderator`` (a regplot's band).

    Other numeric moderators are held at their mean over the fitted studies and factors
    at their reference level, as metafor's ``regplot`` does. Columns: ``x`` and those of
    :func:`predict`.
    """
    if fit.kinds.get(moderator) != "numeric":
        raise ValueError(f"{moderator} is not a numeric moderator.")
    observed = fit.moderators[moderator].to_numpy(dtype=float)
    grid = np.linspace(observed.min(), observed.max(), points)
    values = {}
    for column, kind in fit.kinds.items():
        if column == moderator:
            values[column] = grid
        elif kind == "numeric":
            values[column] = np.full(points, fit.moderators[column].mean())
        else:
            values[column] = [sorted(fit.moderators[column].unique())[0]] * points
    band = predict(fit.result, new_design(fit, pd.DataFrame(values)))
    band.insert(0, "x", grid)
    return band


def regplot_points(fit: ModeratorFit, moderator: str) -> pd.DataFrame:
    """The studies of a bubble plot: ``x`` (moderator), ``estimate`` (yi), ``weight``
    (percent weight in the model) and ``label``."""
    res = fit.result
    return pd.DataFrame(
        {
            "x": fit.moderators[moderator].to_numpy(dtype=float),
            "estimate": res.yi,
            "weight": res.weights,
            "label": list(res.study),
        }
    )


def r_script(
    fit: ModeratorFit,
    new_values: pd.DataFrame | None = None,
    *,
    iterations: int = 1000,
    seed: int = 1,
    plot_moderator: str | None = None,
) -> str:
    """The meta-regression as an R script for metafor 3.8-1.

    The data frame holds the fitted studies' ``yi`` and ``vi`` exactly as igmeta computed
    them (so the script reproduces the numbers whatever the zero-cell convention) and the
    moderators as ``m1, m2, ...`` (categorical ones as factors with igmeta's level order,
    so the coefficients are coded the same); the moderators' own names are in comments,
    as R string literals. It prints ``rma(yi, vi, mods = ...)``, ``predict`` for
    ``new_values``, ``permutest`` and draws ``regplot`` into ``igmeta_regplot.pdf``.
    """
    res = fit.result
    ids = {column: f"m{i}" for i, column in enumerate(fit.kinds, start=1)}
    lines = [
        "# Meta-regression exported from the igmeta dashboard; run with Rscript and metafor 3.8-1.",
        "suppressPackageStartupMessages(library(metafor))",
        f"# yi, vi: {measure_info(res.measure).label} on the analysis scale, as igmeta computed",
        "# them for the analysed studies with a value for every moderator.",
    ]
    lines += [f"# {ids[c]} = moderator {r_string(c)} ({kind})" for c, kind in fit.kinds.items()]
    entries = [
        f"  study = {_r_vector(res.study, strings=True)}",
        f"  yi = {_r_vector(res.yi)}",
        f"  vi = {_r_vector(res.vi)}",
    ]
    for column, kind in fit.kinds.items():
        values = fit.moderators[column]
        if kind == "numeric":
            entries.append(f"  {ids[column]} = {_r_vector(values.astype(float))}")
        else:
            levels = _r_vector(sorted(values.unique()), strings=True)
            entries.append(
                f"  {ids[column]} = factor({_r_vector(values, strings=True)}, levels = {levels})"
            )
    weights = ""
    if res.method == "GENQ":
        # The user weights in per cent of their sum (metafor's fit does not depend on the scale).
        entries.append(f"  w = {_r_vector(res.weights)}")
        weights = ", weights = w"
    lines += ["dat <- data.frame(", ",\n".join([*entries, "  stringsAsFactors = FALSE"]), ")"]
    control = (
        ", control = list(threshold = 1e-10, maxiter = 1000)"
        if res.method in ITERATIVE_METHODS
        else ""
    )
    formula = " + ".join(ids.values())
    lines += [
        f"res <- rma(yi, vi{weights}, mods = ~ {formula}, data = dat, "
        f'method = "{res.method}", '
        f'test = "{res.test}", level = {100 * res.level:g}{control})',
        "print(res)  # QM (moderators), QE (residual heterogeneity), R^2, coefficients",
    ]
    if new_values is not None and len(new_values):
        X = new_design(fit, new_values)[:, 1:]
        rows = ", ".join(_r_vector(row) for row in X)
        lines += [
            f"newmods <- rbind({rows})  # one column per coefficient but the intercept",
            "print(predict(res, newmods = newmods))",
        ]
    lines += [
        f"set.seed({int(seed)})  # permutation p-values vary with the random permutations",
        f"print(permutest(res, iter = {int(iterations)}))",
    ]
    if plot_moderator is not None:
        lines += [
            'pdf("igmeta_regplot.pdf", width = 8, height = 6)',
            f'regplot(res, mod = "{ids[plot_moderator]}", pi = TRUE)',
            "invisible(dev.off())",
        ]
    return "\n".join(lines) + "\n"
