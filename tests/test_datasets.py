"""The bundled IG-for-neuropathic-pain data and its provenance."""

from __future__ import annotations

import pandas as pd

from igmeta.app.intake.schema import detect_data_type
from igmeta.app.intake.validation import validate_table
from igmeta.datasets import (
    IG_PNP_MAPPING,
    ig_pnp_provenance,
    is_reconstructed,
    load_ig_pnp,
    load_ig_pnp_canonical,
)

RAW_COLUMNS = [
    "study",
    "year",
    "design",
    "condition",
    "responder_definition",
    "ig_events",
    "ig_total",
    "placebo_events",
    "placebo_total",
    "provenance",
]


def test_raw_table_keeps_every_column_with_nullable_counts():
    frame = load_ig_pnp()
    assert list(frame.columns) == RAW_COLUMNS
    assert len(frame) == 5
    for column in ("year", "ig_events", "ig_total", "placebo_events", "placebo_total"):
        assert str(frame[column].dtype) == "Int64"
    assert frame["ig_events"].tolist() == [7, 12, 13, 41, 54]
    assert frame["ig_total"].tolist() == [11, 30, 19, 55, 83]
    assert frame["placebo_events"].isna().tolist() == [False, False, False, True, True]
    assert frame.loc[0, "study"] == "Jann 2020"
    assert set(frame["provenance"]) == {"sourced", "reconstructed"}


def test_raw_table_is_recognised_as_binary():
    assert detect_data_type(load_ig_pnp().columns) == "binary"


def test_canonical_layout():
    frame = load_ig_pnp_canonical()
    assert list(frame.columns) == [
        "study",
        "include",
        "design",
        "year",
        "ai",
        "n1i",
        "ci",
        "n2i",
        "provenance",
        "condition",
        "responder_definition",
    ]
    assert frame["include"].all()
    raw = load_ig_pnp()
    for source, target in IG_PNP_MAPPING.items():
        pd.testing.assert_series_equal(frame[target], raw[source], check_names=False)


def test_canonical_table_validates_with_two_single_arm_studies():
    report = validate_table(load_ig_pnp_canonical(), "binary")
    assert report.row_valid.all()
    assert report.has_comparison.tolist() == [True, True, True, False, False]
    assert report.count("error") == report.count("warning") == 0
    assert report.count("info") == 2


def test_is_reconstructed():
    assert is_reconstructed(load_ig_pnp()).tolist() == [False, False, True, True, True]
    assert is_reconstructed(load_ig_pnp_canonical()).dtype == bool
    odd = pd.DataFrame({"provenance": [" Reconstructed ", None, "sourced"]}, index=[3, 4, 5])
    result = is_reconstructed(odd)
    assert result.tolist() == [True, False, False]
    assert result.index.tolist() == [3, 4, 5]
    assert is_reconstructed(pd.DataFrame({"study": ["a"]})).tolist() == [False]


def test_provenance_text_says_it_is_a_reconstruction():
    text = ig_pnp_provenance()
    assert text.startswith("# The immunoglobulin")
    assert "partial reconstruction" in text
    for study in load_ig_pnp()["study"]:
        assert study.split(" (")[0] in text


def test_loaders_return_fresh_copies():
    first = load_ig_pnp_canonical()
    first.loc[0, "ai"] = 99
    assert load_ig_pnp_canonical().loc[0, "ai"] == 7
