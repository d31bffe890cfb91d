"""Property tests (hypothesis): invariances and bounds that must hold for any data."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import igmeta as im
from igmeta.design import InterceptDesign, MatrixDesign
from igmeta.kernel import fit_batch

METHODS = ("FE", "DL", "REML", "ML", "PM", "EB", "SJ", "HE", "HS")


@st.composite
def studies(draw, min_k=2, max_k=40):
    k = draw(st.integers(min_k, max_k))
    yi = draw(st.lists(st.floats(-5, 5, allow_nan=False), min_size=k, max_size=k))
    vi = draw(st.lists(st.floats(1e-4, 10, allow_nan=False), min_size=k, max_size=k))
    return np.array(yi), np.array(vi)


def _fit(yi, vi, method, test="z", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", im.MetaAnalysisWarning)
        return im.meta_analysis(yi=yi, vi=vi, method=method, test=test, **kw)


@settings(max_examples=60, deadline=None)
@given(studies(), st.sampled_from(METHODS), st.sampled_from(("z", "knha")), st.randoms())
def test_permuting_studies_changes_nothing(data, method, test, rnd):
    yi, vi = data
    order = list(range(len(yi)))
    rnd.shuffle(order)
    a, b = _fit(yi, vi, method, test), _fit(yi[order], vi[order], method, test)
    for name in ("estimate", "se", "tau2", "q", "i2", "ci_lower", "ci_upper"):
        assert np.isclose(getattr(a, name), getattr(b, name), rtol=1e-6, atol=1e-9), name


@settings(max_examples=60, deadline=None)
@given(studies(), st.sampled_from(METHODS))
def test_bounds_and_intervals(data, method):
    yi, vi = data
    res = _fit(yi, vi, method)
    assert res.ci_lower <= res.estimate <= res.ci_upper
    assert 0 <= res.i2 <= 100 and res.h2 >= 0 and res.tau2 >= 0
    assert 0 <= res.pval <= 1 and 0 <= res.q_pval <= 1
    assert np.isclose(res.weights.sum(), 100)
    if method != "FE":
        assert res.pi_lower <= res.ci_lower + 1e-12 and res.pi_upper >= res.ci_upper - 1e-12
    for value in (res.estimate, res.se, res.q, res.tau2):
        assert np.isfinite(value)


@settings(max_examples=40, deadline=None)
@given(studies(min_k=3, max_k=15), st.sampled_from(METHODS))
def test_batched_fits_equal_single_fits(data, method):
    yi, vi = data
    k = len(yi)
    mask = ~np.eye(k, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = fit_batch(InterceptDesign(yi, vi, mask), method)
    for i in range(k):
        single = _fit(np.delete(yi, i), np.delete(vi, i), method)
        assert np.isclose(batch.beta[i, 0], single.estimate, rtol=1e-9, atol=1e-12)
        assert np.isclose(batch.tau2.tau2[i], single.tau2, rtol=1e-9, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(studies(min_k=3, max_k=20), st.sampled_from(METHODS))
def test_intercept_design_equals_matrix_design(data, method):
    yi, vi = data
    a = fit_batch(InterceptDesign(yi, vi), method)
    b = fit_batch(MatrixDesign(yi, vi, np.ones((len(yi), 1))), method)
    for name in ("beta", "se", "q", "i2", "ll_reml"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(a.tau2.tau2, b.tau2.tau2, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(a.tau2.se_tau2, b.tau2.se_tau2, rtol=1e-7, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(studies(min_k=2, max_k=30))
def test_extreme_variances_stay_finite(data):
    yi, vi = data
    vi = vi * np.array([1e-8, 1e8] * len(vi))[: len(vi)]
    for method in ("REML", "DL", "PM"):
        res = _fit(yi, vi, method)
        assert np.isfinite([res.estimate, res.se, res.tau2, res.i2]).all()
