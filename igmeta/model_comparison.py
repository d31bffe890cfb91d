"""Information criteria and likelihood-ratio tests for fitted models.

:func:`fit_statistics` is metafor's ``fitstats(res)`` (log-likelihood, deviance, AIC, BIC,
AICc) and :func:`likelihood_ratio_test` its ``anova(full, reduced)`` for two nested
models fitted to the same studies.

References
----------
Viechtbauer W (2010). Conducting meta-analyses in R with the metafor package. J Stat Softw
36(3). doi:10.18637/jss.v036.i03
Hurvich CM, Tsai C-L (1989). Regression and time series model selection in small samples.
Biometrika 76:297-307. doi:10.1093/biomet/76.2.297
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from igmeta.results import MetaRegressionResult, MetaResult
from igmeta.warnings import MetaAnalysisWarning, warn

__all__ = ["FitStatistics", "LikelihoodRatioTest", "fit_statistics", "likelihood_ratio_test"]

_LIKELIHOOD_METHODS = ("FE", "ML", "REML")


@dataclass(frozen=True, slots=True)
class FitStatistics:
    """Log-likelihood and information criteria of one model (metafor's ``fitstats``).

    Attributes
    ----------
    likelihood : str
        ``"ML"`` or ``"REML"``: which likelihood the numbers refer to.
    k, p : int
        Studies and coefficients.
    parms : int
        Estimated parameters: ``p``, plus 1 for tau^2 in a random-effects model.
    loglik : float
        Log-likelihood at the fitted values.
    deviance : float
        ``-2 (ll - ll_saturated)`` for ML, ``-2 ll`` for REML.
    aic, bic, aicc : float
        ``-2 ll + 2 parms``; ``-2 ll + parms log(n)``;
        ``-2 ll + 2 parms max(n, parms + 2) / (max(n, parms + 2) - parms - 1)``, with
        ``n = k`` (ML) or ``k - p`` (REML).
    """

    likelihood: str
    k: int
    p: int
    parms: int
    loglik: float
    deviance: float
    aic: float
    bic: float
    aicc: float


@dataclass(frozen=True, slots=True)
class LikelihoodRatioTest:
    """Likelihood-ratio test of a reduced model against a full model (``anova``).

    Attributes
    ----------
    full, reduced : FitStatistics
        Fit statistics of the two models (same likelihood).
    statistic : float
        ``LRT = max(0, 2 (ll_full - ll_reduced))``.
    df : int
        ``parms_full - parms_reduced``.
    pval : float
        ``P(chi2_df > LRT)``.
    tau2_full, tau2_reduced : float
        Between-study variances of the two models (0 for common-effect models).
    r2 : float
        Proportion (%) of the reduced model's heterogeneity explained by the full model,
        as metafor's ``anova``: ``100 max(0, (tau2_r - tau2_f)/tau2_r)`` (0 when
        ``tau2_r = 0``); for two common-effect models the same with the residual variances
        ``QE/(k - p)`` of the weighted regressions.
    warnings : tuple of str
        Plain-English notes (e.g. an LRT on non-likelihood estimators).
    """

    full: FitStatistics
    reduced: FitStatistics
    statistic: float
    df: int
    pval: float
    tau2_full: float
    tau2_reduced: float
    r2: float
    warnings: tuple[str, ...] = ()


def _check_fit(res) -> None:
    if not isinstance(res, MetaResult | MetaRegressionResult):
        raise TypeError("give a result of meta_analysis() or meta_regression()")
    if str(res.method).upper() in ("MH", "PETO"):
        raise ValueError(
            "Mantel-Haenszel and Peto models have no likelihood here, so there are no "
            "information criteria or likelihood-ratio tests for them (as in metafor)."
        )


def _design_matrix(res) -> np.ndarray:
    if isinstance(res, MetaRegressionResult):
        return np.asarray(res.X, float)
    return np.ones((int(res.k), 1))


def _is_random(res) -> bool:
    return str(res.method).upper() != "FE"


def fit_statistics(res, likelihood: str | None = None) -> FitStatistics:
    """Log-likelihood, deviance, AIC, BIC and AICc of a model (metafor's ``fitstats``).

    Parameters
    ----------
    res : MetaResult or MetaRegressionResult
        An inverse-variance model (not Mantel-Haenszel or Peto).
    likelihood : {"ML", "REML"}, optional
        Default REML for REML fits, ML otherwise (metafor's default).

    Returns
    -------
    FitStatistics

    Notes
    -----
    ``parms = p + 1`` for random-effects models (tau^2 counts as a parameter) and ``p``
    for common-effect models. The ML deviance subtracts the saturated log-likelihood
    ``sum log phi(0; 0, v_i)`` when k > p and every ``v_i > 0``; it is 0 when k <= p.
    """
    _check_fit(res)
    if likelihood is None:
        likelihood = "REML" if str(res.method).upper() == "REML" else "ML"
    likelihood = likelihood.upper()
    if likelihood not in ("ML", "REML"):
        raise ValueError(f"likelihood must be 'ML' or 'REML', got {likelihood!r}")
    k = int(res.k)
    p = int(getattr(res, "p", 1))
    parms = p + int(_is_random(res))
    vi = np.asarray(res.vi, float)
    if likelihood == "ML":
        ll = float(res.loglik_ml)
        n = k
        if k <= p:
            deviance = 0.0
        elif np.all(vi > 0):
            saturated = float(np.sum(stats.norm.logpdf(0.0, scale=np.sqrt(vi))))
            deviance = -2.0 * (ll - saturated)
        else:
            deviance = -2.0 * ll
    else:
        ll = float(res.loglik_reml)
        n = k - p
        deviance = -2.0 * ll
    m = max(n, parms + 2)
    with np.errstate(divide="ignore"):
        bic = -2.0 * ll + parms * float(np.log(n))
    return FitStatistics(
        likelihood=likelihood,
        k=k,
        p=p,
        parms=parms,
        loglik=ll,
        deviance=deviance,
        aic=-2.0 * ll + 2 * parms,
        bic=bic,
        aicc=-2.0 * ll + 2 * parms * m / (m - parms - 1),
    )


def _spans(full_x: np.ndarray, reduced_x: np.ndarray) -> bool:
    """True when every column of ``reduced_x`` is a linear combination of ``full_x``."""
    coef, *_ = np.linalg.lstsq(full_x, reduced_x, rcond=None)
    resid = reduced_x - full_x @ coef
    scale = max(1.0, float(np.abs(reduced_x).max()))
    return bool(np.all(np.abs(resid) <= 1e-8 * scale))


def _r2(full, reduced) -> float:
    if not _is_random(full):
        s2_f = float(full.q) / (full.k - int(getattr(full, "p", 1)))
        s2_r = float(reduced.q) / (reduced.k - int(getattr(reduced, "p", 1)))
        return 100.0 * max(0.0, (s2_r - s2_f) / s2_r)
    if float(reduced.tau2) == 0:
        return 0.0
    return 100.0 * max(0.0, (float(reduced.tau2) - float(full.tau2)) / float(reduced.tau2))


def likelihood_ratio_test(model_a, model_b) -> LikelihoodRatioTest:
    """Likelihood-ratio test of two nested models (metafor's ``anova(full, reduced)``).

    Parameters
    ----------
    model_a, model_b : MetaResult or MetaRegressionResult
        Two models fitted to the same studies (identical ``yi`` and ``vi``), in either
        order: the one with more parameters is the full model.

    Returns
    -------
    LikelihoodRatioTest

    Raises
    ------
    ValueError
        When the models use different data, have the same number of parameters, are
        not nested (the reduced model's moderators are not combinations of the full
        model's, or the full model is a common-effect model and the reduced one is not),
        mix ML and REML, or are REML fits with different moderators (REML likelihoods of
        different fixed effects are not comparable; refit both with ML).

    Warns
    -----
    MetaAnalysisWarning
        When a model uses neither ML, REML nor a common-effect fit (metafor's "LRTs
        should be based on ML/REML estimation").

    Notes
    -----
    ``LRT = max(0, dev_reduced - dev_full)`` with the deviances of the full model's
    likelihood (REML when the full model is REML, ML otherwise), referred to chi^2 with
    ``parms_full - parms_reduced`` degrees of freedom. A test of tau^2 = 0 (random- against
    common-effect model) is conservative because 0 is on the boundary.
    """
    for res in (model_a, model_b):
        _check_fit(res)
    pa = int(getattr(model_a, "p", 1)) + int(_is_random(model_a))
    pb = int(getattr(model_b, "p", 1)) + int(_is_random(model_b))
    if pa == pb:
        raise ValueError(
            "The two models have the same number of parameters, so one cannot be a "
            "reduced version of the other; a likelihood-ratio test is not meaningful."
        )
    full, reduced = (model_a, model_b) if pa > pb else (model_b, model_a)
    same_data = np.array_equal(np.asarray(full.yi), np.asarray(reduced.yi)) and np.array_equal(
        np.asarray(full.vi), np.asarray(reduced.vi)
    )
    if not same_data:
        raise ValueError(
            "The two models were fitted to different data (their effect sizes or sampling "
            "variances differ, e.g. a study was added, dropped or edited), so their "
            "likelihoods cannot be compared."
        )
    m_full, m_red = str(full.method).upper(), str(reduced.method).upper()
    if m_full == "FE" and m_red != "FE":
        raise ValueError(
            "The model with more parameters is a common-effect model and the other a "
            "random-effects model: they are not nested."
        )
    if {m_full, m_red} == {"ML", "REML"}:
        raise ValueError(
            f"One model was fitted with ML and the other with REML ({m_full} versus "
            f"{m_red}); fit both with the same method."
        )
    x_full, x_red = _design_matrix(full), _design_matrix(reduced)
    if not _spans(x_full, x_red):
        raise ValueError(
            "The models are not nested: the reduced model has moderators that are not "
            "part of the full model. A likelihood-ratio test needs the reduced model to be "
            "a special case of the full one."
        )
    same_fixed = x_full.shape == x_red.shape and np.array_equal(x_full, x_red)
    if m_full == "REML" and not same_fixed:
        raise ValueError(
            "REML likelihoods of models with different moderators are not comparable. "
            "Refit both models with method='ML' to test the moderators."
        )
    notes: list[str] = []
    if m_full not in _LIKELIHOOD_METHODS or m_red not in _LIKELIHOOD_METHODS:
        warn(
            MetaAnalysisWarning,
            f"Likelihood-ratio tests should be based on ML or REML fits; these models use "
            f"{m_full} and {m_red}, so the test is only approximate.",
            notes,
        )
    likelihood = "REML" if m_full == "REML" else "ML"
    stats_full = fit_statistics(full, likelihood)
    stats_red = fit_statistics(reduced, likelihood)
    lrt = max(0.0, 2.0 * (stats_full.loglik - stats_red.loglik))
    df = stats_full.parms - stats_red.parms
    return LikelihoodRatioTest(
        full=stats_full,
        reduced=stats_red,
        statistic=lrt,
        df=df,
        pval=float(stats.chi2.sf(lrt, df)),
        tau2_full=float(full.tau2),
        tau2_reduced=float(reduced.tau2),
        r2=_r2(full, reduced),
        warnings=tuple(notes),
    )
