"""Generalised linear mixed models for meta-analysis (metafor's ``rma.glmm``).

:func:`meta_analysis_glmm` fits, by maximum likelihood, the binomial-normal models that
model the counts directly instead of pooling per-study effect sizes:

* ``measure="PLO"``, ``model="UM.RS"``: single-arm proportions. ``x_i ~ Bin(n_i, p_i)``,
  ``logit p_i = mu + u_i``, ``u_i ~ N(0, tau^2)``; adaptive Gauss-Hermite quadrature with
  ``nagq`` points (lme4 ``glmer(..., nAGQ = 7)``, metafor's default).
* ``measure="OR"``, ``model="UM.FS"``: 2x2 tables, unconditional model with fixed study
  intercepts and a random log odds ratio; adaptive Gauss-Hermite quadrature with ``nagq``
  points (metafor passes its default ``nAGQ = 7`` to ``glmer`` here too; ``nagq=1`` is
  the Laplace approximation).
* ``measure="OR"``, ``model="CM.EL"``: 2x2 tables, conditional model with the exact
  likelihood (Fisher's noncentral hypergeometric distribution of each table given its
  margins), the random log odds ratio integrated out numerically.

Everything is computed in numpy/scipy (no R): the marginal likelihood is maximised over
(mu, tau) and the standard errors come from the observed information (a numerical
Hessian of the marginal log-likelihood at the maximum).
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats

from igmeta.effects import EffectSizes, effect_sizes
from igmeta.formulas import h2_from_tau2, i2_from_tau2
from igmeta.glmm._models import CM_EL_POINTS, RawFit, fit_cm_el, fit_um_fs, fit_um_rs
from igmeta.kernel import normalise_level
from igmeta.results import MetaResult
from igmeta.warnings import (
    BoundaryWarning,
    ConvergenceWarning,
    DroppedStudiesWarning,
    SparseDataWarning,
    warn,
)

__all__ = ["GLMM_MODELS", "meta_analysis_glmm"]

#: Supported (measure, model) pairs with a plain-English description.
GLMM_MODELS: dict[tuple[str, str], str] = {
    ("PLO", "UM.RS"): "random-effects logistic regression (binomial-normal model) for proportions",
    ("OR", "UM.FS"): "unconditional logistic model with fixed study effects and a random "
    "log odds ratio",
    ("OR", "CM.EL"): "conditional logistic model with the exact (noncentral hypergeometric) "
    "likelihood and a random log odds ratio",
}
_DEFAULT_MODEL = {"PLO": "UM.RS", "OR": "UM.FS"}


def _counts(name: str, values, k: int | None = None) -> np.ndarray:
    if values is None:
        raise ValueError(f"{name} is required for this GLMM")
    arr = np.asarray(values, dtype=float).reshape(-1)
    if k is not None and arr.size != k:
        raise ValueError(f"{name} has {arr.size} values, expected {k}")
    return arr


#: Largest count a double holds exactly (2^53); larger "counts" are not whole numbers in
#: any meaningful sense, and they make the likelihood degenerate and slow to maximise.
_MAX_COUNT = 2.0**53


def _check_counts(named: dict[str, np.ndarray], ok: np.ndarray) -> None:
    for name, arr in named.items():
        bad = ok & ((arr < 0) | (arr != np.round(arr)) | (arr > _MAX_COUNT))
        if bad.any():
            raise ValueError(
                f"{name} must hold whole, non-negative numbers (counts, at most 2^53 = "
                f"{_MAX_COUNT:.3g}) for a GLMM; check row(s) "
                f"{', '.join(str(i + 1) for i in np.flatnonzero(bad))}."
            )


def _labels(study: Sequence[str] | None, k: int) -> tuple[str, ...]:
    if study is None:
        return tuple(str(i + 1) for i in range(k))
    labels = tuple(str(s) for s in study)
    if len(labels) != k:
        raise ValueError(f"study has {len(labels)} labels, expected {k}")
    return labels


def _quiet_effects(measure: str, **kwargs) -> EffectSizes:
    """escalc values (for I^2 only); their continuity-correction messages do not apply."""
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        return effect_sizes(measure, **kwargs)


def _typical_variance(vi: np.ndarray) -> float:
    """metafor's typical within-study variance ``(k - 1) / tr(P)`` (intercept model)."""
    w = 1 / vi
    k = vi.size
    trace = np.sum(w) - np.sum(w**2) / np.sum(w)
    return float((k - 1) / trace) if trace > 0 else float("nan")


def meta_analysis_glmm(
    measure: str,
    *,
    xi=None,
    ni=None,
    ai=None,
    n1i=None,
    ci=None,
    n2i=None,
    study: Sequence[str] | None = None,
    model: str | None = None,
    nagq: int = 7,
    level: float = 0.95,
) -> MetaResult:
    """Fit a binomial-normal GLMM by maximum likelihood (metafor's ``rma.glmm``).

    Parameters
    ----------
    measure : {"PLO", "OR"}
        Logit proportion (single-arm data ``xi`` of ``ni``) or log odds ratio (2x2
        tables: ``ai`` events of ``n1i`` in group 1, ``ci`` of ``n2i`` in group 2).
    xi, ni : array_like, optional
        Events and sample sizes (PLO).
    ai, n1i, ci, n2i : array_like, optional
        Events and group sizes (OR).
    study : sequence of str, optional
        Study labels.
    model : {"UM.RS", "UM.FS", "CM.EL"}, optional
        Default ``"UM.RS"`` for PLO and ``"UM.FS"`` for OR (metafor's defaults).
    nagq : int
        Gauss-Hermite points of the adaptive quadrature for UM.RS and UM.FS (metafor and
        lme4: 7; 1 = Laplace). The conditional model always integrates with
        ``CM_EL_POINTS`` (25) adaptive points.
    level : float
        Confidence level (0.95 or 95).

    Returns
    -------
    MetaResult
        ``method="GLMM"``, ``test="z"``; ``estimate``/``se``/CI/p on the logit or log-OR
        scale (``transform`` ``"ilogit"`` or ``"exp"`` for :meth:`~MetaResult.back_transformed`);
        ``q``/``q_df``/``q_pval`` are the Wald-type heterogeneity test (``QE.Wld``);
        ``loglik_ml`` is the log-likelihood metafor reports (see Notes); ``weights`` are
        approximate inverse-variance weights ``1/(v_i + tau^2)`` in percent, for display
        only (a GLMM has no study weights). ``yi``/``vi``/``effects`` are the escalc
        values of the fitted studies (0.5 added to the cells of studies with a zero
        cell), used only for I^2 and displays. ``extra`` holds ``model``,
        ``model_description``, ``nAGQ``, ``QE.Wld``, ``QEp.Wld``, ``QE.LRT``,
        ``QEp.LRT``, ``df.QE``, ``logLik``, ``loglik_marginal``, ``ll_fe``, ``ll_qe``,
        ``convergence`` (dict: converged, message, evaluations, hessian) and
        ``weights_definition``.

    Raises
    ------
    ValueError
        Unsupported measure/model, missing or invalid counts, fewer than 2 studies, or
        data without a finite maximum-likelihood estimate (no events at all, or events
        in every participant; for OR: every table's events on one side).

    Warns
    -----
    ConvergenceWarning
        The optimiser stopped early, the gradient at the solution is not small, or the
        observed information is not positive definite (``converged`` is False).
    BoundaryWarning
        tau^2 is estimated as (practically) 0.
    DroppedStudiesWarning
        Rows with missing counts, and (OR) double-zero tables, are left out as metafor
        does (``drop00 = TRUE``).
    SparseDataWarning
        Studies with 0 events or only events (no finite study-level estimate; they enter
        the GLMM as they are, which is the point of the model).

    Notes
    -----
    Marginal likelihood of study i with the random effect written as ``tau u``,
    ``u ~ N(0, 1)``: ``L_i = int f_i(u) phi(u) du``. Adaptive Gauss-Hermite quadrature
    with nodes ``z_q`` and weights ``w_q`` of N(0, 1): with ``u_i`` the mode of
    ``g_i(u) = log f_i(u) - u^2/2`` and ``s_i = (-g_i''(u_i))^(-1/2)``,
    ``L_i ~ s_i sum_q w_q exp(z_q^2/2 + g_i(u_i + s_i z_q))``.

    Heterogeneity (metafor's definitions): ``QE.LRT = -2 (ll_FE - ll_sat)`` from the
    common-effect and the saturated logistic models (R ``glm``; conditional likelihoods
    for CM.EL); ``QE.Wld = sum w_i (theta_i - theta_w)^2``, the Wald test of the
    study-specific effects of the saturated model (``w_i`` from its information);
    df = k - 1. ``I^2 = 100 tau^2 / (vt + tau^2)``, ``H^2 = tau^2 / vt + 1`` with
    ``vt = (k - 1) / (sum w - sum w^2 / sum w)``, ``w = 1/v_i`` from the escalc variances.
    Prediction interval ``mu +/- z sqrt(se^2 + tau^2)``.

    ``loglik_ml`` (metafor's ``logLik``) for UM.RS and UM.FS is ``ll_sat - D/2``, where
    ``D`` is lme4's ``deviance()`` of the GLMM: the sum of squared deviance residuals at
    the conditional modes of the random effects. This is how metafor 3.8-1 computes it;
    the maximised marginal log-likelihood is ``extra["loglik_marginal"]``. For CM.EL both
    are the marginal conditional log-likelihood.

    Compared with metafor, estimates differ only by optimiser tolerance (lme4 stops at
    gradients of about 1e-4): here the maximum is polished to about 1e-9. For CM.EL,
    metafor's ``QE.Wld`` comes from a numerical Hessian (numDeriv, r = 16) of densities
    computed by BiasedUrn to 1e-10; for large tables that Hessian is dominated by
    rounding noise (e.g. 268.6 for the BCG data, where metafor gives 163.09 with
    ``hessianCtrl = list(r = 4)`` and 162.93 with its exact density). This function
    uses the exact conditional information.

    References
    ----------
    Stijnen T, Hamza TH, Ozdemir P (2010). Random effects meta-analysis of event outcome
    in the framework of the generalized linear mixed model with applications in sparse
    data. Stat Med 29:3046-3067. doi:10.1002/sim.4040
    Bates D, Maechler M, Bolker B, Walker S (2015). Fitting linear mixed-effects models
    using lme4. J Stat Softw 67(1). doi:10.18637/jss.v067.i01
    Liu Q, Pierce DA (1994). A note on Gauss-Hermite quadrature. Biometrika 81:624-629.
    doi:10.1093/biomet/81.3.624
    Viechtbauer W (2010). J Stat Softw 36(3). doi:10.18637/jss.v036.i03
    """
    code = str(measure).upper()
    if code not in _DEFAULT_MODEL:
        raise ValueError(f"GLMMs support measure 'PLO' or 'OR', got {measure!r}")
    chosen = (model or _DEFAULT_MODEL[code]).upper()
    if (code, chosen) not in GLMM_MODELS:
        allowed = [m for (c, m) in GLMM_MODELS if c == code]
        raise ValueError(f"model {model!r} is not available for {code}; choose from {allowed}")
    nagq = int(nagq)
    if not 1 <= nagq <= 100:
        raise ValueError(f"nagq must be between 1 and 100, got {nagq}")
    level = normalise_level(level)
    collected: list[str] = []

    if code == "PLO":
        x = _counts("xi", xi)
        n = _counts("ni", ni, x.size)
        labels = _labels(study, x.size)
        ok = np.isfinite(x) & np.isfinite(n)
        _check_counts({"xi": x, "ni": n}, ok)
        if (ok & ((n <= 0) | (x > n))).any():
            raise ValueError("Each study needs ni > 0 and 0 <= xi <= ni.")
        arrays = {"xi": x, "ni": n}
    else:
        a = _counts("ai", ai)
        n1 = _counts("n1i", n1i, a.size)
        c = _counts("ci", ci, a.size)
        n2 = _counts("n2i", n2i, a.size)
        labels = _labels(study, a.size)
        ok = np.isfinite(a) & np.isfinite(n1) & np.isfinite(c) & np.isfinite(n2)
        _check_counts({"ai": a, "n1i": n1, "ci": c, "n2i": n2}, ok)
        if (ok & ((n1 <= 0) | (n2 <= 0) | (a > n1) | (c > n2))).any():
            raise ValueError("Each table needs n1i, n2i > 0, 0 <= ai <= n1i, 0 <= ci <= n2i.")
        arrays = {"ai": a, "n1i": n1, "ci": c, "n2i": n2}

    names = np.asarray(labels, dtype=object)
    if (~ok).any():
        warn(
            DroppedStudiesWarning, f"Left out (missing counts): {', '.join(names[~ok])}.", collected
        )
    fitted = ok.copy()
    if code == "OR":
        with np.errstate(invalid="ignore"):
            dz = ok & (((a == 0) & (c == 0)) | ((a == n1) & (c == n2)))
        if dz.any():
            warn(
                DroppedStudiesWarning,
                "Left out (no events, or only events, in both groups; "
                f"they carry no information on the odds ratio): {', '.join(names[dz])}.",
                collected,
            )
        fitted &= ~dz
    k = int(fitted.sum())
    if k < 2:
        raise ValueError(
            f"A GLMM needs at least 2 studies with usable counts (got {k}): with one study "
            "the between-study variance cannot be estimated."
        )
    sub = {key: arr[fitted] for key, arr in arrays.items()}
    fit_labels = tuple(names[fitted])

    if code == "PLO":
        x, n = sub["xi"], sub["ni"]
        if x.sum() == 0 or x.sum() == n.sum():
            raise ValueError(
                "No study has events (or every participant has one): the pooled proportion "
                "is 0 (or 1) and a logistic model has no finite estimate."
            )
        edge = (x == 0) | (x == n)
        if edge.any():
            warn(
                SparseDataWarning,
                "Studies with 0 events or only events enter the GLMM "
                f"with their exact counts (no continuity correction): "
                f"{', '.join(np.asarray(fit_labels, dtype=object)[edge])}.",
                collected,
            )
        es = _quiet_effects("PLO", xi=x, ni=n, study=fit_labels)
        raw = fit_um_rs(x, n, nagq)
        transform = "ilogit"
    else:
        a, c = sub["ai"], sub["ci"]
        b, d = sub["n1i"] - a, sub["n2i"] - c
        lo = np.maximum(0, a + c - (c + d))
        hi = np.minimum(a + b, a + c)
        if a.sum() <= lo.sum() or a.sum() >= hi.sum():
            raise ValueError(
                "The pooled odds ratio is 0 or infinite: in every table the events fall "
                "entirely on one side. A GLMM has no finite estimate for these data."
            )
        edge = (a == 0) | (b == 0) | (c == 0) | (d == 0)
        if edge.any():
            warn(
                SparseDataWarning,
                "Tables with a zero cell enter the GLMM with their exact "
                f"counts (no continuity correction): "
                f"{', '.join(np.asarray(fit_labels, dtype=object)[edge])}.",
                collected,
            )
        es = _quiet_effects(
            "OR", ai=a, bi=b, ci=c, di=d, study=fit_labels, add=0.5, to="only0", drop00=True
        )
        raw = fit_um_fs(a, b, c, d, nagq) if chosen == "UM.FS" else fit_cm_el(a, b, c, d)
        transform = "exp"
    return _package(
        code,
        chosen,
        nagq if chosen != "CM.EL" else CM_EL_POINTS,
        level,
        k,
        es,
        raw,
        transform,
        tuple(names[~fitted]),
        collected,
    )


def _package(
    measure: str,
    model: str,
    points: int,
    level: float,
    k: int,
    es: EffectSizes,
    raw: RawFit,
    transform: str,
    dropped: tuple[str, ...],
    collected: list[str],
) -> MetaResult:
    for note in raw.notes:
        warn(BoundaryWarning, note, collected)
    if not raw.converged:
        warn(
            ConvergenceWarning,
            f"The GLMM ({model}) fit may not have converged: "
            f"{raw.message}. Treat the results with caution.",
            collected,
        )
    crit = float(stats.norm.isf((1 - level) / 2))
    zval = raw.beta / raw.se
    pval = float(2 * stats.norm.sf(abs(zval)))
    pi_half = crit * np.sqrt(raw.se**2 + raw.tau2)
    df = k - 1
    qe_lrt = max(0.0, -2 * (raw.ll_fe - raw.ll_qe))
    qe_wld = max(0.0, raw.qe_wald)
    qep_wld = float(stats.chi2.sf(qe_wld, df)) if df > 0 else 1.0
    qep_lrt = float(stats.chi2.sf(qe_lrt, df)) if df > 0 else 1.0
    vt = _typical_variance(es.vi)
    i2 = float(i2_from_tau2(raw.tau2, vt))
    h2 = float(h2_from_tau2(raw.tau2, vt))
    w = 1 / (es.vi + raw.tau2)
    extra = {
        "model": model,
        "model_description": GLMM_MODELS[(measure, model)],
        "nAGQ": points,
        "QE.Wld": qe_wld,
        "QEp.Wld": qep_wld,
        "QE.LRT": qe_lrt,
        "QEp.LRT": qep_lrt,
        "df.QE": df,
        "logLik": raw.loglik,
        "loglik_marginal": raw.loglik_marginal,
        "ll_fe": raw.ll_fe,
        "ll_qe": raw.ll_qe,
        "convergence": {
            "converged": raw.converged,
            "message": raw.message,
            "evaluations": raw.evaluations,
            "hessian": raw.hessian.tolist(),
        },
        "weights_definition": "approximate inverse-variance weights 1/(v_i + tau^2) from "
        "the escalc variances, for display; a GLMM has no study weights",
    }
    return MetaResult(
        measure=measure,
        method="GLMM",
        test="z",
        level=level,
        k=k,
        estimate=raw.beta,
        se=raw.se,
        statistic=float(zval),
        pval=pval,
        ci_lower=raw.beta - crit * raw.se,
        ci_upper=raw.beta + crit * raw.se,
        pi_lower=float(raw.beta - pi_half),
        pi_upper=float(raw.beta + pi_half),
        ddf=float("nan"),
        tau2=raw.tau2,
        se_tau2=raw.se_tau2,
        q=qe_wld,
        q_df=float(df),
        q_pval=qep_wld,
        i2=float(i2),
        h2=float(h2),
        vt=vt,
        s2w=1.0,
        weights=100 * w / np.sum(w),
        loglik_ml=raw.loglik,
        loglik_reml=float("nan"),
        yi=es.yi.copy(),
        vi=es.vi.copy(),
        study=es.study,
        dropped=dropped,
        transform=transform,
        transform_ni=None,
        converged=raw.converged,
        iterations=raw.evaluations,
        control={"nAGQ": points, "optimizer": "Nelder-Mead", "xatol": 1e-9, "fatol": 1e-10},
        warnings=tuple(dict.fromkeys(collected)),
        effects=es,
        extra=extra,
    )
