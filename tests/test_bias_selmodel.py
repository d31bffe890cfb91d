"""Step-function selection model (igmeta.bias.step_selection_model) against metafor 3.8-1.

metafor's ``selmodel`` maximises the likelihood with ``optim`` (BFGS, relative tolerance
1e-8) and takes the Hessian from numDeriv, so estimates are compared at rtol 1e-5 (the
iterative tolerance). The R calls are in tests/data/bias_more_metafor.R.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import igmeta as im
from igmeta.bias import SelectionModelResult, step_selection_model
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
