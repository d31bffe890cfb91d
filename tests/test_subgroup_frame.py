"""The one per-subgroup table behind the pages, the HTML report and the exports."""

from __future__ import annotations

import math

import pandas as pd

from igmeta.app.outputs.tables import subgroup_frame
from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.formatting import format_ci, format_ci_column


def test_subgroup_frame_is_on_the_display_scale():
    table = load_ig_pnp_canonical()
    bundle = run_analysis(
        table, AnalysisSettings(analysis="single_arm", subgroup_column="design", model="common")
    )
    frame = subgroup_frame(bundle)
    assert list(frame.columns) == [
        "subgroup", "k", "estimate", "ci_lower", "ci_upper", "pval", "i2", "tau2"
    ]  # fmt: skip
    fits = dict(zip(bundle.subgroups.levels, bundle.subgroups.fits, strict=True))
    for row in frame.itertuples():
        bt = fits[row.subgroup].back_transformed()
        assert row.estimate == bt["estimate"] and row.ci_upper == bt["ci_upper"]
        assert math.isnan(row.tau2)  # common-effect fits


def test_no_subgroups_gives_an_empty_frame():
    bundle = run_analysis(load_ig_pnp_canonical(), AnalysisSettings())
    assert subgroup_frame(bundle).empty


def test_format_ci_column():
    frame = pd.DataFrame(
        {"estimate": [1.0, float("nan")], "ci_lower": [0.5, 1], "ci_upper": [2, 3]}
    )
    assert format_ci_column(frame) == [format_ci(1.0, 0.5, 2), format_ci(float("nan"), 1, 3)]
