"""Shared helpers: inputs from a case, and metafor-named fields from igmeta results."""

from __future__ import annotations

import numpy as np

import igmeta as im
from igmeta.transforms import back_transform, interval_back_transform

RAW_COLUMNS = (
    "ai",
    "bi",
    "ci",
    "di",
    "n1i",
    "n2i",
    "xi",
    "ni",
    "mi",
    "m1i",
    "sd1i",
    "m2i",
    "sd2i",
    "ri",
)


def level_of(settings: dict) -> float:
    """The case's confidence level as a fraction."""
    return float(settings.get("level", 95)) / 100.0


def none_if_nan(value):
    """metafor's NA is JSON null: map NaN to None."""
    if value is None:
        return None
    value = float(value)
    return None if np.isnan(value) else value


def array(values) -> list:
    """A float array with NaN mapped to None."""
    return [none_if_nan(v) for v in np.asarray(values, dtype=float).ravel()]


def effects_from_raw(case: dict) -> im.EffectSizes:
    """Run igmeta's escalc on the case's raw data columns with the case's settings."""
    settings, data = case["settings"], case["input"]
    measure = settings["measure"]
    kwargs = {name: data[name] for name in RAW_COLUMNS if name in data}
    if measure in ("RR", "OR", "RD"):
        kwargs = {key: kwargs[key] for key in ("ai", "bi", "ci", "di")}
    elif measure in ("PR", "PLO", "PAS", "PFT"):
        kwargs = {key: kwargs[key] for key in ("xi", "ni")}
    elif measure == "ZCOR":
        kwargs = {key: kwargs[key] for key in ("ri", "ni")}
    extra = {}
    for key in ("add", "to", "drop00", "vtype"):
        if key in settings and not isinstance(settings[key], list):
            extra[key] = settings[key]
    return im.effect_sizes(measure, study=data.get("study"), **kwargs, **extra)


def fit_from_case(case: dict, **overrides) -> im.MetaResult:
    """``rma(yi, vi, ...)`` on the case's yi/vi with its method, test, level and control."""
    settings, data = case["settings"], case["input"]
    transform = settings.get("transform") or "none"
    options = dict(
        yi=data["yi"],
        vi=data["vi"],
        study=data.get("study"),
        measure=settings.get("measure"),
        method=settings.get("method", "REML"),
        test=settings.get("test", "z"),
        level=level_of(settings),
        control=settings.get("control"),
        transform=transform,
        transform_ni=data.get("ni"),
    )
    options.update(overrides)
    return im.meta_analysis(**options)


def fit_fields(res: im.MetaResult, *, weights: bool = True) -> dict:
    """metafor's ``rma`` fields (k, p, estimate ... logLik) for an intercept-only fit."""
    random = res.method != "FE"
    knha = res.test == "knha"
    out = {
        "k": res.k,
        "p": 1,
        "estimate": res.estimate,
        "se": res.se,
        "zval": res.statistic,
        "pval": res.pval,
        "ci.lb": res.ci_lower,
        "ci.ub": res.ci_upper,
        "tau2": res.tau2,
        "tau": res.tau,
        "se.tau2": none_if_nan(res.se_tau2) if random else None,
        "QE": res.q,
        "QEp": res.q_pval,
        "df.QE": res.q_df,
        "I2": res.i2,
        "H2": res.h2,
        "vt": res.vt,
        "QM": res.statistic**2,
        "QMdf": [1, res.ddf if knha else None],
        "QMp": res.pval,
        "ddf": res.ddf if knha else None,
        "s2w": res.s2w,
        "logLik": {"ML": res.loglik_ml, "REML": res.loglik_reml},
    }
    if weights:
        out["weights"] = list(res.weights)
    return out


def predict_fields(res: im.MetaResult, transform: str | None) -> dict:
    """metafor's ``predict(res)`` and ``predict(res, transf=...)`` blocks."""
    pred = {
        "pred": res.estimate,
        "se": res.se,
        "ci.lb": res.ci_lower,
        "ci.ub": res.ci_upper,
        "pi.lb": none_if_nan(res.pi_lower),
        "pi.ub": none_if_nan(res.pi_upper),
    }
    if not transform or transform == "none":
        return {"predict": pred, "predict_transf": None}
    ni = res.transform_ni
    ci_lo, ci_hi = interval_back_transform(res.ci_lower, res.ci_upper, transform, ni)
    pi_lo, pi_hi = interval_back_transform(res.pi_lower, res.pi_upper, transform, ni)
    transf = {
        "pred": none_if_nan(back_transform(res.estimate, transform, ni)),
        "se": None,
        "ci.lb": none_if_nan(ci_lo),
        "ci.ub": none_if_nan(ci_hi),
        "pi.lb": none_if_nan(pi_lo),
        "pi.ub": none_if_nan(pi_hi),
    }
    return {"predict": pred, "predict_transf": transf}


def regression_fields(reg) -> dict:
    """metafor's ``rma(yi, vi, mods=...)`` fields for a MetaRegressionResult."""
    random = reg.method != "FE"
    knha = reg.test == "knha"
    return {
        "k": reg.k,
        "p": reg.p,
        "estimate": list(reg.estimate),
        "se": list(reg.se),
        "zval": list(reg.statistic),
        "pval": list(reg.pval),
        "ci.lb": list(reg.ci_lower),
        "ci.ub": list(reg.ci_upper),
        "tau2": reg.tau2,
        "tau": reg.tau,
        "se.tau2": none_if_nan(reg.se_tau2) if random else None,
        "QE": reg.q,
        "QEp": reg.q_pval,
        "df.QE": reg.q_df,
        "I2": reg.i2,
        "H2": reg.h2,
        "vt": reg.vt,
        "QM": reg.qm,
        "QMdf": [reg.qm_df[0], reg.qm_df[1] if knha else None],
        "QMp": reg.qm_pval,
        "ddf": reg.ddf if knha else None,
        "s2w": reg.s2w,
        "weights": list(reg.weights),
        "logLik": {"ML": reg.loglik_ml, "REML": reg.loglik_reml},
        "coef.names": list(reg.coef_names),
        "vb": [list(row) for row in reg.vb],
        "R2": reg.r2,
    }
