"""The omnibus test QM of a meta-regression covers metafor's default coefficients.

R reference (R 4.2.2, metafor 3.8-1)::

    d <- data.frame(y = c(0.3, 0.5, 0.1, .4, .25, .6), v = c(0.1, .2, .1, .3, .15, .12),
                    x = 1:6, z = c(0, 1, 0, 1, 1, 0))
    r <- rma(y, v, mods = ~ x + z - 1, data = d, method = m, test = t)
    c(r$QM, r$QMdf, r$QMp)
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import igmeta as im
from igmeta.pooling import omnibus_coefficients

Y = [0.3, 0.5, 0.1, 0.4, 0.25, 0.6]
V = [0.1, 0.2, 0.1, 0.3, 0.15, 0.12]
MODS = {"x": [1, 2, 3, 4, 5, 6], "z": [0, 1, 0, 1, 1, 0]}
# (QM, QM df1, QM df2, QM p) from metafor; tau^2 is 0 here, so REML equals FE.
R_NO_INTERCEPT = {
    "z": (4.71304347826087, 2.0, np.nan, 0.0947492131887655),
    "knha": (6.3391812865497, 2.0, 4.0, 0.0575192429121367),
}


@pytest.mark.parametrize("method", ["FE", "REML"])
@pytest.mark.parametrize("test", ["z", "knha"])
def test_without_intercept_qm_tests_every_coefficient(method, test):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = im.meta_regression(yi=Y, vi=V, mods=MODS, intercept=False, method=method, test=test)
    qm, df1, df2, pval = R_NO_INTERCEPT[test]
    assert res.coef_names == ("x", "z")
    assert res.qm == pytest.approx(qm, rel=1e-10)
    assert res.qm_df[0] == df1
    if np.isnan(df2):
        assert np.isnan(res.qm_df[1])
    else:
        assert res.qm_df[1] == df2
    assert res.qm_pval == pytest.approx(pval, rel=1e-9)


def test_with_intercept_qm_leaves_the_intercept_out():
    res = im.meta_regression(yi=Y, vi=V, mods=MODS, method="FE")
    assert res.coef_names == ("intrcpt", "x", "z")
    assert res.qm_df[0] == 2.0
    b, vb = res.estimate[1:], res.vb[1:, 1:]
    assert res.qm == pytest.approx(float(b @ np.linalg.solve(vb, b)), rel=1e-10)


@pytest.mark.parametrize(
    ("names", "expected"),
    [(("intrcpt", "x", "z"), [1, 2]), (("x", "z"), [0, 1]), (("intrcpt",), [0])],
)
def test_omnibus_coefficients(names, expected):
    assert omnibus_coefficients(names) == expected
