"""Number needed to treat: formulas, confidence intervals (Altman 1998), defaults."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from igmeta.app.evidence.clinical import (
    nnt_from_bundle,
    number_needed_to_treat,
    pooled_control_risk,
)
from igmeta.app.pipeline.analysis import (
    PUBLISHED_COMPARISON,
    PUBLISHED_SINGLE_ARM,
    AnalysisSettings,
    run_analysis,
)
from igmeta.datasets import load_ig_pnp_canonical


def test_nnt_from_a_risk_ratio():
    r = number_needed_to_treat("RR", 1.5, 1.2, 2.0, 0.2)
    assert r.treated_risk == pytest.approx(0.3)
    assert r.risk_difference == pytest.approx(0.1)
    assert (r.rd_lower, r.rd_upper) == pytest.approx((0.04, 0.2))
    assert r.nnt == pytest.approx(10.0)
    assert r.kind == "NNTB" and not r.ci_includes_no_effect
    assert r.text() == "NNTB 10 (95% CI NNTB 5 to 25)"


def test_nnt_from_an_odds_ratio():
    p0, odds_ratio = 0.25, 2.0
    r = number_needed_to_treat("OR", odds_ratio, 1.5, 3.0, p0)
    p1 = odds_ratio * p0 / (1 - p0 + odds_ratio * p0)
    assert r.treated_risk == pytest.approx(p1)  # 0.4
    assert r.nnt == pytest.approx(1 / (p1 - p0))
    lo = 1.5 * p0 / (1 - p0 + 1.5 * p0) - p0
    hi = 3.0 * p0 / (1 - p0 + 3.0 * p0) - p0
    assert (r.rd_lower, r.rd_upper) == pytest.approx((lo, hi))
    assert number_needed_to_treat("PETO", 2.0, 1.5, 3.0, p0).nnt == pytest.approx(r.nnt)


def test_nnt_from_a_risk_difference_ignores_the_baseline_for_the_nnt():
    a = number_needed_to_treat("RD", 0.05, 0.02, 0.08, 0.1)
    b = number_needed_to_treat("RD", 0.05, 0.02, 0.08, 0.6)
    assert a.nnt == pytest.approx(20) and b.nnt == pytest.approx(20)
    assert b.treated_risk == pytest.approx(0.65)


def test_interval_through_infinity_uses_altmans_convention():
    r = number_needed_to_treat("RR", 1.2, 0.8, 1.9, 0.2)
    assert r.ci_includes_no_effect
    # benefit 0.04 (NNTB 25); CI of the difference -0.04 to 0.18
    assert r.interval_text() == "NNTH 25 to \u221e to NNTB 6"
    assert r.text() == "NNTB 25 (95% CI NNTH 25 to \u221e to NNTB 6)"
    assert "includes no effect" in r.sentence()


def test_harmful_events_swap_benefit_and_harm():
    good = number_needed_to_treat("RR", 0.5, 0.3, 0.8, 0.2, event_is_good=True)
    bad = number_needed_to_treat("RR", 0.5, 0.3, 0.8, 0.2, event_is_good=False)
    assert good.kind == "NNTH" and bad.kind == "NNTB"
    assert good.nnt == pytest.approx(bad.nnt) == pytest.approx(10)
    assert bad.interval_text() == "NNTB 8 to 25"
    assert good.interval_text() == "NNTH 8 to 25"


def test_no_difference_is_an_infinite_nnt():
    r = number_needed_to_treat("RR", 1.0, 0.5, 2.0, 0.3)
    assert math.isinf(r.nnt) and r.kind == "NNT"
    assert r.text().startswith("NNT \u221e")


def test_risks_beyond_100_percent_are_capped_with_a_warning():
    r = number_needed_to_treat("RR", 3.0, 2.0, 6.0, 0.3)
    assert r.treated_upper == 1.0 and r.warnings


@pytest.mark.parametrize(
    "kwargs",
    [
        {"measure": "SMD"},
        {"baseline_risk": 0.0},
        {"baseline_risk": 1.0},
        {"baseline_risk": -0.1},
        {"estimate": float("nan")},
        {"ci_upper": float("inf")},
    ],
)
def test_invalid_inputs_raise(kwargs):
    args = {
        "measure": "RR",
        "estimate": 1.5,
        "ci_lower": 1.1,
        "ci_upper": 2.0,
        "baseline_risk": 0.2,
        **kwargs,
    }
    with pytest.raises(ValueError):
        number_needed_to_treat(**args)


def test_pooled_control_risk_of_the_analysed_studies():
    table = load_ig_pnp_canonical()
    bundle = run_analysis(table, PUBLISHED_COMPARISON)
    assert pooled_control_risk(bundle) == pytest.approx((0 + 9 + 2) / (12 + 30 + 20))
    table.loc[1, "include"] = False  # Geerts left out
    reduced = run_analysis(table, PUBLISHED_COMPARISON)
    assert pooled_control_risk(reduced) == pytest.approx(2 / 32)


def test_nnt_of_the_published_analysis():
    bundle = run_analysis(load_ig_pnp_canonical(), PUBLISHED_COMPARISON)
    r = nnt_from_bundle(bundle)
    bt = bundle.result.back_transformed()
    p0 = 11 / 62
    assert r.baseline_risk == pytest.approx(p0)
    assert r.risk_difference == pytest.approx(p0 * (bt["estimate"] - 1))
    assert r.rd_lower == pytest.approx(p0 * (bt["ci_lower"] - 1))
    assert r.nnt == pytest.approx(1 / (p0 * (bt["estimate"] - 1)))
    assert r.text() == "NNTB 3 (95% CI NNTB 2 to 10)"
    chosen = nnt_from_bundle(bundle, 0.05)
    assert chosen.baseline_risk == 0.05 and chosen.nnt == pytest.approx(
        1 / (0.05 * (bt["estimate"] - 1))
    )


def test_no_nnt_without_a_binary_comparison():
    table = load_ig_pnp_canonical()
    assert nnt_from_bundle(run_analysis(table, PUBLISHED_SINGLE_ARM)) is None
    continuous = pd.DataFrame(
        {
            "study": list("abc"),
            "m1i": [1, 2, 3],
            "sd1i": [1, 1, 1],
            "n1i": [10, 10, 10],
            "m2i": [0, 1, 2],
            "sd2i": [1, 1, 1],
            "n2i": [10, 10, 10],
        }
    )
    settings = AnalysisSettings(data_type="continuous", analysis="continuous")
    assert nnt_from_bundle(run_analysis(continuous, settings)) is None
    rd = run_analysis(table, PUBLISHED_COMPARISON.with_changes(binary_measure="RD"))
    assert nnt_from_bundle(rd).measure == "RD"
