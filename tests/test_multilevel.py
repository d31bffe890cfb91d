"""Three-level and known-V models (``igmeta.multilevel``) against metafor 3.8-1 ``rma.mv``.

tests/data/rma_mv_metafor.R fits each case in R and writes tests/data/rma_mv_metafor.json
(data, the R call, and metafor's numbers), so R is not needed here. Tolerances: rtol 1e-6
(iterative fits), atol 1e-9; I^2 (a percentage) with atol 1e-6, because metafor's
boundary estimate of a variance is about 2e-12 instead of 0.
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from igmeta.multilevel import predict_mv, rma_mv, sigma2_profile_ci
from igmeta.warnings import BoundaryWarning, SmallSampleWarning

DATA = Path(__file__).parent / "data" / "rma_mv_metafor.json"
CASES = json.loads(DATA.read_text())["cases"]
RTOL, ATOL = 1e-6, 1e-9


def _fit_case(case):
    given = case["input"]
    X = np.array(given["X"], dtype=float)
    names = given["coef_names"]
    names = [names] if isinstance(names, str) else names  # jsonlite unboxes length 1
    intercept = names[0] == "intrcpt"
    mods = X[:, 1:] if intercept else X
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rma_mv(
            given["yi"],
            np.array(given["V"], dtype=float),
            given["cluster"],
            given.get("study"),
            method=case["method"],
            mods=mods if mods.shape[1] else None,
            test=case["test"],
            intercept=intercept,
            coef_names=names,
        )


@cache
def _fitted(name):
    case = next(c for c in CASES if c["name"] == name)
    res = _fit_case(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return case, res, sigma2_profile_ci(res), predict_mv(res)


NAMES = [c["name"] for c in CASES]


def _close(actual, expected, atol=ATOL):
    np.testing.assert_allclose(
        np.atleast_1d(np.asarray(actual, float)),
        np.atleast_1d(np.asarray(expected, float)),
        rtol=RTOL,
        atol=atol,
    )


def test_reference_file_covers_the_required_cases():
    methods = {c["method"] for c in CASES}
    assert methods == {"REML", "ML"}
    assert any(c["input"]["study"] is None for c in CASES)  # a known V
    assert any(0 in c["expected"]["sigma2_ci_lb"] or c["expected"]["sigma2"] == 0 for c in CASES)
    boundary = next(c for c in CASES if c["name"] == "konstantopoulos_boundary")
    assert min(boundary["expected"]["sigma2"]) < 1e-9
    assert all("rma.mv(" in c["call"] for c in CASES)


@pytest.mark.parametrize("name", NAMES)
def test_coefficients_and_tests(name):
    case, res, _, _ = _fitted(name)
    exp = case["expected"]
    assert res.k == exp["k"] and res.p == exp["p"]
    for field, ours in [
        ("beta", res.beta),
        ("se", res.se),
        ("zval", res.zval),
        ("pval", res.pval),
        ("ci_lb", res.ci_lb),
        ("ci_ub", res.ci_ub),
        ("QM", res.QM),
        ("QMp", res.QMp),
        ("QE", res.QE),
        ("QEp", res.QEp),
    ]:
        _close(ours, exp[field])
    if case["test"] == "t":
        assert res.ddf == exp["ddf"]
    else:
        assert exp["ddf"] is None and np.isnan(res.ddf)


@pytest.mark.parametrize("name", NAMES)
def test_variance_components_fit_statistics_and_i2(name):
    case, res, _, _ = _fitted(name)
    exp = case["expected"]
    _close(res.sigma2, exp["sigma2"])
    for field, ours in [
        ("logLik", res.ll),
        ("deviance", res.deviance),
        ("AIC", res.aic),
        ("BIC", res.bic),
        ("AICc", res.aicc),
    ]:
        _close(ours, exp[field])
    _close(res.I2, exp["I2"], atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_profile_likelihood_intervals_of_sigma2(name):
    case, res, ci, _ = _fitted(name)
    exp = case["expected"]
    _close(ci["ci_lb"], exp["sigma2_ci_lb"])
    _close(ci["ci_ub"], exp["sigma2_ci_ub"])
    assert not ci["ub_at_limit"].any()
    assert np.all(ci["ci_lb"] <= res.sigma2) and np.all(res.sigma2 <= ci["ci_ub"])


@pytest.mark.parametrize("name", NAMES)
def test_predict_first_row(name):
    case, _, _, pred = _fitted(name)
    exp = case["expected"]
    for field in ("pred", "se", "ci_lb", "ci_ub", "pi_lb", "pi_ub"):
        key = "pred" if field == "pred" else f"pred_{field}"
        _close(pred[field][0], exp[key])


def test_boundary_component_is_exactly_zero_with_a_warning():
    case = next(c for c in CASES if c["name"] == "konstantopoulos_boundary")
    given = case["input"]
    with pytest.warns(BoundaryWarning, match="cluster level is estimated as 0"):
        res = rma_mv(given["yi"], np.array(given["V"]), given["cluster"], given["study"])
    assert res.sigma2[0] == 0.0 and res.sigma2[1] > 0
    assert res.converged
    assert any("boundary" in w for w in res.warnings)


def _small():
    yi = [0.1, 0.3, -0.2, 0.5, 0.0, 0.4, 0.2, -0.1]
    vi = [0.04, 0.05, 0.03, 0.06, 0.05, 0.04, 0.05, 0.03]
    clusters = ["a", "a", "b", "b", "c", "c", "d", "d"]
    return yi, vi, clusters, list(range(8))


def test_too_few_estimates_is_a_clear_error():
    yi, vi, cl, st = _small()
    with pytest.raises(ValueError, match="Too few estimates"):
        rma_mv(yi[:3], vi[:3], cl[:3], st[:3])


def test_every_cluster_with_one_study_is_a_clear_error():
    yi, vi, _, st = _small()
    with pytest.raises(ValueError, match="single study"), warnings.catch_warnings():
        warnings.simplefilter("error")  # the error comes first, without a warning
        rma_mv(yi, vi, st, st)


def test_a_cluster_with_one_study_warns():
    yi, vi, cl, st = _small()
    cl = [*cl[:-1], "e"]
    with pytest.warns(SmallSampleWarning, match="single study"):
        res = rma_mv(yi, vi, cl, st)
    assert np.all(np.isfinite(res.sigma2)) and np.isfinite(res.beta[0])


def test_singular_v_is_a_clear_error():
    yi, vi, cl, _ = _small()
    V = np.diag(vi)
    V[0, 1] = V[1, 0] = np.sqrt(vi[0] * vi[1])  # correlation 1
    with pytest.raises(ValueError, match="singular"):
        rma_mv(yi, V, cl)


def test_missing_values_name_the_row():
    yi, vi, cl, st = _small()
    yi[4] = float("nan")
    with pytest.raises(ValueError, match="row\\(s\\) 5"):
        rma_mv(yi, vi, cl, st)
    yi, vi, cl, st = _small()
    cl[2] = ""
    with pytest.raises(ValueError, match="cluster column is empty in row\\(s\\) 3"):
        rma_mv(yi, vi, cl, st)


def test_bad_settings_are_refused():
    yi, vi, cl, st = _small()
    with pytest.raises(ValueError, match="method"):
        rma_mv(yi, vi, cl, st, method="DL")
    with pytest.raises(ValueError, match="test"):
        rma_mv(yi, vi, cl, st, test="knha")


def test_three_level_with_zero_cluster_variance_matches_two_level_reml():
    """With clusters that carry no variance, the model is rma.uni's REML on the studies."""
    from igmeta.pooling import meta_analysis

    case = next(c for c in CASES if c["name"] == "konstantopoulos_boundary")
    given = case["input"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = rma_mv(given["yi"], np.array(given["V"]), given["cluster"], given["study"])
        uni = meta_analysis(yi=given["yi"], vi=np.diag(given["V"]), method="REML")
    _close(res.sigma2[1], uni.tau2)
    _close(res.beta[0], uni.estimate)
    _close(res.ll, uni.loglik_reml)


@pytest.mark.parametrize("header", ["cluster", "Cluster", "Cluster ID", "cluster_id"])
def test_cluster_column_is_recognised_on_upload(header):
    from igmeta.app.intake.schema import CLUSTER_COLUMN, COLUMN_DESCRIPTIONS, guess_mapping

    mapping = guess_mapping(["Study", "yi", "vi", header], "generic")
    assert mapping[header] == CLUSTER_COLUMN
    assert "three-level" in COLUMN_DESCRIPTIONS[CLUSTER_COLUMN]


@pytest.mark.parametrize("factor", [1e-3, 1e3])
def test_changing_the_units_of_yi_scales_the_variances(factor):
    """Convergence and root tolerances are relative: yi in other units gives sigma2 and its
    profile bounds times factor^2, to 1e-10."""
    case, res, ci, _ = _fitted("konstantopoulos_REML")
    given = case["input"]
    scaled = rma_mv(
        np.array(given["yi"]) * factor,
        np.array(given["V"]) * factor**2,
        given["cluster"],
        given["study"],
    )
    assert scaled.converged
    scaled_ci = sigma2_profile_ci(scaled)
    np.testing.assert_allclose(scaled.sigma2, res.sigma2 * factor**2, rtol=1e-10)
    np.testing.assert_allclose(scaled_ci["ci_lb"], ci["ci_lb"] * factor**2, rtol=1e-10)
    np.testing.assert_allclose(scaled_ci["ci_ub"], ci["ci_ub"] * factor**2, rtol=1e-10)
