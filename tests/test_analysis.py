"""The (table, settings) pipeline: the published IG numbers, filters and honest failures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from igmeta.app.outputs.tables import forest_frame
from igmeta.app.pipeline.analysis import (
    PUBLISHED_COMPARISON,
    PUBLISHED_SINGLE_ARM,
    AnalysisSettings,
    run_analysis,
)
from igmeta.datasets import load_ig_pnp_canonical


@pytest.fixture()
def table() -> pd.DataFrame:
    return load_ig_pnp_canonical()


def test_published_comparison_reproduces_the_abstract(table):
    bundle = run_analysis(table, PUBLISHED_COMPARISON)
    bt = bundle.result.back_transformed()
    assert bundle.result.k == 3
    assert (round(bt["estimate"], 2), round(bt["ci_lower"], 2), round(bt["ci_upper"], 2)) == (
        2.90,
        1.62,
        5.19,
    )
    assert round(bundle.result.pval, 5) == 0.00035


def test_metafor_zero_cells_give_2_98(table):
    bundle = run_analysis(table, PUBLISHED_COMPARISON.with_changes(zero_cells="metafor"))
    bt = bundle.result.back_transformed()
    assert (round(bt["estimate"], 2), round(bt["ci_lower"], 2), round(bt["ci_upper"], 2)) == (
        2.98,
        1.64,
        5.41,
    )


def test_published_single_arm_reproduces_65_percent(table):
    bundle = run_analysis(table, PUBLISHED_SINGLE_ARM)
    bt = bundle.result.back_transformed()
    assert bundle.result.k == 5
    assert (
        round(100 * bt["estimate"], 1),
        round(100 * bt["ci_lower"], 1),
        round(100 * bt["ci_upper"], 1),
    ) == (64.9, 58.4, 71.4)


def test_freeman_tukey_single_arm(table):
    bundle = run_analysis(table, PUBLISHED_SINGLE_ARM.with_changes(proportion_measure="PFT"))
    bt = bundle.result.back_transformed()
    assert (
        round(100 * bt["estimate"], 1),
        round(100 * bt["ci_lower"], 1),
        round(100 * bt["ci_upper"], 1),
    ) == (64.6, 57.6, 71.4)


def test_rct_only_subgroup_filter(table):
    settings = PUBLISHED_SINGLE_ARM.with_changes(subgroup_levels=("RCT",))
    bundle = run_analysis(table, settings)
    assert bundle.result.k == 3 and bundle.subgroups is None


def test_subgroups_open_label_vs_rct(table):
    bundle = run_analysis(table, AnalysisSettings(analysis="single_arm"))
    assert bundle.subgroups.levels == ("RCT", "open-label")
    assert 0 <= bundle.subgroups.test.pval <= 1


def test_excluded_study_stays_in_the_forest_greyed(table):
    table.loc[0, "include"] = False
    bundle = run_analysis(table, AnalysisSettings(analysis="single_arm"))
    frame = forest_frame(bundle, table)
    studies = frame[frame.row_type == "study"]
    assert len(studies) == 5 and studies["included"].sum() == 4
    assert bundle.result.k == 4
    assert (studies["flag"] == "reconstructed").sum() == 3


def test_forest_frame_has_diamonds_and_prediction(table):
    bundle = run_analysis(table, AnalysisSettings(analysis="single_arm", subgroup_column=None))
    frame = forest_frame(bundle, table)
    assert list(frame.row_type.unique()) == ["study", "overall", "prediction", "total"]
    assert np.isfinite(frame.loc[frame.row_type == "overall", "estimate"]).all()


def test_bad_value_is_flagged_not_dropped_and_not_fatal(table):
    table["ai"] = table["ai"].astype(object)
    table.loc[1, "ai"] = "twelve"
    bundle = run_analysis(table, AnalysisSettings())
    assert not bundle.validation.row_valid[1]
    issues = bundle.validation.issues
    assert ((issues["row"] == 2) & (issues["column"] == "ai")).any()
    assert bundle.result is not None and bundle.result.k == 2


def test_no_usable_rows_gives_a_message(table):
    table["include"] = False
    bundle = run_analysis(table, AnalysisSettings())
    assert bundle.result is None and "No study" in bundle.error


@pytest.mark.parametrize("method", ["FE", "DL", "REML", "ML", "PM", "SJ", "HE", "HS", "EB"])
@pytest.mark.parametrize("measure", ["RR", "OR", "RD"])
def test_every_estimator_and_measure_runs(table, method, measure):
    model = "common" if method == "FE" else "random"
    settings = AnalysisSettings(
        binary_measure=measure, model=model, tau2_method=method if method != "FE" else "REML"
    )
    bundle = run_analysis(table, settings)
    assert bundle.result is not None and np.isfinite(bundle.result.estimate)


def test_settings_round_trip():
    s = AnalysisSettings(subgroup_levels=("RCT",), level=0.9)
    assert AnalysisSettings.from_dict(s.to_dict()) == s


@pytest.mark.parametrize(
    "settings",
    [
        AnalysisSettings(pooling="GLMM"),
        AnalysisSettings(pooling="GLMM", glmm_model="CM.EL", subgroup_column=None),
        AnalysisSettings(analysis="single_arm", pooling="GLMM"),
    ],
)
def test_glmm_is_a_pooling_choice(table, settings):
    bundle = run_analysis(table, settings)
    assert bundle.result.method == "GLMM"
    assert bundle.result.transform == ("ilogit" if settings.analysis == "single_arm" else "exp")
    assert settings.measure in ("OR", "PLO")
    frame = forest_frame(bundle, table)
    assert frame["label"].str.startswith("Overall: GLMM").any()
    if settings.analysis == "single_arm":
        assert bundle.subgroups is not None and 0 <= bundle.subgroups.test.pval <= 1
