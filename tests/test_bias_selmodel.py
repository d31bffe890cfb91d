"""Selection models (igmeta.bias step_selection_model, beta_selection_model) against metafor 3.8-1.

metafor's ``selmodel`` maximises the likelihood with ``optim`` (BFGS, relative tolerance
1e-8) and takes the Hessian from numDeriv, so estimates are compared at rtol 1e-5 (the
iterative tolerance). The R calls are in tests/data/bias_more_metafor.R.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import integrate, stats

import igmeta as im
from igmeta.bias import SelectionModelResult, beta_selection_model, selmodel, step_selection_model
from tests.test_bias_petpeese import read_reference

REF = read_reference()
RTOL = 1e-5
ATOL = 1e-9
HACKSHAW = REF["hackshaw"]


def _fit(case: str, method: str) -> im.MetaResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return im.meta_analysis(yi=REF[case]["yi"], vi=REF[case]["vi"], method=method)


def _compare(sel: SelectionModelResult, ref: np.ndarray) -> None:
    fixed, rest = ref[:13], ref[13:]
    n = len(rest) // 2
    beta, se, zval, pval, lb, ub, tau2, se_tau2, lrt, lrt_df, lrt_p, ll, ll0 = fixed
    close = {"rtol": RTOL, "atol": ATOL}
    np.testing.assert_allclose(
        [sel.estimate, sel.se, sel.zval, sel.ci_lower, sel.ci_upper],
        [beta, se, zval, lb, ub],
        **close,
    )
    # A p-value in the tail magnifies the z difference: compared as a probability.
    np.testing.assert_allclose(sel.pval, pval, rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose([sel.tau2, sel.se_tau2], [tau2, se_tau2], **close)
    np.testing.assert_allclose(sel.delta, rest[:n], **close)
    np.testing.assert_allclose(sel.se_delta, rest[n:], **close)
    np.testing.assert_allclose([sel.ll, sel.ll0], [ll, ll0], rtol=1e-8)
    # The LRT is a small difference of two log-likelihoods: compared on that scale.
    np.testing.assert_allclose(sel.lrt, lrt, rtol=RTOL, atol=1e-8)
    np.testing.assert_allclose(sel.lrt_pval, lrt_p, rtol=RTOL, atol=1e-8)
    assert sel.lrt_df == lrt_df


@pytest.mark.parametrize("method", ["ML", "REML", "DL", "FE"])
def test_two_intervals_match_metafor(method):
    sel = step_selection_model(_fit("hackshaw", method))
    _compare(sel, HACKSHAW[f"SEL_{method}"])
    assert sel.k == 37
    assert sel.k_per_interval == (7, 30)
    assert sel.common_effect is (method == "FE")


def test_three_intervals_match_metafor():
    sel = step_selection_model(_fit("hackshaw", "ML"), steps=(0.025, 0.5, 1))
    _compare(sel, HACKSHAW["SEL_ML_3"])
    assert len(sel.delta) == 3 and sel.delta[0] == 1.0


def test_alternative_less_matches_metafor():
    # Protective BCG vaccine (log risk ratios < 0): significant studies are the negative ones.
    sel = step_selection_model(_fit("bcg", "REML"), alternative="less")
    _compare(sel, REF["bcg"]["SEL_REML_less"])
    assert sel.alternative == "less"
    assert sel.ll >= REF["bcg"]["SEL_REML_less"][11] - 1e-10  # metafor's maximum or higher
    with pytest.raises(ValueError, match="alternative"):
        step_selection_model(_fit("bcg", "REML"), alternative="two.sided")


def test_level_changes_only_the_intervals():
    a = step_selection_model(_fit("hackshaw", "ML"))
    b = step_selection_model(_fit("hackshaw", "ML"), level=0.90)
    assert b.estimate == a.estimate
    assert b.ci_upper - b.ci_lower < a.ci_upper - a.ci_lower


def test_empty_interval_is_refused_like_metafor():
    assert "do not contain any observed p-values" in REF["small_peese"]["SEL_ML_ERROR"]
    with pytest.raises(ValueError, match=r"No study has a one-sided p-value in the interval"):
        step_selection_model(_fit("small_peese", "ML"))


def test_empty_reference_interval_is_refused():
    # metafor fits it, but its weight of the other interval runs off (98.3, SE 895): the
    # likelihood has no maximum. Refused here with the reason.
    assert REF["bcg"]["SEL_ML"][13 + 1] > 50
    with pytest.raises(ValueError, match=r"0 < p <= 0.025"):
        step_selection_model(_fit("bcg", "ML"))


def test_too_few_studies_like_metafor():
    assert "too small" in REF["tiny"]["SEL_ML_ERROR"]
    res = im.meta_analysis(yi=REF["small_peese"]["yi"][[0, 3]], vi=REF["small_peese"]["vi"][[0, 3]])
    with pytest.raises(ValueError, match="needs at least as many studies"):
        step_selection_model(res)


def test_bad_steps():
    res = _fit("hackshaw", "ML")
    for steps in ((0.025,), (0.5, 0.025, 1), (0.025, 0.5)):
        with pytest.raises(ValueError, match="steps"):
            step_selection_model(res, steps=steps)


def test_no_selection_gives_the_ml_model():
    # ll0 is the maximum-likelihood random-effects model.
    res = _fit("hackshaw", "ML")
    sel = step_selection_model(res)
    assert sel.ll0 == pytest.approx(res.loglik_ml, rel=1e-9)
    assert sel.ll >= sel.ll0


def test_tau2_on_the_boundary():
    # metafor's optimiser (on log tau^2) stops at tau^2 = 1.1e-6 instead of 0, so the
    # estimates agree to about 2e-5 only; se(tau^2) is not defined at the boundary.
    ref = REF["boundary"]["SEL_REML"]
    sel = step_selection_model(_fit("boundary", "REML"))
    assert sel.tau2 == 0 and np.isnan(sel.se_tau2)
    assert ref[6] < 1e-5
    np.testing.assert_allclose([sel.estimate, sel.se], ref[0:2], rtol=1e-4)
    np.testing.assert_allclose([sel.delta[1], sel.se_delta[1]], [ref[14], ref[16]], rtol=1e-4)
    # metafor stops short of the maximum (tau^2 = 1.1e-6): our log-likelihood is higher,
    # by 9e-5, which moves the LRT p-value by 2e-4.
    assert ref[11] < sel.ll < ref[11] + 1e-3
    np.testing.assert_allclose(sel.ll0, ref[12], rtol=1e-8)
    np.testing.assert_allclose(sel.lrt_pval, ref[10], atol=5e-4)
    assert any("estimated as 0" in w for w in sel.warnings)


# Beta selection model. metafor integrates each study's normalising constant with
# integrate(rel.tol = .Machine$double.eps^0.25), so its log-likelihood is off by ~1e-5 per
# study (2.5e-4 in total on dat.hackshaw1998) and its optimum and numerical Hessian move
# with that tolerance (its SE of mu is 0.482 at the default, 0.459 at rel.tol = 1e-6).
# igmeta integrates to machine precision; its likelihood is checked against metafor's own
# likelihood function at rel.tol = 1e-10 (rtol 1e-8), and its fit against metafor's default
# fit at the tolerances that integration error allows.
BETA_RTOL = {"estimate": 1e-3, "se": 1e-2}


def _compare_beta(sel: SelectionModelResult, ref: np.ndarray) -> None:
    beta, se, _, pval, _, _, tau2, se_tau2, lrt, lrt_df, lrt_p, ll, ll0 = ref[:13]
    delta, se_delta = ref[13:15], ref[15:17]
    est, sd = BETA_RTOL["estimate"], BETA_RTOL["se"]
    np.testing.assert_allclose(sel.estimate, beta, rtol=est)
    np.testing.assert_allclose(sel.delta, delta, rtol=est)
    np.testing.assert_allclose(sel.tau2, tau2, rtol=est, atol=1e-5)
    np.testing.assert_allclose(sel.se, se, rtol=sd)
    np.testing.assert_allclose(sel.se_delta, se_delta, rtol=sd)
    if np.isfinite(se_tau2) and sel.tau2 > 0:
        np.testing.assert_allclose(sel.se_tau2, se_tau2, rtol=sd)
    np.testing.assert_allclose(sel.pval, pval, atol=2e-3)
    # ll0 needs no integral (no selection): as tight as the ML random-effects model.
    np.testing.assert_allclose(sel.ll0, ll0, rtol=1e-8)
    np.testing.assert_allclose(sel.ll, ll, atol=5e-4)
    np.testing.assert_allclose([sel.lrt, sel.lrt_pval], [lrt, lrt_p], rtol=1e-3)
    assert sel.lrt_df == lrt_df == 2
    assert sel.model_type == "beta" and sel.steps == () and sel.k_per_interval == ()
    z = stats.norm.isf((1 - sel.level) / 2)
    np.testing.assert_allclose([sel.ci_lower, sel.ci_upper], sel.estimate + np.r_[-z, z] * sel.se)


@pytest.mark.parametrize(
    ("case", "method", "key", "alternative"),
    [
        ("hackshaw", "ML", "SELB_ML", "greater"),
        ("hackshaw", "REML", "SELB_REML", "greater"),
        ("hackshaw", "FE", "SELB_FE", "greater"),
        ("bcg", "REML", "SELB_REML_less", "less"),
    ],
)
def test_beta_model_matches_metafor(case, method, key, alternative):
    sel = beta_selection_model(_fit(case, method), alternative=alternative)
    _compare_beta(sel, REF[case][key])
    assert sel.common_effect is (method == "FE")
    assert not sel.warnings


def test_beta_model_tau2_on_the_boundary_baskerville():
    # metafor stops at tau^2 = 2.5e-6 (optimising log tau^2); here tau^2 = 0 exactly and
    # its SE is not defined there (the warning says so).
    ref = REF["baskerville"]["SELB_REML"]
    sel = beta_selection_model(_fit("baskerville", "REML"))
    assert ref[6] < 1e-5 and sel.tau2 == 0 and np.isnan(sel.se_tau2)
    _compare_beta(sel, ref)
    assert any("estimated as 0" in w for w in sel.warnings)


@pytest.mark.parametrize(("case", "method"), [("hackshaw", "ML"), ("baskerville", "REML")])
def test_beta_likelihood_matches_metafor_accurately_integrated(case, method):
    mu, tau2, d1, d2, ll = REF[case][f"SELB_{method}_LL"]
    yi, vi = REF[case]["yi"], REF[case]["vi"]
    p = np.clip(stats.norm.sf(yi / np.sqrt(vi)), 1e-5, 1 - 1e-5)
    args = (yi, vi, np.log(p), np.log1p(-p))
    ours = selmodel._beta_loglik(mu, tau2, (d1, d2), *args, selmodel._beta_nodes())
    np.testing.assert_allclose(ours, ll, rtol=1e-8)
    # The quadrature has converged: four times the nodes changes nothing.
    fine = selmodel._beta_loglik(mu, tau2, (d1, d2), *args, selmodel._beta_nodes(384))
    np.testing.assert_allclose(ours, fine, rtol=1e-12)
    # The maximum found is at least as high as metafor's estimates on the same likelihood.
    assert beta_selection_model(_fit(case, method)).ll >= ll - 1e-9


def test_beta_likelihood_with_extreme_weights_matches_adaptive_quadrature():
    # Steep weights (delta near its bounds) against scipy's adaptive quadrature of the
    # integrand exactly as metafor writes it (clamped p-values over the whole line).
    yi, vi = REF["hackshaw"]["yi"][:5], REF["hackshaw"]["vi"][:5]
    p = np.clip(stats.norm.sf(yi / np.sqrt(vi)), 1e-5, 1 - 1e-5)
    for mu, tau2, d1, d2 in [(0.2, 0.05, 0.05, 1.0), (0.1, 0.0, 1.0, 60.0), (-0.3, 0.4, 20, 0.3)]:
        ours = selmodel._beta_loglik(
            mu, tau2, (d1, d2), yi, vi, np.log(p), np.log1p(-p), selmodel._beta_nodes()
        )
        a_i = []
        for v in vi:

            def integrand(y, v=v, mu=mu, tau2=tau2, d1=d1, d2=d2):
                q = np.clip(stats.norm.sf(y / np.sqrt(v)), 1e-5, 1 - 1e-5)
                return (
                    q ** (d1 - 1) * (1 - q) ** (d2 - 1) * stats.norm.pdf(y, mu, np.sqrt(v + tau2))
                )

            edge = 5 * np.sqrt(v)
            a_i.append(
                sum(
                    integrate.quad(integrand, lo, hi, epsabs=0, epsrel=1e-13, limit=200)[0]
                    for lo, hi in [(-np.inf, -edge), (-edge, edge), (edge, np.inf)]
                )
            )
        direct = np.sum(
            (d1 - 1) * np.log(p)
            + (d2 - 1) * np.log1p(-p)
            + stats.norm.logpdf(yi, mu, np.sqrt(vi + tau2))
            - np.log(a_i)
        )
        np.testing.assert_allclose(ours, direct, rtol=1e-9)


def test_beta_model_too_few_studies_like_metafor():
    assert "too small" in REF["tiny"]["SELB_ML_ERROR"]
    res = im.meta_analysis(yi=REF["small_peese"]["yi"][[0, 3]], vi=REF["small_peese"]["vi"][[0, 3]])
    with pytest.raises(ValueError, match="needs at least as many studies"):
        beta_selection_model(res)
    with pytest.raises(ValueError, match="alternative"):
        beta_selection_model(_fit("hackshaw", "ML"), alternative="two.sided")
