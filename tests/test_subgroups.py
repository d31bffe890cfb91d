"""igmeta.subgroups: the subgroup test's mixed-effects moderator model never builds a k x k
matrix (its projection sums equal the explicit matrix's; memory grows linearly with k).

The subgroup analyses' numbers (per-level fits, moderator tests, separate-tau^2 test) are
checked against metafor 3.8-1 by ``test_oracle.py`` (``oracle/cases/subgroup_*.json``, runner
``oracle_runners/moderators.py``).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from igmeta.design import MatrixDesign
from igmeta.effects import effect_sizes
from igmeta.subgroups import subgroup_analysis


def _explicit_sums(w, v, X, vb):
    """The projection sums from the explicit P = W - W X V X' W (the former kernel)."""
    wx = w[:, :, None] * X[None, :, :]
    p_mat = -np.matmul(wx @ vb, np.swapaxes(wx, 1, 2))
    diag = np.arange(p_mat.shape[1])
    p_mat[:, diag, diag] += w
    pv = p_mat * v[:, None, :]
    return {
        "tr_p": np.einsum("bii->b", p_mat),
        "tr_pp": np.einsum("bij,bij->b", p_mat, p_mat),
        "tr_pv": np.einsum("bii->b", pv),
        "tr_pvpv": np.einsum("bij,bji->b", pv, pv),
        "sum_p2v": np.einsum("bij,bij->b", pv, p_mat),
    }


@pytest.mark.parametrize(("batch", "k", "p"), [(1, 30, 3), (4, 50, 2), (3, 7, 4), (2, 12, 1)])
def test_projection_sums_match_the_explicit_matrix(batch, k, p):
    rng = np.random.default_rng(k * 10 + p)
    y = rng.normal(size=(batch, k))
    v = rng.uniform(0.01, 0.3, (batch, k))
    X = np.column_stack([np.ones(k)] + [rng.normal(size=k) for _ in range(p - 1)])
    mask = rng.random((batch, k)) > 0.2
    mask[:, : p + 1] = True
    design = MatrixDesign(y, v, X, mask)
    w = np.where(mask, 1.0 / (v + 0.05), 0.0)
    got = design.quantities(w)
    expected = _explicit_sums(w, design.v, X, got.vb)
    for name, value in expected.items():
        np.testing.assert_allclose(getattr(got, name), value, rtol=1e-10, err_msg=name)


def test_subgroup_test_memory_grows_linearly_with_k():
    k = 5000
    rng = np.random.default_rng(7)
    es = effect_sizes("GEN", yi=rng.normal(0.3, 0.3, k), vi=rng.uniform(0.01, 0.2, k))
    groups = np.where(rng.random(k) < 0.5, "a", "b")
    tracemalloc.start()
    try:
        result = subgroup_analysis(es, groups, method="REML")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.test_common_tau2 is not None
    assert np.isfinite(result.test_common_tau2.statistic)
    # A k x k float matrix alone would be 200 MB at k = 5000.
    assert peak < 40e6, f"peak {peak / 1e6:.1f} MB"
