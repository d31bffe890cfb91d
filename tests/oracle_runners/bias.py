"""Runners for the publication-bias cases: ``regtest``, ``ranktest`` and ``trimfill``."""

from __future__ import annotations

import dataclasses

import numpy as np

from igmeta.bias import begg_test, egger_test, trim_and_fill
from oracle_runners import runner
from oracle_runners.common import (
    array,
    fit_fields,
    fit_from_case,
    none_if_nan,
    predict_fields,
)


@runner("regtest")
def run_regtest(case: dict) -> dict:
    """regtest(res, model=, predictor=) on rma(yi, vi) with the case's settings."""
    settings = case["settings"]
    res = fit_from_case(case)
    out = egger_test(
        res, model=settings.get("model", "rma"), predictor=settings.get("predictor", "sei")
    )
    if out.model == "lm":
        fit = {"beta": array(out.beta), "se": array(out.se), "sigma": out.sigma}
    else:
        fit = {
            "beta": array(out.beta),
            "se": array(out.se),
            "tau2": out.tau2,
            "QE": out.qe,
            "QEp": out.qe_pval,
        }
    dfs = none_if_nan(out.dfs)
    return {
        "zval": out.zval,
        "pval": out.pval,
        "dfs": int(dfs) if dfs is not None else None,
        "est": out.est,
        "ci.lb": out.ci_lower,
        "ci.ub": out.ci_upper,
        "fit": fit,
    }


@runner("ranktest")
def run_ranktest(case: dict) -> dict:
    """ranktest(res): Kendall's tau between standardised effects and variances."""
    res = fit_from_case(case, method="FE")
    exact = case["settings"].get("exact", True)
    out = begg_test(res, exact=exact)
    return {
        "tau": out.tau,
        "pval": out.pval,
        "exact": out.exact,
        "ties": out.ties,
        "theta.FE": out.theta_fe,
        "yi.star": array(out.yi_star),
    }


@runner("trimfill")
def run_trimfill(case: dict) -> dict:
    """trimfill(res, estimator=, side=) and the filled model's rma fields and predict()."""
    settings, data = case["settings"], case["input"]
    res = fit_from_case(case)
    out = trim_and_fill(res, estimator=settings.get("estimator", "L0"), side=settings.get("side"))
    model = out.model
    if "ni" in data and model is not res:
        # README 2.4: the Freeman-Tukey back-transform uses the input's ni.
        model = dataclasses.replace(model, transform_ni=np.asarray(data["ni"], dtype=float))
    fields = fit_fields(model, weights=False)
    fields.update(predict_fields(model, settings.get("transform")))
    fields.update(
        {
            "k0": out.k0,
            "se.k0": none_if_nan(out.se_k0),
            "side": out.side,
            "p.k0": none_if_nan(out.p_k0),
            "k.original": out.k_original,
            "estimate.original": out.estimate_original,
            "tau2.original": out.tau2_original,
            "filled": {"yi": array(out.filled_yi), "vi": array(out.filled_vi)},
        }
    )
    return fields
