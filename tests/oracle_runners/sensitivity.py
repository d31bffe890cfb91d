"""Runners for ``confint``, ``leave1out``, ``cumul`` and ``influence`` cases."""

from __future__ import annotations

import numpy as np

import igmeta.heterogeneity as het
import igmeta.sensitivity as sens
from oracle_runners import runner
from oracle_runners.common import array, fit_from_case, level_of


@runner("confint")
def run_confint(case: dict) -> dict:
    """confint(res, fixed=TRUE, random=TRUE): Q-profile CIs for tau2, tau, I2, H2."""
    settings = case["settings"]
    res = fit_from_case(case)
    tau2_max = settings.get("tau2.max")
    ci = het.heterogeneity_ci(
        res, level_of(settings), tau2_max=None if tau2_max is None else float(tau2_max)
    )
    frame = ci.to_frame()
    out = {
        name: {
            "estimate": float(frame.loc[name, "estimate"]),
            "ci.lb": float(frame.loc[name, "ci_lower"]),
            "ci.ub": float(frame.loc[name, "ci_upper"]),
        }
        for name in ("tau2", "tau", "I2", "H2")
    }
    out["fixed"] = {"estimate": res.estimate, "ci.lb": res.ci_lower, "ci.ub": res.ci_upper}
    out.update(
        {
            "ci.null": ci.ci_null,
            "lb.sign": ci.lb_sign,
            "ub.sign": ci.ub_sign,
            "vt": ci.vt,
            "QE": ci.q,
            "k": ci.k,
        }
    )
    return out


def _fit_lists(frame, method: str) -> dict:
    return {
        "estimate": array(frame["estimate"]),
        "se": array(frame["se"]),
        "zval": array(frame["statistic"]),
        "pval": array(frame["pval"]),
        "ci.lb": array(frame["ci_lower"]),
        "ci.ub": array(frame["ci_upper"]),
        "Q": array(frame["q"]),
        "Qp": array(frame["q_pval"]),
        "tau2": None if method == "FE" else array(frame["tau2"]),
        "I2": array(frame["i2"]),
        "H2": array(frame["h2"]),
    }


@runner("leave1out")
def run_leave1out(case: dict) -> dict:
    """leave1out(res)."""
    res = fit_from_case(case)
    return _fit_lists(sens.leave_one_out(res), res.method)


@runner("cumul")
def run_cumul(case: dict) -> dict:
    """cumul(res): the rows are already in the order to accumulate (input order)."""
    res = fit_from_case(case)
    return _fit_lists(sens.cumulative(res), res.method)


@runner("influence")
def run_influence(case: dict) -> dict:
    """influence(res): the diagnostics of metafor's ``inf`` and ``dfbs`` blocks."""
    res = fit_from_case(case)
    frame = sens.influence(res)
    names = {
        "rstudent": "rstudent",
        "dffits": "dffits",
        "cook.d": "cook_d",
        "cov.r": "cov_r",
        "tau2.del": "tau2_del",
        "QE.del": "q_del",
        "hat": "hat",
        "weight": "weight",
        "dfbetas": "dfbetas",
        "rstudent.resid": "rstudent_resid",
        "rstudent.se": "rstudent_se",
    }
    out = {key: array(frame[col]) for key, col in names.items()}
    out["inf"] = [bool(flag) for flag in np.asarray(frame["inf"])]
    return out
