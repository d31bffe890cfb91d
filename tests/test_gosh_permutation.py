"""GOSH analyses and permutation tests (igmeta.gosh, igmeta.permutation).

R reference values (R 4.2.2, metafor 3.8-1, metadat 1.2.0; printed with
sprintf("%.17g")), produced by::

    library(metafor)
    ctl <- list(threshold = 1e-13, tol = 1e-15, maxiter = 10000)
    dat <- escalc(measure = "SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i,
                  sd2i = sd2i, n2i = n2i, data = dat.normand1999)        # NORMAND_YI/VI
    permutest(rma(yi, vi, data = dat, method = "REML", control = ctl))   # PERM_REML (exact)
    permutest(rma(yi, vi, data = dat, method = "DL", test = "knha", control = ctl))
                                                                         # PERM_DL_KNHA
    permutest(rma(yi, vi, data = dat, method = "FE"))                    # PERM_FE
    b <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg,
                data = dat.bcg[1:6, ])
    permutest(rma(yi, vi, mods = ~ ablat, data = b, method = "REML", control = ctl))
                                                                         # PERMREG (exact)
    g <- gosh(rma(yi, vi, data = dat[1:6, ], method = "REML", control = ctl))
    members <- g$incl %*% 2^(0:5); g$res                                 # GOSH6
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

import igmeta as im
from igmeta.gosh import decode_members, gosh
from igmeta.permutation import PermutationResult, permutation_test

CTL = {"threshold": 1e-13, "tol": 1e-15, "maxiter": 10000}
METHODS = ["FE", "DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS"]

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

PERM_REML = {
    "pval": 0.1015625,
    "QMp": 0.1015625,
    "zval": -1.7401207320939434,
    "exact.iter": 512,
}

PERM_DL_KNHA = {
    "pval": 0.10546875,
    "QMp": 0.10546875,
    "zval": -1.7194981878346056,
    "exact.iter": 512,
}

PERM_FE = {
    "pval": 0.1171875,
    "QMp": 0.1171875,
    "zval": -6.6654720639088065,
    "exact.iter": 512,
}

PERMREG = {
    "yi": [
        -0.8893113339202054, -1.5853886572014306, -1.3480731482996933, -1.4415511900213054,
        -0.21754732221129558, -0.786115585818864,
    ],
    "vi": [
        0.32558476500396133, 0.19458112139814385, 0.4153679653679654, 0.020010031902247573,
        0.05121017216963086, 0.0069056184559087574,
    ],
    "ablat": [44, 55, 42, 52, 13, 44],
    "pval": [0.8055555555555556, 0.03888888888888889],
    "QMp": 0.03888888888888889,
    "exact.iter": 360,
    "zval": [0.5946641167593845, -3.0031706547997468],
    "QM": 9.01903398185034,
}

GOSH6 = {
    "members": [
        1, 2, 4, 8, 16, 32, 3, 5, 6, 9, 10, 12, 17, 18, 20, 24, 33, 34, 36, 40, 48, 7, 11, 13, 14,
        19, 21, 22, 25, 26, 28, 35, 37, 38, 41, 42, 44, 49, 50, 52, 56, 15, 23, 27, 29, 30, 39,
        43, 45, 46, 51, 53, 54, 57, 58, 60, 31, 47, 55, 59, 61, 62, 63,
    ],
    "k": [
        1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5,
        5, 5, 6,
    ],
    "QE": [
        0, 0, 0, 0, 0, 0, 0.0006741259522687207, 65.40798413674507, 35.17776786705858,
        13.52764786892593, 10.536966411948756, 0.8939836668159905, 0.003794649920261921,
        0.0048081761746180465, 14.88118205565902, 6.179659096625869, 5.564046700648964,
        2.6681172343607718, 74.93343842559383, 21.48623406495831, 1.2761267090685693,
        68.03369279535653, 13.723774779863604, 72.45900185585229, 35.9836793008334,
        0.004838608942237839, 66.17501806759591, 40.53535346086322, 13.562051525189018,
        11.189547843266501, 14.911125178997054, 5.794253411503544, 85.09796881660037,
        79.04439894227251, 21.956676138086376, 21.679493768838135, 79.90990052396705,
        5.693166536825604, 3.255743675170785, 76.29610924237726, 21.61064905585506,
        75.94499540739068, 68.59372765709935, 13.744699080416249, 73.49513940624934,
        41.98702448938898, 85.85891830416884, 21.97423744579819, 95.20367989016664,
        85.8077618961188, 5.8989773620980275, 85.28308636035376, 79.81471607437997,
        21.98081890029963, 21.752275136147347, 81.86988115127984, 76.71753841761563,
        96.4235579700543, 85.9996210035747, 21.99560083691359, 95.52215373906799,
        86.9863765303547, 96.67114222074586,
    ],
    "I2": [
        0, 0, 0, 0, 0, 0, 0, 98.47113465856194, 97.15729547201764, 92.6077318859173,
        90.50960247091595, 0, 0, 0, 93.28010371582195, 83.8178775825028, 82.02746932581702,
        62.52038751814519, 98.66548229867638, 95.34585727318827, 21.637875542163897,
        97.21322966543055, 91.76025549437361, 95.89654871908103, 93.12122843780001, 0,
        96.22957365539055, 93.80146559028222, 86.15411075077813, 82.49789279354023,
        87.71201352161597, 64.7626681488521, 98.29792425180523, 97.24579799270683,
        96.0631473206031, 93.36811356244282, 96.60736355860553, 63.61968013172724,
        42.625579543388284, 96.31970445159733, 89.93708585144958, 95.62832598052452,
        95.1158189967969, 85.48988096693014, 94.2775854908255, 91.15960208529944,
        97.17910025890454, 93.50182189953348, 97.27906421263411, 95.81026335695768,
        51.21138869604651, 96.74926117721981, 94.99905694637025, 92.37603479789846,
        88.23973591926135, 94.66190340653345, 93.97742417401874, 96.45838413610264,
        95.57045562015362, 89.47918401254465, 95.9396496410625, 93.97966819478289,
        95.11725449753656,
    ],
    "H2": [
        1, 1, 1, 1, 1, 1, 1, 65.40798413674501, 35.177767867058584, 13.527647868925934,
        10.536966411948752, 1, 1, 1, 14.881182055659007, 6.17965909662587, 5.564046700648959,
        2.668117234360774, 74.93343842559383, 21.486234064958307, 1.2761267090685688,
        35.883832535288555, 12.13629863543906, 24.369730052602144, 14.537479417039673, 1,
        26.522199576440283, 16.132845829366445, 7.2223602399260844, 5.71359772971174,
        8.138029788355594, 2.8378993171908493, 58.751791808360956, 36.30815740283343,
        25.4010012930733, 15.078665918295547, 29.475601564574664, 2.748738888555235,
        1.7429369953396403, 27.17173082564042, 9.93747919576607, 22.874532628578276,
        20.47426168981433, 6.891742222933599, 17.47514092865422, 11.311708020937779,
        35.44968243400476, 15.388928781872046, 36.752061722415405, 23.867848631026696,
        2.0496586667941643, 30.762237587108064, 19.996228496826973, 13.116534158948536,
        8.503210413768114, 18.73326910614406, 16.604191111816654, 28.235699139306206,
        22.575685313140113, 9.5049661660499, 24.62841655520775, 16.610380164319466,
        20.4802810118914,
    ],
    "tau2": [
        0, 0, 0, 0, 0, 0, 0, 1.8960675436136984, 1.8845789763065317, 1.0879160460092825,
        1.073321729378712, 0, 0, 0, 1.7437914904032459, 0.9480097330976055, 0.11404467726479606,
        0.08455640062402782, 3.0579860944608694, 2.023305554935279, 0.033458804659828464,
        1.242751059660295, 0.6217181401390813, 1.0705814254057022, 1.0327580179501183, 0,
        1.225730735185868, 1.2274853194008664, 0.6200530656113014, 0.619638398216701,
        0.8624946584349069, 0.05948503324929626, 1.6711017196473403, 1.6849072523054518,
        0.9859370561917346, 1.002869628757354, 1.7526824158187053, 0.07359523396657726,
        0.056193285538150894, 1.697057691040716, 1.0315095885834564, 1.0090337852263456,
        0.9247788193550261, 0.40717211389661256, 0.968761561020142, 0.9566067504738258,
        1.1596294203174644, 0.6117865780852887, 1.3801452160289795, 1.3838925085780862,
        0.04582225041878843, 1.176239499596093, 1.1867979286391337, 0.6408556858928578,
        0.6546438080060094, 1.370985735746482, 0.8685972784447427, 1.119909326936744,
        0.9031410995666825, 0.44014119084879133, 1.120733588598766, 1.1253585836910125,
        0.9402751079371224,
    ],
    "estimate": [
        -0.35516964094010695, -0.3479400227390985, -2.317569160163731, -1.8879822529368466,
        -0.38396414116970123, 0.17214866906959106, -0.3539514249021857, -1.328025677875201,
        -1.3374907027995313, -1.0734444730584336, -1.0867448315731199, -2.2222327389556575,
        -0.3568913541008361, -0.35654475000425184, -1.392042186917414, -1.150871801699529,
        -0.11412101737915346, -0.06140182440868344, -1.0709225850790234, -0.8278926889471709,
        0.04561071963823221, -1.004372822403677, -0.807219954416935, -1.4965769073700068,
        -1.512385965410143, -0.3554587774494576, -1.0371761587011206, -1.0443653891540656,
        -0.845939608915124, -0.8579830105443296, -1.5777086040100414, -0.18360511169655128,
        -0.8287220210550872, -0.8311089090895457, -0.6432763495134297, -0.6464938596123564,
        -1.330831863186737, -0.16203029628795956, -0.10950272587037746, -0.8545317335828756,
        -0.6708614125923889, -1.2073722443928876, -0.8661689761355197, -0.7011888870039498,
        -1.2414946778506124, -1.2519617405879628, -0.7093973105491952, -0.551421049682655,
        -1.0758195211905182, -1.0807321383507607, -0.20499537840890755, -0.7268337647893935,
        -0.7290025869619856, -0.5702033116266116, -0.573516809401651, -1.1059425999192345,
        -1.057644816894779, -0.9268968204448703, -0.651700401836367, -0.5106092748102707,
        -0.9460254633946723, -0.9500643011799137, -0.8431112180965628,
    ],
}

# fmt: on


def _fit(yi, vi, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", im.MetaAnalysisWarning)
        return im.meta_analysis(yi=yi, vi=vi, **kwargs)


def _random_data(k: int, seed: int):
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.2, k)
    return rng.normal(0.2, np.sqrt(vi + 0.05)), vi


# ------------------------------------------------------------------------------- GOSH


def test_r_gosh_reml():
    yi, vi = NORMAND_YI[:6], NORMAND_VI[:6]
    res = _fit(yi, vi, method="REML", control=CTL)
    frame = gosh(res)
    assert list(frame.columns) == ["estimate", "tau2", "i2", "h2", "q", "k", "members"]
    assert len(frame) == 63 and frame.attrs["exact"]
    assert frame["members"].dtype == np.uint32
    assert frame["members"].tolist() == list(range(1, 64))
    rows = np.asarray(GOSH6["members"], dtype=int) - 1
    for ours, theirs in (
        ("estimate", "estimate"),
        ("tau2", "tau2"),
        ("i2", "I2"),
        ("h2", "H2"),
        ("q", "QE"),
        ("k", "k"),
    ):
        np.testing.assert_allclose(
            frame[ours].to_numpy(float)[rows], GOSH6[theirs], rtol=1e-7, atol=1e-9, err_msg=ours
        )


@pytest.mark.parametrize("method", METHODS)
def test_gosh_equals_single_fits(method):
    yi, vi = _random_data(6, seed=METHODS.index(method))
    res = _fit(yi, vi, method=method, control=CTL, test="knha")
    frame = gosh(res)
    assert len(frame) == 2**6 - 1
    incl = decode_members(frame["members"], 6)
    np.testing.assert_array_equal(incl.sum(axis=1), frame["k"])
    expected = []
    for row in incl:
        sub = _fit(yi[row], vi[row], method=method, control=CTL)
        expected.append(
            [sub.estimate, sub.tau2 if method != "FE" else np.nan, sub.i2, sub.h2, sub.q]
        )
    np.testing.assert_allclose(
        frame[["estimate", "tau2", "i2", "h2", "q"]].to_numpy(float),
        np.array(expected),
        rtol=1e-10,
        atol=1e-12,
    )
    full = frame.iloc[-1]
    assert full["k"] == 6 and full["estimate"] == pytest.approx(res.estimate, rel=1e-12)
    assert full["i2"] == pytest.approx(res.i2, rel=1e-10, abs=1e-12)


def test_gosh_counts_and_chunks():
    yi, vi = _random_data(12, seed=5)
    res = _fit(yi, vi, method="DL")
    frame = gosh(res)
    assert len(frame) == 4095
    assert (frame["k"].to_numpy() == np.bitwise_count(frame["members"].to_numpy())).all()
    last = frame.iloc[-1]
    assert last["members"] == 4095 and last["estimate"] == pytest.approx(res.estimate)
    assert last["q"] == pytest.approx(res.q) and last["tau2"] == pytest.approx(res.tau2)
    single = frame[frame["k"] == 1]
    assert (single["q"].abs() < 1e-12).all() and (single["h2"] == 1).all()
    np.testing.assert_allclose(single["estimate"], yi, rtol=1e-14)


def test_gosh_random_subsets():
    yi, vi = _random_data(25, seed=8)
    res = _fit(yi, vi, method="REML", control=CTL)
    frame = gosh(res, subsets=3000, seed=1)
    assert len(frame) == 3000 and not frame.attrs["exact"]
    assert frame["members"].dtype == np.uint32
    assert (frame["members"] > 0).all() and (frame["members"] < 2**25).all()
    again = gosh(res, subsets=3000, seed=1)
    np.testing.assert_array_equal(frame["members"], again["members"])
    # spot-check a few rows against single fits
    incl = decode_members(frame["members"][:5], 25)
    for row, mask in zip(frame.itertuples(), incl, strict=False):
        sub = _fit(yi[mask], vi[mask], method="REML", control=CTL)
        assert row.estimate == pytest.approx(sub.estimate, rel=1e-10)
    # subset sizes ~ Binomial(25, 1/2)
    assert abs(frame["k"].mean() - 12.5) < 0.5
    # smaller k with fewer subsets than 2^k - 1: a random sample too
    small = gosh(_fit(yi[:8], vi[:8], method="DL"), subsets=100, seed=2)
    assert len(small) == 100 and not small.attrs["exact"]


def test_gosh_many_studies_members_are_python_ints():
    yi, vi = _random_data(70, seed=9)
    res = _fit(yi, vi, method="DL")
    frame = gosh(res, subsets=200, seed=3)
    assert frame["members"].dtype == object
    incl = decode_members(frame["members"], 70)
    assert incl.shape == (200, 70)
    np.testing.assert_array_equal(incl.sum(axis=1), frame["k"])
    mask = incl[0]
    sub = _fit(yi[mask], vi[mask], method="DL")
    assert frame["estimate"].iloc[0] == pytest.approx(sub.estimate, rel=1e-12)


def test_gosh_degenerate():
    with pytest.raises(ValueError):
        gosh(_fit([0.1], [0.1], method="DL"))
    frame = gosh(_fit([0.1, 0.5], [0.1, 0.2], method="FE"))
    assert len(frame) == 3 and frame["tau2"].isna().all()
    with pytest.raises(ValueError):
        gosh(_fit([0.1, 0.5], [0.1, 0.2], method="DL"), subsets=1)


# -------------------------------------------------------------------- permutation tests


@pytest.mark.parametrize(
    ("ref", "method", "test"),
    [("PERM_REML", "REML", "z"), ("PERM_DL_KNHA", "DL", "knha"), ("PERM_FE", "FE", "z")],
)
def test_r_permutest_exact(ref, method, test):
    ref = globals()[ref]
    res = _fit(NORMAND_YI, NORMAND_VI, method=method, test=test, control=CTL)
    out = permutation_test(res)
    assert isinstance(out, PermutationResult)
    assert out.exact and out.iterations == ref["exact.iter"] == 512
    assert out.statistic[0] == pytest.approx(ref["zval"], rel=1e-8)
    assert out.pval[0] == pytest.approx(ref["pval"], abs=1e-12)
    assert out.qm_pval == pytest.approx(ref["QMp"], abs=1e-12)


def test_r_permutest_meta_regression_exact():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", im.MetaAnalysisWarning)
        reg = im.meta_regression(
            yi=PERMREG["yi"],
            vi=PERMREG["vi"],
            mods={"ablat": PERMREG["ablat"]},
            method="REML",
            control=CTL,
        )
    np.testing.assert_allclose(reg.statistic, PERMREG["zval"], rtol=1e-8)
    out = permutation_test(reg)
    assert out.exact and out.iterations == PERMREG["exact.iter"] == 360
    np.testing.assert_allclose(out.pval, PERMREG["pval"], atol=1e-12)
    assert out.qm_pval == pytest.approx(PERMREG["QMp"], abs=1e-12)
    assert list(out.to_frame()["name"]) == ["intrcpt", "ablat"]


@pytest.mark.parametrize("method", ["FE", "DL", "REML", "PM"])
def test_exact_sign_flip_equals_brute_force(method):
    yi, vi = _random_data(6, seed=4)
    res = _fit(yi, vi, method=method, control=CTL)
    out = permutation_test(res, iterations=64)
    assert out.exact and out.iterations == 64
    stats = []
    for signs in itertools.product([1.0, -1.0], repeat=6):
        stats.append(_fit(np.asarray(signs) * yi, vi, method=method, control=CTL).statistic)
    stats = np.array(stats)
    np.testing.assert_allclose(
        np.sort(out.statistic_perm[:, 0]), np.sort(stats), rtol=1e-10, atol=1e-12
    )
    tol = np.sqrt(np.finfo(float).eps)
    expected = np.mean(np.abs(stats) >= abs(res.statistic) - tol)
    assert out.pval[0] == expected
    assert 0 < out.pval[0] <= 1


def test_random_sign_flips():
    yi, vi = _random_data(15, seed=6)
    res = _fit(yi, vi, method="REML", control=CTL)
    out = permutation_test(res, iterations=500, seed=11)
    assert not out.exact and out.iterations == 500
    assert 0 <= out.pval[0] <= 1 and 0 <= out.qm_pval <= 1
    assert out.statistic_perm[0, 0] == pytest.approx(res.statistic, rel=1e-10)
    again = permutation_test(res, iterations=500, seed=11)
    np.testing.assert_array_equal(out.statistic_perm, again.statistic_perm)
    forced = permutation_test(
        _fit(yi[:5], vi[:5], method="DL"), iterations=100, exact=False, seed=1
    )
    assert not forced.exact and forced.iterations == 100


def test_random_row_permutations_meta_regression():
    yi, vi = _random_data(12, seed=12)
    x = np.linspace(0, 1, 12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", im.MetaAnalysisWarning)
        reg = im.meta_regression(yi=yi, vi=vi, mods={"x": x}, method="DL")
    out = permutation_test(reg, iterations=300, seed=2)
    assert not out.exact and out.statistic_perm.shape == (300, 2)
    np.testing.assert_allclose(out.statistic_perm[0], reg.statistic, rtol=1e-10)
    assert ((out.pval >= 0) & (out.pval <= 1)).all()
    # one permutation against a direct fit with permuted moderators
    rng = np.random.default_rng(2)
    perm = rng.permuted(np.tile(np.arange(12), (300, 1)), axis=1)[7]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", im.MetaAnalysisWarning)
        direct = im.meta_regression(yi=yi, vi=vi, mods={"x": x[perm]}, method="DL")
    np.testing.assert_allclose(out.statistic_perm[7], direct.statistic, rtol=1e-10)
    assert out.qm_perm[7] == pytest.approx(direct.qm, rel=1e-10)


def test_permutation_errors():
    res = _fit(NORMAND_YI, NORMAND_VI, method="DL")
    with pytest.raises(ValueError):
        permutation_test(res, iterations=1)
    with pytest.raises(TypeError):
        permutation_test("not a result")


def test_gosh_all_subsets_when_requested_number_covers_them():
    yi, vi = _random_data(5, seed=13)
    frame = gosh(_fit(yi, vi, method="DL"), subsets=100, max_exact_k=2)
    assert frame.attrs["exact"] and len(frame) == 31


def test_gosh_reports_non_convergence():
    yi, vi = _random_data(8, seed=14)
    res = _fit(yi, vi, method="REML", control={"maxiter": 2})
    with pytest.warns(im.ConvergenceWarning):
        frame = gosh(res)
    assert not frame.attrs["converged"] and frame.attrs["not_converged"] > 0


@pytest.mark.parametrize("method", ["REML", "ML", "PM"])
def test_staged_tau2_equals_one_batch(method):
    from igmeta.design import InterceptDesign
    from igmeta.estimators import estimate_tau2
    from igmeta.sensitivity import staged_tau2

    yi, vi = _random_data(13, seed=21)
    k = yi.size
    members = np.arange(1, 2**k, dtype=np.int64)
    mask = ((members[:, None] >> np.arange(k)) & 1).astype(bool)
    control = {"threshold": 1e-13, "tol": 1e-15, "maxiter": 1000}
    whole = estimate_tau2(InterceptDesign(yi, vi, mask), method, control)
    staged = staged_tau2(
        lambda rows: InterceptDesign(yi, vi, mask[rows]), mask.shape[0], method, control, chunk=1500
    )
    if method != "PM":
        assert whole.iterations.max() > 24  # the later stages are exercised
    np.testing.assert_array_equal(staged.converged, whole.converged)
    np.testing.assert_allclose(staged.tau2, whole.tau2, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(staged.se_tau2, whole.se_tau2, rtol=1e-12)


def test_gosh_multiple_chunks_on_threads():
    yi, vi = _random_data(15, seed=22)
    res = _fit(yi, vi, method="REML", control={**CTL, "maxiter": 1000})
    with pytest.warns(im.ConvergenceWarning):
        frame = gosh(res)  # 32,767 fits: several chunks on the thread pool
    assert len(frame) == 2**15 - 1
    failed = frame["estimate"].isna().to_numpy()
    assert failed.sum() == frame.attrs["not_converged"] > 0
    rows = np.r_[np.random.default_rng(0).choice(len(frame), 25, replace=False), len(frame) - 1]
    rows = np.r_[rows, np.flatnonzero(failed)[:3]]
    incl = decode_members(frame["members"].to_numpy()[rows], 15)
    for r, mask in zip(rows, incl, strict=True):
        sub = _fit(yi[mask], vi[mask], method="REML", control={**CTL, "maxiter": 1000})
        got = frame.iloc[r]
        if not sub.converged:
            # REML Fisher scoring oscillates for these subsets (metafor stops with an error)
            assert failed[r] and np.isnan(got[["estimate", "tau2", "i2", "h2", "q"]]).all()
            continue
        assert got["estimate"] == pytest.approx(sub.estimate, rel=1e-10)
        assert got["tau2"] == pytest.approx(sub.tau2, rel=1e-9, abs=1e-12)


def test_meta_regression_qm_matches_the_model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", im.MetaAnalysisWarning)
        reg = im.meta_regression(
            yi=PERMREG["yi"],
            vi=PERMREG["vi"],
            mods={"ablat": PERMREG["ablat"]},
            method="REML",
            control=CTL,
            test="knha",
        )
    out = permutation_test(reg, iterations=50, seed=1, exact=False)
    assert out.qm == pytest.approx(reg.qm, rel=1e-10)
    assert out.qm_perm[0] == pytest.approx(reg.qm, rel=1e-10)


# ----------------------------------------------------------------- progress and cancel


def _progress_data(k=15, seed=4):
    """k = 15: 32,767 GOSH fits, in several chunks."""
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.2, k)
    yi = rng.normal(0.3, np.sqrt(vi + 0.05))
    return yi, vi


def _regression(k=9):
    yi, vi = _progress_data(k)
    return im.meta_regression(yi=yi, vi=vi, mods=np.arange(k, dtype=float), method="REML")


RUNNERS = {
    "gosh DL": lambda: (
        gosh,
        im.meta_analysis(yi=_progress_data()[0], vi=_progress_data()[1], method="DL"),
        {},
    ),
    "gosh REML": lambda: (
        gosh,
        im.meta_analysis(yi=_progress_data()[0], vi=_progress_data()[1], method="REML"),
        {},
    ),
    "permutation REML": lambda: (
        permutation_test,
        im.meta_analysis(yi=_progress_data(20)[0], vi=_progress_data(20)[1], method="REML"),
        {"iterations": 3000, "seed": 1},
    ),
    "permutation regression": lambda: (
        permutation_test,
        _regression(),
        {"iterations": 3000, "seed": 2, "exact": False},
    ),
}


@pytest.mark.parametrize("name", sorted(RUNNERS))
def test_progress_reports_rise_to_one_and_do_not_change_results(name):
    func, res, kwargs = RUNNERS[name]()
    seen = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = func(res, **kwargs)
        tracked = func(res, progress=seen.append, **kwargs)
    assert len(seen) >= 3
    assert seen[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in seen)
    assert sorted(seen) == seen
    if isinstance(plain, PermutationResult):
        np.testing.assert_array_equal(plain.statistic_perm, tracked.statistic_perm)
    else:
        np.testing.assert_array_equal(plain.to_numpy(), tracked.to_numpy())


@pytest.mark.parametrize("name", sorted(RUNNERS))
def test_cancelling_stops_the_computation(name):
    func, res, kwargs = RUNNERS[name]()
    calls = []

    def cancel_early(fraction):
        calls.append(fraction)
        if fraction > 0.1:
            raise im.Cancelled("stop")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        complete = []
        func(res, progress=complete.append, **kwargs)
        with pytest.raises(im.Cancelled):
            func(res, progress=cancel_early, **kwargs)
    # Every report after the first cancelled one comes from a chunk that was already
    # running or that stops at once: far fewer than a complete run makes.
    assert max(calls) < 1.0
    assert len(calls) < len(complete)
