"""The kernel's fast paths give the numbers of the plain (unbatched, unoptimised) engine.

The speed work in :mod:`igmeta.design`, :mod:`igmeta.estimators` and :mod:`igmeta.kernel`
added shortcuts; each is checked here against the path it replaces:

* ``quantities(w, need=...)`` computes only some fields: they must equal the full call;
* ``InterceptDesign`` sums equal the explicit projection matrix of ``MatrixDesign``;
* a fit alone (a batch of one) equals the same fit inside a larger batch;
* iterative estimators work on the unconverged rows only: every row of a batch equals the
  same fit run alone, whatever else is in the batch;
* p-values and critical values through ``scipy.special`` equal ``scipy.stats``;
* the fixed-effect quantities cached by a design equal a fresh computation.

Closed forms are compared at rtol 1e-10, iterative estimators at rtol 1e-6 (atol 1e-9,
as the metafor oracle).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

import igmeta as im
from igmeta.design import QUANTITY_NAMES, InterceptDesign, MatrixDesign
from igmeta.estimators import estimate_tau2, log_likelihoods, solve_generalised_q
from igmeta.kernel import fit_batch

CLOSED = ("FE", "DL", "HE", "HS", "SJ")
ITERATIVE = ("REML", "ML", "PM", "EB")
METHODS = CLOSED + ITERATIVE
FIT_FIELDS = (
    "beta",
    "se",
    "statistic",
    "pval",
    "ci_lower",
    "ci_upper",
    "q",
    "q_pval",
    "i2",
    "h2",
    "vt",
    "s2w",
    "qm",
    "qm_pval",
    "pi_lower",
    "pi_upper",
    "weights",
    "ll_ml",
    "ll_reml",
)


def _tol(method: str) -> dict:
    return {"rtol": 1e-6 if method in ITERATIVE else 1e-10, "atol": 1e-9}


def _data(k: int, seed: int, tau2: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.005, 0.3, k)
    y = rng.normal(0.4, np.sqrt(v + tau2))
    return y, v


def _all_subsets(k: int) -> np.ndarray:
    codes = np.arange(1, 1 << k, dtype="<u4")
    packed = codes.view(np.uint8).reshape(-1, 4)[:, : (k + 7) // 8]
    return np.unpackbits(packed, axis=1, count=k, bitorder="little").astype(bool)


def _assert_fits_equal(a, b, method, rows_a=slice(None), rows_b=slice(None)):
    tol = _tol(method)
    for name in FIT_FIELDS:
        np.testing.assert_allclose(
            getattr(a, name)[rows_a], getattr(b, name)[rows_b], err_msg=name, **tol
        )
    np.testing.assert_allclose(a.tau2.tau2[rows_a], b.tau2.tau2[rows_b], **tol)
    np.testing.assert_allclose(a.tau2.se_tau2[rows_a], b.tau2.se_tau2[rows_b], **tol)
    np.testing.assert_array_equal(a.tau2.converged[rows_a], b.tau2.converged[rows_b])


# --------------------------------------------------------------------------------------
# WLS quantities
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("masked", [False, True])
def test_need_subsets_equal_the_full_computation(masked):
    y, v = _data(12, 1)
    mask = _all_subsets(12)[::97] if masked else None
    design = InterceptDesign(y, v, mask)
    w = design.weights(np.linspace(0.0, 0.3, design.batch_size))
    full = design.quantities(w)
    for name in QUANTITY_NAMES:
        part = design.quantities(w, need=(name,))
        np.testing.assert_array_equal(getattr(part, name), getattr(full, name), err_msg=name)
    with pytest.raises(ValueError):
        design.quantities(w, need=("no_such_quantity",))


def test_intercept_sums_equal_the_projection_matrix():
    y, v = _data(15, 2)
    mask = _all_subsets(15)[::301]
    a = InterceptDesign(y, v, mask)
    b = MatrixDesign(y, v, np.ones((15, 1)), mask)
    tau2 = np.linspace(0.0, 0.5, a.batch_size)
    qa, qb = a.quantities(a.weights(tau2)), b.quantities(b.weights(tau2))
    for name in QUANTITY_NAMES:
        np.testing.assert_allclose(
            getattr(qa, name),
            getattr(qb, name).reshape(getattr(qa, name).shape),
            rtol=1e-10,
            atol=1e-12,
            err_msg=name,
        )


def test_cached_fixed_effect_quantities_equal_a_fresh_computation():
    y, v = _data(9, 3)
    design = InterceptDesign(y, v, _all_subsets(9))
    w, q = design.fe_quantities()
    fresh = design.quantities(design.weights(np.zeros(design.batch_size)))
    np.testing.assert_array_equal(w, design.weights(np.zeros(design.batch_size)))
    for name in ("beta", "vb", "rss", "tr_p", "tr_pp", "logdet_xwx"):
        np.testing.assert_array_equal(getattr(q, name), getattr(fresh, name))


def test_weights_are_zero_outside_the_mask_and_sum_log_ignores_them():
    y, v = _data(6, 4)
    mask = _all_subsets(6)
    design = InterceptDesign(y, v, mask)
    tau2 = np.full(design.batch_size, 0.1)
    w = design.weights(tau2)
    assert (w[~mask] == 0).all()
    np.testing.assert_array_equal(w[mask], (1.0 / (v + 0.1))[np.nonzero(mask)[1]])
    expected = np.where(mask, np.log(v + 0.1), 0.0).sum(axis=1)
    np.testing.assert_allclose(design.sum_log_vt(tau2), expected, rtol=1e-13)


def test_take_keeps_rows_and_settings():
    y, v = _data(8, 5)
    mask = _all_subsets(8)
    design = InterceptDesign(y, v, mask)
    rows = np.array([3, 17, 200])
    sub = design.take(rows)
    np.testing.assert_array_equal(sub.mask, mask[rows])
    np.testing.assert_array_equal(sub.k, mask[rows].sum(axis=1))
    a = fit_batch(sub, "DL")
    b = fit_batch(InterceptDesign(y, v, mask[rows]), "DL")
    _assert_fits_equal(a, b, "DL")


# --------------------------------------------------------------------------------------
# Single fits: the 1-D Fisher scoring path against the batched path
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["REML", "ML"])
@pytest.mark.parametrize("k", [2, 3, 5, 10, 40, 300, 5000])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_fit_alone_equals_the_same_fit_in_a_batch(method, k, seed):
    y, v = _data(k, seed, tau2=[0.0, 0.02, 0.4][seed])
    single = estimate_tau2(InterceptDesign(y, v), method)
    # Two identical rows: a batch of two.
    batched = estimate_tau2(InterceptDesign(np.vstack([y, y]), np.vstack([v, v])), method)
    for row in (0, 1):
        np.testing.assert_allclose(single.tau2[0], batched.tau2[row], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(single.se_tau2[0], batched.se_tau2[row], rtol=1e-10)
        assert single.converged[0] == batched.converged[row]
        assert abs(int(single.iterations[0]) - int(batched.iterations[row])) <= 1


def test_a_fit_alone_equals_the_same_fit_in_a_batch_on_boundary_and_degenerate_data():
    cases = [
        (np.array([0.1, 0.1, 0.1]), np.array([0.1, 0.2, 0.3])),  # no heterogeneity
        (np.array([0.5, -0.2]), np.array([1e-8, 1e8])),  # extreme variances
        (np.array([1.0, 2.0, 3.0, 4.0]), np.array([1e-6, 1e-6, 1e-6, 1e-6])),
        (np.array([0.3]), np.array([0.04])),  # k = 1
        (np.array([0.3, np.nan, 0.1]), np.array([0.04, 0.1, 0.02])),  # excluded study
    ]
    for y, v in cases:
        for method in ("REML", "ML"):
            single = estimate_tau2(InterceptDesign(y, v), method)
            batched = estimate_tau2(InterceptDesign(np.vstack([y, y]), np.vstack([v, v])), method)
            np.testing.assert_allclose(single.tau2[0], batched.tau2[0], rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(
                single.se_tau2[0], batched.se_tau2[0], rtol=1e-10, equal_nan=True
            )


# --------------------------------------------------------------------------------------
# Batches: every row equals the same fit run alone
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", ["z", "knha"])
def test_every_row_of_a_subset_batch_equals_its_own_fit(method, test):
    k = 9
    y, v = _data(k, 6, tau2=0.08)
    mask = _all_subsets(k)
    mask = mask[mask.sum(axis=1) >= 3][::7]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = fit_batch(InterceptDesign(y, v, mask), method, test)
        for b in range(0, mask.shape[0], 5):
            alone = fit_batch(InterceptDesign(y, v, mask[b : b + 1]), method, test)
            if method in ITERATIVE and not alone.tau2.converged[0]:
                continue
            _assert_fits_equal(batch, alone, method, rows_a=slice(b, b + 1))


@pytest.mark.parametrize("method", METHODS)
def test_batch_rows_do_not_depend_on_the_other_rows(method):
    k = 12
    y, v = _data(k, 7, tau2=0.1)
    mask = _all_subsets(k)
    mask = mask[mask.sum(axis=1) >= 2][::13]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = fit_batch(InterceptDesign(y, v, mask), method)
        order = np.random.default_rng(0).permutation(mask.shape[0])
        shuffled = fit_batch(InterceptDesign(y, v, mask[order]), method)
        halves = [
            fit_batch(InterceptDesign(y, v, part), method) for part in np.array_split(mask, 2)
        ]
    ok = whole.tau2.converged
    _assert_fits_equal(
        whole, shuffled, method, rows_a=order[ok[order]], rows_b=np.flatnonzero(ok[order])
    )
    split = np.concatenate([h.tau2.tau2 for h in halves])
    np.testing.assert_allclose(whole.tau2.tau2[ok], split[ok], **_tol(method))


def test_leave_one_out_batch_equals_single_fits():
    y, v = _data(30, 8, tau2=0.2)
    mask = ~np.eye(30, dtype=bool)
    for method in ("REML", "DL", "PM"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            batch = fit_batch(InterceptDesign(y, v, mask), method)
            for i in range(0, 30, 4):
                res = im.meta_analysis(yi=np.delete(y, i), vi=np.delete(v, i), method=method)
                tol = _tol(method)
                np.testing.assert_allclose(batch.beta[i, 0], res.estimate, **tol)
                np.testing.assert_allclose(batch.tau2.tau2[i], res.tau2, **tol)
                np.testing.assert_allclose(batch.se[i, 0], res.se, **tol)
                np.testing.assert_allclose(batch.ll_reml[i], res.loglik_reml, **tol)


@pytest.mark.parametrize("method", METHODS)
def test_masked_batch_rows_equal_single_fits_bit_for_bit(method):
    # Sums are left to right, so zero weights (masked studies) change nothing: a
    # leave-one-out row equals the single fit of the remaining studies exactly, even for
    # fits that stop at maxiter (where rounding differences would otherwise grow).
    rng = np.random.default_rng(12)
    for trial in range(12):
        k = int(rng.integers(3, 40))
        yi = np.round(rng.uniform(-5, 5, k), trial % 3)
        vi = np.round(rng.uniform(1e-4, 10, k), trial % 3) + 1e-4
        if trial % 4 == 0:
            yi[rng.random(k) < 0.6] = 0.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            batch = fit_batch(InterceptDesign(yi, vi, ~np.eye(k, dtype=bool)), method)
            for i in range(k):
                res = im.meta_analysis(yi=np.delete(yi, i), vi=np.delete(vi, i), method=method)
                assert batch.beta[i, 0] == res.estimate
                assert batch.se[i, 0] == res.se
                assert batch.tau2.tau2[i] == res.tau2
                assert batch.tau2.converged[i] == res.converged
                assert batch.q[i] == res.q


ALL_FIT_FIELDS = (*FIT_FIELDS, "vb", "ddf", "q_df", "qm_df", "k")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("test", ["z", "knha"])
def test_a_fit_alone_equals_the_batched_fit_bit_for_bit(method, test):
    # One intercept-only fit and a batch of two copies of the same data (row sums are
    # left-to-right for k <= 256 in both): every field is equal.
    rng = np.random.default_rng(13)
    for trial in range(25):
        k = int(rng.integers(1, 40)) if trial % 5 else int(rng.integers(200, 257))
        y = np.round(rng.uniform(-3, 3, k), trial % 3)
        v = np.round(rng.uniform(1e-3, 2, k), trial % 3) + 1e-3
        if trial % 7 == 0:
            y[:] = 0.5
        level = (0.95, 0.9, 99)[trial % 3]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            one = fit_batch(InterceptDesign(y, v), method, test, level)
            two = fit_batch(
                InterceptDesign(np.vstack([y, y]), np.vstack([v, v])), method, test, level
            )
        for name in ALL_FIT_FIELDS:
            np.testing.assert_array_equal(getattr(one, name), getattr(two, name)[:1], err_msg=name)
        for name in ("tau2", "se_tau2", "converged", "iterations"):
            np.testing.assert_array_equal(getattr(one.tau2, name), getattr(two.tau2, name)[:1])


def test_q_equation_solver_rows_are_independent():
    y, v = _data(10, 9, tau2=0.3)
    mask = _all_subsets(10)
    mask = mask[mask.sum(axis=1) >= 2][::11]
    design = InterceptDesign(y, v, mask)
    target = design.k - 1.0
    t_all, ok_all = solve_generalised_q(design, target)
    for b in range(0, mask.shape[0], 9):
        t_one, ok_one = solve_generalised_q(design.take([b]), target[b : b + 1])
        np.testing.assert_allclose(t_all[b], t_one[0], rtol=1e-10, atol=1e-12)
        assert ok_all[b] == ok_one[0]


def test_log_likelihoods_without_quantities_equal_with_quantities():
    y, v = _data(7, 10)
    design = InterceptDesign(y, v, _all_subsets(7))
    tau2 = np.linspace(0, 1, design.batch_size)
    q = design.quantities(design.weights(tau2))
    a = log_likelihoods(design, tau2)
    b = log_likelihoods(design, tau2, q)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


# --------------------------------------------------------------------------------------
# Distribution functions: scipy.special in the kernel equals scipy.stats
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("test", ["z", "knha"])
@pytest.mark.parametrize("method", ["FE", "DL", "REML"])
def test_p_values_and_critical_values_equal_scipy_stats(method, test):
    k = 8
    y, v = _data(k, 11, tau2=0.15)
    mask = _all_subsets(k)
    mask = mask[mask.sum(axis=1) >= 2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_batch(InterceptDesign(y, v, mask), method, test, level=0.9)
    df = fit.q_df
    np.testing.assert_allclose(fit.q_pval, stats.chi2.sf(fit.q, df), rtol=1e-12, atol=1e-300)
    z = fit.statistic[:, 0]
    if test == "knha":
        crit = stats.t.ppf(0.95, df)
        pval = 2 * stats.t.sf(np.abs(z), df)
        qm_pval = stats.f.sf(fit.qm, 1, df)
    else:
        crit = stats.norm.ppf(0.95)
        pval = 2 * stats.norm.sf(np.abs(z))
        qm_pval = stats.chi2.sf(fit.qm, 1)
    np.testing.assert_array_equal(fit.pval[:, 0], pval)
    np.testing.assert_allclose(fit.qm_pval, qm_pval, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(fit.ci_upper[:, 0], fit.beta[:, 0] + crit * fit.se[:, 0], rtol=1e-14)
