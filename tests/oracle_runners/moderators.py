"""Runners for ``metareg`` and ``subgroup`` cases."""

from __future__ import annotations

import numpy as np

import igmeta as im
from igmeta.subgroups import subgroup_analysis
from oracle_runners import runner
from oracle_runners.common import fit_fields, level_of, regression_fields


@runner("metareg")
def run_metareg(case: dict) -> dict:
    """rma(yi, vi, mods = ~ x1 + x2, ...)."""
    settings, data = case["settings"], case["input"]
    mods = {name: np.asarray(data[name], dtype=float) for name in settings["mods"]}
    reg = im.meta_regression(
        yi=data["yi"],
        vi=data["vi"],
        mods=mods,
        intercept=settings.get("intercept", True),
        method=settings["method"],
        test=settings.get("test", "z"),
        level=level_of(settings),
        control=settings.get("control"),
    )
    return regression_fields(reg)


@runner("subgroup")
def run_subgroup(case: dict) -> dict:
    """Separate fits per level with FE/DL/REML, the moderator models and the tests."""
    settings, data = case["settings"], case["input"]
    group = settings["group"]
    es = im.effect_sizes(settings["measure"], yi=data["yi"], vi=data["vi"], study=data.get("study"))
    level = level_of(settings)
    control = settings.get("control")
    results = {
        method: subgroup_analysis(
            es, data[group], by_name=group, method=method, level=level, control=control
        )
        for method in settings.get("subgroup_methods", ["FE", "DL", "REML"])
    }
    first = next(iter(results.values()))
    subgroups = []
    for j, lev in enumerate(first.levels):
        entry = {"level": lev, "k": first.fits[j].k, "rows": list(first.rows[j] + 1)}
        for method, result in results.items():
            entry[method] = fit_fields(result.fits[j])
        subgroups.append(entry)
    fixed = results["FE"]
    q_within = sum(fit.q for fit in fixed.fits)
    out = {
        "levels": list(first.levels),
        "subgroups": subgroups,
        "test_FE": {
            **regression_fields(fixed.moderator_fixed),
            "Q.total": fixed.overall.q,
            "Q.within.sum": q_within,
            "Q.between.diff": fixed.overall.q - q_within,
        },
    }
    for method in ("REML", "DL"):
        if method in results:
            res = results[method]
            out[f"test_RE_{method}"] = regression_fields(res.moderator_random)
            sep = res.test_separate_tau2
            out[f"test_separate_{method}"] = {
                "QM": sep.statistic,
                "QMdf": [sep.df[0], None],
                "QMp": sep.pval,
            }
    return out
