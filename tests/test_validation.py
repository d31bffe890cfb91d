"""validate_table: every check, the report's shape, and properties on random tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from igmeta.app.intake.schema import CANONICAL_COLUMNS, DATA_TYPES, apply_mapping
from igmeta.app.intake.validation import (
    FAILURE_MESSAGE,
    ISSUE_COLUMNS,
    LONG_NAME_LIMIT,
    ValidationReport,
    validate_table,
)


def _table(**columns) -> pd.DataFrame:
    return apply_mapping(pd.DataFrame(columns, dtype=object), {})


def _flags(report: ValidationReport, severity: str | None = None) -> set[tuple[object, str]]:
    issues = report.issues
    if severity:
        issues = issues[issues["severity"] == severity]
    return {
        (None if pd.isna(row) else int(row), col)
        for row, col in issues[["row", "column"]].itertuples(index=False)
    }


def _messages(report: ValidationReport) -> list[str]:
    return report.issues["message"].tolist()


# --------------------------------------------------------------------------- report shape


def test_report_shape_and_dtypes():
    report = validate_table(_table(study=["A"], ai=["x"], n1i=["10"]), "binary")
    assert tuple(report.issues.columns) == ISSUE_COLUMNS
    assert str(report.issues["row"].dtype) == "Int64"
    assert report.row_valid.dtype == bool and report.has_comparison.dtype == bool
    assert report.included.dtype == bool
    assert report.data_type == "binary"
    assert report.has_errors
    assert report.count("error") == 1


def test_clean_table_has_empty_issue_frame_with_stable_columns():
    report = validate_table(_table(study=["A"], xi=["1"], ni=["10"]), "proportion")
    assert report.issues.empty
    assert tuple(report.issues.columns) == ISSUE_COLUMNS
    assert not report.has_errors


def test_example_message_wording():
    report = validate_table(
        _table(study=["A", "B", "Smith 2001"], ai=["1", "1", "12"], n1i=["9", "9", "10"]),
        "binary",
    )
    assert "Row 3 (Smith 2001), column 'ai': events (12) exceed the total (10)." in _messages(
        report
    )


def test_numeric_frame_converts_only_canonical_columns():
    frame = _table(
        study=["A", "B"], xi=["3", "x"], ni=[10, "20"], notes=["1", "2"], year=["2001", ""]
    )
    report = validate_table(frame, "proportion")
    numeric = report.numeric
    assert numeric["xi"].dtype == float and np.isnan(numeric.loc[1, "xi"])
    assert numeric["ni"].tolist() == [10.0, 20.0]
    assert numeric["notes"].tolist() == ["1", "2"]  # untouched
    assert numeric["study"].tolist() == ["A", "B"]
    assert numeric["year"].iloc[0] == 2001.0 and np.isnan(numeric["year"].iloc[1])
    assert numeric["include"].dtype == bool
    assert frame["xi"].tolist() == ["3", "x"]  # input untouched


def test_rows_are_never_dropped_and_index_is_kept():
    frame = _table(study=["A", "B", "C"], xi=["1", "-1", ""], ni=["10", "10", "10"])
    frame.index = [10, 20, 30]
    report = validate_table(frame, "proportion")
    assert report.numeric.index.tolist() == [10, 20, 30]
    assert report.row_valid.tolist() == [True, False, False]
    assert report.issues["row"].tolist() == [2, 3]  # positions, not index labels


# --------------------------------------------------------------------------- binary


def test_binary_checks():
    frame = _table(
        study=["text", "neg", "frac", "missing", "over", "zero", "single", "half", "ok"],
        ai=["x", "-3", "2.5", "", "12", "0", "9", "5", "6"],
        n1i=["40", "25", "20", "30", "10", "0", "30", "20", "24"],
        ci=["5", "3", "1", "4", "3", "1", "", "3", "2"],
        n2i=["38", "26", "20", "30", "10", "10", " ", "", "25"],
    )
    report = validate_table(frame, "binary")
    assert _flags(report, "error") == {
        (1, "ai"),
        (2, "ai"),
        (3, "ai"),
        (4, "ai"),
        (5, "ai"),
        (6, "n1i"),
        (8, "n2i"),
    }
    assert _flags(report, "warning") == set()
    assert _flags(report, "info") == {(7, "ci")}
    assert report.row_valid.tolist() == [False] * 6 + [True, False, True]
    assert report.has_comparison.tolist() == [False] * 8 + [True]
    assert "'x' is not a number" in _messages(report)[0]


def test_counts_typed_in_a_grid_are_taken_exactly_or_rejected():
    """What a user may type into a count cell: exact numbers are read, the rest flagged."""
    frame = _table(
        study=["frac", "sci", "space", "word", "mixed", "huge", "overflow", "neg", "over"],
        ai=["30.5", "1e3", "12 ", "twelve", "12a", "1e308", "1e400", "-3", "41"],
        n1i=["40", "2000", "40", "40", "40", "40", "40", "40", "40"],
        ci=["1"] * 9,
        n2i=["10"] * 9,
    )
    report = validate_table(frame, "binary")
    messages: dict[tuple[int, str], list[str]] = {}
    for row, name, message in report.issues[["row", "column", "message"]].itertuples(index=False):
        messages.setdefault((int(row), name), []).append(message)
    assert report.numeric["ai"].tolist()[1:3] == [1000.0, 12.0]  # exact numbers, taken
    assert report.row_valid.tolist() == [False, True, True] + [False] * 6
    assert messages[(1, "ai")] == [
        "Row 1 (frac), column 'ai': '30.5' is not a whole number; a count of people must be "
        "one, so the row is left out of the analysis until it is fixed."
    ]
    assert messages[(4, "ai")] == ["Row 4 (word), column 'ai': 'twelve' is not a number."]
    assert messages[(5, "ai")] == ["Row 5 (mixed), column 'ai': '12a' is not a number."]
    assert "'1e308' is too large for a count" in messages[(6, "ai")][0]
    assert messages[(7, "ai")] == [
        "Row 7 (overflow), column 'ai': '1e400' is too large to be stored as a number "
        "(the limit is about 1.8e308)."
    ]
    assert messages[(8, "ai")] == ["Row 8 (neg), column 'ai': a count cannot be negative (-3)."]
    assert messages[(9, "ai")] == ["Row 9 (over), column 'ai': events (41) exceed the total (40)."]
    assert all(severity == "error" for severity in report.issues["severity"])


def test_fraction_stored_as_a_number_is_shown_as_typed():
    frame = pd.DataFrame({"study": ["a"], "xi": [12.0000001], "ni": [40]})
    report = validate_table(frame, "proportion")
    assert "'12.0000001' is not a whole number" in _messages(report)[0]
    assert not report.row_valid[0]


def test_binary_non_events_give_totals():
    frame = _table(study=["A", "B"], ai=["3", "2"], bi=["7", "-1"], ci=["1", "1"], di=["9", "9"])
    report = validate_table(frame, "binary")
    assert report.numeric["n1i"].tolist()[0] == 10.0
    assert report.numeric["n2i"].tolist() == [10.0, 10.0]
    assert _flags(report, "error") == {(2, "bi")}


def test_binary_without_control_columns_is_single_arm():
    report = validate_table(_table(study=["A"], ai=["3"], n1i=["10"]), "binary")
    assert report.row_valid.tolist() == [True]
    assert report.has_comparison.tolist() == [False]
    assert (None, "ci") in _flags(report, "info")


def test_binary_with_only_one_control_column_is_an_error():
    report = validate_table(_table(study=["A"], ai=["3"], n1i=["10"], ci=["1"]), "binary")
    assert (None, "n2i") in _flags(report, "error")
    assert not report.row_valid.any()


def test_binary_zero_events_are_fine():
    report = validate_table(
        _table(study=["A"], ai=["0"], n1i=["10"], ci=["0"], n2i=["10"]), "binary"
    )
    assert report.issues.empty and report.has_comparison.all()


def test_missing_required_column_is_a_table_error():
    report = validate_table(_table(study=["A", "B"], ai=["3", "4"]), "binary")
    assert (None, "n1i") in _flags(report, "error")
    assert not report.row_valid.any()
    assert any("'n1i'" in message for message in _messages(report))


# --------------------------------------------------------------------------- other types


def test_proportion_checks():
    frame = _table(study=["a", "b", "c", "d"], xi=["5", "11", "1", "NA"], ni=["10", "10", "0", "5"])
    report = validate_table(frame, "proportion")
    assert _flags(report, "error") == {(2, "xi"), (3, "xi"), (4, "xi")}
    assert not report.has_comparison.any()


def test_continuous_checks():
    frame = _table(
        study=["sd0", "sdneg", "n1", "mean missing", "ok", "n fractional"],
        m1i=["5", "5", "5", "", "5", "5"],
        sd1i=["0", "1", "1", "1", "1", "1"],
        n1i=["20", "20", "1", "20", "20", "20.5"],
        m2i=["6", "6", "6", "6", "-6", "6"],
        sd2i=["1", "-1", "1", "1", "1", "1"],
        n2i=["20", "20", "20", "20", "20", "20"],
    )
    report = validate_table(frame, "continuous")
    assert _flags(report, "error") == {
        (1, "sd1i"),
        (2, "sd2i"),
        (3, "n1i"),
        (4, "m1i"),
        (6, "n1i"),
    }
    assert not _flags(report, "warning")
    assert report.row_valid.tolist() == [False, False, False, False, True, False]
    assert report.has_comparison.tolist() == report.row_valid.tolist()


def test_correlation_checks():
    frame = _table(
        study=list("abcdef"),
        ri=["0.3", "1", "-1", "1.5", "-0.99", "0.1"],
        ni=["10", "10", "10", "10", "4", "3"],
    )
    report = validate_table(frame, "correlation")
    assert _flags(report, "error") == {(2, "ri"), (3, "ri"), (4, "ri"), (6, "ni")}
    assert report.row_valid.tolist() == [True, False, False, False, True, False]


def test_generic_routes_and_checks():
    frame = _table(
        study=list("abcdefghi"),
        yi=["0.1", "0.2", "", "", "0.3", "0.3", "", "", "0.5"],
        vi=["0.01", "", "", "", "0", "", "", "", ""],
        sei=["", "0.1", "", "", "", "-0.1", "", "", ""],
        estimate=["", "", "1.5", "1.5", "", "", "", "3", ""],
        ci_lower=["", "", "1.1", "2.0", "", "", "", "1", ""],
        ci_upper=["", "", "2.0", "1.1", "", "", "", "2", ""],
    )
    report = validate_table(frame, "generic")
    assert _flags(report, "error") == {(4, "ci_lower"), (5, "vi"), (6, "sei"), (7, "yi"), (9, "vi")}
    assert _flags(report, "warning") == {(8, "estimate")}
    assert report.row_valid.tolist() == [True, True, True, False, False, False, False, True, False]


def test_generic_equal_limits_are_an_error():
    frame = _table(study=["a"], estimate=["2"], ci_lower=["2"], ci_upper=["2"])
    assert _flags(validate_table(frame, "generic"), "error") == {(1, "ci_lower")}


def test_generic_ratio_on_natural_scale_is_not_judged_here():
    frame = _table(study=["a"], estimate=["0"], ci_lower=["-1"], ci_upper=["2"])
    assert validate_table(frame, "generic").row_valid.all()


def test_decimal_comma_is_honoured_and_hinted():
    frame = _table(study=["a"], ri=["0,5"], ni=["10"])
    assert validate_table(frame, "correlation", decimal=",").row_valid.all()
    report = validate_table(frame, "correlation")
    assert "decimal comma" in _messages(report)[0]


def test_unknown_data_type_is_reported():
    report = validate_table(_table(study=["a"]), "nonsense")
    assert report.has_errors and not report.row_valid.any()


@pytest.mark.parametrize("data_type", DATA_TYPES)
def test_empty_table_is_reported(data_type):
    columns = {name: [] for name in ("study", *CANONICAL_COLUMNS[data_type])}
    report = validate_table(_table(**columns), data_type)
    assert report.has_errors
    assert len(report.row_valid) == 0


# --------------------------------------------------------------------------- names and include


def test_names_empty_long_duplicate_and_unusual_are_kept():
    long_name = "x" * (LONG_NAME_LIMIT + 1)
    names = ["Smith 2001", "", long_name, "smith 2001 ", "דוד 2020", "<script>alert(1)</script>"]
    frame = _table(study=names, xi=["1"] * 6, ni=["10"] * 6)
    report = validate_table(frame, "proportion")
    assert _flags(report, "warning") == {(2, "study"), (3, "study"), (4, "study")}
    assert report.row_valid.all()
    assert report.labels.tolist() == ["Smith 2001", "Row 2", long_name, "smith 2001", *names[4:]]
    duplicate = next(m for m in _messages(report) if m.startswith("Row 4"))
    assert "row 1" in duplicate
    assert len(max(_messages(report), key=len)) < 400  # long names are shortened in messages


def test_missing_study_column_gives_row_labels():
    report = validate_table(_table(xi=["1", "2"], ni=["10", "10"]), "proportion")
    assert report.labels.tolist() == ["Row 1", "Row 2"]
    assert (None, "study") in _flags(report, "warning")


def test_numeric_study_names_from_excel():
    report = validate_table(
        _table(study=[2001.0, 17], xi=["1", "2"], ni=["10", "10"]), "proportion"
    )
    assert report.labels.tolist() == ["2001", "17"]


def test_include_values_are_read_leniently():
    values = [True, False, "TRUE", "no", "0", 1, None, "", "maybe", "x"]
    frame = _table(study=list("abcdefghij"), xi=["1"] * 10, ni=["10"] * 10, include=values)
    report = validate_table(frame, "proportion")
    assert report.included.tolist() == [
        True,
        False,
        True,
        False,
        False,
        True,
        True,
        True,
        True,
        True,
    ]
    assert _flags(report, "warning") == {(9, "include")}
    assert {row for row, _ in _flags(report, "info")} == {2, 4, 5}
    assert report.row_valid.all()
    assert report.analysable.tolist() == report.included.tolist()


def test_excluded_invalid_row_stays_flagged():
    frame = _table(study=["a"], xi=["11"], ni=["10"], include=[False])
    report = validate_table(frame, "proportion")
    assert not report.row_valid[0]
    assert _flags(report, "info") == {(1, "include")}


def test_year_text_is_a_warning_only():
    frame = _table(study=["a"], xi=["1"], ni=["10"], year=["circa 2001"])
    report = validate_table(frame, "proportion")
    assert _flags(report, "warning") == {(1, "year")}
    assert report.row_valid.all()


def test_repeated_column_names_use_the_first():
    frame = pd.DataFrame([["a", "1", "10", "x"]], columns=["study", "xi", "ni", "xi"], dtype=object)
    report = validate_table(frame, "proportion")
    assert report.row_valid.all()
    assert (None, "xi") in _flags(report, "warning")


# --------------------------------------------------------------------------- speed and properties


def test_hundred_thousand_rows_are_all_checked():
    n = 100_000
    rng = np.random.default_rng(1)
    events = rng.integers(0, 30, n)
    frame = pd.DataFrame(
        {
            "study": [f"Study {i}" for i in range(n)],
            "ai": events.astype(str),
            "n1i": np.full(n, "30"),
            "ci": rng.integers(0, 30, n).astype(str),
            "n2i": np.full(n, "30"),
        },
        dtype=object,
    )
    frame.loc[::7, "ai"] = "bad"
    frame.loc[::11, "n2i"] = ""
    frame = apply_mapping(frame, {})
    report = validate_table(frame, "binary")  # its speed: benchmarks/input_checks.py
    assert len(report.row_valid) == n
    assert report.count("error") > n // 7


_CELL = st.one_of(
    st.none(),
    st.text(max_size=8),
    st.sampled_from(["", "NA", "0", "1", "-1", "2.5", "12,5", "1e309", "inf", "nan", " 3 "]),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)


@st.composite
def _random_tables(draw):
    data_type = draw(st.sampled_from([*DATA_TYPES, "nonsense"]))
    names = ["study", "include", "year", "design", "junk", "bi", "di"]
    names += list(CANONICAL_COLUMNS.get(data_type, ()))
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    frame = draw(
        data_frames(
            columns=[column(name, elements=_CELL, dtype=object) for name in chosen],
            index=range_indexes(max_size=12),
        )
    )
    return frame, data_type


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=_random_tables(), decimal=st.sampled_from([".", ","]))
def test_random_tables_never_raise_and_keep_every_row(table, decimal):
    frame, data_type = table
    report = validate_table(frame, data_type, decimal=decimal)
    size = len(frame)
    assert len(report.row_valid) == len(report.has_comparison) == len(report.included) == size
    assert len(report.labels) == len(report.numeric) == size
    assert report.numeric.index.equals(frame.index)
    assert tuple(report.issues.columns) == ISSUE_COLUMNS
    assert set(report.issues["severity"]) <= {"error", "warning", "info"}
    rows = report.issues["row"].dropna()
    assert ((rows >= 1) & (rows <= size)).all()
    assert not any(message.startswith(FAILURE_MESSAGE) for message in _messages(report))
    assert not (report.has_comparison & ~report.row_valid).any()
    errors = report.issues[report.issues["severity"] == "error"]
    rows_with_errors = set(errors["row"].dropna().astype(int))
    for position in range(size):
        if position + 1 in rows_with_errors:
            assert not report.row_valid[position]


@settings(max_examples=100, deadline=None)
@given(
    counts=st.lists(
        st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50), st.integers(0, 50)),
        min_size=1,
        max_size=20,
    )
)
def test_valid_binary_rows_are_exactly_the_sensible_ones(counts):
    ai, n1i, ci, n2i = (
        list(map(str, column_values)) for column_values in zip(*counts, strict=True)
    )
    report = validate_table(
        _table(study=[f"S{i}" for i in range(len(ai))], ai=ai, n1i=n1i, ci=ci, n2i=n2i), "binary"
    )
    expected = [a <= n and n > 0 and c <= m and m > 0 for a, n, c, m in counts]
    assert report.row_valid.tolist() == expected
    assert report.has_comparison.tolist() == expected
