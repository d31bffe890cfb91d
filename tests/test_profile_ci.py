"""The profile-likelihood CI for tau^2 (igmeta.profile_ci) against metafor 3.8-1
(``confint(..., type="PL")``).

Reference values: tests/data/tau2_more_metafor.R (the R call of each case) and its output
tests/data/tau2_more_metafor.txt, read by tests/tau2_reference.py; R is not needed here.
"""

from __future__ import annotations

import numpy as np
import pytest
from tau2_reference import (
    ES,
    FLAT,
    ITERATIVE,
    REF,
    TIGHT,
    WIDE,
    moderators,
    quiet,
)

from igmeta.design import InterceptDesign
from igmeta.heterogeneity import heterogeneity_ci
from igmeta.pooling import meta_analysis, meta_regression
from igmeta.profile_ci import profile_tau2_ci
from igmeta.warnings import BoundaryWarning

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
        return quiet(meta_regression, ES, mods=moderators(mods), **kwargs)
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
