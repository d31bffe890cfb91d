"""The paper's numbers beside the app's: igmeta.app.pipeline.published and
igmeta.app.pipeline.coverage."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings, run_analysis
from igmeta.app.pipeline.coverage import left_out_rows, left_out_sentence
from igmeta.app.pipeline.published import PUBLISHED_RESULTS, reproduce
from igmeta.datasets import load_ig_pnp_canonical


@pytest.fixture()
def table() -> pd.DataFrame:
    return load_ig_pnp_canonical()


def test_paper_numbers_are_printed_as_in_the_abstract():
    comparison, share = PUBLISHED_RESULTS
    assert comparison.text() == "2.9 (1.6\u20135.2), p = 0.0003"
    assert share.text() == "65% (58\u201371%)"


def test_bundled_table_reproduces_both_published_results(table):
    comparison, share = reproduce(table)
    assert comparison.agrees and share.agrees
    # The app's own values, computed independently through run_analysis.
    res = run_analysis(table, PUBLISHED_COMPARISON).result
    assert comparison.estimate == pytest.approx(res.back_transformed()["estimate"], rel=1e-12)
    assert comparison.k == 3 and share.k == 5
    assert comparison.text() == "2.90 (1.62\u20135.19), p = 0.00035"
    assert share.text() == "64.9% (58.4\u201371.4%)"


def test_an_edit_shows_the_difference_from_the_paper(table):
    table.loc[0, "ai"] = 2  # Jann 2020: 2 instead of 7 responders on IG
    comparison, share = reproduce(table)
    assert not comparison.agrees and not share.agrees
    assert comparison.differences[0].startswith("estimate 2.4 (paper 2.9)")
    assert any(d.startswith("p 0.0030 (paper 0.0003)") for d in comparison.differences)
    assert share.differences[0] == "estimate 61% (paper 65%)"


def test_rounding_is_half_up_at_the_paper_precision(table):
    """0.00035 is printed as 0.0003 by the paper only because it is 0.000346."""
    comparison = reproduce(table)[0]
    assert 0.00034 < comparison.pval < 0.00035


def test_no_result_is_a_difference_not_a_crash(table):
    table["include"] = False
    comparison, share = reproduce(table)
    assert comparison.differences == ("no result",) and comparison.text() == "no result"
    assert math.isnan(share.estimate)


def test_single_arm_rows_left_out_of_the_comparison_are_named(table):
    bundle = run_analysis(table, PUBLISHED_COMPARISON)
    left = left_out_rows(table, bundle)
    assert left["row"].tolist() == [4, 5]
    assert all("no control arm" in reason for reason in left["reason"])
    sentence = left_out_sentence(left, len(table))
    assert sentence.startswith("2 of 5 studies are not in this analysis.")
    assert "Open-label 1 (reconstructed) (row 4)" in sentence


def test_every_reason_for_leaving_a_row_out(table):
    table = table.astype({"ai": "object"})
    table.loc[0, "ai"] = "seven"  # invalid
    table.loc[1, "include"] = False  # excluded by the user
    settings = AnalysisSettings(subgroup_column="design", subgroup_levels=("RCT",))
    settings = settings.with_changes(analysis="single_arm", proportion_measure="PR")
    bundle = run_analysis(table, settings)
    reasons = dict(zip(*left_out_rows(table, bundle)[["row", "reason"]].T.values, strict=True))
    assert reasons[1].startswith("invalid data: Row 1")
    assert "ai" in reasons[1]
    assert reasons[2].startswith("excluded by you")
    assert reasons[4] == reasons[5] == "subgroup 'open-label' is not selected (design)"
    assert 3 not in reasons


def test_nothing_left_out_gives_no_sentence(table):
    settings = PUBLISHED_RESULTS[1].settings
    bundle = run_analysis(table, settings)
    assert left_out_rows(table, bundle).empty
    assert left_out_sentence(left_out_rows(table, bundle), len(table)) is None
