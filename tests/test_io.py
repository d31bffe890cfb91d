"""Reading uploads: encodings, delimiters, decimal commas, Excel, limits, numbers."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import igmeta.app.intake.io as igio
from igmeta.app.intake.io import (
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    ReadResult,
    parse_numbers,
    read_table,
    to_numeric_frame,
)


def _severities(result: ReadResult, severity: str) -> list[str]:
    return [text for level, text in result.messages if level == severity]


def _xlsx(*sheets: tuple[str, list[list[object]]], merges: dict[str, list[str]] | None = None):
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
        for cell_range in (merges or {}).get(title, []):
            sheet.merge_cells(cell_range)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


BINARY_CSV = "study,ai,n1i,ci,n2i\nMüller 2001,12,40,5,38\nÅberg 2004,7,25,3,26\n"


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize(
    ("encoding", "reported"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("utf-16", "utf-16"),
        ("utf-16-le", "utf-16-le"),
        ("utf-16-be", "utf-16-be"),
        ("utf-32", "utf-32"),
    ],
)
def test_unicode_encodings_are_detected(encoding, reported):
    result = read_table(BINARY_CSV.encode(encoding), "t.csv")
    assert result.ok
    assert result.encoding == reported
    assert list(result.frame.columns) == ["study", "ai", "n1i", "ci", "n2i"]
    assert result.frame["study"].tolist() == ["Müller 2001", "Åberg 2004"]


def test_bom_does_not_leak_into_first_header():
    result = read_table(BINARY_CSV.encode("utf-8-sig"), "t.csv")
    assert result.frame.columns[0] == "study"


def test_windows_1252_fallback_keeps_accents_and_dashes():
    data = "study,ai\nMüller – 2001,3\n".encode("cp1252")
    result = read_table(data, "t.csv")
    assert result.encoding == "cp1252"
    assert result.frame.loc[0, "study"] == "Müller – 2001"
    assert any("not UTF-8" in text for text in _severities(result, "info"))


def test_latin1_fallback_when_not_windows_1252():
    data = b"study,ai\nM\xfcller\x81,3\n"  # 0x81 is undefined in cp1252
    result = read_table(data, "t.csv")
    assert result.encoding == "latin-1"
    assert result.frame.loc[0, "study"].startswith("Müller")


def test_binary_content_is_refused():
    result = read_table(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01", "image.csv")
    assert not result.ok
    assert result.frame.empty


# --------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_detected(delimiter):
    text = BINARY_CSV.replace(",", delimiter)
    result = read_table(text.encode(), "t.txt")
    assert result.delimiter == delimiter
    assert result.frame.shape == (2, 5)


def test_semicolon_file_with_decimal_commas_everywhere():
    text = "study;mean;sd;n\nA;12,5;3,1;20\nB;11,0;2,8;35\nC;10,4;2,9;18\n"
    result = read_table(text.encode(), "t.csv")
    assert result.delimiter == ";"
    assert result.decimal == ","
    assert result.frame.loc[0, "mean"] == "12,5"  # cells stay as typed


def test_comma_file_with_semicolons_in_names():
    text = "study,ai,n1i\nSmith; Jones 2001,3,20\nLee; Park 2004,4,22\nKim 2009,5,30\n"
    result = read_table(text.encode(), "t.csv")
    assert result.delimiter == ","
    assert result.frame["study"].tolist()[0] == "Smith; Jones 2001"


def test_tsv_suffix_prefers_tab_on_ties():
    result = read_table(b"study\nA\nB\n", "t.tsv")
    assert result.delimiter == "\t"
    assert result.frame["study"].tolist() == ["A", "B"]


def test_quoted_fields_with_delimiters_quotes_and_newlines():
    text = 'study,ai,notes\n"Smith, J.\nand ""Jones""",3,"a;b\tc"\nPlain,4,\n'
    result = read_table(text.encode(), "t.csv")
    assert result.frame.loc[0, "study"] == 'Smith, J.\nand "Jones"'
    assert result.frame.loc[0, "notes"] == "a;b\tc"
    assert len(result.frame) == 2


def test_decimal_comma_is_not_assumed_for_comma_delimited_files():
    text = 'study,mean\nA,"12,5"\nB,"11,5"\n'
    assert read_table(text.encode(), "t.csv").decimal == "."


def test_unmatched_quote_gives_a_warning():
    result = read_table(b'study,ai\n"Smith,3\nJones,4\n', "t.csv")
    assert any("unmatched" in text for text in _severities(result, "warning"))


# --------------------------------------------------------------------------- headers and rows


def test_headers_are_stripped_and_duplicates_made_unique():
    result = read_table(b" study , ai ,ai,  \n A ,1,2,3\n", "t.csv")
    assert list(result.frame.columns) == ["study", "ai", "ai_2", "column_4"]
    assert result.frame.loc[0, "study"] == " A "  # cells are kept exactly as typed
    assert any("repeat" in text for text in _severities(result, "warning"))


def test_cells_are_never_coerced():
    result = read_table(b"study,ai,code\nA,007,1e3\nB,,TRUE\n", "t.csv")
    assert result.frame.loc[0, "ai"] == "007"
    assert result.frame.loc[0, "code"] == "1e3"
    assert result.frame.loc[1, "ai"] == ""
    assert result.frame.loc[1, "code"] == "TRUE"
    assert all(dtype is np.dtype(object) for dtype in result.frame.dtypes)


def test_blank_lines_are_skipped_and_reported():
    result = read_table(b"study,ai\r\n\r\nA,1\r\n\r\nB,2\r\n\r\n", "t.csv")
    assert result.frame["study"].tolist() == ["A", "B"]
    assert any("empty row" in text for text in _severities(result, "info"))


def test_ragged_rows_are_padded_and_extras_kept():
    result = read_table(b"study,ai,n1i\nA,1\nB,2,3,surprise\n", "t.csv")
    assert result.frame.loc[0, "n1i"] == ""
    assert result.frame.iloc[1, 3] == "surprise"
    assert _severities(result, "warning")


def test_title_row_above_header_is_skipped():
    result = read_table(b"Table 1: trials,,\nstudy,ai,n1i\nA,1,2\n", "t.csv")
    assert list(result.frame.columns) == ["study", "ai", "n1i"]
    assert any("title" in text for text in _severities(result, "info"))


def test_two_row_header_in_text_is_combined():
    text = "Study,Treatment,,Control,\n,Events,Total,Events,Total\nA,1,2,3,4\n"
    result = read_table(text.encode(), "t.csv")
    assert list(result.frame.columns) == [
        "Study",
        "Treatment Events",
        "Treatment Total",
        "Control Events",
        "Control Total",
    ]


# --------------------------------------------------------------------------- empty and limits


@pytest.mark.parametrize("data", [b"", b"   \n\n", b"\xef\xbb\xbf", b"\xff\xfe", b",,,\n,,\n"])
def test_empty_files_give_an_error_not_an_exception(data):
    result = read_table(data, "t.csv")
    assert not result.ok
    assert result.frame.empty
    assert "empty" in result.messages[-1][1]


def test_header_only_file_keeps_columns_and_reports():
    result = read_table(b"study,ai,n1i\n", "t.csv")
    assert not result.ok
    assert list(result.frame.columns) == ["study", "ai", "n1i"]
    assert len(result.frame) == 0


def test_missing_content_is_reported():
    assert not read_table(None, "t.csv").ok


def test_file_over_the_size_limit_is_refused_without_parsing(monkeypatch):
    data = b"study,ai\n" + b"A,1\n" * (MAX_UPLOAD_BYTES // 4 + 1)
    assert len(data) > MAX_UPLOAD_BYTES

    def must_not_parse(*args, **kwargs):
        raise AssertionError("an oversized upload was parsed")

    for parser in ("_decode", "_read_text", "_read_excel"):
        monkeypatch.setattr(f"igmeta.app.intake.io.{parser}", must_not_parse)
    result = read_table(data, "big.csv")
    assert not result.ok
    assert result.frame.empty
    assert "limit" in result.messages[0][1]


def test_file_at_the_size_limit_is_read():
    header, row = b"study,ai\n", b"Study name,1\n"
    rows, rest = divmod(MAX_UPLOAD_BYTES - len(header), len(row))
    data = header + row * rows + b"x" * (rest - 3) + b",1\n"
    assert len(data) == MAX_UPLOAD_BYTES
    result = read_table(data, "edge.csv")
    assert result.ok
    assert len(result.frame) == min(rows + 1, MAX_ROWS)


def test_giant_cell_is_an_error_not_an_exception():
    result = read_table(b'study,ai\n"' + b"A" * 200_000 + b"\n", "t.csv")
    assert not result.ok
    assert "characters" in result.messages[-1][1]


def test_too_many_rows_are_cut_with_a_warning(monkeypatch):
    monkeypatch.setattr(igio, "MAX_ROWS", 50)
    data = b"study,ai\n" + b"".join(b"S%d,1\n" % i for i in range(80))
    result = read_table(data, "t.csv")
    assert len(result.frame) == 50
    assert result.frame["study"].iloc[-1] == "S49"
    assert any("50" in text for text in _severities(result, "warning"))


@pytest.mark.slow
def test_real_row_limit():
    data = b"s,a\n" + b"x,1\n" * (MAX_ROWS + 5)
    result = read_table(data, "rows.csv")
    assert len(result.frame) == MAX_ROWS
    assert _severities(result, "warning")


# --------------------------------------------------------------------------- Excel


def test_xlsx_first_non_empty_sheet_and_sheet_names():
    data = _xlsx(
        ("Blank", []), ("Data", [["study", "ai"], ["A", 3], ["B", 4.5]]), ("Notes", [["x"]])
    )
    result = read_table(data, "book.xlsx")
    assert result.ok
    assert result.sheet_names == ("Blank", "Data", "Notes")
    assert result.sheet == "Data"
    assert result.frame["ai"].tolist() == [3, 4.5]  # numbers stay numbers
    assert result.encoding is None and result.delimiter is None


@pytest.mark.parametrize("choice", ["Notes", "notes", 2])
def test_xlsx_sheet_can_be_chosen(choice):
    data = _xlsx(("Blank", []), ("Data", [["study"], ["A"]]), ("Notes", [["memo"], ["x"]]))
    result = read_table(data, "book.xlsx", sheet=choice)
    assert result.sheet == "Notes"
    assert list(result.frame.columns) == ["memo"]


def test_xlsx_unknown_sheet_is_an_error_listing_sheets():
    data = _xlsx(("Data", [["study"], ["A"]]))
    result = read_table(data, "book.xlsx", sheet="Nope")
    assert not result.ok
    assert "'Data'" in result.messages[0][1]
    assert result.sheet_names == ("Data",)


def test_xlsx_without_data_is_an_error():
    result = read_table(_xlsx(("A", []), ("B", [[None, None]])), "book.xlsx")
    assert not result.ok


def test_xlsx_merged_two_row_header():
    rows = [
        ["Study", "IG", None, "Placebo", None, "Year"],
        [None, "Events", "Total", "Events", "Total", None],
        ["Jann 2020", 7, 11, 0, 12, 2020],
    ]
    merges = {"Trials": ["A1:A2", "B1:C1", "D1:E1", "F1:F2"]}
    result = read_table(_xlsx(("Trials", rows), merges=merges), "book.xlsx")
    assert list(result.frame.columns) == [
        "Study",
        "IG Events",
        "IG Total",
        "Placebo Events",
        "Placebo Total",
        "Year",
    ]
    assert result.frame.iloc[0].tolist() == ["Jann 2020", 7, 11, 0, 12, 2020]
    assert any("two rows" in text for text in _severities(result, "info"))


def test_xlsx_title_row_is_skipped():
    rows = [["Included trials"], [], ["study", "events", "total"], ["A", 1, 10]]
    result = read_table(_xlsx(("S", rows)), "book.xlsx")
    assert list(result.frame.columns) == ["study", "events", "total"]
    assert any("row 3" in text for text in _severities(result, "info"))


def test_xlsx_misnamed_as_csv_is_still_read():
    data = _xlsx(("Data", [["study"], ["A"]]))
    assert read_table(data, "upload.csv").frame["study"].tolist() == ["A"]


def test_legacy_xls_is_refused_with_advice():
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    result = read_table(data, "old.xls")
    assert not result.ok
    assert ".xlsx" in result.messages[0][1]


def test_fake_xlsx_is_an_error():
    assert not read_table(b"study,ai\nA,1\n", "book.xlsx").ok


def test_zip_that_is_not_a_workbook_is_an_error():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    result = read_table(buffer.getvalue(), "book.xlsx")
    assert not result.ok
    assert "not an Excel workbook" in result.messages[0][1]


def test_zip_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(igio, "MAX_UNZIPPED_BYTES", 1000)
    data = _xlsx(("Data", [["study"], ["x" * 5000]]))
    result = read_table(data, "book.xlsx")
    assert not result.ok
    assert "unpacked" in result.messages[0][1]


def test_damaged_zip_is_an_error():
    assert not read_table(b"PK\x03\x04garbage", "book.xlsx").ok


# --------------------------------------------------------------------------- never raises


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000), name=st.sampled_from(["a.csv", "a.xlsx", "a.tsv", "a"]))
def test_random_bytes_never_raise(data, name):
    result = read_table(data, name)
    assert isinstance(result, ReadResult)
    assert isinstance(result.frame, pd.DataFrame)
    assert all(severity in ("error", "warning", "info") for severity, _ in result.messages)


@settings(max_examples=150, deadline=None)
@given(
    cells=st.lists(
        st.lists(st.text(alphabet='ab1,;\t"\n\r .-', max_size=6), min_size=1, max_size=5),
        min_size=1,
        max_size=8,
    )
)
def test_random_delimited_text_never_raises(cells):
    text = "\n".join(",".join(row) for row in cells)
    result = read_table(text.encode(), "t.csv")
    assert result.frame.columns.is_unique


# --------------------------------------------------------------------------- numbers


def test_parse_numbers_reads_text_and_numbers():
    values = ["1", " 2.5 ", 3, 4.5, "1,234", "1e3", "\u22123", "+7", "1 000"]
    numbers, missing, not_numeric = parse_numbers(values)
    np.testing.assert_array_equal(numbers, [1, 2.5, 3, 4.5, 1234, 1000, -3, 7, 1000])
    assert not missing.any() and not not_numeric.any()


def test_parse_numbers_with_decimal_comma():
    numbers, _, not_numeric = parse_numbers(["12,5", "1.234,5", "0,3", "7", "2.5"], ",")
    np.testing.assert_allclose(numbers, [12.5, 1234.5, 0.3, 7, 2.5])
    assert not not_numeric.any()


def test_parse_numbers_flags_missing_and_text():
    values = ["", " ", None, np.nan, pd.NA, "NA", "n/a", ".", "abc", "12,5", True, "inf", "1_0"]
    numbers, missing, not_numeric = parse_numbers(values)
    assert missing.tolist() == [True] * 8 + [False] * 5
    assert not_numeric.tolist() == [False] * 8 + [True] * 5
    assert np.isnan(numbers).all()


def test_parse_numbers_handles_huge_integers_and_numpy_types():
    numbers, _, not_numeric = parse_numbers([10**400, np.int64(3), np.float32(0.5)])
    assert not_numeric.tolist() == [True, False, False]
    assert numbers[1:].tolist() == [3.0, 0.5]


def test_to_numeric_frame_records_every_bad_cell():
    frame = pd.DataFrame({"ai": ["1", "x", ""], "n1i": ["10", "20", "3,5"], "s": ["a", "b", "c"]})
    numbers, issues = to_numeric_frame(frame, ["ai", "n1i", "absent"], decimal=",")
    assert list(numbers.columns) == ["ai", "n1i"]
    np.testing.assert_allclose(numbers["n1i"], [10, 20, 3.5])
    assert issues[["row", "column", "problem"]].values.tolist() == [
        [2, "ai", "not a number"],
        [3, "ai", "missing"],
    ]
    assert issues.loc[0, "value"] == "x"


def test_to_numeric_frame_without_problems_has_stable_columns():
    _, issues = to_numeric_frame(pd.DataFrame({"a": [1, 2]}), ["a"])
    assert list(issues.columns) == ["row", "column", "value", "problem"]
    assert issues.empty
