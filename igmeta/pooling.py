"""Inverse-variance pooling: common-effect and random-effects models, meta-regression.

The public entry points are :func:`meta_analysis` (metafor's ``rma(yi, vi)``) and
:func:`meta_regression` (``rma(yi, vi, mods = ~ ...)``). Both are thin wrappers that
build a design, call the batched kernel (:func:`igmeta.kernel.fit_batch`) with one fit,
and package the numbers as a frozen result that carries its inputs and settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from igmeta.design import InterceptDesign, MatrixDesign
from igmeta.effects import EffectSizes, effect_sizes, labels_at, measure_info
from igmeta.estimators import DEFAULT_CONTROL, estimate_tau2
from igmeta.kernel import fit_batch, normalise_level
from igmeta.results import MetaRegressionResult, MetaResult
from igmeta.warnings import (
    BoundaryWarning,
    ConvergenceWarning,
    DroppedStudiesWarning,
    SmallSampleWarning,
    warn,
)

__all__ = ["meta_analysis", "meta_regression", "omnibus_coefficients", "resolve_inputs"]


def resolve_inputs(effects, yi, vi, sei, study, measure) -> EffectSizes:
    """Return an :class:`EffectSizes` from either an effect-size object or yi/vi arrays."""
    if effects is not None:
        if not isinstance(effects, EffectSizes):
            raise TypeError("effects must be the result of igmeta.effect_sizes()")
        return effects
    if yi is None:
        raise ValueError("give an EffectSizes object, or yi with vi (or sei)")
    return effect_sizes(measure or "GEN", yi=yi, vi=vi, sei=sei, study=study)


def _fitted_subset(es: EffectSizes, collected: list[str]) -> tuple[EffectSizes, tuple[str, ...]]:
    ok = np.isfinite(es.yi) & np.isfinite(es.vi) & (es.vi >= 0)
    zero_variance = ok & (es.vi == 0)
    if zero_variance.any():
        names = ", ".join(labels_at(es.study, zero_variance))
        warn(
            DroppedStudiesWarning,
            f"Sampling variance 0 (e.g. no events in either arm and no "
            f"continuity correction), so no inverse-variance weight: left out: {names}.",
            collected,
        )
        ok &= ~zero_variance
    dropped = labels_at(es.study, ~ok)
    if not ok.any():
        raise ValueError(
            "No study has a defined effect size and variance, so nothing can be pooled. "
            "Check the counts (e.g. a risk ratio needs events in both groups, or a "
            "continuity correction)."
        )
    return (es if ok.all() else es.subset(ok)), dropped, ok


def _kept_weights(weights, k: int, kept: np.ndarray) -> np.ndarray | None:
    """The user weights of the studies that are fitted (None without user weights)."""
    if weights is None:
        return None
    a = np.asarray(weights, dtype=float).reshape(-1)
    if a.size != k:
        raise ValueError(f"Weights need one value per study: got {a.size} weights for {k} studies.")
    a = a[kept]
    if a.size and np.all(np.isfinite(a)) and not a.sum() > 0:
        raise ValueError(
            "The weights of the studies are all 0, so nothing can be pooled: give at "
            "least one study a positive weight."
        )
    return a


def _default_transform(es: EffectSizes, transform: str | None) -> str:
    return transform if transform is not None else measure_info(es.measure).transform


def _check_test(test: str, k: int, collected: list[str]) -> str:
    test = test.lower()
    if test == "knha" and k < 2:
        warn(
            SmallSampleWarning,
            "Hartung-Knapp needs at least 2 studies; a z-test was used.",
            collected,
        )
        return "z"
    return test


def _fit_warnings(
    method: str, k: int, tau2: float, converged: bool, iterations: int, collected: list[str]
) -> None:
    if k == 1:
        warn(
            SmallSampleWarning,
            "Only one study: the pooled result is that study's own "
            "estimate, and heterogeneity cannot be assessed.",
            collected,
        )
    elif method not in ("FE",) and tau2 == 0:
        warn(
            BoundaryWarning,
            "tau\u00b2 was estimated as 0 (on the boundary of its range): "
            "the random-effects result equals the common-effect result. The confidence "
            "interval for tau\u00b2 shows how uncertain this is.",
            collected,
        )
    if not converged:
        warn(
            ConvergenceWarning,
            f"The {method} estimator of tau\u00b2 did not converge after "
            f"{iterations} iterations; results may be inaccurate. Try another estimator.",
            collected,
        )


def meta_analysis(
    effects: EffectSizes | None = None,
    *,
    yi=None,
    vi=None,
    sei=None,
    study: Sequence[str] | None = None,
    measure: str | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    transform: str | None = None,
    transform_ni=None,
    control: Mapping[str, float] | None = None,
    weights=None,
) -> MetaResult:
    """Pool effect sizes with a common-effect or random-effects model (metafor's ``rma``).

    Parameters
    ----------
    effects : EffectSizes, optional
        Output of :func:`igmeta.effect_sizes`. Alternatively give ``yi`` with ``vi`` or
        ``sei`` (and optionally ``study`` and ``measure``).
    method : str
        ``"FE"`` (common effect; ``"EE"``/``"CE"`` are synonyms) or a tau^2 estimator:
        ``"DL"``, ``"REML"``, ``"ML"``, ``"PM"``, ``"SJ"``, ``"HE"``, ``"HS"``, ``"EB"``.
    test : {"z", "knha"}
        Normal-theory inference or the Hartung-Knapp-Sidik-Jonkman adjustment.
    level : float
        Confidence level, as 0.95 or 95.
    transform : str, optional
        Back-transform for :meth:`MetaResult.back_transformed` (default from the measure:
        exp for ratios, ilogit for PLO, iarcsin for PAS, ipft.hm for PFT, ztor for ZCOR).
    transform_ni : array_like, optional
        Study sizes for ``"ipft.hm"`` when ``effects`` is not given.
    control : mapping, optional
        ``threshold``, ``tol``, ``maxiter`` for iterative estimators.
    weights : array_like, optional
        User weights ``a``, one per study (metafor's ``rma(..., weights = a)``); required
        by ``method="GENQ"``. The estimate becomes ``sum a y / sum a`` with variance
        ``sum a^2 (v + tau^2) / (sum a)^2``; Q, I^2, H^2 and (except GENQ) tau^2 stay
        those of the inverse-variance fit, as in metafor.

    Returns
    -------
    MetaResult

    Notes
    -----
    Weights ``w_i = 1/(v_i + tau^2)``; ``beta = sum w y / sum w``; ``se = 1/sqrt(sum w)``.
    With knha, ``se`` is multiplied by ``sqrt(s2w)``, ``s2w = sum w (y - beta)^2/(k-1)``,
    and t(k-1) quantiles are used. The prediction interval is
    ``beta +/- crit sqrt(se^2 + tau^2)`` (normal quantile for z, t(k-1) for knha), as in
    metafor. Studies with an undefined effect are left out with a warning.

    References
    ----------
    Viechtbauer W (2010). J Stat Softw 36(3). doi:10.18637/jss.v036.i03
    Knapp G, Hartung J (2003). Stat Med 22:2693-2710. doi:10.1002/sim.1482
    Higgins JPT, Thompson SG (2002). Stat Med 21:1539-1558. doi:10.1002/sim.1186
    """
    collected: list[str] = []
    es = resolve_inputs(effects, yi, vi, sei, study, measure)
    collected.extend(es.warnings)
    full_k = es.k
    es, dropped, kept = _fitted_subset(es, collected)
    a = _kept_weights(weights, full_k, kept)
    level = normalise_level(level)
    k = es.k
    test = _check_test(test, k, collected)
    method = "FE" if method.upper() in ("EE", "CE") else method.upper()
    control = {**DEFAULT_CONTROL, **(control or {})}
    fit = fit_batch(InterceptDesign(es.yi, es.vi), method, test, level, control, weights=a)
    tau2 = float(fit.tau2.tau2[0])
    converged = bool(fit.tau2.converged[0])
    iterations = int(fit.tau2.iterations[0])
    if dropped and not any("left out" in msg.lower() for msg in collected):
        warn(
            DroppedStudiesWarning, f"Left out (undefined effect): {', '.join(dropped)}.", collected
        )
    _fit_warnings(method, k, tau2, converged, iterations, collected)
    transform = _default_transform(es, transform)
    ni = transform_ni
    if ni is None and "ni" in es.data:
        ni = np.asarray(es.data["ni"], dtype=float)
    return MetaResult(
        measure=es.measure,
        method=method,
        test=test,
        level=level,
        k=k,
        estimate=float(fit.beta[0, 0]),
        se=float(fit.se[0, 0]),
        statistic=float(fit.statistic[0, 0]),
        pval=float(fit.pval[0, 0]),
        ci_lower=float(fit.ci_lower[0, 0]),
        ci_upper=float(fit.ci_upper[0, 0]),
        pi_lower=float(fit.pi_lower[0]),
        pi_upper=float(fit.pi_upper[0]),
        ddf=float(fit.ddf[0]),
        tau2=tau2,
        se_tau2=float(fit.tau2.se_tau2[0]),
        q=float(fit.q[0]),
        q_df=float(fit.q_df[0]),
        q_pval=float(fit.q_pval[0]),
        i2=float(fit.i2[0]),
        h2=float(fit.h2[0]),
        vt=float(fit.vt[0]),
        s2w=float(fit.s2w[0]),
        weights=fit.weights[0].copy(),
        loglik_ml=float(fit.ll_ml[0]),
        loglik_reml=float(fit.ll_reml[0]),
        yi=es.yi.copy(),
        vi=es.vi.copy(),
        study=es.study,
        dropped=dropped,
        transform=transform,
        transform_ni=ni,
        converged=converged,
        iterations=iterations,
        control=control,
        warnings=tuple(dict.fromkeys(collected)),
        effects=es,
        user_weights=None if a is None else a.copy(),
    )


def design_matrix(mods, k: int, intercept: bool = True) -> tuple[np.ndarray, tuple[str, ...]]:
    """Build a design matrix from moderators.

    Parameters
    ----------
    mods : DataFrame, mapping of name to array, or 2-D array
        Moderators. Numeric columns enter as they are; text/categorical columns are
        coded with treatment contrasts, the first level in sorted order as reference, with
        names ``"<column><level>"``.
    k : int
        Number of studies.
    intercept : bool
        Add an intercept column named ``"intrcpt"``.

    Returns
    -------
    X : ndarray, shape (k, p)
    names : tuple of str
    """
    if isinstance(mods, np.ndarray):
        arr = mods.reshape(k, -1)
        mods = {f"X{j + 1}": arr[:, j] for j in range(arr.shape[1])}
    frame = pd.DataFrame(dict(mods))
    if len(frame) != k:
        raise ValueError(f"moderators have {len(frame)} rows for {k} studies")
    columns, names = [], []
    if intercept:
        columns.append(np.ones(k))
        names.append("intrcpt")
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            columns.append(col.to_numpy(dtype=float))
            names.append(str(name))
        else:
            levels = sorted(pd.unique(col.astype(str)))
            for level in levels[1:] if intercept else levels:
                columns.append((col.astype(str) == level).to_numpy(dtype=float))
                names.append(f"{name}{level}")
    return np.column_stack(columns), tuple(names)


def _r2(
    method: str, es: EffectSizes, X: np.ndarray, tau2: float, q: float, control, weights=None
) -> float:
    """Proportion of heterogeneity explained, as metafor defines it."""
    k, p = X.shape
    if method == "FE":
        q0 = float(fit_batch(InterceptDesign(es.yi, es.vi), "FE").q[0])
        if q0 <= 0 or k - p <= 0:
            return 0.0
        adj = 1 - (q / q0) * (k - 1) / (k - p)
        return max(0.0, 100 * adj)
    design = InterceptDesign(es.yi, es.vi)
    tau2_0 = float(estimate_tau2(design, method, control, weights=weights).tau2[0])
    if tau2_0 <= 0:
        return 0.0
    return max(0.0, 100 * (tau2_0 - tau2) / tau2_0)


def omnibus_coefficients(names: Sequence[str]) -> list[int]:
    """Positions of the coefficients the omnibus test QM covers by default (metafor's
    ``btt``): every coefficient but the intercept, or all of them without an intercept."""
    return [j for j, name in enumerate(names) if name != "intrcpt"] or list(range(len(names)))


def fit_regression(
    es: EffectSizes,
    X: np.ndarray,
    names: Sequence[str],
    *,
    method: str,
    test: str,
    level: float,
    control,
    collected: list[str],
    qm_index: Sequence[int] | None = None,
    weights=None,
) -> MetaRegressionResult:
    """Fit a meta-regression on a prepared design matrix (see :func:`meta_regression`)."""
    k, p = X.shape
    if k <= p:
        raise ValueError(
            f"a meta-regression with {p} coefficients needs more than {p} "
            f"studies; only {k} have a defined effect"
        )
    if np.linalg.matrix_rank(X) < p:
        raise ValueError(
            "the moderators are collinear (the design matrix is not of full "
            "rank); remove a redundant moderator"
        )
    if qm_index is None:
        qm_index = omnibus_coefficients(names)
    design = MatrixDesign(es.yi, es.vi, X)
    fit = fit_batch(design, method, test, level, control, qm_index=qm_index, weights=weights)
    tau2 = float(fit.tau2.tau2[0])
    _fit_warnings(
        method, k, tau2, bool(fit.tau2.converged[0]), int(fit.tau2.iterations[0]), collected
    )
    return MetaRegressionResult(
        measure=es.measure,
        method=method,
        test=test,
        level=level,
        k=k,
        coef_names=tuple(names),
        estimate=fit.beta[0].copy(),
        se=fit.se[0].copy(),
        statistic=fit.statistic[0].copy(),
        pval=fit.pval[0].copy(),
        ci_lower=fit.ci_lower[0].copy(),
        ci_upper=fit.ci_upper[0].copy(),
        vb=fit.vb[0].copy(),
        ddf=float(fit.ddf[0]),
        qm=float(fit.qm[0]),
        qm_df=(float(fit.qm_df[0, 0]), float(fit.qm_df[0, 1])),
        qm_pval=float(fit.qm_pval[0]),
        q=float(fit.q[0]),
        q_df=float(fit.q_df[0]),
        q_pval=float(fit.q_pval[0]),
        tau2=tau2,
        se_tau2=float(fit.tau2.se_tau2[0]),
        i2=float(fit.i2[0]),
        h2=float(fit.h2[0]),
        vt=float(fit.vt[0]),
        s2w=float(fit.s2w[0]),
        r2=_r2(method, es, X, tau2, float(fit.q[0]), control, weights),
        weights=fit.weights[0].copy(),
        loglik_ml=float(fit.ll_ml[0]),
        loglik_reml=float(fit.ll_reml[0]),
        yi=es.yi.copy(),
        vi=es.vi.copy(),
        X=X,
        study=es.study,
        converged=bool(fit.tau2.converged[0]),
        control=control,
        warnings=tuple(dict.fromkeys(collected)),
    )


def meta_regression(
    effects: EffectSizes | None = None,
    *,
    mods,
    yi=None,
    vi=None,
    sei=None,
    study: Sequence[str] | None = None,
    measure: str | None = None,
    intercept: bool = True,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    control: Mapping[str, float] | None = None,
    weights=None,
) -> MetaRegressionResult:
    """Mixed-effects meta-regression (metafor's ``rma(yi, vi, mods = ~ ...)``).

    Parameters
    ----------
    effects : EffectSizes, optional
        Effect sizes (or give ``yi`` with ``vi``/``sei``).
    mods : DataFrame, mapping or 2-D array
        Moderators, one row per study (see :func:`design_matrix` for coding).
    intercept : bool
        Include an intercept.
    method, test, level, control, weights
        As in :func:`meta_analysis`.

    Returns
    -------
    MetaRegressionResult

    Notes
    -----
    ``beta = (X'WX)^-1 X'Wy`` with ``W = diag(1/(v + tau^2))``; QM is the Wald test
    ``b' vb^-1 b`` of the non-intercept coefficients (of all coefficients when the
    model has no intercept, as metafor; F = QM/m with knha); QE is the
    residual Q of the fixed-effect weighted regression. R^2 (random effects) is
    ``max(0, 100 (tau0^2 - tau^2)/tau0^2)`` with ``tau0^2`` from the intercept-only
    model; for a common-effect model it is the adjusted R^2 of the weighted regression.
    Studies with undefined effects (or moderators) are left out.
    """
    collected: list[str] = []
    es = resolve_inputs(effects, yi, vi, sei, study, measure)
    collected.extend(es.warnings)
    X, names = design_matrix(mods, es.k, intercept)
    ok = np.isfinite(es.yi) & np.isfinite(es.vi) & np.isfinite(X).all(axis=1)
    if not ok.all():
        dropped = ", ".join(labels_at(es.study, ~ok))
        warn(
            DroppedStudiesWarning,
            f"Left out (undefined effect or moderator): {dropped}.",
            collected,
        )
        es, X = es.subset(ok), X[ok]
    if weights is not None:
        weights = _kept_weights(weights, len(ok), ok)
    method = "FE" if method.upper() in ("EE", "CE") else method.upper()
    level = normalise_level(level)
    control = {**DEFAULT_CONTROL, **(control or {})}
    test = _check_test(test, es.k, collected)
    return fit_regression(
        es,
        X,
        names,
        method=method,
        test=test,
        level=level,
        control=control,
        collected=collected,
        weights=weights,
    )
