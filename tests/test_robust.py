"""Cluster-robust tests (igmeta.robust, CR1 with metafor's n/(n-p) factor) against
metafor 3.8-1 ``robust(..., adjust = TRUE)`` for rma.mv and rma.uni fits
(tests/data/rma_mv_metafor.R writes the reference values)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from test_multilevel import CASES, DATA, _fit_case

from igmeta.pooling import meta_analysis, meta_regression
from igmeta.robust import robust

RTOL, ATOL = 1e-6, 1e-9
#: metafor fits the boundary case with nlminb's default control (a tighter one fails while
#: chasing log(0)); its log-likelihood is 8e-10 below ours, its coefficient differs by
#: 6e-8 relative, and the upper CI limit, close to 0 (0.0027), by 8e-9 absolute.
LOOSE = {"konstantopoulos_boundary": 1e-5}


def _close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(
        np.atleast_1d(np.asarray(actual, float)),
        np.atleast_1d(np.asarray(expected, float)),
        rtol=rtol,
        atol=ATOL,
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_robust_rma_mv_matches_metafor(case):
    exp = case["expected"]["robust_cr1"]
    rob = robust(_fit_case(case), case["input"]["cluster"])
    for field, ours in [
        ("se", rob.se),
        ("zval", rob.tval),
        ("pval", rob.pval),
        ("ci_lb", rob.ci_lb),
        ("ci_ub", rob.ci_ub),
        ("QM", rob.QM),
        ("QMp", rob.QMp),
    ]:
        _close(ours, exp[field], LOOSE.get(case["name"], RTOL))
    assert np.all(rob.ddf == exp["ddf"]) and rob.n_clusters == exp["n_clusters"]


def test_robust_rma_uni_matches_metafor():
    ref = json.loads(DATA.read_text())["robust_rma_uni"]
    given, exp = ref["input"], ref["expected"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = meta_analysis(yi=given["yi"], vi=given["vi"], method="REML")
    _close(res.tau2, exp["tau2"])
    rob = robust(res, given["cluster"])
    for field, ours in [
        ("beta", rob.beta),
        ("se", rob.se),
        ("zval", rob.tval),
        ("pval", rob.pval),
        ("ci_lb", rob.ci_lb),
        ("ci_ub", rob.ci_ub),
    ]:
        _close(ours, exp[field])
    assert np.all(rob.ddf == exp["ddf"]) and rob.n_clusters == exp["n_clusters"]


def test_without_the_small_sample_factor_the_variance_is_smaller_by_it():
    case = CASES[0]
    res = _fit_case(case)
    adjusted = robust(res, case["input"]["cluster"])
    raw = robust(res, case["input"]["cluster"], adjust=False)
    n, p = adjusted.n_clusters, res.p
    _close(adjusted.vb, raw.vb * n / (n - p))


def test_bad_cluster_vectors_are_clear_errors():
    case = CASES[0]
    res = _fit_case(case)
    cluster = list(case["input"]["cluster"])
    with pytest.raises(ValueError, match="56 estimates"):
        robust(res, cluster[:-1])
    with pytest.raises(ValueError, match="row\\(s\\) 4"):
        robust(res, [*cluster[:3], "", *cluster[4:]])
    with pytest.raises(ValueError, match="more clusters than coefficients"):
        robust(res, ["a"] * len(cluster))
    with pytest.raises(TypeError):
        robust(object(), cluster)


# ------------------------------------------------- CR2 (metafor clubSandwich = TRUE)
CR2_DATA = DATA.parent / "robust_cr2_metafor.json"
CR2_CASES = json.loads(CR2_DATA.read_text())["cases"]


def _fit_cr2_case(case):
    """The case's model refitted by igmeta (rma.uni: meta_analysis / meta_regression)."""
    given = case["input"]
    if case["model"] == "rma.mv":
        return _fit_case(case)
    X = np.array(given["X"], dtype=float).reshape(len(given["yi"]), -1)
    control = {"threshold": 1e-12, "maxiter": 1000}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if X.shape[1] == 1:
            return meta_analysis(
                yi=given["yi"], vi=given["vi"], method=case["method"], control=control
            )
        return meta_regression(
            yi=given["yi"], vi=given["vi"], mods=X[:, 1:], method=case["method"], control=control
        )


@pytest.mark.parametrize("case", CR2_CASES, ids=[c["name"] for c in CR2_CASES])
def test_cr2_matches_metafor_clubsandwich(case):
    exp = case["expected"]
    res = _fit_cr2_case(case)
    rob = robust(res, case["input"]["cluster"], clubsandwich=True)
    assert rob.vcov_type == "CR2" and rob.n_clusters == exp["n_clusters"]
    for field, ours in [
        ("beta", rob.beta),
        ("se", rob.se),
        ("tval", rob.tval),
        ("pval", rob.pval),
        ("ci_lb", rob.ci_lb),
        ("ci_ub", rob.ci_ub),
        ("ddf", rob.ddf),
        ("vb", rob.vb.ravel()),
        ("QM", rob.QM),
        ("QMdf", rob.QMdf),
        ("QMp", rob.QMp),
    ]:
        _close(ours, np.ravel(exp[field]))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_cr2_of_the_rma_mv_cases_matches_metafor(case):
    """The CR2 entries stored beside the CR1 ones in rma_mv_metafor.json."""
    exp = case["expected"]["robust_cr2"]
    rob = robust(_fit_case(case), case["input"]["cluster"], clubsandwich=True)
    for field, ours in [
        ("se", rob.se),
        ("zval", rob.tval),
        ("pval", rob.pval),
        ("ci_lb", rob.ci_lb),
        ("ci_ub", rob.ci_ub),
        ("ddf", rob.ddf),
    ]:
        _close(ours, exp[field], LOOSE.get(case["name"], RTOL))


def test_cr2_of_independent_estimates_with_no_leverage_is_the_model_variance():
    """One estimate per cluster and a common-effect model with equal variances: CR2
    is unbiased for the model variance, so its expectation ``sum_j P_jj`` is vb_model."""
    from igmeta.robust_cr2 import cr2_fit

    y = np.array([0.1, 0.4, -0.2, 0.3, 0.0, 0.25])
    X = np.ones((6, 1))
    M = np.diag(np.full(6, 0.04))
    beta = np.array([y.mean()])
    fit = cr2_fit(y, X, M, beta, np.arange(6))
    np.testing.assert_allclose(np.einsum("jjab->ab", fit.P), [[0.04 / 6]], rtol=1e-12)
    # The adjustment is (1 - h)^(-1/2) per residual: vb = sum e^2 / (1 - 1/6) / 36.
    np.testing.assert_allclose(fit.vb, [[np.sum((y - y.mean()) ** 2) / (5 / 6) / 36]])
