"""igmeta.formulas: the one home of I², H², the prediction interval and the HK scale.

The formulas are checked against their definitions, their degenerate cases, and the
fits that use them (so a fit that stopped using them, or a formula that changed, fails).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

import igmeta as im
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.formulas import (
    h2_from_q,
    h2_from_tau2,
    hartung_knapp_s2w,
    i2_from_q,
    i2_from_tau2,
    prediction_half_width,
)
from igmeta.heterogeneity import heterogeneity_ci

RNG = np.random.default_rng(20261208)
YI = RNG.normal(0.3, 0.8, 12)
VI = RNG.uniform(0.02, 0.2, 12)


def test_i2_from_q_definition_and_degenerate_cases():
    q = np.array([30.0, 5.0, 11.0, 0.0, np.nan, np.inf])
    df = np.array([11.0, 11.0, 11.0, 11.0, 11.0, 11.0])
    out = i2_from_q(q, df)
    assert out[0] == pytest.approx(100 * (30 - 11) / 30, rel=1e-15)
    assert out[1] == 0.0  # Q below its df: no heterogeneity, never negative
    assert out[2] == 0.0  # Q equal to df
    assert out[3] == 0.0  # Q = 0
    assert np.isnan(out[4])  # R's max(0, NA) is NA: the caller decides
    assert np.isnan(out[5])  # Inf/Inf
    assert isinstance(i2_from_q(30.0, 11), np.floating)


def test_h2_and_i2_agree_with_each_other():
    q, df = 42.0, 9.0
    assert h2_from_q(q, df) == pytest.approx(q / df, rel=1e-15)
    # I² = (H² - 1) / H² when Q > df
    h2 = h2_from_q(q, df)
    assert i2_from_q(q, df) == pytest.approx(100 * (h2 - 1) / h2, rel=1e-14)
    tau2, vt = 0.07, 0.03
    h2t = h2_from_tau2(tau2, vt)
    assert i2_from_tau2(tau2, vt) == pytest.approx(100 * (h2t - 1) / h2t, rel=1e-14)
    assert i2_from_tau2(0.0, vt) == 0.0 and h2_from_tau2(0.0, vt) == 1.0


def test_random_effects_fit_uses_the_tau2_forms():
    res = im.meta_analysis(yi=YI, vi=VI, method="REML")
    assert res.i2 == i2_from_tau2(res.tau2, res.vt)
    assert res.h2 == h2_from_tau2(res.tau2, res.vt)
    crit = special.ndtri(0.5 + res.level / 2)
    half = prediction_half_width(crit, res.se, res.tau2)
    assert res.pi_lower == pytest.approx(res.estimate - half, rel=1e-15)
    assert res.pi_upper == pytest.approx(res.estimate + half, rel=1e-15)


def test_dersimonian_laird_i2_from_tau2_equals_i2_from_q():
    """With the DL tau² and vt = (k-1)/tr(P), tau²/(tau² + vt) = (Q - df)/Q."""
    res = im.meta_analysis(yi=YI, vi=VI, method="DL")
    assert res.q > res.k - 1  # the identity needs a positive DL estimate
    assert i2_from_q(res.q, res.k - 1) == pytest.approx(res.i2, rel=1e-12)
    assert h2_from_q(res.q, res.k - 1) == pytest.approx(res.h2, rel=1e-12)


def test_common_effect_fit_uses_the_q_forms():
    res = im.meta_analysis(yi=YI, vi=VI, method="FE")
    assert res.i2 == i2_from_q(res.q, res.k - 1)
    assert res.h2 == h2_from_q(res.q, res.k - 1)


def test_hartung_knapp_fit_uses_the_s2w_scale_and_t_quantiles():
    z = im.meta_analysis(yi=YI, vi=VI, method="REML")
    hk = im.meta_analysis(yi=YI, vi=VI, method="REML", test="knha")
    w = 1 / (VI + z.tau2)
    rss = float(np.sum(w * (YI - z.estimate) ** 2))
    s2w = hartung_knapp_s2w(rss, z.k - 1)
    assert hk.s2w == pytest.approx(s2w, rel=1e-12)
    assert hk.se == pytest.approx(z.se * np.sqrt(s2w), rel=1e-12)
    crit = stats.t.ppf(0.5 + hk.level / 2, hk.k - 1)
    assert hk.pi_upper - hk.estimate == pytest.approx(
        prediction_half_width(crit, hk.se, hk.tau2), rel=1e-12
    )


def test_mantel_haenszel_heterogeneity_uses_the_q_forms():
    table = load_ig_pnp_canonical().dropna(subset=["ci", "n2i"])
    res = im.meta_analysis_mh(
        "RR",
        ai=table["ai"].to_numpy(float),
        n1i=table["n1i"].to_numpy(float),
        ci=table["ci"].to_numpy(float),
        n2i=table["n2i"].to_numpy(float),
    )
    assert res.i2 == float(i2_from_q(res.q, res.q_df))
    assert res.h2 == float(h2_from_q(res.q, res.q_df))


def test_heterogeneity_ci_bounds_use_the_tau2_forms():
    res = im.meta_analysis(yi=YI, vi=VI, method="REML")
    ci = heterogeneity_ci(res)
    assert ci.i2_lower == float(i2_from_tau2(ci.tau2_lower, res.vt))
    assert ci.h2_upper == float(h2_from_tau2(ci.tau2_upper, res.vt))
