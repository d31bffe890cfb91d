"""Fuzzing the whole pipeline: random study tables through validation, effect sizes,
pooling, subgroups and the forest frame. Never an uncaught exception, never a NaN or inf
shown as a result."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from igmeta.app.outputs.tables import forest_frame, result_summary_frame
from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.formatting import format_ci, format_number

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
    tau2_method=st.sampled_from(["REML", "DL", "PM", "ML", "SJ", "HE", "HS", "EB", "HSk", "PMM"]),
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
    _check_shown(bundle, table, settings_)


def _check_shown(bundle, table, settings_) -> None:
    """A result shows finite numbers, or says in words why one is missing."""
    res = bundle.result
    for value in (res.estimate, res.se, res.ci_lower, res.ci_upper):
        assert np.isfinite(value), (value, settings_)
    if not np.isfinite(res.pval):
        # metafor's MH/Peto answer with a standard error of 0 (e.g. RD without events):
        # estimate and CI are shown, z and p are "not estimable", and a warning says why.
        assert res.se == 0 and res.method in ("MH", "PETO"), settings_
        assert any("standard error of 0" in text for text in bundle.warnings)
    summary = result_summary_frame(bundle)
    assert not summary["value"].str.contains("nan|inf", case=False).any()
    frame = forest_frame(bundle, table)
    texts = frame["estimate_text"].astype(str)
    assert not texts.str.contains("nan|inf", case=False).any()


# Numbers at the edges of double precision: subnormal, huge, zero and events = total,
# typed as numbers or as text.
EXTREME = st.sampled_from(
    [0, 1, 7, 5e-324, "5e-324", 1e-300, 1e308, "1e308", 1.7976931348623157e308, 2.0**53]
)


@st.composite
def extreme_tables(draw):
    rows = []
    for i in range(draw(st.integers(1, 5))):
        n1, n2 = draw(EXTREME), draw(EXTREME)
        rows.append(
            {
                "study": f"S{i}",
                "design": draw(st.sampled_from(["RCT", "open-label"])),
                "ai": draw(st.one_of(EXTREME, st.just(n1))),
                "n1i": n1,
                "ci": draw(st.one_of(EXTREME, st.just(n2))),
                "n2i": n2,
            }
        )
    return pd.DataFrame(rows)


EXTREME_SETTINGS = st.builds(
    AnalysisSettings,
    analysis=st.sampled_from(["comparison", "single_arm"]),
    binary_measure=st.sampled_from(["RR", "OR", "RD"]),
    proportion_measure=st.sampled_from(["PR", "PLO", "PAS", "PFT"]),
    pooling=st.sampled_from(["IV", "MH", "PETO", "GLMM"]),
    model=st.sampled_from(["random", "common"]),
    tau2_method=st.sampled_from(["REML", "DL", "PM", "HSk", "PMM"]),
    to=st.sampled_from(["only0", "all"]),
    zero_cells=st.sampled_from(["metafor", "revman"]),
    glmm_model=st.sampled_from(["UM.FS", "CM.EL"]),
    subgroup_column=st.sampled_from(["design", None]),
)


def _table(ai, n1i, ci, n2i) -> pd.DataFrame:
    k = len(ai)
    return pd.DataFrame(
        {"study": [f"S{i}" for i in range(k)], "design": ["RCT", "open-label"] * (k // 2)
         + ["RCT"] * (k % 2), "ai": ai, "n1i": n1i, "ci": ci, "n2i": n2i}
    )  # fmt: skip


def _extreme_body(table, settings_) -> None:
    bundle = run_analysis(table, settings_)  # must not raise
    if bundle.result is None:
        assert isinstance(bundle.error, str) and bundle.error.strip()
        assert "nan" not in bundle.error.lower().split()
        return
    _check_shown(bundle, table, settings_)


MH = AnalysisSettings(pooling="MH", subgroup_column=None)


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(extreme_tables(), EXTREME_SETTINGS)
# The crasher the fuzz test found (ZeroDivisionError in the MH risk ratio), as text too.
@example(_table([5e-324], [10], [5e-324], [10]), MH)
@example(_table(["5e-324", 3], [10, 10], ["5e-324", 2], [10, 10]), MH)
@example(_table([5e-324], [10], [5e-324], [10]), MH.with_changes(binary_measure="OR"))
@example(_table([5e-324], [10], [5e-324], [10]), MH.with_changes(binary_measure="RD"))
@example(_table([5e-324], [10], [5e-324], [10]), MH.with_changes(pooling="PETO"))
# metafor's awkward answers: no events anywhere, every participant with the event.
@example(_table([0, 0], [10, 12], [0, 0], [10, 11]), MH.with_changes(binary_measure="RD"))
@example(_table([0, 0], [10, 12], [0, 0], [10, 11]), MH)
@example(_table([10, 12], [10, 12], [10, 11], [10, 11]), MH)
@example(_table([10, 12], [10, 12], [0, 0], [10, 11]), MH.with_changes(binary_measure="RD"))
@example(_table([0, 0], [10, 12], [0, 0], [10, 11]), MH.with_changes(pooling="PETO"))
# Huge counts: sums overflow to Inf (math.fsum would raise OverflowError).
@example(_table([1e308, 1e308], [1e308, 1e308], [1e308, 7], [1e308, 1e308]), MH)
@example(_table([1e308, 3], [1.7976931348623157e308, 10], [1, 3], [1e308, 10]),
         MH.with_changes(pooling="PETO"))  # fmt: skip
@example(_table([1e308, 3], [1e308, 10], [1, 3], [1e308, 10]), MH.with_changes(pooling="IV"))
@example(_table([1e308, 3, 2], [1e308, 10, 9], [1, 3, 0], [1e308, 10, 8]),
         MH.with_changes(pooling="GLMM"))  # fmt: skip
def test_extreme_numbers_never_raise_fixed_set(table, settings_):
    _extreme_body(table, settings_)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(extreme_tables(), EXTREME_SETTINGS)
def test_extreme_numbers_never_raise_random(table, settings_):
    _extreme_body(table, settings_)


def test_formatting_never_prints_nan():
    assert format_number(float("nan")) == "not estimable"
    assert format_ci(1.0, float("inf"), 2.0).endswith("not estimable]")
