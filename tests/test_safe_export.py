"""Formula neutralisation in CSV and Excel exports."""

from __future__ import annotations

import csv
import io

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from igmeta.app.outputs.safe_export import (
    FORMULA_PREFIXES,
    neutralise_formula,
    to_excel_bytes,
    to_safe_csv_bytes,
)

DANGEROUS = ['=HYPERLINK("http://x")', "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1", "=1+1"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_formula_like_text_gets_an_apostrophe(value):
    assert neutralise_formula(value) == "'" + value


@pytest.mark.parametrize("value", ["-0.5", "+3", "-1e-3", "-12", ".5", "Smith 2001", "", "a=b"])
def test_plain_text_and_text_numbers_are_unchanged(value):
    assert neutralise_formula(value) == value


@pytest.mark.parametrize("value", [-0.5, -3, 0, np.float64(-2.5), None, True, np.nan])
def test_non_text_values_are_unchanged(value):
    result = neutralise_formula(value)
    assert result is value or (result != result and value != value)


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_export_neutralises_cells_and_headers_but_not_numbers():
    frame = pd.DataFrame(
        {
            "study": ['=HYPERLINK("http://x")', "Müller 2001", "-0.5"],
            "yi": [-0.25, 1.5, -3.0],
            "=evil": ["a", "b", "c"],
        }
    )
    rows = _csv_rows(to_safe_csv_bytes(frame))
    assert rows[0] == ["study", "yi", "'=evil"]
    assert rows[1] == ['\'=HYPERLINK("http://x")', "-0.25", "a"]
    assert rows[2][0] == "Müller 2001"
    assert rows[3][:2] == ["-0.5", "-3.0"]
    assert frame.loc[0, "study"].startswith("=")  # input untouched


def test_csv_export_of_empty_frame():
    assert to_safe_csv_bytes(pd.DataFrame()).startswith(b"\xef\xbb\xbf")


def test_excel_export_has_no_formula_cells_and_keeps_numbers():
    frame = pd.DataFrame(
        {
            "study": ['=HYPERLINK("http://x")', "@x", "ok\x01bad", None],
            "yi": [-0.25, 1.5, -3.0, 2.0],
            "n": [1, 2, 3, 4],
        }
    )
    data = to_excel_bytes({"Studies": frame, "Summary": pd.DataFrame({"k": [4]})})
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Studies", "Summary"]
    sheet = workbook["Studies"]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("study", "yi", "n")
    assert values[1] == ('\'=HYPERLINK("http://x")', -0.25, 1)
    assert values[2][0] == "'@x"
    assert values[3][0] == "okbad"  # control characters cannot be stored in .xlsx
    assert values[4][0] is None


def test_excel_sheet_names_are_made_valid_and_unique():
    frames = {
        "Results: [all]": pd.DataFrame(),
        "Results? [all]": pd.DataFrame(),
        "x" * 40: pd.DataFrame({"a": [1]}),
    }
    workbook = openpyxl.load_workbook(io.BytesIO(to_excel_bytes(frames)))
    names = workbook.sheetnames
    assert len(set(names)) == 3
    assert all(len(name) <= 31 and not set(name) & set("[]:*?/\\") for name in names)


def test_excel_export_of_nothing_gives_one_sheet():
    workbook = openpyxl.load_workbook(io.BytesIO(to_excel_bytes({})))
    assert len(workbook.sheetnames) == 1


def test_excel_export_drops_time_zones():
    frame = pd.DataFrame({"when": pd.to_datetime(["2024-01-01 10:00"]).tz_localize("UTC")})
    workbook = openpyxl.load_workbook(io.BytesIO(to_excel_bytes({"t": frame})))
    assert workbook["t"]["A2"].value.year == 2024


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=8))
def test_no_exported_csv_cell_starts_a_formula(cells):
    frame = pd.DataFrame({"value": cells})
    rows = _csv_rows(to_safe_csv_bytes(frame))
    for (cell,) in rows[1:]:
        starts_formula = cell.startswith(FORMULA_PREFIXES)
        assert not starts_formula or neutralise_formula(cell) == cell


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_neutralise_is_idempotent(text):
    once = neutralise_formula(text)
    assert neutralise_formula(once) == once
    assert once in (text, "'" + text)
