"""tau^2 estimators GENQ/HSk/PMM, the profile-likelihood CI for tau^2, fit statistics and
likelihood-ratio tests, against metafor 3.8-1.

tests/data/tau2_more_metafor.R prints metafor's answers (the R call of each case is on its
CALL line); tests/data/tau2_more_metafor.txt holds the output, so R is not needed here.
Data: metadat's dat.bcg (log risk ratios), a homogeneous set ``flat`` (every estimator at 0)
and three very different studies ``wide`` (flat REML profile likelihood).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from igmeta.design import InterceptDesign, MatrixDesign
from igmeta.effects import effect_sizes
from igmeta.estimators import ESTIMATORS, estimate_tau2
from igmeta.heterogeneity import heterogeneity_ci
from igmeta.mantel_haenszel import meta_analysis_mh
from igmeta.model_comparison import fit_statistics, likelihood_ratio_test
from igmeta.pooling import meta_analysis, meta_regression
from igmeta.profile_ci import profile_tau2_ci
from igmeta.warnings import BoundaryWarning, MetaAnalysisWarning

ITERATIVE = {"rtol": 1e-6, "atol": 1e-9}
CLOSED = {"rtol": 1e-10, "atol": 1e-9}


def _read_reference() -> dict:
    path = Path(__file__).parent / "data" / "tau2_more_metafor.txt"
    cases: dict = {}
    for line in path.read_text().splitlines():
        tag, kind, *rest = line.split(" ", 2) + [""]
        entry = cases.setdefault(tag, {"values": {}, "signs": None, "error": None, "warn": []})
        text = " ".join(rest).strip()
        if kind == "CALL":
            entry["call"] = text
        elif kind == "ERROR":
            entry["error"] = text
        elif kind == "WARN":
            entry["warn"].append(text)
        elif kind == "SIGNS":
            entry["signs"] = tuple(tok.strip("[]") for tok in text.split())
        else:
            for token in line.split()[1:]:
                name, value = token.split("=")
                entry["values"][name] = float("nan") if value == "NA" else float(value)
    return cases


REF = _read_reference()

BCG = {
    "ai": [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27],
    "bi": [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886],
    "ci": [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29],
    "di": [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825],
}  # fmt: skip
ABLAT = np.array([44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33], float)
YEAR = np.array([1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976.0])
NI = np.sum([BCG[c] for c in ("ai", "bi", "ci", "di")], axis=0).astype(float)
ES = effect_sizes("RR", **BCG)
FLAT = {"yi": [0.10, 0.12, 0.09, 0.11, 0.10], "vi": [0.04, 0.05, 0.03, 0.06, 0.05]}
WIDE = {"yi": [-10.0, 0.0, 10.0], "vi": [1.0, 1.0, 1.0]}
TIGHT = {"threshold": 1e-13, "tol": 1e-15, "maxiter": 10000}


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetaAnalysisWarning)
        return func(*args, **kwargs)


def _mods(names):
    cols = {"ablat": ABLAT, "year": YEAR}
    return {name: cols[name] for name in names}


# ----------------------------------------------------------------- 1. GENQ, HSk, PMM
FIT_CASES = {
    "bcg_HSk": ("HSk", ()),
    "bcg_PMM": ("PMM", ()),
    "bcg_PM": ("PM", ()),
    "bcg_ablat_HSk": ("HSk", ("ablat",)),
    "bcg_ablat_PMM": ("PMM", ("ablat",)),
    "bcg_ablat_year_PMM": ("PMM", ("ablat", "year")),
}


@pytest.mark.parametrize("tag", sorted(FIT_CASES))
def test_hsk_pmm_fits_match_metafor(tag):
    method, mods = FIT_CASES[tag]
    ref = REF[tag]["values"]
    if mods:
        res = quiet(meta_regression, ES, mods=_mods(mods), method=method)
        beta, se = res.estimate[0], res.se[0]
    else:
        res = quiet(meta_analysis, ES, method=method)
        beta, se = res.estimate, res.se
    tol = ITERATIVE if method.startswith("PM") else CLOSED
    np.testing.assert_allclose(res.tau2, ref["tau2"], **tol)
    np.testing.assert_allclose(res.se_tau2, ref["se_tau2"], **tol)
    np.testing.assert_allclose([beta, se], [ref["beta"], ref["se"]], **tol)
    assert res.converged


@pytest.mark.parametrize(
    ("tag", "weights", "mods"),
    [
        ("bcg_GENQ_ni", NI, ()),
        ("bcg_GENQ_invvar", 1 / ES.vi, ()),
        ("bcg_GENQ_unit", np.ones(13), ()),
        ("bcg_ablat_GENQ_ni", NI, ("ablat",)),
    ],
)
def test_genq_matches_metafor(tag, weights, mods):
    ref = REF[tag]["values"]
    if mods:
        design = MatrixDesign(ES.yi, ES.vi, np.column_stack([np.ones(13), ABLAT]))
    else:
        design = InterceptDesign(ES.yi, ES.vi)
    est = estimate_tau2(design, "GENQ", weights=weights)
    np.testing.assert_allclose(est.tau2[0], ref["tau2"], **CLOSED)
    np.testing.assert_allclose(est.se_tau2[0], ref["se_tau2"], **CLOSED)


def test_genq_special_cases_are_dl_and_he():
    design = InterceptDesign(ES.yi, ES.vi)
    for weights, other in ((1 / ES.vi, "DL"), (np.ones(13), "HE")):
        genq = estimate_tau2(design, "GENQ", weights=weights)
        np.testing.assert_allclose(genq.tau2, estimate_tau2(design, other).tau2, **CLOSED)


def test_genq_without_weights_is_a_clear_error():
    with pytest.raises(ValueError, match="needs weights"):
        estimate_tau2(InterceptDesign(ES.yi, ES.vi), "GENQ")
    with pytest.raises(ValueError, match="needs weights"):
        meta_analysis(ES, method="GENQ")


def test_genq_bad_weights_name_the_row():
    design = InterceptDesign(ES.yi, ES.vi)
    weights = NI.copy()
    weights[4] = -1.0
    with pytest.raises(ValueError, match="study \\(row\\) 5"):
        estimate_tau2(design, "GENQ", weights=weights)
    weights[4] = np.nan
    with pytest.raises(ValueError, match="row\\) 5"):
        estimate_tau2(design, "GENQ", weights=weights)
    with pytest.raises(ValueError, match="3 weights for 13 studies"):
        estimate_tau2(design, "GENQ", weights=[1.0, 2.0, 3.0])


@pytest.mark.parametrize(("tag", "method"), [("flat_HSk", "HSk"), ("flat_PMM", "PMM")])
def test_truncated_at_zero_like_metafor(tag, method):
    ref = REF[tag]["values"]
    with pytest.warns(BoundaryWarning, match="boundary"):
        res = meta_analysis(method=method, **FLAT)
    assert res.tau2 == 0.0 == ref["tau2"]
    np.testing.assert_allclose([res.se_tau2, res.estimate], [ref["se_tau2"], ref["beta"]], **CLOSED)


def test_flat_genq_is_truncated_at_zero():
    ref = REF["flat_GENQ_unit"]["values"]
    est = estimate_tau2(InterceptDesign(FLAT["yi"], FLAT["vi"]), "GENQ", weights=np.ones(5))
    assert est.tau2[0] == 0.0 == ref["tau2"]
    np.testing.assert_allclose(est.se_tau2[0], ref["se_tau2"], **CLOSED)


def test_new_codes_are_registered_and_case_insensitive():
    assert {"GENQ", "HSk", "PMM"} <= set(ESTIMATORS)
    design = InterceptDesign(ES.yi, ES.vi)
    assert estimate_tau2(design, "hsk").tau2[0] == estimate_tau2(design, "HSk").tau2[0]
    # Batched like the others: two identical fits give identical numbers.
    both = InterceptDesign(np.vstack([ES.yi, ES.yi]), np.vstack([ES.vi, ES.vi]))
    assert np.ptp(estimate_tau2(both, "PMM").tau2) == 0.0


def test_pmm_is_below_pm_when_q_median_below_df():
    # chi2 median < df, so the PMM root lies above the PM root (Q decreases in tau^2).
    pm = quiet(meta_analysis, ES, method="PM").tau2
    pmm = quiet(meta_analysis, ES, method="PMM").tau2
    assert pmm > pm


# ----------------------------------------------------------------- 2. profile-likelihood CI
PL_CASES = {
    "pl_bcg_REML": ("REML", (), 0.95, None),
    "pl_bcg_ML": ("ML", (), 0.95, None),
    "pl_bcg_REML_90": ("REML", (), 0.90, None),
    "pl_bcg_ablat_REML": ("REML", ("ablat",), 0.95, None),
    "pl_bcg_ablat_ML": ("ML", ("ablat",), 0.95, None),
    "pl_flat_REML": ("REML", (), 0.95, FLAT),
    "pl_wide_REML": ("REML", (), 0.95, WIDE),
    "pl_wide_ML": ("ML", (), 0.95, WIDE),
}


def _pl_model(method, mods, data):
    kwargs = {"method": method, "control": TIGHT}
    if data is not None:
        return quiet(meta_analysis, **data, **kwargs)
    if mods:
        return quiet(meta_regression, ES, mods=_mods(mods), **kwargs)
    return quiet(meta_analysis, ES, **kwargs)


@pytest.mark.parametrize("tag", sorted(PL_CASES))
def test_profile_ci_matches_metafor(tag):
    method, mods, level, data = PL_CASES[tag]
    ref, signs = REF[tag]["values"], REF[tag]["signs"]
    res = _pl_model(method, mods, data)
    ci = quiet(profile_tau2_ci, res, level)
    assert ci.ci_type == "PL" and not ci.ci_null
    np.testing.assert_allclose(ci.tau2, ref["tau2"], **ITERATIVE)
    np.testing.assert_allclose(
        [ci.tau2_lower, ci.tau2_upper, ci.i2_lower, ci.i2_upper],
        [ref["lower"], ref["upper"], ref["i2_lower"], ref["i2_upper"]],
        **ITERATIVE,
    )
    assert (ci.lb_sign, ci.ub_sign) == signs
    assert ci.converged


def test_profile_ci_lower_bound_on_the_boundary():
    # ML with ablat: tau^2 > 0 but tau^2 = 0 is inside the interval, so the lower bound is 0.
    res = _pl_model("ML", ("ablat",), None)
    assert res.tau2 > 0
    ci = profile_tau2_ci(res)
    assert ci.tau2_lower == 0.0 and ci.i2_lower == 0.0 and ci.lb_sign == ""
    assert ci.warnings == ()


def test_profile_ci_upper_bound_beyond_search_limit_is_explained():
    res = _pl_model("REML", (), WIDE)
    with pytest.warns(BoundaryWarning, match="search limit 990"):
        ci = profile_tau2_ci(res)
    assert ci.tau2_upper == ci.tau2_max == pytest.approx(10 * res.tau2)
    assert np.isfinite(ci.tau2_upper) and ci.ub_sign == ">"
    assert "true bound is higher" in ci.warnings[0]
    # A wider search finds the root, above the old limit.
    wider = profile_tau2_ci(res, tau2_max=1e6)
    assert wider.ub_sign == "" and wider.tau2_upper > ci.tau2_upper


def test_profile_ci_bounds_are_where_the_lrt_reaches_the_critical_value():
    from scipy import stats

    from igmeta.estimators import log_likelihoods

    res = _pl_model("REML", (), None)
    ci = profile_tau2_ci(res)
    bounds = np.array([ci.tau2_lower, ci.tau2_upper])
    ll = log_likelihoods(InterceptDesign(np.vstack([ES.yi] * 2), np.vstack([ES.vi] * 2)), bounds)
    np.testing.assert_allclose(-2 * (ll[1] - res.loglik_reml), stats.chi2.ppf(0.95, 1), rtol=1e-9)


def test_profile_ci_search_limit_below_estimate_is_refused():
    res = _pl_model("REML", (), None)
    with pytest.raises(ValueError, match="below the estimate"):
        profile_tau2_ci(res, tau2_max=0.1)
    # Level as a percentage gives the same interval as the fraction.
    a, b = profile_tau2_ci(res, 90), profile_tau2_ci(res, 0.9)
    assert (a.tau2_lower, a.tau2_upper) == (b.tau2_lower, b.tau2_upper)


def test_profile_ci_refuses_other_estimators():
    res = quiet(meta_analysis, ES, method="DL")
    with pytest.raises(ValueError, match="ML.*REML.*Q-profile"):
        profile_tau2_ci(res)
    with pytest.raises(ValueError, match="ML.*REML"):
        profile_tau2_ci(quiet(meta_analysis, ES, method="FE"))
    with pytest.raises(ValueError, match="more studies than coefficients"):
        profile_tau2_ci(quiet(meta_analysis, yi=[0.1], vi=[0.1], method="REML"))


def test_q_profile_ci_still_labelled_qp():
    assert quiet(heterogeneity_ci, quiet(meta_analysis, ES)).ci_type == "QP"


# ----------------------------------------------------------------- 3. fit statistics, LRT
def _models():
    return {
        "bcg_reml": quiet(meta_analysis, ES, method="REML", control=TIGHT),
        "bcg_ml": quiet(meta_analysis, ES, method="ML", control=TIGHT),
        "bcg_ablat_reml": quiet(
            meta_regression, ES, mods=_mods(("ablat",)), method="REML", control=TIGHT
        ),
        "bcg_ablat_ml": quiet(
            meta_regression, ES, mods=_mods(("ablat",)), method="ML", control=TIGHT
        ),
        "bcg_fe": quiet(meta_analysis, ES, method="FE"),
        "bcg_ablat_fe": quiet(meta_regression, ES, mods=_mods(("ablat",)), method="FE"),
        "bcg_ablat_year_ml": quiet(
            meta_regression, ES, mods=_mods(("ablat", "year")), method="ML", control=TIGHT
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
    year_only = quiet(meta_regression, ES, mods=_mods(("year",)), method="ML")
    lat_sq = quiet(meta_regression, ES, mods={"ablat": ABLAT, "ablat2": ABLAT**2}, method="ML")
    with pytest.raises(ValueError, match="not nested"):
        likelihood_ratio_test(lat_sq, year_only)
    with pytest.raises(ValueError, match="same number of parameters"):
        likelihood_ratio_test(MODELS["bcg_ablat_ml"], year_only)
    fe_two_mods = quiet(meta_regression, ES, mods=_mods(("ablat", "year")), method="FE")
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
