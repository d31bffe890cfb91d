"""Fit statistics and likelihood-ratio tests (igmeta.model_comparison) against metafor
3.8-1 (``fitstats``, ``anova``).

Reference values: tests/data/tau2_more_metafor.R (the R call of each case) and its output
tests/data/tau2_more_metafor.txt, read by tests/tau2_reference.py; R is not needed here.
"""

from __future__ import annotations

import numpy as np
import pytest
from tau2_reference import (
    ABLAT,
    BCG,
    ES,
    ITERATIVE,
    REF,
    TIGHT,
    WIDE,
    moderators,
    quiet,
)

from igmeta.mantel_haenszel import meta_analysis_mh
from igmeta.model_comparison import fit_statistics, likelihood_ratio_test
from igmeta.pooling import meta_analysis, meta_regression
from igmeta.warnings import MetaAnalysisWarning


def _models():
    return {
        "bcg_reml": quiet(meta_analysis, ES, method="REML", control=TIGHT),
        "bcg_ml": quiet(meta_analysis, ES, method="ML", control=TIGHT),
        "bcg_ablat_reml": quiet(
            meta_regression, ES, mods=moderators(("ablat",)), method="REML", control=TIGHT
        ),
        "bcg_ablat_ml": quiet(
            meta_regression, ES, mods=moderators(("ablat",)), method="ML", control=TIGHT
        ),
        "bcg_fe": quiet(meta_analysis, ES, method="FE"),
        "bcg_ablat_fe": quiet(meta_regression, ES, mods=moderators(("ablat",)), method="FE"),
        "bcg_ablat_year_ml": quiet(
            meta_regression, ES, mods=moderators(("ablat", "year")), method="ML", control=TIGHT
        ),
        "wide_ml": quiet(meta_analysis, **WIDE, method="ML", control=TIGHT),
    }


MODELS = _models()


@pytest.mark.parametrize(
    "name",
    ["bcg_reml", "bcg_ml", "bcg_ablat_reml", "bcg_ablat_ml", "bcg_fe", "bcg_ablat_fe",
     "bcg_ablat_year_ml"],
)  # fmt: skip
def test_fit_statistics_match_metafor(name):
    ref = REF[f"fs_{name}"]["values"]
    fs = fit_statistics(MODELS[name])
    assert fs.parms == ref["parms"]
    np.testing.assert_allclose(
        [fs.loglik, fs.deviance, fs.aic, fs.bic, fs.aicc],
        [ref["ll"], ref["dev"], ref["AIC"], ref["BIC"], ref["AICc"]],
        **ITERATIVE,
    )


LRT_CASES = {
    "lrt_ml_ablat": ("bcg_ablat_ml", "bcg_ml"),
    "lrt_ml_ablat_year": ("bcg_ablat_year_ml", "bcg_ablat_ml"),
    "lrt_ml_year_vs_null": ("bcg_ml", "bcg_ablat_year_ml"),
    "lrt_reml_tau2": ("bcg_reml", "bcg_fe"),
    "lrt_reml_ablat_tau2": ("bcg_ablat_reml", "bcg_ablat_fe"),
    "lrt_ml_tau2": ("bcg_ml", "bcg_fe"),
}


@pytest.mark.parametrize("tag", sorted(LRT_CASES))
def test_likelihood_ratio_test_matches_metafor(tag):
    a, b = LRT_CASES[tag]
    ref = REF[tag]["values"]
    lrt = likelihood_ratio_test(MODELS[a], MODELS[b])
    assert lrt.df == ref["df"]
    np.testing.assert_allclose(
        [lrt.statistic, lrt.pval, lrt.full.loglik, lrt.reduced.loglik],
        [ref["LRT"], ref["pval"], ref["ll_f"], ref["ll_r"]],
        **ITERATIVE,
    )
    assert lrt.warnings == ()


def test_lrt_refuses_different_data_like_metafor():
    assert "not equal" in REF["lrt_different_data"]["error"]
    with pytest.raises(ValueError, match="different data"):
        likelihood_ratio_test(MODELS["bcg_ablat_ml"], MODELS["wide_ml"])
    edited = quiet(meta_analysis, yi=ES.yi + 0.01, vi=ES.vi, method="ML")
    with pytest.raises(ValueError, match="different data"):
        likelihood_ratio_test(MODELS["bcg_ablat_ml"], edited)


def test_lrt_refuses_models_that_are_not_nested():
    year_only = quiet(meta_regression, ES, mods=moderators(("year",)), method="ML")
    lat_sq = quiet(meta_regression, ES, mods={"ablat": ABLAT, "ablat2": ABLAT**2}, method="ML")
    with pytest.raises(ValueError, match="not nested"):
        likelihood_ratio_test(lat_sq, year_only)
    with pytest.raises(ValueError, match="same number of parameters"):
        likelihood_ratio_test(MODELS["bcg_ablat_ml"], year_only)
    fe_two_mods = quiet(meta_regression, ES, mods=moderators(("ablat", "year")), method="FE")
    with pytest.raises(ValueError, match="common-effect model.*not nested"):
        likelihood_ratio_test(fe_two_mods, MODELS["bcg_ml"])
    # Nested although the columns differ: ablat is a combination of (1, ablat/2 + 3).
    shifted = quiet(meta_regression, ES, mods={"x": ABLAT / 2 + 3}, method="ML", control=TIGHT)
    lrt = likelihood_ratio_test(MODELS["bcg_ablat_year_ml"], shifted)
    np.testing.assert_allclose(lrt.statistic, REF["lrt_ml_ablat_year"]["values"]["LRT"], rtol=1e-6)


def test_lrt_refuses_mixed_or_incomparable_likelihoods():
    with pytest.raises(ValueError, match="ML and the other with REML"):
        likelihood_ratio_test(MODELS["bcg_ablat_ml"], MODELS["bcg_reml"])
    with pytest.raises(ValueError, match="Refit both models with method='ML'"):
        likelihood_ratio_test(MODELS["bcg_ablat_reml"], quiet(meta_analysis, ES, method="FE"))
    mh = quiet(meta_analysis_mh, "RR", **BCG)
    with pytest.raises(ValueError, match="Mantel-Haenszel"):
        fit_statistics(mh)


def test_lrt_on_other_estimators_warns():
    dl = quiet(meta_analysis, ES, method="DL")
    with pytest.warns(MetaAnalysisWarning, match="ML or REML"):
        lrt = likelihood_ratio_test(dl, MODELS["bcg_fe"])
    assert lrt.df == 1 and lrt.warnings
