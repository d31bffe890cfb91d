"""GRADE engine: certainty arithmetic, each suggestion rule at and around its threshold,
the optimal information size against R's power.prop.test, absolute effects per 1,000
against hand computations, and the summary-of-findings row."""

from __future__ import annotations

import dataclasses
import io
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from igmeta.app.evidence import grade
from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings, run_analysis
from igmeta.bias import egger_test
from igmeta.datasets import load_ig_pnp_canonical

DATA = Path(__file__).parent / "data"
RANDOM_IV = PUBLISHED_COMPARISON.with_changes(pooling="IV", model="random", zero_cells="metafor")
COMMON_IV = PUBLISHED_COMPARISON.with_changes(pooling="IV", model="common")


@pytest.fixture(scope="module")
def ig() -> pd.DataFrame:
    return load_ig_pnp_canonical()


@pytest.fixture(scope="module")
def published(ig):
    return run_analysis(ig, PUBLISHED_COMPARISON)


def _with(bundle, **changes):
    """The bundle with some fields of its pooled result replaced (to sit on a threshold)."""
    return dataclasses.replace(bundle, result=dataclasses.replace(bundle.result, **changes))


def _binary(ai, n1i, ci, n2i, **extra) -> pd.DataFrame:
    k = len(ai)
    return pd.DataFrame(
        {
            "study": [f"S{i + 1}" for i in range(k)],
            "ai": ai,
            "n1i": n1i,
            "ci": ci,
            "n2i": n2i,
            **extra,
        }
    )


# --------------------------------------------------------------------------- certainty


@pytest.mark.parametrize(
    ("judgements", "start", "level", "label"),
    [
        ({}, "randomised", 4, "High"),
        ({d: "not serious" for d in grade.DOMAINS[:4]}, "randomised", 4, "High"),
        ({"imprecision": "serious"}, "randomised", 3, "Moderate"),
        ({"imprecision": "very serious"}, "randomised", 2, "Low"),
        ({"imprecision": "serious", "inconsistency": "serious"}, "randomised", 2, "Low"),
        ({"publication_bias": "strongly suspected"}, "randomised", 3, "Moderate"),
        ({"risk_of_bias": "very serious", "imprecision": "serious"}, "randomised", 1, "Very low"),
        (
            {"risk_of_bias": "very serious", "imprecision": "very serious"},
            "randomised",
            1,
            "Very low",
        ),
        ({}, "observational", 2, "Low"),
        ({"indirectness": "serious"}, "observational", 1, "Very low"),
        ({"indirectness": "Very Serious"}, "randomised", 2, "Low"),
    ],
)
def test_certainty_arithmetic(judgements, start, level, label):
    result = grade.certainty(judgements, start)
    assert result.level == level
    assert result.label == label
    assert result.symbols.count("\u2295") == level
    assert result.text() == f"{result.symbols} {label}"
    assert result.problems == ()


def test_certainty_floor_counts_all_downgrades():
    every = {d: "very serious" for d in grade.DOMAINS[:4]} | {
        "publication_bias": "strongly suspected"
    }
    result = grade.certainty(every)
    assert result.downgrades == 9
    assert result.level == 1


def test_values_outside_the_vocabulary_are_flagged_not_counted():
    judgements = {"imprecision": "quite serious", "inconsistency": "serious", "mood": "bad"}
    result = grade.certainty(judgements, "cohort")
    assert result.level == 3  # only inconsistency counts; start falls back to High
    text = " ".join(result.problems)
    assert "'quite serious' is not a GRADE level" in text
    assert "Unknown GRADE domain 'mood'" in text
    assert "'cohort'" in text
    assert judgements["imprecision"] == "quite serious"  # the caller's value is untouched
    pub = grade.certainty({"publication_bias": "serious"})
    assert pub.level == 4 and "undetected / strongly suspected" in pub.problems[0]


# --------------------------------------------------------------------------- OIS


def _r_reference() -> pd.DataFrame:
    return pd.read_csv(DATA / "ois_power_prop_test.csv")


@pytest.mark.parametrize("row", range(5))
def test_ois_matches_stored_power_prop_test(row):
    ref = _r_reference().iloc[row]
    ois = grade.optimal_information_size(
        ref["control"], abs(ref["change"]), increase=ref["change"] > 0, power=ref["power"]
    )
    assert ois.per_group == pytest.approx(ref["n_per_group"], rel=1e-9)
    assert ois.total == 2 * math.ceil(ref["n_per_group"])


def test_ois_matches_live_rscript():
    path = shutil.which("Rscript")
    if path is None:
        pytest.fail("Rscript is not installed: run scripts/test.sh (installs r-base-core)")
    out = subprocess.run(
        [path, str(DATA / "ois_power_prop_test.R")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    live = pd.read_csv(io.StringIO(out))
    np.testing.assert_allclose(live["n_per_group"], _r_reference()["n_per_group"], rtol=1e-9)


def test_ois_worked_example_and_errors():
    # Control risk 20%, RRR 25% (to 15%), alpha 0.05, power 0.80: 906 per arm, 1812 in all.
    ois = grade.optimal_information_size(0.2)
    assert ois.treated_risk == pytest.approx(0.15)
    assert ois.total == 1812
    with pytest.raises(ValueError, match="between 0 and 1"):
        grade.optimal_information_size(0.0)
    with pytest.raises(ValueError, match="outside 0-100%"):
        grade.optimal_information_size(0.9, 0.25, increase=True)
    with pytest.raises(ValueError, match="positive"):
        grade.optimal_information_size(0.2, 0.0)


# --------------------------------------------------------------------------- inconsistency


@pytest.mark.parametrize(
    ("i2", "level"),
    [
        (0.0, "not serious"),
        (49.99, "not serious"),
        (50.0, "serious"),
        (74.99, "serious"),
        (75.0, "very serious"),
        (98.0, "very serious"),
    ],
)
def test_inconsistency_bands(published, i2, level):
    suggestion = grade.suggest_inconsistency(_with(published, i2=i2))
    assert suggestion.level == level
    assert suggestion.value == i2
    assert f"I² = {i2:.1f}%" in suggestion.reason
    assert "no prediction interval" in suggestion.reason  # MH: common effect


def test_prediction_interval_through_null_raises_not_serious(ig):
    bundle = run_analysis(ig, RANDOM_IV)
    res = bundle.result
    # CI excludes the null (log scale > 0), PI includes it, I² low.
    low = _with(bundle, i2=20.0, ci_lower=0.1, ci_upper=2.0, pi_lower=-1.0, pi_upper=3.0)
    suggestion = grade.suggest_inconsistency(low)
    assert suggestion.level == "serious"
    assert "includes the null" in suggestion.reason and "although the CI does not" in (
        suggestion.reason
    )
    # PI above the null: stays not serious.
    narrow = _with(bundle, i2=20.0, ci_lower=0.1, ci_upper=2.0, pi_lower=0.05, pi_upper=3.0)
    assert grade.suggest_inconsistency(narrow).level == "not serious"
    assert res.k == 3


def test_inconsistency_one_study(ig):
    one = run_analysis(ig.iloc[[1]].reset_index(drop=True), COMMON_IV)
    suggestion = grade.suggest_inconsistency(one)
    assert suggestion.level is None and "One study" in suggestion.reason


# --------------------------------------------------------------------------- imprecision


def test_imprecision_on_the_published_analysis(published):
    suggestion = grade.suggest_imprecision(published)
    # CI 1.62-5.19 excludes 1, but 122 participants < OIS.
    p0 = 11 / 62
    ois = grade.optimal_information_size(p0, 0.25, increase=True)
    assert suggestion.value == ois.total
    assert suggestion.level == "serious"
    assert "excludes the null" in suggestion.reason
    assert f"122 participants < OIS {ois.total}" in suggestion.reason


def test_imprecision_user_threshold_and_very_serious(published):
    # Threshold RR 2: the CI 1.62-5.19 includes it, and N < OIS: both fail.
    both = grade.suggest_imprecision(published, threshold=2.0)
    assert both.level == "very serious"
    assert "includes the decision threshold (2.00)" in both.reason
    # Threshold 1.6 (just below the lower bound 1.618): only the OIS fails.
    assert grade.suggest_imprecision(published, threshold=1.6).level == "serious"
    # Appreciable benefit and harm both in the CI (0.7 to 1.4 includes 0.75 and 1.25).
    wide = _with(published, ci_lower=math.log(0.7), ci_upper=math.log(1.4))
    result = grade.suggest_imprecision(wide, control_risk=0.01)
    assert result.level == "very serious"
    assert "appreciable benefit and harm" in result.reason


def test_imprecision_not_serious_with_a_large_precise_body_of_evidence():
    table = _binary([300, 320, 310], [1000, 1000, 1000], [200, 210, 190], [1000, 1000, 1000])
    bundle = run_analysis(table, COMMON_IV.with_changes(subgroup_column=None))
    suggestion = grade.suggest_imprecision(bundle)
    assert grade.participants(bundle) == 6000
    assert suggestion.value < 6000
    assert suggestion.level == "not serious"


def test_imprecision_ois_boundary(published):
    # At a control risk where the OIS is just above / at the 122 participants.
    p0 = 0.177
    ois = grade.optimal_information_size(p0, 0.25, increase=True).total
    assert grade.suggest_imprecision(published, control_risk=p0).level == "serious"
    # Relative change large enough that OIS <= 122: then only the CI counts.
    change = 1.5
    small = grade.optimal_information_size(0.3, change, increase=True).total
    assert small <= 122 < ois
    assert (
        grade.suggest_imprecision(published, control_risk=0.3, relative_change=change).level
        == "not serious"
    )


def test_imprecision_single_arm_has_no_ois(ig):
    bundle = run_analysis(
        ig, AnalysisSettings(analysis="single_arm", proportion_measure="PR", model="common")
    )
    suggestion = grade.suggest_imprecision(bundle)
    assert suggestion.level is None
    assert "OIS not available" in suggestion.reason
    assert grade.suggest_imprecision(bundle, threshold=0.5).level == "not serious"


# --------------------------------------------------------------------------- publication bias


def test_publication_bias_too_few_studies(published):
    suggestion = grade.suggest_publication_bias(published)
    assert suggestion.level is None
    assert "Too few studies to test (k = 3 < 10)" in suggestion.reason


def _funnel_table(asymmetric: bool) -> pd.DataFrame:
    n = np.array([20, 30, 40, 60, 80, 100, 150, 200, 300, 400, 600, 800])
    control = np.round(0.3 * n).astype(int)
    boost = np.where(n < 100, 0.35, 0.05) if asymmetric else np.full(n.size, 0.1)
    treated = np.round((0.3 + boost * (1 if asymmetric else 1)) * n).astype(int)
    if not asymmetric:
        treated = treated + np.where(np.arange(n.size) % 2 == 0, 2, -2)
    return _binary(treated, n, control, n)


@pytest.mark.parametrize("asymmetric", [True, False])
def test_publication_bias_follows_egger(asymmetric):
    settings = RANDOM_IV.with_changes(subgroup_column=None)
    bundle = run_analysis(_funnel_table(asymmetric), settings)
    suggestion = grade.suggest_publication_bias(bundle)
    p = egger_test(bundle.result, model="rma").pval
    assert suggestion.value == pytest.approx(p)
    assert suggestion.level == ("strongly suspected" if p < 0.10 else "undetected")
    assert "trim-and-fill adds" in suggestion.reason
    if asymmetric:
        assert suggestion.level == "strongly suspected"


def test_publication_bias_threshold(monkeypatch):
    bundle = run_analysis(_funnel_table(False), RANDOM_IV.with_changes(subgroup_column=None))
    real = egger_test(bundle.result, model="rma")
    for p, level in ((0.0999, "strongly suspected"), (0.10, "undetected")):
        fake = dataclasses.replace(real, pval=p)
        monkeypatch.setattr(grade, "egger_test", lambda *a, _f=fake, **k: _f)
        assert grade.suggest_publication_bias(bundle).level == level


# --------------------------------------------------------------------------- risk of bias


def test_risk_of_bias_weight_share(published):
    weights = np.asarray(published.result.weights)
    # Table rows 0-2 are the analysed RCTs; rows 3-4 (open-label) are not analysed.
    rob = pd.Series(["Low", "HIGH", "some concerns", "high", "high"])
    suggestion = grade.suggest_risk_of_bias(published, rob)
    share = 100 * weights[1] / weights.sum()
    assert suggestion.value == pytest.approx(share)
    assert suggestion.level == ("serious" if share >= 50 else "not serious")
    assert suggestion.level == "serious"  # Geerts carries most of the MH weight
    low = grade.suggest_risk_of_bias(published, ["serious", "low", "low", None, None])
    assert low.value == pytest.approx(100 * weights[0] / weights.sum())
    assert low.level == "not serious"


def test_risk_of_bias_threshold_and_unknown_values(published):
    equal = _with(published, weights=np.array([50.0, 25.0, 25.0]))
    assert grade.suggest_risk_of_bias(equal, ["critical", "low", "low"]).level == "serious"
    below = _with(published, weights=np.array([49.9, 25.05, 25.05]))
    suggestion = grade.suggest_risk_of_bias(below, ["critical", "low", "bananas", "x", ""])
    assert suggestion.level == "not serious"
    assert "'bananas'" in suggestion.reason
    missing = grade.suggest_risk_of_bias(equal, ["high", None, "low"])
    assert "1 analysed study has no judgement" in missing.reason
    assert grade.suggest_risk_of_bias(published, None).level is None


# --------------------------------------------------------------------------- absolute effects


def test_absolute_effect_rr_gradepro_example():
    # GRADEpro's help: RR 0.83 at a control risk of 40% is 68 fewer per 1,000.
    effect = grade.absolute_effect("RR", 0.83, 0.78, 0.89, 0.4)
    assert effect.assumed == pytest.approx(400)
    assert effect.corresponding == pytest.approx(332)
    assert effect.difference == pytest.approx(-68)
    assert (effect.difference_lower, effect.difference_upper) == pytest.approx((-88, -44))
    assert effect.difference_text() == "68 fewer per 1,000 (from 88 fewer to 44 fewer)"


def test_absolute_effect_or_and_rd_by_hand():
    p0, odds_ratio = 0.256, 0.64
    hand = odds_ratio * p0 / (1 - p0 + odds_ratio * p0)
    # GRADEpro's route: RR = OR / (1 - CER (1 - OR)), then CER x RR.
    via_rr = p0 * odds_ratio / (1 - p0 * (1 - odds_ratio))
    effect = grade.absolute_effect("OR", odds_ratio, 0.47, 0.89, p0)
    assert effect.corresponding == pytest.approx(1000 * hand, rel=1e-12)
    assert effect.corresponding == pytest.approx(1000 * via_rr, rel=1e-12)
    lo = 0.47 * p0 / (1 - p0 + 0.47 * p0)
    assert effect.difference_lower == pytest.approx(1000 * (lo - p0), rel=1e-12)
    rd = grade.absolute_effect("RD", 0.1, -0.02, 0.2, 0.2)
    assert (rd.corresponding, rd.difference) == pytest.approx((300, 100))
    assert rd.difference_text() == "100 more per 1,000 (from 20 fewer to 200 more)"


def test_absolute_effect_capped_with_a_warning():
    effect = grade.absolute_effect("RR", 3.0, 1.5, 6.0, 0.3)
    assert effect.corresponding_upper == 1000
    assert effect.warnings == (grade.CAPPED,)


# --------------------------------------------------------------------------- SoF


def test_summary_of_findings_row(published):
    suggestions = grade.grade_suggestions(published)
    judgements = {"inconsistency": "serious", "imprecision": "serious", "indirectness": ""}
    frame, notes = grade.summary_of_findings(
        published,
        judgements,
        outcome="Pain relief <b>",
        suggestions=suggestions,
        comments={"imprecision": "Few events."},
    )
    row = frame.iloc[0]
    assert row["Outcome"] == "Pain relief <b>"  # kept as typed; escaped by renderers
    assert row["Participants (studies)"] == "122 (3)"
    assert row["Relative effect (95% CI)"] == "RR 2.90 [1.62, 5.19]"
    assert row["Assumed risk with control"] == "177 per 1,000"
    p1 = 2.8991294983397653 * 11 / 62
    assert row["Corresponding risk with intervention (95% CI)"].startswith(
        f"{1000 * p1:.0f} per 1,000"
    )
    assert row["Certainty"] == grade.certainty(judgements).text() == "\u2295\u2295\u25ef\u25ef Low"
    assert len(notes) == 3 and row["Comments"] == "See notes 1, 2, 3"
    assert notes[2].startswith("Downgraded for imprecision (serious): The 95% CI")
    assert notes[2].endswith("Few events.")


def test_summary_of_findings_single_arm(ig):
    bundle = run_analysis(
        ig, AnalysisSettings(analysis="single_arm", proportion_measure="PR", model="common")
    )
    frame, notes = grade.summary_of_findings(bundle, {"imprecision": "bogus"})
    assert frame.iloc[0]["Assumed risk with control"] == "not available"
    assert frame.iloc[0]["Participants (studies)"] == "198 (5)"
    assert "not available for this analysis" in notes[0]
    assert any("'bogus' is not a GRADE level" in n for n in notes)


# --------------------------------------------------------------------------- HTML report


def test_report_has_a_grade_section_with_user_text_escaped(ig, published):
    from igmeta.app.outputs.report import report_html

    frame, notes = grade.summary_of_findings(
        published,
        {"imprecision": "serious"},
        outcome='<img src=x onerror="alert(1)">',
        comments={"imprecision": "<script>alert(2)</script>"},
    )
    page = report_html(ig, PUBLISHED_COMPARISON, bundle=published, grade=(frame, notes))
    assert "<h2>Certainty of evidence (GRADE)</h2>" in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "<img src=x" not in page and "<script>alert(2)" not in page
    assert "\u2295\u2295\u2295\u25ef Moderate" in page
    assert "not reviewed" not in page
    default = report_html(ig, PUBLISHED_COMPARISON, bundle=published)
    assert "Domain levels are the data-driven suggestions, not reviewed" in default
    assert "\u2295\u2295\u25ef\u25ef Low" in default  # inconsistency + imprecision suggested


def test_sof_csv_export_is_formula_safe(published):
    from igmeta.app.outputs.safe_export import to_safe_csv_bytes

    frame, notes = grade.summary_of_findings(
        published, {"imprecision": "serious"}, outcome='=HYPERLINK("http://x","y")'
    )
    table = grade.sof_table(frame, notes)
    assert table["Footnotes"].iloc[0].startswith("1. Assumed control risk")
    assert "2. Downgraded for imprecision" in table["Footnotes"].iloc[0]
    text = to_safe_csv_bytes(table).decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert pd.read_csv(io.StringIO(text))["Outcome"].iloc[0].startswith("'=")


def test_risk_of_bias_wording_variants(published):
    rob = ["Low risk", "High risk", "  SOME   concerns ", "high risk of bias", None]
    suggestion = grade.suggest_risk_of_bias(published, rob)
    weights = np.asarray(published.result.weights)
    assert suggestion.value == pytest.approx(100 * weights[1] / weights.sum())
    assert "not recognised" not in suggestion.reason


def test_publication_bias_for_mantel_haenszel_uses_classical_egger():
    table = _funnel_table(True)
    bundle = run_analysis(table, PUBLISHED_COMPARISON.with_changes(subgroup_column=None))
    suggestion = grade.suggest_publication_bias(bundle)
    assert suggestion.value == pytest.approx(egger_test(bundle.result, model="lm").pval)
    assert "trim-and-fill needs an inverse-variance model" in suggestion.reason


def test_out_of_vocabulary_start_is_flagged(published):
    frame, notes = grade.summary_of_findings(published, {}, start="case series")
    assert frame.iloc[0]["Certainty"].endswith("High")
    assert any("'case series' is not one of randomised, observational" in n for n in notes)


def test_generic_effects_without_sample_sizes():
    table = pd.DataFrame({"study": ["a", "b"], "yi": [0.1, 0.3], "vi": [0.01, 0.02]})
    settings = AnalysisSettings(
        data_type="generic", analysis="generic", generic_measure="HR", subgroup_column=None
    )
    bundle = run_analysis(table, settings)
    assert grade.participants(bundle) is None
    suggestion = grade.suggest_imprecision(bundle)
    assert suggestion.level == "serious"  # HR 1.19 (0.99 to 1.44) includes 1
    assert "participants not given; OIS not available" in suggestion.reason
    frame, _ = grade.summary_of_findings(bundle, {})
    assert frame.iloc[0]["Participants (studies)"] == "participants not given (2)"
