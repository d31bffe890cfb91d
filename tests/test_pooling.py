"""igmeta.pooling (``meta_analysis``) against metafor 3.8-1 for settings the oracle folder
does not cover: confidence levels, ML with Knapp-Hartung, two or one studies, tau^2 on the
boundary, non-convergence, and the continuity corrections the pooled studies depend on.

Reference values were produced with R 4.2.2 / metafor 3.8-1; the R code is beside each
value. Tolerances follow the oracle's: 1e-10 closed forms, 1e-6 iterative.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import igmeta as im

AI, BI, CI, DI = [7, 12, 13, 0, 5], [4, 18, 6, 10, 5], [0, 9, 2, 3, 0], [12, 21, 18, 7, 10]
CONTROL = {"threshold": 1e-13, "tol": 1e-15, "maxiter": 10000}


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", im.MetaAnalysisWarning)
        yield


# escalc("OR", ai, bi, ci, di, to=..., add=0.5)
OR_ALL_YI = [
    3.7297014486341915,
    0.42471904875109839,
    2.7323675087529162,
    -2.2823823856765264,
    3.044522437723423,
]
OR_ALL_VI = [
    2.4355555555555557,
    0.28582883985576768,
    0.681974281974282,
    2.5142857142857142,
    2.4588744588744591,
]
OR_ONLY0_YI = [
    3.7297014486341915,
    0.44183275227903929,
    2.9704144655697009,
    -2.2823823856765264,
    3.044522437723423,
]
OR_ONLY0_VI = [
    2.4355555555555557,
    0.29761904761904762,
    0.79914529914529919,
    2.5142857142857142,
    2.4588744588744591,
]


@pytest.mark.parametrize(
    ("to", "yi", "vi"),
    [
        ("all", OR_ALL_YI, OR_ALL_VI),
        ("if0all", OR_ALL_YI, OR_ALL_VI),
        ("only0", OR_ONLY0_YI, OR_ONLY0_VI),
    ],
)
def test_continuity_correction_targets(to, yi, vi):
    es = im.effect_sizes("OR", ai=AI, bi=BI, ci=CI, di=DI, to=to, add=0.5)
    np.testing.assert_allclose(es.yi, yi, rtol=1e-10)
    np.testing.assert_allclose(es.vi, vi, rtol=1e-10)


def test_no_correction_gives_undefined_effects_with_a_warning():
    with pytest.warns(im.DroppedStudiesWarning, match="undefined"):
        es = im.effect_sizes("OR", ai=AI, bi=BI, ci=CI, di=DI, to="none")
    assert np.isnan(es.yi[[0, 3, 4]]).all()
    np.testing.assert_allclose(es.yi[[1, 2]], [0.44183275227903929, 2.9704144655697009], rtol=1e-10)
    res = im.meta_analysis(es, method="DL")
    assert res.k == 2 and set(res.dropped) == {"Study 1", "Study 4", "Study 5"}


def test_ml_knha_at_90_percent():
    # rma(yi, vi, method="ML", test="knha", level=90, control=<tight>) on escalc("OR", ...)
    es = im.effect_sizes("OR", ai=AI, bi=BI, ci=CI, di=DI)
    res = im.meta_analysis(es, method="ML", test="knha", level=90, control=CONTROL)
    expected = [
        1.5574785989998983,
        1.0277018312004087,
        -0.63342424714670642,
        3.748381445146503,
        2.2995610353575908,
        67.023735874641318,
        0.20422678870053781,
    ]
    got = [res.estimate, res.se, res.ci_lower, res.ci_upper, res.tau2, res.i2, res.pval]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(
        [res.pi_lower, res.pi_upper], [-2.347778491698882, 5.462735689698679], rtol=1e-6
    )


def test_dl_at_99_percent():
    es = im.effect_sizes("OR", ai=AI, bi=BI, ci=CI, di=DI)
    res = im.meta_analysis(es, method="DL", level=0.99)
    expected = [
        1.5660021180786474,
        0.9495708637358059,
        -0.87993033852828084,
        4.0119345746855757,
        3.0228405744443707,
        72.765106152911045,
        0.099113170864538552,
        -3.5368226129005738,
    ]
    got = [
        res.estimate,
        res.se,
        res.ci_lower,
        res.ci_upper,
        res.tau2,
        res.i2,
        res.pval,
        res.pi_lower,
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_generic_input_from_ratio_confidence_intervals():
    # rma(yi=log(est), sei=(log(ub)-log(lb))/(2*qnorm(.975)), method="REML")
    es = im.effect_sizes(
        "HR", estimate=[2.1, 0.8, 1.5], ci_lower=[1.1, 0.4, 0.75], ci_upper=[4.0, 1.6, 3.0]
    )
    res = im.meta_analysis(es, method="REML")
    np.testing.assert_allclose(
        [res.estimate, res.se, res.tau2],
        [0.31823616605600707, 0.28395301181735116, 0.12261196564492867],
        rtol=1e-6,
    )
    assert res.transform == "exp"


def test_two_studies_reml():
    res = im.meta_analysis(yi=[0.1, 0.5], vi=[0.04, 0.09], method="REML", control=CONTROL)
    np.testing.assert_allclose(
        [res.estimate, res.se, res.tau2, res.i2],
        [0.2375, 0.18998355191963329, 0.015, 18.75],
        rtol=1e-6,
    )


def test_single_study_is_its_own_estimate_with_a_warning():
    with pytest.warns(im.SmallSampleWarning, match="Only one study"):
        res = im.meta_analysis(yi=[0.3], vi=[0.04], method="REML")
    assert (res.estimate, res.se, res.tau2, res.i2, res.h2, res.q, res.q_pval) == pytest.approx(
        (0.3, 0.2, 0.0, 0.0, 1.0, 0.0, 1.0)
    )
    assert res.warnings


def test_knha_with_one_study_falls_back_to_z():
    with pytest.warns(im.SmallSampleWarning, match="Hartung-Knapp"):
        res = im.meta_analysis(yi=[0.3], vi=[0.04], test="knha")
    assert res.test == "z" and np.isfinite(res.ci_lower)


def test_no_defined_study_is_a_clear_error():
    with pytest.raises(ValueError, match="No study has a defined effect"):
        im.meta_analysis(yi=[np.nan], vi=[0.1])


def test_tau2_on_the_boundary_is_explained():
    with pytest.warns(im.BoundaryWarning, match="boundary"):
        res = im.meta_analysis(yi=[0.1, 0.1, 0.1], vi=[0.1, 0.2, 0.3], method="REML")
    assert res.tau2 == 0 and res.i2 == 0


def test_identical_studies_have_zero_heterogeneity():
    for method in ("FE", "DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS"):
        res = im.meta_analysis(yi=[0.2] * 4, vi=[0.05] * 4, method=method)
        assert res.estimate == pytest.approx(0.2)
        assert res.tau2 == pytest.approx(0.0, abs=1e-12)
        assert np.isfinite(res.se) and np.isfinite(res.pval)


def test_all_zero_arms_are_corrected_not_nan():
    es = im.effect_sizes("RR", ai=[0, 0], n1i=[10, 12], ci=[0, 3], n2i=[11, 12])
    assert np.isfinite(es.yi).all() and es.corrected.tolist() == [True, True]


def test_non_convergence_is_reported():
    with pytest.warns(im.ConvergenceWarning):
        res = im.meta_analysis(
            yi=[0.1, 0.9, -0.4, 1.5],
            vi=[0.01, 0.02, 0.03, 0.5],
            method="REML",
            control={"maxiter": 1},
        )
    assert not res.converged
