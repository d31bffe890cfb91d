""" "What would it take": the hypothetical trial goes through run_analysis unchanged, the
smallest-trial search is right at n - 1 and n, degenerate analyses, and the cumulative Z
series and figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from igmeta.app.evidence import what_if_trial as wit
from igmeta.app.evidence.grade import optimal_information_size, suggest_imprecision
from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings, run_analysis
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.plots.cumulative_z import TITLE, cumulative_z_figure

RANDOM_IV = PUBLISHED_COMPARISON.with_changes(pooling="IV", model="random", zero_cells="metafor")
COMMON_IV = PUBLISHED_COMPARISON.with_changes(pooling="IV", model="common")


@pytest.fixture(scope="module")
def ig() -> pd.DataFrame:
    return load_ig_pnp_canonical()


def _by_hand(table: pd.DataFrame, ai, n1i, ci, n2i, design="RCT") -> pd.DataFrame:
    row = {
        "study": wit.HYPOTHETICAL_LABEL,
        "include": True,
        "design": design,
        "ai": ai,
        "n1i": n1i,
        "ci": ci,
        "n2i": n2i,
        "provenance": "hypothetical",
    }
    return pd.concat([table, pd.DataFrame([row])], ignore_index=True)


@pytest.mark.parametrize(
    "settings",
    [
        PUBLISHED_COMPARISON,
        RANDOM_IV,
        RANDOM_IV.with_changes(test="knha", binary_measure="OR"),
        COMMON_IV.with_changes(binary_measure="RD"),
        PUBLISHED_COMPARISON.with_changes(pooling="PETO"),
    ],
    ids=["MH-RR", "REML-RR", "KNHA-OR", "CE-RD", "Peto"],
)
def test_adding_a_trial_equals_run_analysis_on_the_extended_table(ig, settings):
    effect = {"RR": 1.5, "OR": 2.0, "RD": 0.1}[settings.measure]
    trial = wit.HypotheticalTrial(150, 0.2, effect)
    result = wit.what_if(ig, settings, trial)
    ai, n1i, ci, n2i = result.counts
    p1 = {"RR": 0.3, "OR": 2 * 0.2 / (0.8 + 2 * 0.2), "RD": 0.3}[settings.measure]
    assert (ai, n1i, ci, n2i) == (round(150 * p1), 150, 30, 150)
    expected = run_analysis(_by_hand(ig, ai, n1i, ci, n2i), settings).result
    got = result.after.result
    assert got.k == result.before.result.k + 1
    assert (got.estimate, got.se, got.pval, got.ci_lower, got.ci_upper) == (
        expected.estimate,
        expected.se,
        expected.pval,
        expected.ci_lower,
        expected.ci_upper,
    )
    summary = result.summary()
    assert summary.loc["with new trial", "pval"] == expected.pval
    assert summary.loc["current", "k"] == 3
    assert result.imprecision_after == suggest_imprecision(
        result.after, control_risk=11 / 62, threshold=None
    )


def test_impossible_trial_risks_are_explained(ig):
    with pytest.raises(ValueError, match="outside 0-100%"):
        wit.what_if(ig, PUBLISHED_COMPARISON, wit.HypotheticalTrial(100, 0.6, 2.0))
    with pytest.raises(ValueError, match="at least one participant"):
        wit.what_if(ig, PUBLISHED_COMPARISON, wit.HypotheticalTrial(0, 0.2, 1.0))


def _significant(table, settings, n, p0, effect) -> bool:
    trial = wit.HypotheticalTrial(n, p0, effect)
    bundle = run_analysis(wit.extended_table(table, settings, trial), settings)
    return bool(bundle.result.pval < 1 - settings.level)


@pytest.mark.parametrize(
    ("settings", "p0", "effect"),
    [(PUBLISHED_COMPARISON, 0.18, 1.0), (COMMON_IV, 0.25, 0.9), (RANDOM_IV, 0.18, 2.5)],
    ids=["MH-null-trial", "CE-harmful-trial", "RE-beneficial-trial"],
)
def test_smallest_trial_is_right_at_n_minus_1_and_n(ig, settings, p0, effect):
    now = run_analysis(ig, settings).result.pval < 1 - settings.level
    answer = wit.smallest_trial(ig, settings, p0, effect)
    assert answer.target == ("non-significant" if now else "significant")
    assert answer.n_per_arm is not None, answer.message
    n = answer.n_per_arm
    want = answer.target == "significant"
    assert _significant(ig, settings, n, p0, effect) is want
    assert _significant(ig, settings, n - 1, p0, effect) is not want
    assert f"{2 * n:,} participants ({n:,} per arm)" in answer.message
    assert answer.total == 2 * n


def test_smallest_trial_not_possible(ig):
    # Random effects: a null trial adds heterogeneity; the result never becomes significant.
    answer = wit.smallest_trial(ig, RANDOM_IV, 0.18, 1.0, max_per_arm=512)
    assert answer.n_per_arm is None
    assert answer.message.startswith(
        "No trial of up to 1,024 participants (512 per arm) at RR 1 and control risk 18.0%"
    )
    assert not _significant(ig, RANDOM_IV, 512, 0.18, 1.0)


def test_one_study(ig):
    one = ig.iloc[[1]].reset_index(drop=True)
    result = wit.what_if(one, COMMON_IV, wit.HypotheticalTrial(100, 0.3, 1.5))
    assert result.before.result.k == 1 and result.after.result.k == 2
    assert result.imprecision_before is not None
    answer = wit.smallest_trial(one, COMMON_IV, 0.3, 1.5)
    assert answer.target == "significant" and answer.n_per_arm is not None
    frame = wit.cumulative_z(result.after, wit.extended_table(one, COMMON_IV, result.trial))
    assert list(frame["k"]) == [1, 2]


def test_subgroups_on_the_trial_joins_the_selected_subgroup(ig):
    table = ig.copy()
    table.loc[0, "design"] = "RCT-a"
    settings = RANDOM_IV.with_changes(subgroup_levels=("RCT",))
    extended = wit.extended_table(table, settings, wit.HypotheticalTrial(50, 0.2, 1.2))
    assert extended.iloc[-1]["design"] == "RCT"
    bundle = run_analysis(extended, settings)
    assert len(extended) - 1 in bundle.used_rows
    # All subgroups shown: the most frequent level, and the subgroup analysis still runs.
    everything = RANDOM_IV.with_changes(subgroup_levels=None)
    result = wit.what_if(table, everything, wit.HypotheticalTrial(50, 0.2, 1.2))
    assert wit.extended_table(table, everything, result.trial).iloc[-1]["design"] == "RCT"
    assert result.after.subgroups is not None
    assert result.after.subgroups.levels == ("RCT", "RCT-a")


def test_single_arm_is_not_available(ig):
    settings = AnalysisSettings(analysis="single_arm", proportion_measure="PR")
    reason = wit.what_if_available(settings)
    assert "Not available" in reason and "control-group risk" in reason
    with pytest.raises(ValueError, match="Not available"):
        wit.what_if(ig, settings, wit.HypotheticalTrial(50, 0.2, 1.2))
    assert wit.information_size_for(run_analysis(ig, settings)) is None
    assert wit.what_if_available(PUBLISHED_COMPARISON) is None


def test_cumulative_z_series(ig):
    trial = wit.HypotheticalTrial(200, 0.18, 1.0)
    table = wit.extended_table(ig, PUBLISHED_COMPARISON, trial)
    bundle = run_analysis(table, PUBLISHED_COMPARISON)
    frame = wit.cumulative_z(bundle, table, hypothetical_last=True)
    assert list(frame.columns) == list(wit.CUMULATIVE_Z_COLUMNS)
    # Year order (2020, 2021), the study without a year, then the hypothetical trial.
    assert list(frame["label"]) == [
        "Jann 2020",
        "Geerts 2021",
        "RCT 3 (reconstructed)",
        wit.HYPOTHETICAL_LABEL,
    ]
    assert list(frame["participants"]) == [23, 83, 122, 522]
    assert list(frame["hypothetical"]) == [False, False, False, True]
    res = bundle.result
    assert frame["z"].iloc[-1] == pytest.approx(res.statistic, rel=1e-10)
    assert frame["estimate"].iloc[-1] == pytest.approx(np.exp(res.estimate), rel=1e-10)
    without = wit.cumulative_z(run_analysis(ig, PUBLISHED_COMPARISON), ig)
    assert without["z"].iloc[-1] == pytest.approx(
        run_analysis(ig, PUBLISHED_COMPARISON).result.statistic, rel=1e-10
    )
    assert wit.critical_z(PUBLISHED_COMPARISON) == pytest.approx(1.959963984540054)
    ois = wit.information_size_for(bundle)
    p0 = (0 + 9 + 2 + 36) / (12 + 30 + 20 + 200)
    assert ois == optimal_information_size(p0, 0.25, increase=True).total


def test_cumulative_z_figure(ig):
    frame = wit.cumulative_z(run_analysis(ig, PUBLISHED_COMPARISON), ig)
    frame.loc[0, "label"] = "<b>x</b> $y$"
    fig = cumulative_z_figure(frame, information_size=2514, critical=1.96)
    assert fig.layout.title.text == TITLE
    assert "not a formal trial sequential analysis" in TITLE
    lines = [(s.x0, s.x1, s.y0, s.y1) for s in fig.layout.shapes]
    assert lines[-1][:2] == (2514, 2514)
    assert {lines[0][2], lines[1][2]} == {1.96, -1.96}
    hover = fig.data[1].hovertext[0]
    assert "&lt;b&gt;x&lt;/b&gt;" in hover and "<b>" not in hover and "$" not in hover
    assert list(fig.data[1].y) == list(frame["z"])
