"""Publication-bias methods: Egger (regtest), Begg (ranktest), trim and fill, funnel data.

Reference numbers come from R 4.2.2 with metafor 3.8-1; the R calls are given next to
them. R is not needed to run these tests.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import igmeta as im
from igmeta.bias import (
    FUNNEL_COLUMNS,
    begg_test,
    egger_test,
    funnel_frame,
    kendall_exact_pvalue,
    kendall_null_pmf,
    trim_and_fill,
)
from igmeta.bias import trimfill as trimfill_module
from igmeta.bias.ranktest import kendall_inversion_cdf

CTRL = {"threshold": 1e-13, "tol": 1e-15, "maxiter": 10000}
CLOSE = {"rtol": 1e-10, "atol": 1e-12}
ITER = {"rtol": 1e-7, "atol": 1e-10}

# R: dat <- escalc(measure="PLO", xi=xi, ni=ni, data=dat.pritz1997)
PRITZ_YI = np.array(
    [
        2.7725887222397811,
        1.6094379124341007,
        0,
        1.0531499145913525,
        3.0445224377234239,
        0.38566248081198456,
        2.5649493574615372,
        3.2188758248682015,
        0.14660347419187544,
        1.3862943611198908,
        1.6094379124341007,
        1.2809338454620645,
        1.7578579175523734,
        0.40546510810816422,
    ]
)
PRITZ_VI = np.array(
    [
        1.0625,
        0.59999999999999998,
        0.5,
        0.089922480620155038,
        2.0952380952380953,
        0.098823529411764699,
        1.0769230769230769,
        2.0800000000000001,
        0.098086124401913874,
        1.25,
        1.2,
        0.25555555555555554,
        0.11724137931034484,
        0.41666666666666663,
    ]
)
PRITZ_XI = [16, 10, 4, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6]
PRITZ_NI = [17, 12, 8, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10]

# A made-up set (R: yi <- c(...); vi <- c(...)).
MADE_YI = np.array([0.42, 0.31, 0.65, 0.12, 0.80, 0.55, 0.27, 0.95, 0.05, 0.48])
MADE_VI = np.array([0.020, 0.015, 0.090, 0.010, 0.150, 0.060, 0.012, 0.200, 0.008, 0.045])

# R: dat <- escalc("RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
BCG_YI = np.array(
    [
        -0.88931133392020545,
        -1.5853886572014306,
        -1.3480731482996933,
        -1.4415511900213054,
        -0.21754732221129558,
        -0.78611558581886398,
        -1.6208982235983918,
        0.011952333523840508,
        -0.4694176487381494,
        -1.3713448034727844,
        -0.33935882833839059,
        0.44591340057137874,
        -0.017313948216879815,
    ]
)
BCG_VI = np.array(
    [
        0.32558476500396133,
        0.19458112139814385,
        0.41536796536796539,
        0.020010031902247573,
        0.051210172169630863,
        0.0069056184559087574,
        0.22301724757231517,
        0.0039615792978177295,
        0.056434210463248966,
        0.07302479361302891,
        0.01241221397155972,
        0.53250584520015276,
        0.071404659683986293,
    ]
)


def fit(yi, vi, method="REML", **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", im.MetaAnalysisWarning)
        return im.meta_analysis(
            yi=yi, vi=vi, method=method, control=None if method == "FE" else CTRL, **kwargs
        )


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", im.MetaAnalysisWarning)
        return func(*args, **kwargs)


# ---------------------------------------------------------------------------------------
# Egger's regression test (regtest)
# ---------------------------------------------------------------------------------------

# R: res <- rma(yi, vi, data=dat, method=m, control=ctrl); r <- regtest(res, model="rma")
#    c(r$zval, r$pval, r$est, r$ci.lb, r$ci.ub); coef(r$fit); r$fit$se;
#    c(r$fit$tau2, r$fit$QE, r$fit$QEp)
PRITZ_REGTEST_RMA = {
    "REML": (
        [
            2.4111171381302663,
            0.015903739660466661,
            0.1844952850503343,
            -0.6792536026140984,
            1.0482441727147669,
        ],
        [0.1844952850503343, 1.6431407526937392],
        [0.44069630589009484, 0.68148524462313564],
        [0.26381459601034146, 21.867492521604358, 0.03903202015303521],
    ),
    "DL": (
        [
            2.4496474290168302,
            0.014299615664550396,
            0.19505137582210108,
            -0.63178079832596623,
            1.0218835499701684,
        ],
        [0.19505137582210108, 1.6279702599228161],
        [0.42186090186861297, 0.66457329354379968],
        [0.22540246188170515, 21.867492521604358, 0.03903202015303521],
    ),
    "FE": (
        [
            2.81388058358091,
            0.0048947407612656849,
            0.27085761555514865,
            -0.26644523777532814,
            0.80816046888562543,
        ],
        [0.27085761555514865, 1.5206614084180765],
        [0.27413914621322288, 0.54041433644739156],
        [0.0, 21.867492521604358, 0.03903202015303521],
    ),
}


@pytest.mark.parametrize("method", ["REML", "DL", "FE"])
def test_egger_rma_matches_metafor_pritz(method):
    main, beta, se, het = PRITZ_REGTEST_RMA[method]
    res = fit(PRITZ_YI, PRITZ_VI, method)
    out = quiet(egger_test, res)
    tol = ITER if method == "REML" else CLOSE
    got = [out.zval, out.pval, out.est, out.ci_lower, out.ci_upper]
    np.testing.assert_allclose(got, main, **tol)
    np.testing.assert_allclose(out.beta, beta, **tol)
    np.testing.assert_allclose(out.se, se, **tol)
    np.testing.assert_allclose([out.tau2, out.qe, out.qe_pval], het, **tol)
    assert np.isnan(out.dfs) and np.isnan(out.sigma)
    assert out.model == "rma" and out.method == method and out.k == 14
    assert (out.b0, out.b1) == (out.beta[0], out.beta[1])
    np.testing.assert_allclose(out.line([0.0, 1.0]), [out.b0, out.b0 + out.b1])
    assert out.fit is not None and out.fit.coef_names == ("intrcpt", "sei")


def test_egger_rma_knha_uses_t_on_k_minus_2():
    # R: res <- rma(yi, vi, data=dat, method="REML", test="knha", control=ctrl); regtest(res)
    res = fit(PRITZ_YI, PRITZ_VI, "REML", test="knha")
    out = quiet(egger_test, res)
    np.testing.assert_allclose(
        [out.zval, out.pval, out.dfs, out.est, out.ci_lower, out.ci_upper],
        [
            2.7296007740876784,
            0.01828000066892229,
            12,
            0.1844952850503343,
            -0.66366612977629147,
            1.0326566998769602,
        ],
        **ITER,
    )
    np.testing.assert_allclose(out.se, [0.38927685906648801, 0.60197108979899461], **ITER)
    assert out.test == "knha"


def test_egger_lm_matches_metafor_pritz():
    # R: regtest(res, model="lm"); coef(summary(r$fit))[, 2]; summary(r$fit)$sigma
    res = fit(PRITZ_YI, PRITZ_VI)
    out = egger_test(res, model="lm")
    np.testing.assert_allclose(
        [out.zval, out.pval, out.dfs, out.est, out.ci_lower, out.ci_upper],
        [
            2.0844754877709102,
            0.059151905073606736,
            12,
            0.27085761555514704,
            -0.53544830744717808,
            1.077163538557472,
        ],
        **CLOSE,
    )
    np.testing.assert_allclose(out.beta, [0.27085761555514704, 1.5206614084180812], **CLOSE)
    np.testing.assert_allclose(out.se, [0.37006663079245433, 0.72951752963247429], **CLOSE)
    np.testing.assert_allclose(out.sigma, 1.3499226064730643, **CLOSE)
    assert np.isnan(out.tau2) and out.fit is None and out.test == "t"


def test_egger_lm_with_variance_predictor():
    # R: regtest(res, model="lm", predictor="vi"): c(r$zval, r$pval, r$est)
    out = egger_test(fit(PRITZ_YI, PRITZ_VI), model="lm", predictor="vi")
    np.testing.assert_allclose(
        [out.zval, out.pval, out.est],
        [2.2517002413400391, 0.04386254738362471, 0.65877350044536054],
        **CLOSE,
    )
    np.testing.assert_allclose(out.line(2.0), out.b0 + out.b1 * 4.0)


def test_egger_made_up_set():
    # R: res <- rma(yi, vi, control=ctrl); regtest(res)  (tau2 of the regression is 0)
    out = quiet(egger_test, fit(MADE_YI, MADE_VI))
    np.testing.assert_allclose(
        [out.zval, out.pval, out.est, out.ci_lower, out.ci_upper, out.tau2],
        [
            3.7263995126784564,
            0.00019423445632907693,
            -0.094806800861267304,
            -0.29471036852462196,
            0.10509676680208732,
            0.0,
        ],
        **ITER,
    )
    # R: regtest(rma(yi, vi, method="FE"), model="lm")
    lm = egger_test(fit(MADE_YI, MADE_VI, "FE"), model="lm")
    np.testing.assert_allclose(
        [lm.zval, lm.pval, lm.dfs, lm.est, lm.ci_lower, lm.ci_upper, lm.sigma],
        [
            5.6883953890321397,
            0.00046050457943317335,
            8,
            -0.094806800861266652,
            -0.24888180015716493,
            0.059268198434631617,
            0.65508799192534395,
        ],
        **CLOSE,
    )


def test_egger_lm_equals_classical_formulation():
    """Regressing yi/sei on 1/sei swaps intercept and slope (Egger et al. 1997)."""
    out = egger_test(fit(MADE_YI, MADE_VI), model="lm")
    sei = np.sqrt(MADE_VI)
    X = np.column_stack([np.ones_like(sei), 1 / sei])
    coef, rss, *_ = np.linalg.lstsq(X, MADE_YI / sei, rcond=None)
    np.testing.assert_allclose(coef[::-1], out.beta, rtol=1e-12)
    np.testing.assert_allclose(np.sqrt(rss[0] / (len(sei) - 2)), out.sigma, rtol=1e-12)


def test_egger_three_studies():
    # R: res <- rma(c(0.1, 0.5, 0.3), c(0.01, 0.04, 0.09), control=ctrl)
    #    regtest(res); regtest(res, model="lm")
    res = fit([0.1, 0.5, 0.3], [0.01, 0.04, 0.09])
    with pytest.warns(im.SmallSampleWarning, match="3 studies"):
        out = egger_test(res)
    np.testing.assert_allclose(
        [out.zval, out.pval, out.est, out.ci_lower, out.ci_upper, out.tau2],
        [
            0.98058067569092189,
            0.32679956766896512,
            -0.022222222222222116,
            -0.59757377946809109,
            0.55312933502364681,
            0.016666666666666632,
        ],
        **ITER,
    )
    lm = quiet(egger_test, res, model="lm")
    np.testing.assert_allclose(
        [lm.zval, lm.pval, lm.dfs, lm.est, lm.ci_lower, lm.ci_upper],
        [
            1.1904761904761902,
            0.44478065857655208,
            1,
            -0.069230769230769068,
            -3.1164635318437219,
            2.978001993382184,
        ],
        **CLOSE,
    )


@pytest.mark.parametrize("model", ["rma", "lm"])
def test_egger_needs_three_studies(model):
    res = fit([0.1, 0.5], [0.01, 0.04])
    with pytest.raises(ValueError, match="at least 3 studies"):
        egger_test(res, model=model)


@pytest.mark.parametrize("model", ["rma", "lm"])
def test_egger_equal_variances_explained(model):
    # metafor: "Model matrix no longer of full rank after addition of predictor."
    res = fit([0.1, 0.5, 0.3, 0.2], [0.04] * 4)
    with pytest.raises(ValueError, match="same variance"):
        egger_test(res, model=model)


def test_egger_bad_arguments():
    res = fit(MADE_YI, MADE_VI)
    with pytest.raises(ValueError, match="model"):
        egger_test(res, model="glm")
    with pytest.raises(ValueError, match="predictor"):
        egger_test(res, predictor="ni")
    with pytest.raises(TypeError):
        egger_test("not a result")
    mh_like = dataclasses.replace(res, method="MH")
    with pytest.raises(ValueError, match="inverse-variance"):
        egger_test(mh_like)
    assert np.isfinite(egger_test(mh_like, model="lm").pval)


def test_egger_perfect_line_warns():
    vi = np.array([0.01, 0.04, 0.09, 0.16])
    res = fit(0.2 + 0.5 * np.sqrt(vi), vi, "FE")
    with pytest.warns(im.SmallSampleWarning, match="exactly on a line"):
        out = egger_test(res, model="lm")
    assert out.sigma == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------------------------------
# Begg's rank correlation test (ranktest) and the exact Kendall distribution
# ---------------------------------------------------------------------------------------


def _brute_force_inversions(n: int) -> np.ndarray:
    counts = np.zeros(n * (n - 1) // 2 + 1)
    for perm in itertools.permutations(range(n)):
        inv = sum(perm[i] > perm[j] for i in range(n) for j in range(i + 1, n))
        counts[inv] += 1
    return counts / counts.sum()


@pytest.mark.parametrize("n", range(1, 8))
def test_kendall_pmf_matches_brute_force(n):
    np.testing.assert_allclose(
        kendall_null_pmf(n), _brute_force_inversions(n), rtol=1e-13, atol=1e-16
    )
    pmf = kendall_null_pmf(n)
    for q in range(-1, len(pmf) + 1):
        assert kendall_inversion_cdf(q, n) == pytest.approx(pmf[: max(q + 1, 0)].sum(), abs=1e-15)
    # Truncation gives the same leading terms.
    np.testing.assert_allclose(kendall_null_pmf(n, upto=2), pmf[:3], rtol=1e-15)


@pytest.mark.parametrize("seed", range(6))
def test_kendall_exact_pvalue_is_the_permutation_pvalue(seed):
    rng = np.random.default_rng(seed)
    n = 7
    x, y = rng.normal(size=n), rng.normal(size=n)
    sign_x = np.sign(np.subtract.outer(x, x))

    def concordant(yy):
        return int(((sign_x * np.sign(np.subtract.outer(yy, yy))) > 0).sum() // 2)

    q = concordant(y)
    total = n * (n - 1) // 2
    perms = [concordant(y[list(p)]) for p in itertools.permutations(range(n))]
    brute = np.mean(np.abs(np.array(perms) - total / 2) >= abs(q - total / 2) - 1e-9)
    assert kendall_exact_pvalue(q, n) == pytest.approx(min(1.0, brute), rel=1e-12)


def test_kendall_exact_pvalue_matches_r():
    # R: n <- 170; q <- as.integer(n*(n-1)/2*0.47); min(2*.Call(stats:::C_pKendall, q, n), 1)
    n = 170
    q = int(n * (n - 1) // 2 * 0.47)
    assert kendall_exact_pvalue(q, n) == pytest.approx(0.24580089632859231, rel=1e-10)
    # Beyond n = 170 R returns NaN (n! overflows); here the distribution stays finite.
    assert 0 < kendall_exact_pvalue(200 * 199 // 4 - 300, 200) < 1


def test_begg_matches_metafor_pritz():
    # R: ranktest(res) (exact: no ties); ranktest(dat$yi, dat$vi, exact=FALSE)
    res = fit(PRITZ_YI, PRITZ_VI)
    out = begg_test(res)
    assert out.exact and not out.ties
    np.testing.assert_allclose(
        [out.tau, out.pval], [0.2967032967032967, 0.15716301603764404], **CLOSE
    )
    approx = begg_test(res, exact=False)
    assert not approx.exact
    np.testing.assert_allclose(
        [approx.tau, approx.pval], [0.2967032967032967, 0.13937779359462951], **CLOSE
    )
    wi = 1 / PRITZ_VI
    assert out.theta_fe == pytest.approx(np.sum(wi * PRITZ_YI) / wi.sum(), rel=1e-14)
    np.testing.assert_allclose(
        out.yi_star, (PRITZ_YI - out.theta_fe) / np.sqrt(PRITZ_VI - 1 / wi.sum()), rtol=1e-14
    )


def test_begg_from_escalc_counts():
    es = quiet(im.effect_sizes, "PLO", xi=PRITZ_XI, ni=PRITZ_NI)
    res = quiet(im.meta_analysis, es, method="FE")
    assert begg_test(res).pval == pytest.approx(0.15716301603764404, rel=1e-10)


@pytest.mark.parametrize(
    "n, tau, pval",
    [
        (60, -0.0192090395480226, 0.83402770075642796),
        (150, -0.014049217002237133, 0.80022946319934485),
    ],
)
def test_begg_exact_larger_k(n, tau, pval):
    # R: i <- 1:n; y <- sin(i)/2; v <- cos(i*0.7)^2/10 + 0.01; ranktest(y, v)
    i = np.arange(1, n + 1)
    res = fit(np.sin(i) / 2, np.cos(i * 0.7) ** 2 / 10 + 0.01, "FE")
    out = begg_test(res)
    assert out.exact
    np.testing.assert_allclose([out.tau, out.pval], [tau, pval], **CLOSE)


def test_begg_made_up_small_pvalue():
    # R: ranktest(rma(yi, vi, method="FE")) gives 2.9761904762004576e-05 (R's 1 - P(T <= q-1)
    # loses digits). Exactly: 43 of 45 pairs concordant, so p = 2 P(I <= 2) for n = 10,
    # with 1 + 9 + 44 permutations having at most 2 inversions: 2 * 54 / 10!.
    out = begg_test(fit(MADE_YI, MADE_VI, "FE"))
    assert out.tau == pytest.approx(0.91111111111111109, rel=1e-12)
    assert out.pval == pytest.approx(2.9761904762004576e-05, rel=1e-10)
    assert out.pval == pytest.approx(2 * 54 / 3628800, rel=1e-12)


def test_begg_ties_use_normal_approximation():
    # R: ranktest(yi, vi) warns "Cannot compute exact p-value with ties";
    #    c(r$tau, r$pval) = 0.74870488592714557, 0.013904097145966098 (same with exact=FALSE)
    yi = [0.10, 0.30, 0.35, 0.60, 0.20, 0.90, 0.15, 0.45]
    vi = [0.04, 0.04, 0.09, 0.09, 0.01, 0.16, 0.01, 0.04]
    res = fit(yi, vi, "FE")
    for exact in (None, False):
        out = begg_test(res, exact=exact)
        assert out.ties and not out.exact and not out.warnings
        np.testing.assert_allclose(
            [out.tau, out.pval], [0.74870488592714557, 0.013904097145966098], **CLOSE
        )
    with pytest.warns(im.MetaAnalysisWarning, match="exact p-value"):
        out = begg_test(res, exact=True)
    assert not out.exact and out.pval == pytest.approx(0.013904097145966098, rel=1e-10)


def test_begg_degenerate():
    with pytest.warns(im.SmallSampleWarning):
        out = begg_test(fit([0.1, 0.5], [0.01, 0.04], "FE"))
    assert out.tau == 1.0 and out.pval == 1.0  # R: ranktest on k = 2
    with pytest.raises(ValueError, match="at least 2"):
        begg_test(fit([0.1], [0.01], "FE"))
    with pytest.raises(ValueError, match="same variance"):
        begg_test(fit([0.1, 0.5, 0.3], [0.04] * 3, "FE"))


# ---------------------------------------------------------------------------------------
# Trim and fill (trimfill)
# ---------------------------------------------------------------------------------------

# R: res <- rma(yi, vi, data=dat, method=m, control=ctrl)
#    t <- trimfill(res, estimator=est, control=ctrl)   (side chosen: "left")
#    c(t$k0, t$se.k0, t$p.k0); c(t$beta, t$se, t$tau2, t$QE); t$yi[t$fill]; t$vi[t$fill]
PRITZ_TRIMFILL = {
    ("L0", "FE"): (
        6,
        2.3022622619140822,
        None,
        [0.63688506519831112, 0.12253978213817249, 0, 60.050238110324038],
        [
            -0.33566778203747805,
            -0.48408778715575074,
            -1.2911792270649145,
            -1.4988185918431582,
            -1.770752307326801,
            -1.9451056944715786,
        ],
        [
            1.2,
            0.11724137931034484,
            1.0769230769230769,
            1.0625,
            2.0952380952380953,
            2.0800000000000001,
        ],
    ),
    ("L0", "REML"): (
        4,
        2.4945669967166633,
        None,
        [0.88907445726631196, 0.24207940326631985, 0.45826454675245892, 40.819081255862223],
        [-0.80843821463265497, -1.0160775794108989, -1.2880112948945419, -1.4623646820393195],
        [1.0769230769230769, 1.0625, 2.0952380952380953, 2.0800000000000001],
    ),
    ("L0", "DL"): (
        6,
        2.3219539142266417,
        None,
        [0.69215801087361917, 0.25447048006038647, 0.66994711261362005, 58.487010152733419],
        [
            -0.28778690680401797,
            -0.43620691192229066,
            -1.2432983518314544,
            -1.4509377166096982,
            -1.7228714320933409,
            -1.8972248192381185,
        ],
        [
            1.2,
            0.11724137931034484,
            1.0769230769230769,
            1.0625,
            2.0952380952380953,
            2.0800000000000001,
        ],
    ),
    ("R0", "FE"): (
        4,
        3.1622776601683795,
        0.03125,
        [0.83797540593653774, 0.13218346921927276, 0, 41.707491491415162],
        [-0.88899854558846159, -1.0966379103667054, -1.3685716258503482, -1.5429250129951257],
        [1.0769230769230769, 1.0625, 2.0952380952380953, 2.0800000000000001],
    ),
    ("R0", "REML"): (
        3,
        2.8284271247461903,
        0.0625,
        [0.96280473643778264, 0.23717391738296553, 0.39816095376005045, 37.207400833192686],
        [-0.87911031821914243, -1.1510440337027854, -1.325397420847563],
        [1.0625, 2.0952380952380953, 2.0800000000000001],
    ),
    ("R0", "DL"): (
        3,
        2.8284271247461903,
        0.0625,
        [0.96654563527797521, 0.2434310338927457, 0.43660654428707019, 37.205853502370552],
        [-0.87889969975588544, -1.1508334152395281, -1.3251868023843056],
        [1.0625, 2.0952380952380953, 2.0800000000000001],
    ),
}


@pytest.mark.parametrize("estimator, method", sorted(PRITZ_TRIMFILL))
def test_trimfill_matches_metafor_pritz(estimator, method):
    k0, se_k0, p_k0, model, filled_yi, filled_vi = PRITZ_TRIMFILL[(estimator, method)]
    res = fit(PRITZ_YI, PRITZ_VI, method)
    out = quiet(trim_and_fill, res, estimator=estimator)
    tol = ITER if method == "REML" else CLOSE
    assert out.k0 == k0 and out.side == "left" and out.estimator == estimator
    assert out.se_k0 == pytest.approx(se_k0, rel=1e-12)
    if p_k0 is None:
        assert np.isnan(out.p_k0)
    else:
        assert out.p_k0 == pytest.approx(p_k0, rel=1e-14)
    m = out.model
    np.testing.assert_allclose([m.estimate, m.se, m.tau2, m.q], model, **tol)
    np.testing.assert_allclose(out.filled_yi, filled_yi, **tol)
    np.testing.assert_allclose(out.filled_vi, filled_vi, rtol=1e-15)
    assert m.k == 14 + k0 and out.k_original == 14 and out.original is res
    assert m.study[-k0:] == out.filled_study == tuple(f"Filled {j + 1}" for j in range(k0))
    np.testing.assert_allclose(
        out.filled_yi,
        2 * out.centre - np.array([PRITZ_YI[list(res.study).index(s)] for s in out.mirrored_study]),
        rtol=1e-12,
    )


# R: res <- rma(yi, vi, method=m, control=ctrl); trimfill(res, estimator=est, control=ctrl)
#    c(t$k0, t$se.k0); c(t$beta, t$se, t$tau2); t$yi[t$fill]
MADE_TRIMFILL = {
    ("L0", "REML"): (
        4,
        1.992634955912183,
        [0.23867309480555512, 0.064266151436793359, 0.018499065318762043],
        [-0.08443965530638467, -0.18443965530638465, -0.33443965530638464, -0.48443965530638455],
    ),
    ("R0", "REML"): (
        5,
        3.4641016151377544,
        [0.21584554372042661, 0.064788557687488105, 0.021873613161968324],
        [
            -0.058410401494619957,
            -0.12841040149462002,
            -0.22841040149462,
            -0.37841040149462007,
            -0.52841040149462004,
        ],
    ),
    ("L0", "PM"): (
        4,
        1.992634955912183,
        [0.24781940523133533, 0.088179923078652148, 0.057713379147319083],
        [-0.085721380161024263, -0.18572138016102424, -0.33572138016102421, -0.48572138016102412],
    ),
    ("R0", "PM"): (
        5,
        3.4641016151377544,
        [0.21903283256578293, 0.089037325316536159, 0.066656392646078103],
        [
            -0.05855027506517263,
            -0.12855027506517269,
            -0.22855027506517267,
            -0.37855027506517275,
            -0.52855027506517271,
        ],
    ),
}


@pytest.mark.parametrize("estimator, method", sorted(MADE_TRIMFILL))
def test_trimfill_matches_metafor_made_up(estimator, method):
    k0, se_k0, model, filled_yi = MADE_TRIMFILL[(estimator, method)]
    out = quiet(trim_and_fill, fit(MADE_YI, MADE_VI, method), estimator=estimator)
    assert out.k0 == k0 and out.side == "left"
    assert out.se_k0 == pytest.approx(se_k0, rel=1e-12)
    np.testing.assert_allclose([out.model.estimate, out.model.se, out.model.tau2], model, **ITER)
    np.testing.assert_allclose(out.filled_yi, filled_yi, **ITER)


def test_trimfill_explicit_side_and_nan_se():
    # R: res <- rma(yi, vi, method="FE"); trimfill(res, side="left"); trimfill(res, side="right")
    res = fit(MADE_YI, MADE_VI, "FE")
    left = trim_and_fill(res, side="left")
    assert left.k0 == 5 and left.se_k0 == pytest.approx(1.9265713373550808, rel=1e-12)
    assert left.centre == pytest.approx(0.19392156862745097, rel=1e-12)
    np.testing.assert_allclose(
        left.filled_yi,
        [
            -0.092156862745098128,
            -0.16215686274509819,
            -0.2621568627450982,
            -0.41215686274509822,
            -0.56215686274509813,
        ],
        **CLOSE,
    )
    # metafor: k0 = 0 and se.k0 = NaN ("NaNs produced" in sqrt(varSr)).
    with pytest.warns(im.SmallSampleWarning, match="L0"):
        right = trim_and_fill(res, side="right")
    assert right.k0 == 0 and np.isnan(right.se_k0) and right.side == "right"
    assert right.model is res and right.filled_yi.size == 0
    assert right.centre == pytest.approx(0.24566210045662104, rel=1e-12)


def test_trimfill_three_studies():
    # R: trimfill(rma(c(0.1, 0.5, 0.3), c(0.01, 0.04, 0.09), control=ctrl), control=ctrl)
    out = quiet(trim_and_fill, fit([0.1, 0.5, 0.3], [0.01, 0.04, 0.09]))
    assert out.side == "left" and out.k0 == 2
    assert out.se_k0 == pytest.approx(1.4880860190190619, rel=1e-12)
    np.testing.assert_allclose(
        [out.model.estimate, out.model.se, out.model.tau2],
        [0.10000000000000003, 0.14119566071620346, 0.05512736143320298],
        **ITER,
    )
    np.testing.assert_allclose(out.filled_yi, [-0.1, -0.3], **ITER)


def test_trimfill_knha_model_follows_metafor():
    # R: rk <- rma(yi, vi, data=dat, test="knha", control=ctrl); t <- trimfill(rk, control=ctrl)
    #    t$k0 = 1, t$test = "z"; c(t$beta, t$se, t$ci.lb, t$ci.ub)
    res = fit(BCG_YI, BCG_VI, "REML", test="knha")
    with pytest.warns(im.MetaAnalysisWarning, match="z-test"):
        out = trim_and_fill(res)
    assert out.k0 == 1 and out.side == "right" and out.model.test == "z"
    m = out.model
    np.testing.assert_allclose(
        [m.estimate, m.se, m.ci_lower, m.ci_upper],
        [-0.65708278348776594, 0.17852838013187294, -1.006991978764513, -0.30717358821101887],
        **ITER,
    )
    kh = quiet(trim_and_fill, res, test="knha", level=0.9)
    assert kh.model.test == "knha" and kh.model.level == 0.9
    assert kh.model.estimate == pytest.approx(m.estimate, rel=1e-12)
    assert kh.model.se != pytest.approx(m.se)


def test_trimfill_k0_zero_returns_original_model():
    # bcg REML R0: k0 = 0 (oracle case trimfill_bcg_RR_REML_R0)
    res = fit(BCG_YI, BCG_VI)
    out = trim_and_fill(res, estimator="R0")
    assert out.k0 == 0 and out.model is res and out.p_k0 == 0.5
    assert out.se_k0 == pytest.approx(np.sqrt(2))
    refit = quiet(trim_and_fill, res, estimator="R0", test="z")
    assert refit.model is not res
    assert refit.model.estimate == pytest.approx(res.estimate, rel=1e-12)


def test_trimfill_batched_and_lazy_fits_agree(monkeypatch):
    res = fit(PRITZ_YI, PRITZ_VI, "REML")
    batched = quiet(trim_and_fill, res)
    monkeypatch.setattr(trimfill_module, "_BATCH_MAX_K", 0)
    lazy = quiet(trim_and_fill, res)
    assert lazy.k0 == batched.k0 and lazy.iterations == batched.iterations
    np.testing.assert_allclose(lazy.filled_yi, batched.filled_yi, rtol=1e-12)
    assert lazy.model.estimate == pytest.approx(batched.model.estimate, rel=1e-12)


def test_trimfill_all_effects_equal_is_symmetric():
    res = fit([0.2] * 5, [0.01, 0.02, 0.03, 0.04, 0.05], "FE")
    for estimator in ("L0", "R0"):
        out = quiet(trim_and_fill, res, estimator=estimator)
        assert out.k0 == 0  # R: k0 = 0 for both estimators


def test_trimfill_degenerate_inputs():
    with pytest.raises(ValueError, match="at least 3"):
        trim_and_fill(fit([0.1, 0.5], [0.01, 0.04]))
    equal_v = fit([0.1, 0.5, 0.3, 0.2], [0.04] * 4)
    with pytest.raises(ValueError, match="same variance"):
        trim_and_fill(equal_v)  # metafor: "missing value where TRUE/FALSE needed"
    assert quiet(trim_and_fill, equal_v, side="left").side == "left"
    res = fit(MADE_YI, MADE_VI)
    with pytest.raises(ValueError, match="estimator"):
        trim_and_fill(res, estimator="Q0")
    with pytest.raises(ValueError, match="side"):
        trim_and_fill(res, side="up")
    with pytest.raises(ValueError, match="Mantel-Haenszel"):
        trim_and_fill(dataclasses.replace(res, method="MH"))
    with pytest.raises(ValueError, match="did not converge"):
        quiet(trim_and_fill, res, maxiter=1)


# ---------------------------------------------------------------------------------------
# Funnel-plot data
# ---------------------------------------------------------------------------------------


def test_funnel_frame_columns_and_filled_rows():
    res = fit(MADE_YI, MADE_VI, "FE", study=[f"S{i}" for i in range(10)])
    tf = trim_and_fill(res, side="left")
    frame = funnel_frame(res, trimfill=tf)
    assert tuple(frame.columns) == FUNNEL_COLUMNS
    assert len(frame) == 10 + tf.k0
    assert frame["study_id"].tolist()[:3] == ["0", "1", "2"]
    assert frame["filled"].sum() == tf.k0 and frame["included"].all()
    np.testing.assert_allclose(frame["estimate"][:10], MADE_YI)
    np.testing.assert_allclose(frame["se"][10:], np.sqrt(tf.filled_vi))
    assert frame["label"].tolist()[10] == "Filled 1"
    plain = funnel_frame(res)
    assert len(plain) == 10 and not plain["filled"].any()
    excluded = quiet(im.effect_sizes, "GEN", yi=[0.3, np.nan], vi=[0.02, 0.1], study=["X", "Y"])
    with_excluded = quiet(funnel_frame, res, excluded=excluded)
    assert with_excluded["included"].tolist().count(False) == 1
    assert with_excluded["label"].iloc[-1] == "X"
    # A study without a defined effect (e.g. a double-zero table in a Mantel-Haenszel
    # model) has no row; the others keep their position as study_id.
    holed = dataclasses.replace(res, yi=np.where(np.arange(10) == 2, np.nan, MADE_YI))
    frame = funnel_frame(holed)
    assert len(frame) == 9 and "2" not in frame["study_id"].tolist()
    assert frame["study_id"].iloc[2] == "3" and frame["label"].iloc[2] == "S3"


def test_begg_large_k_defaults_to_normal_approximation():
    k = 1001
    i = np.arange(1, k + 1)
    res = fit(np.sin(i) / 2, np.cos(i * 0.7) ** 2 / 10 + 0.01 + i * 1e-9, "FE")
    out = begg_test(res)
    assert not out.exact and not out.ties
    assert out.pval == pytest.approx(2 * stats.norm.sf(abs(out.s) / np.sqrt(out.var_s)))


# ---------------------------------------------------------------------------------------
# Properties: the order of the studies does not matter
# ---------------------------------------------------------------------------------------


@st.composite
def studies_and_permutation(draw):
    k = draw(st.integers(min_value=4, max_value=12))
    yi = draw(
        st.lists(
            st.floats(-2, 2, allow_nan=False).map(lambda x: round(x, 3)),
            min_size=k,
            max_size=k,
            unique=True,
        )
    )
    vi = draw(
        st.lists(
            st.floats(0.01, 1.0).map(lambda x: round(x, 4)), min_size=k, max_size=k, unique=True
        )
    )
    perm = draw(st.permutations(list(range(k))))
    return np.array(yi), np.array(vi), np.array(perm)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=studies_and_permutation(), method=st.sampled_from(["FE", "DL", "REML"]))
def test_study_order_does_not_matter(data, method):
    yi, vi, perm = data
    a, b = fit(yi, vi, method), fit(yi[perm], vi[perm], method)
    tol = {"rtol": 1e-7, "atol": 1e-9}
    for model in ("rma", "lm"):
        ea, eb = quiet(egger_test, a, model=model), quiet(egger_test, b, model=model)
        np.testing.assert_allclose(
            [ea.zval, ea.pval, ea.est, ea.ci_lower, ea.ci_upper],
            [eb.zval, eb.pval, eb.est, eb.ci_lower, eb.ci_upper],
            **tol,
        )
    ba, bb = begg_test(a), begg_test(b)
    assert ba.exact == bb.exact
    np.testing.assert_allclose([ba.tau, ba.pval], [bb.tau, bb.pval], rtol=1e-12, atol=1e-15)
    for estimator in ("L0", "R0"):
        ta = quiet(trim_and_fill, a, estimator=estimator)
        tb = quiet(trim_and_fill, b, estimator=estimator)
        assert (ta.k0, ta.side) == (tb.k0, tb.side)
        np.testing.assert_allclose(ta.filled_yi, tb.filled_yi, **tol)
        np.testing.assert_allclose(ta.filled_vi, tb.filled_vi)
        np.testing.assert_allclose(
            [ta.model.estimate, ta.model.se], [tb.model.estimate, tb.model.se], **tol
        )
