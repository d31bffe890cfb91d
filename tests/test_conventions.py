"""Tool conventions: the small rules by hand, each preset against the engine, the reasons."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings, run_analysis
from igmeta.app.pipeline.conventions import (
    BASELINE,
    FT_N_RATIO,
    MATERIAL_DIFFERENCE_PP,
    PRESETS,
    RULE_LABELS,
    apply_convention,
    compare_conventions,
    i2_from_q,
    i2_from_tau2,
    knapp_hartung_se,
    prediction_interval,
    proportion_comparison,
    q_statistic,
    tau2_dl_from_q,
)
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.effects import effect_sizes
from igmeta.glmm import meta_analysis_glmm


@pytest.fixture()
def table() -> pd.DataFrame:
    return load_ig_pnp_canonical()


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def proportions(xi, ni) -> pd.DataFrame:
    return pd.DataFrame({"study": [f"S{i}" for i in range(len(xi))], "include": True,
                         "xi": xi, "ni": ni})  # fmt: skip


PROP = AnalysisSettings(data_type="proportion", analysis="single_arm", proportion_measure="PLO")


# --------------------------------------------------------------------------------------
# Small rules, hand-computed
# --------------------------------------------------------------------------------------


def test_q_and_i2_rules():
    assert q_statistic([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], 2.0) == 2.0
    assert q_statistic([1.0, 3.0], [0.5, 2.0], 1.0) == 2.0  # (3-1)^2/2
    assert i2_from_q(10.0, 4) == pytest.approx(60.0)  # 100 (10-4)/10
    assert i2_from_q(3.0, 4) == 0.0  # truncated at 0
    assert i2_from_q(5.0, 0) == 0.0  # one study
    assert i2_from_tau2(0.5, 0.5) == pytest.approx(50.0)
    assert i2_from_tau2(0.0, 0.3) == 0.0


def test_dl_tau2_from_a_given_q():
    # w = 1..4: sum w = 10, sum w^2 = 30, c = 10 - 30/10 = 7; (Q - 3)/c
    assert tau2_dl_from_q(9.0, [1.0, 2.0, 3.0, 4.0]) == pytest.approx(6 / 7)
    assert tau2_dl_from_q(2.0, [1.0, 2.0, 3.0, 4.0]) == 0.0
    assert tau2_dl_from_q(5.0, [1.0]) == 0.0


def test_knapp_hartung_ad_hoc_truncation():
    assert knapp_hartung_se(0.2, 0.25, adhoc=False) == pytest.approx(0.1)
    assert knapp_hartung_se(0.2, 0.25, adhoc=True) == pytest.approx(0.2)  # s2w -> 1
    assert knapp_hartung_se(0.2, 4.0, adhoc=True) == pytest.approx(0.4)
    assert knapp_hartung_se(0.2, 4.0, adhoc=False) == pytest.approx(0.4)


def test_prediction_interval_distributions():
    # sqrt(se^2 + tau^2) = sqrt(0.09 + 0.16) = 0.5
    lo, hi = prediction_interval(1.0, 0.3, 0.16, 5, "z")
    assert (lo, hi) == pytest.approx((1 - 1.959963984540054 * 0.5, 1 + 1.959963984540054 * 0.5))
    lo, hi = prediction_interval(1.0, 0.3, 0.16, 5, "t(k-1)")
    assert hi == pytest.approx(1 + 2.7764451051977987 * 0.5)  # qt(0.975, 4)
    lo, hi = prediction_interval(1.0, 0.3, 0.16, 5, "t(k-2)")
    assert hi == pytest.approx(1 + 3.182446305284263 * 0.5)  # qt(0.975, 3)
    assert np.isnan(prediction_interval(1.0, 0.3, 0.16, 2, "t(k-2)")[0])
    assert np.isnan(prediction_interval(1.0, 0.3, 0.16, 5, "none")[1])
    lo, hi = prediction_interval(0.0, 1.0, 0.0, 5, "z", level=90)
    assert hi == pytest.approx(stats.norm.ppf(0.95))
    with pytest.raises(ValueError):
        prediction_interval(1.0, 0.3, 0.16, 5, "cauchy")


# --------------------------------------------------------------------------------------
# Presets against the engine
# --------------------------------------------------------------------------------------


def test_presets_are_documented():
    assert list(PRESETS) == ["metafor", "RevMan 5", "RevMan Web (2024+)", "R meta defaults"]
    for conv in PRESETS.values():
        assert conv.sources and set(conv.rules()) == set(RULE_LABELS)
    assert PRESETS["RevMan Web (2024+)"].unverified and PRESETS["R meta defaults"].unverified
    with pytest.raises(ValueError, match="unknown preset"):
        apply_convention(pd.DataFrame(), AnalysisSettings(), "Stata")


def test_revman5_reproduces_the_published_ig_result(table):
    res = apply_convention(table, PUBLISHED_COMPARISON, "RevMan 5")
    bt = res.back_transformed()
    assert res.ok and res.k == 3
    assert (round(bt["estimate"], 2), round(bt["ci_lower"], 2), round(bt["ci_upper"], 2)) == (
        2.90, 1.62, 5.19)  # fmt: skip
    assert round(res.pval, 5) == 0.00035
    assert np.isnan(res.pi_lower) and not res.prediction_shown


def test_metafor_preset_equals_the_engine(table):
    for settings in (
        AnalysisSettings(),
        PUBLISHED_COMPARISON.with_changes(zero_cells="metafor"),
        AnalysisSettings(analysis="single_arm", proportion_measure="PFT"),
    ):
        bundle = quiet(run_analysis, table, settings)
        res = apply_convention(table, settings, "metafor")
        assert res.estimate == pytest.approx(bundle.result.estimate, rel=1e-12)
        assert res.ci_upper == pytest.approx(bundle.result.ci_upper, rel=1e-12)
        assert res.i2 == pytest.approx(bundle.result.i2, rel=1e-10, abs=1e-12)
        if settings.model == "random":
            assert res.pi_lower == pytest.approx(bundle.result.pi_lower, rel=1e-12)
    bt = apply_convention(table, PUBLISHED_COMPARISON, "metafor").back_transformed()
    assert round(bt["estimate"], 2) == 2.98  # shared/data README: rma.mh default


def test_revman_web_equals_reml_with_hartung_knapp(table):
    settings = AnalysisSettings()
    engine = quiet(run_analysis, table, settings.with_changes(test="knha")).result
    res = apply_convention(table, settings, "RevMan Web (2024+)")
    for name in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "tau2", "i2"):
        assert getattr(res, name) == pytest.approx(getattr(engine, name), rel=1e-12)


def test_revman5_random_iv_is_dl_with_q_based_i2(table):
    engine = quiet(run_analysis, table, AnalysisSettings(tau2_method="DL")).result
    res = apply_convention(table, AnalysisSettings(), "RevMan 5")
    assert res.estimate == pytest.approx(engine.estimate, rel=1e-12)
    assert res.ci_lower == pytest.approx(engine.ci_lower, rel=1e-12)
    assert res.i2 == pytest.approx(i2_from_q(engine.q, engine.k - 1))
    assert np.isnan(res.pi_lower)


def test_revman5_random_mh_uses_dl_from_q_around_the_mh_estimate(table):
    settings = PUBLISHED_COMPARISON.with_changes(model="random")
    res = apply_convention(table, settings, "RevMan 5")
    # By hand: study RRs with 0.5 per cell of zero-cell tables, Q around the RevMan MH RR.
    a, n1 = np.array([7.0, 12, 13]), np.array([11.0, 30, 19])
    c, n2 = np.array([0.0, 9, 2]), np.array([12.0, 30, 20])
    es = quiet(effect_sizes, "RR", ai=a, n1i=n1, ci=c, n2i=n2)
    mh = apply_convention(table, PUBLISHED_COMPARISON, "RevMan 5").estimate
    w = 1 / es.vi
    q = float(np.sum(w * (es.yi - mh) ** 2))
    tau2 = max(0.0, (q - 2) / (w.sum() - (w**2).sum() / w.sum()))
    wr = 1 / (es.vi + tau2)
    est = float(np.sum(wr * es.yi) / wr.sum())
    se = float(1 / np.sqrt(wr.sum()))
    assert res.tau2 == pytest.approx(tau2, rel=1e-12)
    assert res.estimate == pytest.approx(est, rel=1e-12)
    assert res.ci_upper == pytest.approx(est + stats.norm.ppf(0.975) * se, rel=1e-12)
    assert res.i2 == pytest.approx(i2_from_q(q, 2), rel=1e-12)


def test_meta_risk_ratio_correction_adds_half_to_n(table):
    settings = AnalysisSettings(model="common")
    res = apply_convention(table, settings, "R meta defaults")
    # meta RR.Cochrane = FALSE: (a + 0.5)/(n1 + 0.5) for the zero-cell study (Jann 2020).
    a, n1 = np.array([7.0, 12, 13]), np.array([11.0, 30, 19])
    c, n2 = np.array([0.0, 9, 2]), np.array([12.0, 30, 20])
    inc = np.array([0.5, 0, 0])
    y = np.log((a + inc) / (n1 + inc)) - np.log((c + inc) / (n2 + inc))
    v = 1 / (a + inc) - 1 / (n1 + inc) + 1 / (c + inc) - 1 / (n2 + inc)
    assert res.estimate == pytest.approx(np.sum(y / v) / np.sum(1 / v), rel=1e-12)
    metafor = apply_convention(table, settings, "metafor")
    assert abs(res.estimate - metafor.estimate) > 1e-4


def test_meta_pools_logit_proportions_with_the_glmm(table):
    settings = AnalysisSettings(analysis="single_arm", proportion_measure="PLO")
    res = apply_convention(table, settings, "R meta defaults")
    glmm = quiet(meta_analysis_glmm, "PLO", xi=[7, 12, 13, 41, 54], ni=[11, 30, 19, 55, 83])
    assert res.method.startswith("GLMM")
    assert res.estimate == pytest.approx(glmm.estimate, rel=1e-10)
    assert res.i2 == pytest.approx(i2_from_q(glmm.extra["QE.Wld"], 4))
    common = apply_convention(table, settings.with_changes(model="common"), "R meta defaults")
    assert common.estimate == pytest.approx(np.log(127 / (198 - 127)))


def test_hartung_knapp_ad_hoc_never_narrower_than_wald():
    homogeneous = proportions([20, 21, 19, 20, 22], [50, 50, 50, 50, 50])
    base = PRESETS["metafor"]
    wald = apply_convention(homogeneous, PROP, base)
    hk = apply_convention(homogeneous, PROP, base.with_rules(random_ci="HK"))
    adhoc = apply_convention(homogeneous, PROP, base.with_rules(random_ci="HK-adhoc"))
    assert hk.se < wald.se  # s2w < 1 for these homogeneous data
    assert adhoc.se == pytest.approx(wald.se, rel=1e-12)
    assert adhoc.ci_upper > wald.ci_upper  # t(k-1) instead of z


# --------------------------------------------------------------------------------------
# Side by side and the reasons
# --------------------------------------------------------------------------------------


def test_compare_conventions_names_the_zero_cell_rule(table):
    frame = compare_conventions(table, PUBLISHED_COMPARISON)
    assert list(frame["preset"]) == ["Current settings", *PRESETS]
    row = frame.set_index("preset")
    assert row.loc[BASELINE, "reasons"] == "" and not row.loc[BASELINE, "differs"]
    assert row.loc["RevMan 5", "differs"]
    assert "zero cells inside Mantel-Haenszel" in row.loc["RevMan 5", "reasons"]
    assert round(row.loc["RevMan 5", "estimate"], 2) == 2.90
    assert row.loc["Current settings", "estimate"] == pytest.approx(
        row.loc["RevMan 5", "estimate"], rel=1e-12)  # fmt: skip
    assert "zero cells" in row.loc["Current settings", "reasons"]


def test_compare_conventions_random_effects_reasons(table):
    frame = compare_conventions(table, AnalysisSettings()).set_index("preset")
    assert "tau\u00b2 estimator" in frame.loc["RevMan 5", "reasons"]
    web = frame.loc["RevMan Web (2024+)", "reasons"]
    assert "Hartung-Knapp" in web and "prediction interval" in web
    assert "risk ratios" in frame.loc["R meta defaults", "reasons"]
    assert not frame.loc["RevMan 5", "pi_shown"] and frame.loc["metafor", "pi_shown"]


def test_compare_conventions_survives_degenerate_tables(table):
    one = table.assign(include=[True, False, False, False, False])
    for settings in (AnalysisSettings(), PUBLISHED_COMPARISON, PROP, AnalysisSettings(
            analysis="single_arm", proportion_measure="PLO")):  # fmt: skip
        frame = compare_conventions(one, settings)
        assert len(frame) >= len(PRESETS)
        ok = frame["error"].isna()
        assert (frame.loc[ok, "k"] == 1).all()
    none = table.assign(include=False)
    frame = compare_conventions(none, AnalysisSettings())
    assert frame["error"].notna().all() and len(frame) == len(PRESETS)


# --------------------------------------------------------------------------------------
# Proportions side by side
# --------------------------------------------------------------------------------------


def test_proportion_comparison_ig(table):
    pc = proportion_comparison(table, AnalysisSettings(analysis="single_arm"))
    assert len(pc.frame) == 7 and pc.frame["estimate"].notna().all()
    glmm = quiet(meta_analysis_glmm, "PLO", xi=[7, 12, 13, 41, 54], ni=[11, 30, 19, 55, 83])
    first = pc.frame.iloc[0]
    assert first["estimate"] == pytest.approx(glmm.back_transformed()["estimate"], rel=1e-10)
    assert pc.spread_pp < MATERIAL_DIFFERENCE_PP and pc.warnings == ()


def test_proportion_comparison_warns_on_disagreement_and_unequal_n():
    sparse = proportions([0, 0, 1, 0, 9], [20, 25, 30, 15, 12])
    pc = proportion_comparison(sparse, PROP)
    assert pc.spread_pp > MATERIAL_DIFFERENCE_PP
    assert any("disagree materially" in w for w in pc.warnings)
    unequal = proportions([2, 30, 5, 180, 1, 12], [10, 40, 12, 600, 9, 20])
    pc = proportion_comparison(unequal, PROP)
    assert pc.n_ratio > FT_N_RATIO
    assert any("Freeman-Tukey" in w for w in pc.warnings)


def test_proportion_comparison_degenerate():
    pc = proportion_comparison(proportions([3], [10]), PROP)
    glmm_row = pc.frame.iloc[0]
    assert np.isnan(glmm_row["estimate"]) and "at least 2" in glmm_row["note"]
    assert any("GLMM" in w for w in pc.warnings)
    pc = proportion_comparison(proportions([3, 4], [10, 12]).assign(include=False), PROP)
    assert pc.frame.empty and pc.warnings
