"""Runners for ``rma.mh`` (Mantel-Haenszel) and ``rma.peto`` (Peto) cases."""

from __future__ import annotations

import numpy as np

import igmeta.mantel_haenszel as mh
from oracle_runners import runner
from oracle_runners.common import array, level_of, none_if_nan


def _pair(settings: dict, key: str, default):
    """metafor's two-element settings (first: per-study escalc, second: pooled sums)."""
    value = settings.get(key, default)
    if not isinstance(value, list):
        value = [value, default[1]]
    return value


def _metafor_settings(settings: dict) -> dict:
    """Map the case's add/to/drop00 onto igmeta's arguments (zero_cells='metafor')."""
    add = _pair(settings, "add", [0.5, 0])
    to = _pair(settings, "to", ["only0", "none"])
    drop00 = _pair(settings, "drop00", [True, False])
    pooled_raw = to[1] == "none" or float(add[1]) == 0
    if to[0] != "only0" or not pooled_raw or drop00[1]:
        raise NotImplementedError(
            f"settings add={add}, to={to}, drop00={drop00} are not metafor's rma.mh/rma.peto "
            "convention (only0 per study, raw counts and all tables in the pooled sums)"
        )
    return {"add": float(add[0]), "drop00": bool(drop00[0])}


def _tables(case: dict) -> dict:
    data = case["input"]
    return {
        "ai": data["ai"],
        "bi": data.get("bi"),
        "ci": data["ci"],
        "di": data.get("di"),
        "n1i": data.get("n1i") if data.get("bi") is None else None,
        "n2i": data.get("n2i") if data.get("di") is None else None,
        "study": data.get("study"),
    }


def _fields(res, extra_keys: tuple[str, ...]) -> dict:
    out = {
        "k": res.k,
        "k.yi": res.extra["k.yi"],
        "k.pos": res.extra["k.pos"],
        "estimate": res.estimate,
        "se": res.se,
        "zval": res.statistic,
        "pval": res.pval,
        "ci.lb": res.ci_lower,
        "ci.ub": res.ci_upper,
        "tau2": res.tau2,
        "QE": res.q,
        "QEp": res.q_pval,
        "df.QE": res.q_df,
        "I2": res.i2,
        "H2": res.h2,
        "yi": array(res.yi),
        "vi": array(res.vi),
        "logLik": {"ML": none_if_nan(res.loglik_ml), "REML": none_if_nan(res.loglik_reml)},
    }
    if res.transform == "exp":
        out.update(
            {
                "estimate.exp": float(np.exp(res.estimate)),
                "ci.lb.exp": float(np.exp(res.ci_lower)),
                "ci.ub.exp": float(np.exp(res.ci_upper)),
            }
        )
    for key in extra_keys:
        out[key] = res.extra.get(key)
    return out


@runner("rma.mh")
def run_mh(case: dict) -> dict:
    """rma.mh(ai, bi, ci, di, measure=...) with metafor's default zero-cell handling."""
    settings = case["settings"]
    res = mh.meta_analysis_mh(
        settings["measure"],
        **_tables(case),
        zero_cells="metafor",
        level=level_of(settings),
        correct=bool(settings.get("correct", True)),
        **_metafor_settings(settings),
    )
    tests = ("CO", "COp", "MH", "MHp", "BD", "BDp", "TA", "TAp")
    return _fields(res, tests if res.measure == "OR" else ())


@runner("rma.peto")
def run_peto(case: dict) -> dict:
    """rma.peto(ai, bi, ci, di) with metafor's default zero-cell handling."""
    settings = case["settings"]
    options = _metafor_settings(settings)
    if not options.pop("drop00"):
        raise NotImplementedError("rma.peto with drop00[1] = FALSE is not supported")
    res = mh.meta_analysis_peto(
        **_tables(case), zero_cells="metafor", level=level_of(settings), **options
    )
    return _fields(res, ())
