"""Fuzzing the whole pipeline: random study tables through validation, effect sizes,
pooling, subgroups and the forest frame. Never an uncaught exception, never a NaN or inf
shown as a result."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from igmeta.analysis import AnalysisSettings, run_analysis
from igmeta.formatting import format_ci, format_number
from igmeta.tables import forest_frame, result_summary_frame

COUNT = st.one_of(
    st.integers(0, 500),
    st.integers(-5, -1),
    st.floats(0, 300),
    st.sampled_from([float("nan"), float("inf")]),
    st.sampled_from(["", "abc", "12,5", "1e3", None, "NaN", " 7 "]),
)


@st.composite
def binary_tables(draw):
    k = draw(st.integers(1, 60))
    rows = []
    for i in range(k):
        n1 = draw(st.integers(1, 400))
        n2 = draw(st.integers(1, 400))
        a = draw(st.one_of(st.integers(0, n1), COUNT))
        c = draw(st.one_of(st.integers(0, n2), COUNT))
        rows.append(
            {
                "study": draw(st.one_of(st.text(max_size=30), st.just(f"S{i}"))),
                "include": draw(st.booleans()),
                "design": draw(st.sampled_from(["RCT", "open-label", "", None])),
                "ai": a,
                "n1i": draw(st.one_of(st.just(n1), COUNT)),
                "ci": c,
                "n2i": draw(st.one_of(st.just(n2), COUNT)),
            }
        )
    return pd.DataFrame(rows)


SETTINGS = st.builds(
    AnalysisSettings,
    analysis=st.sampled_from(["comparison", "single_arm"]),
    binary_measure=st.sampled_from(["RR", "OR", "RD"]),
    proportion_measure=st.sampled_from(["PR", "PLO", "PAS", "PFT"]),
    pooling=st.sampled_from(["IV", "MH", "PETO"]),
    model=st.sampled_from(["random", "common"]),
    tau2_method=st.sampled_from(["REML", "DL", "PM", "ML", "SJ", "HE", "HS", "EB"]),
    test=st.sampled_from(["z", "knha"]),
    level=st.sampled_from([0.9, 0.95, 0.99]),
    to=st.sampled_from(["only0", "all", "if0all", "none"]),
    zero_cells=st.sampled_from(["metafor", "revman"]),
    subgroup_column=st.sampled_from(["design", None]),
)


def _finite_or_missing(value) -> bool:
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or math.isfinite(float(value))
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(binary_tables(), SETTINGS)
def test_pipeline_never_crashes_and_never_shows_nan(table, settings_):
    bundle = run_analysis(table, settings_)
    assert len(bundle.validation.row_valid) == len(table)
    if bundle.result is None:
        assert bundle.error
        return
    res = bundle.result
    for value in (res.estimate, res.se, res.ci_lower, res.ci_upper, res.pval):
        assert np.isfinite(value), (value, settings_)
    summary = result_summary_frame(bundle)
    assert not summary["value"].str.contains("nan|inf", case=False).any()
    frame = forest_frame(bundle, table)
    texts = frame["estimate_text"].astype(str)
    assert not texts.str.contains("nan|inf", case=False).any()


def test_formatting_never_prints_nan():
    assert format_number(float("nan")) == "not estimable"
    assert format_ci(1.0, float("inf"), 2.0).endswith("not estimable]")
