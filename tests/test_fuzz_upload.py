"""Fuzzing the upload path and the engine's numeric extremes.

* Random bytes and random CSV/TSV text go through what the Data page does with an upload:
  ``read_table`` -> ``detect_data_type``/``guess_mapping``/``apply_mapping`` ->
  ``validate_table`` -> ``run_analysis``. Nothing may raise, and no row may be lost on
  the way (rows read = rows mapped = rows validated = rows of the analysis report).
* Tiny and huge variances, zero variances and zero effects, zero cells, and k = 1 .. 500
  through the engine never show NaN or inf: a result is finite or absent with a reason,
  and everything formatted for display (``igmeta.formatting``, the summary and forest
  frames) reads as numbers or "not estimable".
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from igmeta.app.intake.io import read_table
from igmeta.app.intake.schema import DATA_TYPES, apply_mapping, detect_data_type, guess_mapping
from igmeta.app.intake.validation import validate_table
from igmeta.app.outputs.tables import forest_frame, result_summary_frame
from igmeta.app.pipeline.analysis import ANALYSES, AnalysisSettings, run_analysis
from igmeta.formatting import format_ci, format_number, format_percent, format_pvalue

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
BAD_TEXT = ("nan", "inf", "NaN", "Infinity")


def _upload_pipeline(data: bytes, filename: str) -> None:
    """The Data page's upload steps; asserts rows are kept at each step."""
    read = read_table(data, filename)
    assert isinstance(read.frame, pd.DataFrame)
    assert all(sev in ("error", "warning", "info") for sev, _ in read.messages)
    if not read.ok:
        assert read.frame.empty
    detected = detect_data_type(read.frame.columns)
    for data_type in [detected] if detected else list(DATA_TYPES):
        table = apply_mapping(read.frame, guess_mapping(read.frame.columns, data_type))
        assert len(table) == len(read.frame)
        report = validate_table(table, data_type, decimal=read.decimal)
        assert len(report.row_valid) == len(report.numeric) == len(table)
        analysis = ANALYSES[data_type][0][0]
        bundle = run_analysis(table, AnalysisSettings(data_type=data_type, analysis=analysis))
        assert len(bundle.validation.row_valid) == len(table)
        _assert_displayable(bundle, table)


def _assert_displayable(bundle, table: pd.DataFrame, *, finite: bool = True) -> None:
    """A result is finite (or absent with a reason); shown text has no NaN/inf.

    With ``finite=False`` only what is displayed is checked (NaN must read "not
    estimable"), for inputs beyond double precision (subnormal variances).
    """
    if bundle.result is None:
        assert bundle.error
        return
    res = bundle.result
    if finite:
        for value in (res.estimate, res.se, res.ci_lower, res.ci_upper):
            assert math.isfinite(value), (value, bundle.settings)
    summary = result_summary_frame(bundle)
    assert not summary["value"].astype(str).str.contains("|".join(BAD_TEXT)).any(), summary
    frame = forest_frame(bundle, table)
    for column in ("estimate_text",):
        if column in frame:
            assert not frame[column].astype(str).str.contains("|".join(BAD_TEXT)).any()
    bt = res.back_transformed()
    for text in (
        format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"]),
        format_pvalue(res.pval),
        format_percent(res.i2),
        format_number(res.tau2),
    ):
        assert not any(bad in text for bad in BAD_TEXT), text


# --------------------------------------------------------------------------- random bytes


@FUZZ
@given(st.binary(max_size=4096), st.sampled_from(["a.csv", "b.tsv", "c.txt", "d.xlsx", None]))
def test_random_bytes_never_crash_the_upload(data, filename):
    _upload_pipeline(data, filename)


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_after_a_zip_header_never_crash(data):
    _upload_pipeline(b"PK\x03\x04" + data, "book.xlsx")


# --------------------------------------------------------------------------- random CSV

HEADERS = {
    "binary": [
        "Study",
        "Events treatment",
        "Total treatment",
        "Events control",
        "Total control",
        "design",
    ],
    "proportion": ["study", "events", "total"],
    "continuous": ["Study", "Mean.E", "SD.E", "N.E", "Mean.C", "SD.C", "N.C"],
    "correlation": ["study", "ri", "ni"],
    "generic": ["study", "yi", "vi"],
}
CELL = st.one_of(
    st.integers(-5, 1000).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: f"{x:.4g}"),
    st.floats(0, 100, allow_nan=False).map(lambda x: f"{x:.2f}".replace(".", ",")),
    st.sampled_from(
        [
            "",
            "NA",
            "n/a",
            "-",
            ".",
            "abc",
            "1e400",
            "-0",
            "1,234.5",
            "=1+1",
            "<b>x</b>",
            '"quoted"',
            "12 ",
            "\u2212 3",
            "0x10",
            "inf",
            "nan",
        ]
    ),
    # Printable text (a NUL byte makes the file binary, which is refused on purpose).
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
)


@st.composite
def csv_uploads(draw):
    data_type = draw(st.sampled_from(sorted(HEADERS)))
    header = list(HEADERS[data_type])
    if draw(st.booleans()):
        header.append(
            draw(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=10))
        )
    rows = draw(
        st.lists(
            st.lists(CELL, min_size=len(header), max_size=len(header)), min_size=1, max_size=40
        )
    )
    for number, row in enumerate(rows):
        row[0] = f"Study {number + 1}"  # every data row is visibly non-blank
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    out = io.StringIO()
    csv.writer(
        out,
        delimiter=delimiter,
        lineterminator=draw(st.sampled_from(["\n", "\r\n"])),
        quoting=csv.QUOTE_MINIMAL,
    ).writerows([header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    data = out.getvalue().encode(encoding, errors="replace")
    return data, len(rows), data_type


@FUZZ
@given(csv_uploads())
def test_random_csv_never_crashes_and_keeps_every_row(upload):
    data, n_rows, _ = upload
    _upload_pipeline(data, "upload.csv")
    read = read_table(data, "upload.csv")
    assert read.ok, read.messages
    assert len(read.frame) == n_rows, (read.messages, read.frame.head())


@FUZZ
@given(st.text(max_size=600), st.sampled_from(["x.csv", "x.tsv", "x.txt"]))
def test_random_text_never_crashes(text, filename):
    _upload_pipeline(text.encode("utf-8"), filename)


# --------------------------------------------------------------------------- extremes

#: Variances whose inverse is a normal double: results must be finite numbers.
SMALLEST_VARIANCE, LARGEST_VARIANCE = 1e-300, 1e300
VARIANCE = st.one_of(
    st.floats(SMALLEST_VARIANCE, 1e-8),
    st.floats(1e8, LARGEST_VARIANCE),
    st.floats(1e-4, 10),
    st.just(0.0),
    # Beyond double precision (1/vi overflows): only the display is checked.
    st.sampled_from([5e-324, 1e-310, 2.3e-308, 1.7e308]),
)
EFFECT = st.one_of(st.floats(-50, 50), st.just(0.0), st.floats(-1e6, 1e6))
GENERIC_SETTINGS = st.builds(
    AnalysisSettings,
    data_type=st.just("generic"),
    analysis=st.just("generic"),
    generic_measure=st.sampled_from(["GEN", "OR", "RR", "HR"]),
    model=st.sampled_from(["random", "common"]),
    tau2_method=st.sampled_from(["REML", "DL", "PM", "ML", "SJ", "HE", "HS", "EB"]),
    test=st.sampled_from(["z", "knha"]),
    level=st.sampled_from([0.9, 0.95, 0.99]),
    subgroup_column=st.just(None),
)


@st.composite
def generic_tables(draw):
    k = draw(st.sampled_from([1, 2, 3, 5, 10, 50, 200, 500]))
    yi = draw(st.lists(EFFECT, min_size=k, max_size=k))
    if draw(st.booleans()):
        vi = draw(st.lists(VARIANCE, min_size=k, max_size=k))
    else:  # one extreme among ordinary variances
        vi = [0.04] * k
        vi[draw(st.integers(0, k - 1))] = draw(VARIANCE)
    return pd.DataFrame({"study": [f"S{i}" for i in range(k)], "yi": yi, "vi": vi})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(generic_tables(), GENERIC_SETTINGS)
def test_extreme_variances_never_show_nan_or_inf(table, settings_):
    bundle = run_analysis(table, settings_)
    assert len(bundle.validation.row_valid) == len(table)
    vi = table["vi"].to_numpy()
    ordinary = bool(np.all((vi == 0) | ((vi >= SMALLEST_VARIANCE) & (vi <= LARGEST_VARIANCE))))
    _assert_displayable(bundle, table, finite=ordinary)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(1, 500),
    st.sampled_from(["RR", "OR", "RD"]),
    st.sampled_from(["IV", "MH", "PETO"]),
    st.sampled_from(["only0", "all", "none"]),
    st.booleans(),
)
def test_zero_cells_for_k_up_to_500(k, measure, pooling, to, all_zero):
    rng = np.random.default_rng(k)
    n1, n2 = rng.integers(1, 200, k), rng.integers(1, 200, k)
    ai = np.zeros(k, int) if all_zero else rng.integers(0, n1 + 1)
    ci = np.zeros(k, int) if all_zero else np.minimum(rng.integers(0, 3, k), n2)
    table = pd.DataFrame(
        {"study": [f"T{i}" for i in range(k)], "ai": ai, "n1i": n1, "ci": ci, "n2i": n2}
    )
    settings_ = AnalysisSettings(
        binary_measure=measure, pooling=pooling, to=to, subgroup_column=None
    )
    bundle = run_analysis(table, settings_)
    # Without a continuity correction, all-zero tables have no defined variance: the
    # engine may return NaN, which must then read "not estimable".
    _assert_displayable(bundle, table, finite=to != "none")


def test_hundreds_of_identical_studies():
    table = pd.DataFrame(
        {"study": [f"S{i}" for i in range(500)], "yi": [0.3] * 500, "vi": [1e-300] * 500}
    )
    for method in ("REML", "DL", "PM", "ML", "SJ", "HE", "HS", "EB"):
        bundle = run_analysis(
            table,
            AnalysisSettings(
                data_type="generic", analysis="generic", tau2_method=method, subgroup_column=None
            ),
        )
        _assert_displayable(bundle, table)
