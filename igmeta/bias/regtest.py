"""Egger's regression test for funnel-plot asymmetry (metafor ``regtest``).

Two variants, as in metafor:

* ``model="rma"`` (metafor's default): the meta-regression
  ``rma(yi, vi, mods = ~ sqrt(vi))`` with the model's own tau^2 estimator, test, level and
  convergence settings; the slope's z (or t, Knapp-Hartung) test is the test of asymmetry.
* ``model="lm"``: the classical Egger test, the weighted least-squares regression
  ``lm(yi ~ sqrt(vi), weights = 1/vi)`` with an estimated residual variance and a t-test
  on k - 2 degrees of freedom.

Both also give the "limit estimate": the intercept, i.e. the effect predicted for a study
of infinite precision (standard error 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from igmeta.bias._common import check_result, finite_studies
from igmeta.effects import effect_sizes
from igmeta.pooling import fit_regression
from igmeta.results import MetaRegressionResult, MetaResult
from igmeta.warnings import SmallSampleWarning, warn

__all__ = ["PREDICTORS", "EggerResult", "egger_test"]

#: Supported predictors: the standard error (Egger's test) or the variance.
PREDICTORS = ("sei", "vi")

#: R's ``lm`` (LINPACK ``dqrdc2``) tolerance for declaring a column collinear.
_LM_TOL = 1e-7


@dataclass(frozen=True, slots=True)
class EggerResult:
    """Egger's regression test (metafor's ``regtest``).

    Attributes
    ----------
    model : str
        ``"rma"`` (meta-regression with the model's tau^2 estimator) or ``"lm"``
        (classical Egger: weighted least squares with estimated residual variance).
    predictor : str
        ``"sei"`` (standard error) or ``"vi"`` (variance).
    method : str
        tau^2 estimator of the ``"rma"`` regression (``"FE"`` for a common-effect model);
        ``"lm"`` for the classical test.
    test : str
        ``"z"``, ``"knha"`` (t-test, rma) or ``"t"`` (lm).
    level : float
        Confidence level of the limit-estimate interval.
    k : int
        Number of studies.
    zval : float
        Test statistic of the slope (metafor's name): z for ``"rma"`` with a z-test, t for
        ``"lm"`` and for ``"rma"`` with Knapp-Hartung.
    pval : float
        Two-sided p-value of the slope (the test of funnel-plot asymmetry).
    dfs : float
        Degrees of freedom of the t-test (k - 2), NaN for a z-test.
    est, ci_lower, ci_upper : float
        The limit estimate (intercept: the expected effect at predictor 0, i.e. infinite
        precision) and its confidence interval.
    beta : ndarray, shape (2,)
        Coefficients (intercept, slope).
    se : ndarray, shape (2,)
        Their standard errors.
    tau2 : float
        Residual tau^2 of the ``"rma"`` regression (0 for FE; NaN for ``"lm"``).
    qe, qe_df, qe_pval : float
        Residual heterogeneity test of the ``"rma"`` regression (NaN for ``"lm"``).
    sigma : float
        Residual standard error of the ``"lm"`` regression (NaN for ``"rma"``); the
        multiplicative dispersion is ``sigma**2``.
    b0, b1 : float
        The fitted line ``estimate = b0 + b1 * predictor`` (with predictor ``"sei"``:
        ``estimate = b0 + b1 * se``), for drawing on a funnel plot. Same numbers as
        ``beta``.
    fit : MetaRegressionResult or None
        The full ``"rma"`` regression (None for ``"lm"``).
    warnings : tuple of str
        Plain-English warnings.
    """

    model: str
    predictor: str
    method: str
    test: str
    level: float
    k: int
    zval: float
    pval: float
    dfs: float
    est: float
    ci_lower: float
    ci_upper: float
    beta: np.ndarray
    se: np.ndarray
    tau2: float
    qe: float
    qe_df: float
    qe_pval: float
    sigma: float
    b0: float
    b1: float
    fit: MetaRegressionResult | None = None
    warnings: tuple[str, ...] = ()

    @property
    def statistic(self) -> float:
        """Alias of :attr:`zval`."""
        return self.zval

    def line(self, se) -> np.ndarray:
        """The fitted regression line at standard errors ``se`` (for a funnel plot).

        Returns ``b0 + b1 * se`` for predictor ``"sei"`` and ``b0 + b1 * se**2`` for
        ``"vi"``.
        """
        se = np.asarray(se, dtype=float)
        x = se if self.predictor == "sei" else se**2
        return self.b0 + self.b1 * x

    def summary(self) -> dict[str, float]:
        """Headline numbers as a flat dict."""
        return {
            "k": self.k,
            "zval": self.zval,
            "pval": self.pval,
            "dfs": self.dfs,
            "est": self.est,
            "ci_lower": self.ci_lower,
            "ci_upper": self.ci_upper,
        }


def _lm_rank_deficient(x: np.ndarray) -> bool:
    """True when ``x`` is collinear with the intercept by R's ``lm`` rule (tol 1e-7)."""
    norm = float(np.linalg.norm(x))
    return norm == 0 or float(np.linalg.norm(x - x.mean())) < _LM_TOL * norm


def _lm_fit(
    yi: np.ndarray, vi: np.ndarray, X: np.ndarray, level: float, collected: list[str]
) -> dict:
    """Weighted least squares with weights 1/vi and estimated residual variance."""
    k, p = X.shape
    sw = 1.0 / np.sqrt(vi)
    q, r = np.linalg.qr(X * sw[:, None])
    beta = np.linalg.solve(r, q.T @ (yi * sw))
    resid = (yi - X @ beta) * sw
    df = k - p
    sigma2 = float(resid @ resid) / df
    r_inv = np.linalg.inv(r)
    unscaled = r_inv @ r_inv.T
    se = np.sqrt(np.diag(unscaled) * sigma2)
    with np.errstate(divide="ignore", invalid="ignore"):
        tval = beta / se
    fitted = (X @ beta) * sw
    if sigma2 < (np.mean(fitted) ** 2 + np.var(fitted, ddof=1)) * 1e-30:  # R's summary.lm
        warn(
            SmallSampleWarning,
            "The studies lie exactly on a line: the residual variance "
            "is 0 and the t-test is degenerate.",
            collected,
        )
    pval = 2 * stats.t.sf(np.abs(tval), df)
    crit = stats.t.ppf(0.5 + level / 2, df)
    return {
        "beta": beta,
        "se": se,
        "tval": tval,
        "pval": pval,
        "df": float(df),
        "sigma": float(np.sqrt(sigma2)),
        "ci": (beta[0] - crit * se[0], beta[0] + crit * se[0]),
    }


def _user_weights_of(res: MetaResult, k: int) -> np.ndarray | None:
    """The user weights of the studies in the test (metafor's regtest keeps them)."""
    a = getattr(res, "user_weights", None)
    if a is None:
        return None
    a = np.asarray(a, dtype=float)
    if a.size != k:
        raise ValueError("The user weights do not match the studies of Egger's test.")
    return a


def egger_test(res: MetaResult, model: str = "rma", predictor: str = "sei") -> EggerResult:
    """Egger's regression test for funnel-plot asymmetry (metafor's ``regtest``).

    Parameters
    ----------
    res : MetaResult
        A pooled model. Its ``yi``, ``vi``, ``method``, ``test``, ``level`` and
        ``control`` are used.
    model : {"rma", "lm"}
        ``"rma"`` (default, as metafor): meta-regression on the predictor with the model's
        own tau^2 estimator and test. ``"lm"``: classical Egger weighted regression.
    predictor : {"sei", "vi"}
        Regress on the standard error (Egger's test, default) or on the variance.

    Returns
    -------
    EggerResult

    Raises
    ------
    ValueError
        With fewer than 3 studies (a line through 2 points leaves nothing to test), when
        all studies have the same variance (the slope is then not identifiable), or for a
        Mantel-Haenszel/Peto model with ``model="rma"``.

    Notes
    -----
    With ``x_i = sqrt(v_i)`` (or ``v_i``), ``model="rma"`` fits
    ``y_i = b0 + b1 x_i + u_i + e_i``, ``u_i ~ N(0, tau^2)``, ``e_i ~ N(0, v_i)`` by
    weighted least squares with ``w_i = 1/(v_i + tau^2)``; ``zval = b1/se(b1)`` (a t
    statistic on k - 2 df with Knapp-Hartung) and the limit estimate is ``b0`` with its
    CI. ``model="lm"`` fits the same line with weights ``1/v_i`` and residual variance
    ``sigma^2 = sum (y_i - b0 - b1 x_i)^2 / v_i / (k - 2)``, so ``se(b) = sigma
    sqrt(diag((X'WX)^-1))``; ``zval = b1/se(b1)`` is referred to t(k - 2), and the CI of
    ``b0`` uses t(k - 2). This equals regressing ``y_i/sqrt(v_i)`` on ``1/sqrt(v_i)``
    (Egger et al. 1997) with intercept and slope swapped.

    References
    ----------
    Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in meta-analysis detected
    by a simple, graphical test. BMJ 315:629-634. doi:10.1136/bmj.315.7109.629
    Sterne JAC, Egger M (2005). Regression methods to detect publication and other bias in
    meta-analysis. In: Publication Bias in Meta-Analysis, Wiley, 99-110.
    doi:10.1002/0470870168.ch6
    Viechtbauer W (2010). J Stat Softw 36(3). doi:10.18637/jss.v036.i03
    """
    check_result(res, "Egger's regression test")
    model = model.lower()
    if model not in ("rma", "lm"):
        raise ValueError(f"model must be 'rma' or 'lm', got {model!r}")
    if predictor not in PREDICTORS:
        raise ValueError(f"predictor must be one of {PREDICTORS}, got {predictor!r}")
    collected: list[str] = []
    yi, vi, study = finite_studies(res)
    k = len(yi)
    if k < 3:
        raise ValueError(
            f"Egger's regression test needs at least 3 studies (a line through "
            f"{k} point(s) leaves nothing to test); this analysis has {k}."
        )
    x = np.sqrt(vi) if predictor == "sei" else vi.copy()
    if _lm_rank_deficient(x):
        raise ValueError(
            "Egger's test is undefined when all studies have the same "
            "variance: the slope on the standard error cannot be estimated "
            "(every study sits at the same height of the funnel)."
        )
    X = np.column_stack([np.ones(k), x])
    names = ("intrcpt", predictor)
    if k == 3:
        warn(
            SmallSampleWarning,
            "Egger's test with 3 studies has a single residual degree "
            "of freedom and very little power.",
            collected,
        )
    if model == "lm":
        out = _lm_fit(yi, vi, X, res.level, collected)
        beta, se = out["beta"], out["se"]
        return EggerResult(
            model="lm",
            predictor=predictor,
            method="lm",
            test="t",
            level=res.level,
            k=k,
            zval=float(out["tval"][1]),
            pval=float(out["pval"][1]),
            dfs=out["df"],
            est=float(beta[0]),
            ci_lower=float(out["ci"][0]),
            ci_upper=float(out["ci"][1]),
            beta=beta,
            se=se,
            tau2=float("nan"),
            qe=float("nan"),
            qe_df=float("nan"),
            qe_pval=float("nan"),
            sigma=out["sigma"],
            b0=float(beta[0]),
            b1=float(beta[1]),
            fit=None,
            warnings=tuple(collected),
        )
    if res.method in ("MH", "PETO"):
        raise ValueError(
            "The meta-regression form of Egger's test needs an inverse-variance "
            "model; use model='lm' or refit with method='FE'."
        )
    es = effect_sizes(res.measure or "GEN", yi=yi, vi=vi, study=study)
    fit = fit_regression(
        es,
        X,
        names,
        method=res.method,
        test=res.test,
        level=res.level,
        control=res.control,
        collected=collected,
        weights=_user_weights_of(res, k),
    )
    return EggerResult(
        model="rma",
        predictor=predictor,
        method=fit.method,
        test=fit.test,
        level=fit.level,
        k=k,
        zval=float(fit.statistic[1]),
        pval=float(fit.pval[1]),
        dfs=float(fit.ddf),
        est=float(fit.estimate[0]),
        ci_lower=float(fit.ci_lower[0]),
        ci_upper=float(fit.ci_upper[0]),
        beta=fit.estimate.copy(),
        se=fit.se.copy(),
        tau2=fit.tau2,
        qe=fit.q,
        qe_df=fit.q_df,
        qe_pval=fit.q_pval,
        sigma=float("nan"),
        b0=float(fit.estimate[0]),
        b1=float(fit.estimate[1]),
        fit=fit,
        warnings=tuple(dict.fromkeys(collected)),
    )
