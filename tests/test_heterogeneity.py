"""Q-profile confidence intervals for tau^2, tau, I^2 and H^2 (igmeta.heterogeneity).

R reference values (R 4.2.2, metafor 3.8-1, metadat 1.2.0), produced by::

    library(metafor)
    ctl <- list(threshold = 1e-13, tol = 1e-15, maxiter = 10000)
    cictl <- list(tol = 1e-15, maxiter = 10000)
    dat <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i,
                  sd2i = sd2i, n2i = n2i, data = dat.normand1999)        # NORMAND_YI/VI
    confint(rma(yi, vi, data = dat, method = "DL"), level = 90, control = cictl)
                                                                      # CI_NORMAND_DL_90
    confint(rma(c(0.10, 0.12, 0.11, 0.09, 0.105), c(0.04, 0.05, 0.03, 0.06, 0.05),
                method = "REML", control = ctl), control = cictl)      # CI_NULL
    confint(rma(c(-20, 20), c(0.01, 0.01), method = "DL"), control = cictl)   # CI_MAX
    confint(rma(c(0.1, 0.3, -0.1, 0.25, 0.0, 0.4), c(0.02, 0.03, 0.025, 0.04, 0.02, 0.05),
                method = "REML", control = ctl), control = cictl)      # CI_LB0

Each entry holds metafor's (estimate, ci.lb, ci.ub) rows and the ci.null/lb.sign/ub.sign
flags, printed with sprintf("%.17g").
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import igmeta as im
from igmeta.heterogeneity import HeterogeneityCI, heterogeneity_ci

CTL = {"threshold": 1e-13, "tol": 1e-15, "maxiter": 10000}

# fmt: off
NORMAND_YI = [
    -0.3551696409401069, -0.3479400227390985, -2.3175691601637305, -1.8879822529368466,
    -0.3839641411697013, 0.17214866906959103, 0.2720520738529319, -0.42459627189426086,
    0.2895562300807551,
]

NORMAND_VI = [
    0.013064675541529683, 0.06446887609885668, 0.04581211028018281, 0.16061773593617348,
    0.20543327839222422, 0.03691057000036191, 0.060267125836432664, 0.014863038419332694,
    0.03627173415805455,
]

CI_NORMAND_DL_90 = {
    "tau2": [0.5397143748202149, 0.3765798901447256, 2.464508593039075],
    "tau": [0.7346525538104491, 0.6136610547726861, 1.5698753431527852],
    "I2": [93.53427065551068, 90.98579912765463, 98.50873390912186],
    "H2": [15.466159294964779, 11.093606789570165, 67.05711382541715],
    "ci.null": False,
    "lb.sign": "",
    "ub.sign": "",
}

CI_NULL = {
    "tau2": [0, 0, 0],
    "tau": [0, 0, 0],
    "I2": [0, 0, 0],
    "H2": [1, 1, 1],
    "ci.null": True,
    "lb.sign": "<",
    "ub.sign": "<",
}

CI_MAX = {
    "tau2": [799.9899999999999, 159.2292761643304, 7999.899999999999],
    "tau": [28.28409447021417, 12.618608329143527, 89.44216008125026],
    "I2": [99.99875, 99.99372014226586, 99.99987499859374],
    "H2": [80000, 15923.927616433042, 799991],
    "ci.null": False,
    "lb.sign": "",
    "ub.sign": ">",
    "tau2.min": 0,
}

CI_LB0 = {
    "QE": 5.74236641221374,
    "tau2": [0.0021486956308734333, 0, 0.1858793585612887],
    "tau": [0.04635402496950435, 0, 0.43113728505116405],
    "I2": [7.117695753912131, 0, 86.89250727478077],
    "H2": [1.0766313434155776, 1, 7.629224146552219],
    "ci.null": False,
    "lb.sign": "",
    "ub.sign": "",
}

# fmt: on


def _fit(yi, vi, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", im.MetaAnalysisWarning)
        return im.meta_analysis(yi=yi, vi=vi, **kwargs)


def _ci(res, **kwargs) -> HeterogeneityCI:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", im.MetaAnalysisWarning)
        return heterogeneity_ci(res, **kwargs)


def _check(ci: HeterogeneityCI, ref: dict, rtol: float = 1e-8) -> None:
    frame = ci.to_frame()
    for row, key in (("tau2", "tau2"), ("tau", "tau"), ("I2", "I2"), ("H2", "H2")):
        np.testing.assert_allclose(
            frame.loc[row].to_numpy(), ref[key], rtol=rtol, atol=1e-9, err_msg=row
        )
    assert ci.ci_null is ref["ci.null"]
    assert ci.lb_sign == ref["lb.sign"]
    assert ci.ub_sign == ref["ub.sign"]


def test_frame_layout():
    ci = _ci(_fit(NORMAND_YI, NORMAND_VI, method="DL"))
    frame = ci.to_frame()
    assert list(frame.index) == ["tau2", "tau", "I2", "H2"]
    assert list(frame.columns) == ["estimate", "ci_lower", "ci_upper"]
    assert frame.loc["tau", "ci_lower"] == pytest.approx(np.sqrt(frame.loc["tau2", "ci_lower"]))


def test_r_normand_dl_level_90():
    res = _fit(NORMAND_YI, NORMAND_VI, method="DL")
    _check(_ci(res, level=90), CI_NORMAND_DL_90)
    # level given as a fraction is the same
    _check(_ci(res, level=0.9), CI_NORMAND_DL_90)


def test_r_null_interval():
    res = _fit(
        [0.10, 0.12, 0.11, 0.09, 0.105], [0.04, 0.05, 0.03, 0.06, 0.05], method="REML", control=CTL
    )
    with pytest.warns(im.BoundaryWarning):
        ci = heterogeneity_ci(res)
    _check(ci, CI_NULL)
    assert ci.warnings


def test_r_upper_bound_beyond_search_limit():
    res = _fit([-20.0, 20.0], [0.01, 0.01], method="DL")
    ci = _ci(res)
    _check(ci, CI_MAX)
    assert ci.tau2_max == pytest.approx(10 * res.tau2)


def test_r_lower_bound_at_zero():
    res = _fit(
        [0.1, 0.3, -0.1, 0.25, 0.0, 0.4],
        [0.02, 0.03, 0.025, 0.04, 0.02, 0.05],
        method="REML",
        control=CTL,
    )
    assert res.q == pytest.approx(CI_LB0["QE"], rel=1e-12)
    ci = _ci(res)
    _check(ci, CI_LB0)
    assert ci.tau2_lower == 0.0 and not ci.ci_null


@pytest.mark.parametrize("method", ["DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS"])
def test_bounds_do_not_depend_on_the_estimator(method):
    ref = _ci(_fit(NORMAND_YI, NORMAND_VI, method="REML", control=CTL))
    ci = _ci(_fit(NORMAND_YI, NORMAND_VI, method=method, control=CTL))
    assert ci.tau2_lower == pytest.approx(ref.tau2_lower, rel=1e-12)
    assert ci.tau2_upper == pytest.approx(ref.tau2_upper, rel=1e-12)
    assert ci.method == method


def test_bounds_solve_the_q_equations():
    from scipy import stats

    yi, vi = np.asarray(NORMAND_YI), np.asarray(NORMAND_VI)
    ci = _ci(_fit(yi, vi, method="REML", control=CTL))

    def q(t):
        w = 1 / (vi + t)
        beta = (w * yi).sum() / w.sum()
        return (w * (yi - beta) ** 2).sum()

    df = yi.size - 1
    assert q(ci.tau2_lower) == pytest.approx(stats.chi2.ppf(0.975, df), rel=1e-12)
    assert q(ci.tau2_upper) == pytest.approx(stats.chi2.ppf(0.025, df), rel=1e-12)
    assert ci.i2_lower == pytest.approx(100 * ci.tau2_lower / (ci.vt + ci.tau2_lower))
    assert ci.h2_upper == pytest.approx(ci.tau2_upper / ci.vt + 1)


def test_two_studies():
    ci = _ci(_fit([0.1, 0.6], [0.02, 0.03], method="REML", control=CTL))
    assert ci.k == 2 and ci.tau2_lower <= ci.tau2 <= ci.tau2_upper
    assert np.isfinite(ci.to_frame().to_numpy()).all()


def test_meta_regression_q_profile():
    x = np.arange(9.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", im.MetaAnalysisWarning)
        reg = im.meta_regression(
            yi=NORMAND_YI, vi=NORMAND_VI, mods={"x": x}, method="REML", control=CTL
        )
    ci = _ci(reg)
    assert ci.p == 2 and ci.k == 9
    from scipy import stats

    yi, vi = np.asarray(NORMAND_YI), np.asarray(NORMAND_VI)
    X = np.column_stack([np.ones(9), x])

    def q(t):
        w = 1 / (vi + t)
        b = np.linalg.solve(X.T @ (w[:, None] * X), X.T @ (w * yi))
        return (w * (yi - X @ b) ** 2).sum()

    assert q(ci.tau2_upper) == pytest.approx(stats.chi2.ppf(0.025, 7), rel=1e-10)
    if ci.tau2_lower > 0:
        assert q(ci.tau2_lower) == pytest.approx(stats.chi2.ppf(0.975, 7), rel=1e-10)


def test_errors():
    with pytest.raises(ValueError, match="common-effect"):
        heterogeneity_ci(_fit(NORMAND_YI, NORMAND_VI, method="FE"))
    with pytest.raises(ValueError, match="more studies"):
        heterogeneity_ci(_fit([0.2], [0.1], method="REML"))
    with pytest.raises(TypeError):
        heterogeneity_ci(pd.DataFrame())


def test_frozen():
    ci = _ci(_fit(NORMAND_YI, NORMAND_VI, method="DL"))
    with pytest.raises(AttributeError):
        ci.tau2 = 1.0  # type: ignore[misc]
