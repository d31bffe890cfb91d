"""RevMan 5 (.rm5) import and "Author Year" study labels.

The files under ``tests/data/revman/`` follow the element and attribute layout of the
RevMan 5 file shipped with the R package meta (``inst/extdata/Fleiss1993.rm5``, read by
``meta::read.rm5``): ISO-8859-1 XML, ``STUDY`` elements with ``ID``/``NAME``/``YEAR`` under
``STUDIES_AND_REFERENCES/STUDIES/INCLUDED_STUDIES``, ``COMPARISON`` with ``NO`` and a
``NAME`` child, ``DICH_OUTCOME``/``CONT_OUTCOME`` with ``DICH_DATA``/``CONT_DATA`` rows
(``STUDY_ID``, ``EVENTS_1``, ``TOTAL_1``, ``MEAN_1``, ``SD_1``, ...), ``DICH_SUBGROUP`` with
a ``NAME`` child, IDs escaped as RevMan does (``STD-ISIS_x002d_9``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from igmeta.app.intake.io import MAX_UPLOAD_BYTES
from igmeta.app.intake.revman import RevManOutcome, outcome_table, read_rm5, revman_settings
from igmeta.app.intake.validation import validate_table
from igmeta.app.outputs.tables import forest_frame
from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.effects import author_year_label

DATA = Path(__file__).resolve().parent / "data" / "revman"


def _read(name: str):
    return read_rm5((DATA / name).read_bytes())


def _error(review) -> str:
    assert not review.ok and review.outcomes == ()
    (severity, text), *_ = review.messages
    assert severity == "error"
    return text


# ----------------------------------------------------------------------------- listing


def test_outcomes_are_listed_with_counts_types_and_subgroups():
    review = _read("ig_review.rm5")
    assert review.ok
    assert review.title == "Immunoglobulin for painful neuropathy (igmeta test review)"
    listed = [(o.key, o.name, o.data_type, o.n_studies, o.effect_measure) for o in review.outcomes]
    assert listed == [
        ("1.1", "Pain responders (\u226550% reduction)", "binary", 4, "RR"),
        ("1.2", "Pain responders by neuropathy type", "binary", 4, "RR"),
        ("1.3", "Change in pain score (NRS)", "continuous", 3, "MD"),
    ]
    assert {o.comparison for o in review.outcomes} == {"Immunoglobulin versus placebo"}
    assert review.outcome("1.2").subgroups == (
        "Diabetic neuropathy <1 year",
        "Small fibre neuropathy",
    )
    assert review.outcome("1.1").subgroups == ()
    assert review.outcome("1.3").label == (
        "1.3 Immunoglobulin versus placebo: Change in pain score (NRS) (continuous, 3 studies)"
    )
    # the generic inverse-variance outcome is not imported, and the user is told
    assert review.messages == (
        ("info", "Outcome 1.4 'Time to relapse' (generic inverse variance data) is not imported."),
    )
    with pytest.raises(KeyError):
        review.outcome("9.9")


def test_dichotomous_outcome_becomes_a_binary_table():
    review = _read("ig_review.rm5")
    table, messages = outcome_table(review, "1.1")
    assert messages == []
    assert list(table.columns) == ["study", "year", "ai", "n1i", "ci", "n2i"]
    # names and years as RevMan wrote them; the ISO-8859-1 name is decoded
    assert table["study"].tolist() == ["Alder 2001", "Brook", "M\u00fcller 2008", "ISIS-9"]
    assert table["year"].tolist() == ["2001", "2004", "2008", "2011"]
    assert table[["ai", "n1i", "ci", "n2i"]].to_numpy().tolist() == [
        ["12", "40", "5", "38"],
        ["7", "25", "3", "26"],
        ["20", "60", "11", "58"],
        ["31", "120", "22", "118"],
    ]
    report = validate_table(table, "binary")
    assert np.asarray(report.row_valid).all()
    bundle = run_analysis(table, AnalysisSettings(data_type="binary", binary_measure="RR"))
    assert bundle.error is None
    ai, n1i, ci, n2i = (
        np.array([12, 7, 20, 31]),
        [40, 25, 60, 120],
        [5, 3, 11, 22],
        [38, 26, 58, 118],
    )
    np.testing.assert_allclose(
        bundle.effects.yi, np.log((ai / np.array(n1i)) / (np.array(ci) / np.array(n2i))), rtol=1e-12
    )
    # "Author Year" labels, the year not repeated where the name ends with it
    assert list(bundle.effects.study) == [
        "Alder 2001",
        "Brook 2004",
        "M\u00fcller 2008",
        "ISIS-9 2011",
    ]


def test_subgroups_become_the_design_column():
    review = _read("ig_review.rm5")
    table, messages = outcome_table(review, "1.2")
    assert messages == []
    assert list(table.columns) == ["study", "year", "design", "ai", "n1i", "ci", "n2i"]
    assert table["design"].tolist() == [
        "Diabetic neuropathy <1 year",
        "Diabetic neuropathy <1 year",
        "Small fibre neuropathy",
        "Small fibre neuropathy",
    ]
    assert table["study"].tolist() == ["Alder 2001", "Brook", "M\u00fcller 2008", "Costa 2015"]
    settings = AnalysisSettings(data_type="binary", subgroup_column="design")
    bundle = run_analysis(table, settings)
    assert bundle.error is None and bundle.subgroups is not None


def test_continuous_outcome_becomes_a_continuous_table():
    review = _read("ig_review.rm5")
    table, messages = outcome_table(review, "1.3")
    assert messages == []
    assert list(table.columns) == ["study", "year", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"]
    assert table.iloc[0].tolist() == [
        "Alder 2001",
        "2001",
        "-2.1",
        "1.9",
        "40",
        "-1.2",
        "2.0",
        "38",
    ]
    settings = AnalysisSettings(
        data_type="continuous", analysis="continuous", continuous_measure="MD"
    )
    bundle = run_analysis(table, settings)
    assert bundle.error is None
    np.testing.assert_allclose(bundle.effects.yi, [-0.9, -0.3, -1.5], rtol=1e-12)
    expected_vi = [1.9**2 / 40 + 2.0**2 / 38, 2.4**2 / 25 + 2.2**2 / 26, 1.7**2 / 45 + 1.8**2 / 44]
    np.testing.assert_allclose(bundle.effects.vi, expected_vi, rtol=1e-12)


def _outcome(data_type: str, measure: str, method: str, random: str) -> RevManOutcome:
    return RevManOutcome("1.1", "C", "O", data_type, measure, (), (), method, random)


def test_revman_settings_follow_the_file():
    review = _read("ig_review.rm5")
    assert revman_settings(review.outcome("1.1")) == {
        "binary_measure": "RR",
        "pooling": "IV",
        "model": "random",
        "tau2_method": "DL",
    }
    assert revman_settings(review.outcome("1.3"))["continuous_measure"] == "MD"
    # RevMan's common-effect analyses (as in meta's Fleiss1993.rm5: OR, MH, RANDOM="NO")
    assert revman_settings(_outcome("binary", "OR", "MH", "NO")) == {
        "binary_measure": "OR",
        "pooling": "MH",
        "model": "common",
    }
    assert revman_settings(_outcome("binary", "PETO_OR", "PETO", "NO")) == {
        "binary_measure": "OR",
        "pooling": "PETO",
        "model": "common",
    }
    assert revman_settings(_outcome("continuous", "SMD", "IV", "NO")) == {
        "continuous_measure": "SMD",
        "pooling": "IV",
        "model": "common",
    }
    assert revman_settings(_outcome("binary", "", "", "")) == {}


# ----------------------------------------------------------------------------- bad data


def test_bad_cells_and_unknown_studies_are_named_and_kept():
    review = _read("bad_cells.rm5")
    table, messages = outcome_table(review, "1.1")
    assert len(table) == 4  # nothing dropped
    where = "Outcome 1.1 'Pain responders (\u226550% reduction)'"
    assert messages == [
        (
            "warning",
            f"{where}, row 2 (study 'Brook'): EVENTS_1 (ai) is '7 events', not a number; "
            "the row is kept and flagged in the checks.",
        ),
        (
            "warning",
            f"{where}, row 4: study 'STD-Dubois_x002d_2019' is not in the review's list of "
            "included studies, so it is named 'Dubois-2019' and has no year.",
        ),
        (
            "warning",
            f"{where}, row 4 (study 'Dubois-2019'): TOTAL_2 (n2i) is missing; the row is kept "
            "and flagged in the checks.",
        ),
    ]
    assert table.loc[1, "ai"] == "7 events" and table.loc[3, "n2i"] == ""
    report = validate_table(table, "binary")
    assert np.asarray(report.row_valid).tolist() == [True, False, True, False]
    issues = report.issues
    assert (
        (issues["row"] == 2) & (issues["column"] == "ai") & (issues["severity"] == "error")
    ).any()
    assert ((issues["row"] == 4) & (issues["column"] == "n2i")).any()


def test_doctype_and_entities_are_refused():
    for name in ("billion_laughs.rm5", "external_entity.rm5"):
        text = _error(_read(name))
        assert "declares a document type or entities" in text
        assert "root:" not in text  # nothing of /etc/passwd
    bare = b'<?xml version="1.0"?><!DOCTYPE COCHRANE_REVIEW SYSTEM "http://127.0.0.1:9/x.dtd">'
    assert "document type" in _error(read_rm5(bare + b"<COCHRANE_REVIEW/>"))
    parameter = b'<!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><COCHRANE_REVIEW/>'
    assert "document type" in _error(read_rm5(parameter))


def test_undeclared_entity_and_truncated_file_are_malformed():
    text = _error(_read("truncated.rm5"))
    assert text.startswith("The file is not well-formed XML (") and "line 79" in text
    text = _error(read_rm5(b"<COCHRANE_REVIEW><COVER_SHEET>&x;</COVER_SHEET></COCHRANE_REVIEW>"))
    assert "undefined entity" in text


def test_size_limit_empty_and_foreign_xml():
    text = _error(read_rm5(b" " * (MAX_UPLOAD_BYTES + 1)))
    assert "MB limit" in text
    assert _error(read_rm5(b"  \n")) == "The file is empty."
    assert _error(read_rm5(None)) == "No file content was received."
    text = _error(read_rm5(b"<html><body>not a review</body></html>"))
    assert "<html>" in text and "COCHRANE_REVIEW" in text
    text = _error(read_rm5(b"<COCHRANE_REVIEW><ANALYSES_AND_DATA/></COCHRANE_REVIEW>"))
    assert "no dichotomous or continuous outcome" in text


# ----------------------------------------------------------------------------- labels


@pytest.mark.parametrize(
    ("name", "year", "label"),
    [
        ("Smith", 2001, "Smith 2001"),
        ("Smith", 2001.0, "Smith 2001"),
        ("Smith", "2001", "Smith 2001"),
        ("Smith 2001", 2001, "Smith 2001"),
        ("Smith 2001b", "2001", "Smith 2001b"),
        ("Smith (2001)", 2001, "Smith (2001)"),
        ("Lee 12001", 2001, "Lee 12001 2001"),
        (" Jann ", "2020", "Jann 2020"),
        ("Smith", None, "Smith"),
        ("Smith", np.nan, "Smith"),
        ("Smith", pd.NA, "Smith"),
        ("Smith", "in press", "Smith"),
        ("", 2001, ""),
        (None, 2001, ""),
    ],
)
def test_author_year_label(name, year, label):
    assert author_year_label(name, year) == label


def test_forest_table_shows_author_and_year():
    table = pd.DataFrame(
        {
            "study": ["Smith", "Jones 2010", "", "Lee"],
            "year": [2001, 2010, 2012, None],
            "ai": [4, 6, 5, 7],
            "n1i": [20, 30, 25, 40],
            "ci": [2, 3, 4, 5],
            "n2i": [21, 29, 26, 41],
        }
    )
    bundle = run_analysis(table, AnalysisSettings())
    frame = forest_frame(bundle, table)
    studies = frame.loc[frame["row_type"] == "study", "label"].tolist()
    assert studies == ["Smith 2001", "Jones 2010", "Row 3", "Lee"]
