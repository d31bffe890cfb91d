"""Every file of ``tests/corpus`` through read -> map -> validate, against expected.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from igmeta.app.intake.io import read_table
from igmeta.app.intake.schema import apply_mapping, detect_data_type, guess_mapping
from igmeta.app.intake.validation import validate_table

CORPUS = Path(__file__).parent / "corpus"
EXPECTED = {
    name: spec
    for name, spec in json.loads((CORPUS / "expected.json").read_text("utf-8")).items()
    if not name.startswith("_")
}


def _pipeline(name: str):
    """Read, detect, map and validate one corpus file."""
    spec = EXPECTED[name]
    read = read_table((CORPUS / name).read_bytes(), name)
    data_type = detect_data_type(read.frame.columns)
    used_type = data_type or spec["validate_as"]
    table = apply_mapping(read.frame, guess_mapping(read.frame.columns, used_type))
    return read, data_type, table, validate_table(table, used_type, decimal=read.decimal)


def test_every_corpus_file_has_an_expectation():
    files = {p.name for p in CORPUS.iterdir() if p.suffix not in (".py", ".json")}
    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(name):
    spec = EXPECTED[name]
    read, data_type, table, report = _pipeline(name)

    assert read.ok is spec["read_ok"], read.messages
    for field in ("encoding", "delimiter", "decimal", "sheet"):
        if field in spec:
            assert getattr(read, field) == spec[field]
    if "sheet_names" in spec:
        assert list(read.sheet_names) == spec["sheet_names"]
    assert data_type == spec["data_type"]

    assert len(read.frame) == len(table) == len(report.numeric) == spec["rows"]
    assert len(report.row_valid) == spec["rows"]
    assert int(report.row_valid.sum()) == spec["valid_rows"], report.issues
    assert int(report.has_comparison.sum()) == spec["comparison_rows"]
    if "analysable_rows" in spec:
        assert int(report.analysable.sum()) == spec["analysable_rows"]

    keys = _issue_keys(report.issues)
    flagged = {key for key in keys if key[2] in ("error", "warning")}
    expected = {(row, column, severity) for row, column, severity in spec["flagged"]}
    assert flagged == expected, report.issues.to_string()
    info = {(row, column) for row, column, severity in keys if severity == "info"}
    assert {tuple(pair) for pair in spec.get("info", [])} <= info

    for column in spec.get("columns", []):
        assert column in table.columns
    for row, label in spec.get("labels", {}).items():
        assert report.labels[int(row) - 1] == label
    for column, values in spec.get("numbers", {}).items():
        np.testing.assert_allclose(report.numeric[column].to_numpy(dtype=float), values)


def _issue_keys(issues: pd.DataFrame) -> list[tuple[int | None, str, str]]:
    """(row or None, column, severity) per issue, as plain Python values."""
    return [
        (None if pd.isna(row) else int(row), column, severity)
        for row, column, severity in issues[["row", "column", "severity"]].itertuples(index=False)
    ]


def test_every_row_message_names_its_row_and_column():
    for name in EXPECTED:
        _, _, _, report = _pipeline(name)
        for row, column, message in report.issues[["row", "column", "message"]].itertuples(
            index=False
        ):
            if not pd.isna(row):
                assert message.startswith(f"Row {row}")
                assert f"column '{column}'" in message
