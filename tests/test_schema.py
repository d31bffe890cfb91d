"""Canonical vocabulary, column-name guessing, mapping and templates."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from igmeta.app.intake.io import read_table
from igmeta.app.intake.schema import (
    CANONICAL_COLUMNS,
    COLUMN_DESCRIPTIONS,
    COMMON_COLUMNS,
    DATA_TYPES,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMN_SETS,
    SYNONYMS,
    apply_mapping,
    detect_data_type,
    guess_mapping,
    missing_required_columns,
    normalise_name,
    synonym_table,
    template_csv_bytes,
    template_frame,
)
from igmeta.app.intake.validation import validate_table


def test_vocabulary_is_consistent():
    assert set(CANONICAL_COLUMNS) == set(DATA_TYPES) == set(REQUIRED_COLUMN_SETS)
    assert set(OPTIONAL_COLUMNS) == set(DATA_TYPES)
    for data_type, columns in CANONICAL_COLUMNS.items():
        for required in REQUIRED_COLUMN_SETS[data_type]:
            assert set(required) <= set(columns)
        assert set(OPTIONAL_COLUMNS[data_type]) <= set(columns)
        assert set(SYNONYMS[data_type]) == set(columns)
    for column in {c for columns in CANONICAL_COLUMNS.values() for c in columns} | set(
        COMMON_COLUMNS
    ):
        assert COLUMN_DESCRIPTIONS[column].endswith(".")


@pytest.mark.parametrize("data_type", DATA_TYPES)
def test_no_spelling_means_two_columns(data_type):
    owner: dict[str, str] = {}
    for canonical, spellings in synonym_table(data_type).items():
        assert spellings[0] == normalise_name(canonical)
        for spelling in spellings:
            assert owner.setdefault(spelling, canonical) == canonical, spelling


def test_normalise_name_ignores_case_spaces_and_punctuation():
    assert (
        normalise_name(" Events_Treatment ")
        == normalise_name("events.treatment")
        == ("eventstreatment")
    )
    assert normalise_name(12) == "12"


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("events_treatment", "ai"),
        ("treat_events", "ai"),
        ("ig_events", "ai"),
        ("IG Events", "ai"),
        ("e.e", "ai"),
        ("event.e", "ai"),
        ("Events (treatment)", "ai"),
        ("n.e", "n1i"),
        ("total_treatment", "n1i"),
        ("ig_total", "n1i"),
        ("placebo_events", "ci"),
        ("events_control", "ci"),
        ("event.c", "ci"),
        ("n.c", "n2i"),
        ("placebo_total", "n2i"),
        ("Non-events treatment", "bi"),
        ("author", "study"),
        ("Name", "study"),
        ("trial", "study"),
        ("label", "study"),
        ("subgroup", "design"),
        ("group", "design"),
        ("Design", "design"),
        ("Year", "year"),
        ("Include", "include"),
    ],
)
def test_binary_synonyms(source, target):
    assert guess_mapping([source], "binary") == {source: target}


@pytest.mark.parametrize(
    ("data_type", "source", "target"),
    [
        ("continuous", "mean.e", "m1i"),
        ("continuous", "Mean treatment", "m1i"),
        ("continuous", "sd.e", "sd1i"),
        ("continuous", "SD_control", "sd2i"),
        ("continuous", "mean.c", "m2i"),
        ("continuous", "n.c", "n2i"),
        ("continuous", "n1", "n1i"),
        ("correlation", "r", "ri"),
        ("correlation", "cor", "ri"),
        ("correlation", "N", "ni"),
        ("proportion", "events", "xi"),
        ("proportion", "ig_events", "xi"),
        ("proportion", "total", "ni"),
        ("generic", "se", "sei"),
        ("generic", "sei", "sei"),
        ("generic", "seTE", "sei"),
        ("generic", "TE", "yi"),
        ("generic", "lower", "ci_lower"),
        ("generic", "LCL", "ci_lower"),
        ("generic", "ci.lb", "ci_lower"),
        ("generic", "ci.ub", "ci_upper"),
        ("generic", "upper", "ci_upper"),
        ("generic", "OR", "estimate"),
        ("generic", "variance", "vi"),
    ],
)
def test_other_synonyms(data_type, source, target):
    assert guess_mapping([source], data_type) == {source: target}


def test_exact_canonical_name_beats_synonym_and_targets_are_unique():
    columns = ["events_treatment", "ai", "Events treatment", "n1i"]
    mapping = guess_mapping(columns, "binary")
    assert mapping == {"ai": "ai", "n1i": "n1i"}
    mapping = guess_mapping(["IG events", "treat_events", "N.E"], "binary")
    assert mapping == {"IG events": "ai", "N.E": "n1i"}


def test_unknown_data_type_maps_common_columns_only():
    assert guess_mapping(["Study", "ai"], "nonsense") == {"Study": "study"}


def test_mapping_keeps_table_order():
    columns = ["n.c", "author", "event.e", "n.e", "event.c"]
    assert list(guess_mapping(columns, "binary")) == columns


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["study", "ig_events", "ig_total", "placebo_events", "placebo_total"], "binary"),
        (["Author", "event.e", "n.e", "event.c", "n.c"], "binary"),
        (["study", "ai", "bi", "ci", "di"], "binary"),
        (["study", "events", "total"], "proportion"),
        (["study", "treat_events", "total_treatment"], "proportion"),
        (["studlab", "mean.e", "sd.e", "n.e", "mean.c", "sd.c", "n.c"], "continuous"),
        (["study", "r", "n"], "correlation"),
        (["study", "yi", "vi"], "generic"),
        (["study", "TE", "seTE"], "generic"),
        (["Study", "OR", "lower", "upper"], "generic"),
        (["study", "notes"], None),
        ([], None),
    ],
)
def test_detect_data_type(columns, expected):
    assert detect_data_type(columns) == expected


def test_missing_required_columns_names_the_closest_set():
    assert missing_required_columns(["ai", "n1i"], "binary") == ()
    assert missing_required_columns(["ai", "bi"], "binary") == ()
    assert missing_required_columns(["ai"], "binary") == ("n1i",)
    assert missing_required_columns(["yi"], "generic") == ("vi",)
    assert missing_required_columns(["estimate", "ci_lower"], "generic") == ("ci_upper",)
    assert missing_required_columns([], "nonsense") == ()


def test_apply_mapping_renames_keeps_everything_and_adds_include():
    frame = pd.DataFrame(
        {"Author": ["A", "B"], "ev": ["1", "2"], "notes": ["x", None], "n": ["10", "20"]},
        index=[5, 7],
    )
    mapped = apply_mapping(frame, {"Author": "study", "ev": "xi", "n": "ni", "gone": "ci"})
    assert list(mapped.columns) == ["study", "xi", "notes", "ni", "include"]
    assert mapped["include"].tolist() == [True, True]
    assert mapped.index.tolist() == [5, 7]
    assert mapped["xi"].tolist() == ["1", "2"]
    assert list(frame.columns) == ["Author", "ev", "notes", "n"]  # input untouched


def test_apply_mapping_keeps_an_existing_include_column():
    frame = pd.DataFrame({"study": ["A"], "use": ["no"]})
    mapped = apply_mapping(frame, {"use": "include"})
    assert mapped["include"].tolist() == ["no"]
    assert list(mapped.columns) == ["study", "include"]


def test_apply_mapping_never_creates_duplicate_names():
    frame = pd.DataFrame({"events": [1], "ai": [2], "other": [3]})
    mapped = apply_mapping(frame, {"events": "ai", "other": "ai"})
    assert mapped.columns.is_unique
    assert list(mapped.columns) == ["ai", "ai (original)", "other", "include"]
    assert mapped["ai"].tolist() == [1]


def test_apply_mapping_can_swap_names():
    frame = pd.DataFrame({"ai": [1], "ci": [2]})
    mapped = apply_mapping(frame, {"ai": "ci", "ci": "ai"})
    assert mapped[["ai", "ci"]].values.tolist() == [[2, 1]]


@given(
    names=st.lists(st.sampled_from(["a", "b", "ai", "ci", "study", "x"]), unique=True),
    targets=st.dictionaries(
        st.sampled_from(["a", "b", "ai", "ci", "study", "x", "zz"]),
        st.sampled_from(["ai", "ci", "study", "include", "b"]),
    ),
)
@settings(max_examples=200, deadline=None)
def test_apply_mapping_property(names, targets):
    frame = pd.DataFrame([[0] * len(names)], columns=names)
    mapped = apply_mapping(frame, targets)
    assert mapped.columns.is_unique
    assert len(mapped) == len(frame)
    assert "include" in mapped.columns
    assert mapped.shape[1] - frame.shape[1] in (0, 1)
    assert mapped.iloc[:, : frame.shape[1]].values.tolist() == frame.values.tolist()


@pytest.mark.parametrize("data_type", DATA_TYPES)
def test_templates_are_complete_valid_and_recognised(data_type):
    frame = template_frame(data_type)
    assert len(frame) == 3
    required = set(REQUIRED_COLUMN_SETS[data_type][0])
    assert required <= set(frame.columns)
    assert {"study", "year", "design", "include"} <= set(frame.columns)
    assert detect_data_type(frame.columns) == data_type
    report = validate_table(frame, data_type)
    assert report.row_valid.all(), report.issues
    assert report.count("warning") == report.count("error") == 0


@pytest.mark.parametrize("data_type", DATA_TYPES)
def test_template_csv_round_trips_through_the_reader(data_type):
    data = template_csv_bytes(data_type)
    assert data.decode("utf-8").startswith("study,year,design,")
    read = read_table(data, f"template_{data_type}.csv")
    assert read.ok
    mapped = apply_mapping(read.frame, guess_mapping(read.frame.columns, data_type))
    assert validate_table(mapped, data_type, decimal=read.decimal).row_valid.all()


def test_unknown_template_is_empty():
    assert template_frame("nonsense").empty


# metafor's dat.bcg (metadat 1.2-0), as written by R: write.csv(dat.bcg, row.names = FALSE)
DAT_BCG_CSV = b""""trial","author","year","tpos","tneg","cpos","cneg","ablat","alloc"
1,"Aronson",1948,4,119,11,128,44,"random"
2,"Ferguson & Simes",1949,6,300,29,274,55,"random"
3,"Rosenthal et al",1960,3,228,11,209,42,"random"
4,"Hart & Sutherland",1977,62,13536,248,12619,52,"random"
5,"Frimodt-Moller et al",1973,33,5036,47,5761,13,"alternate"
6,"Stein & Aronson",1953,180,1361,372,1079,44,"alternate"
7,"Vandiviere et al",1973,8,2537,10,619,19,"random"
8,"TPT Madras",1980,505,87886,499,87892,13,"random"
9,"Coetzee & Berjak",1968,29,7470,45,7232,27,"random"
10,"Rosenthal et al",1961,17,1699,65,1600,42,"systematic"
11,"Comstock et al",1974,186,50448,141,27197,18,"systematic"
12,"Comstock & Webster",1969,5,2493,3,2338,33,"systematic"
13,"Comstock et al",1976,27,16886,29,17825,33,"systematic"
"""

# R: r <- rma(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
#    sprintf("%.15g", c(r$b, r$se, r$tau2, r$QE, r$ci.lb, r$ci.ub, r$pval, r$I2))
BCG_RR_REML = {
    "estimate": -0.714532348365101,
    "se": 0.179781531780361,
    "tau2": 0.313243325980895,
    "q": 152.233008082373,
    "ci_lower": -1.06689767574005,
    "ci_upper": -0.36216702099015,
    "pval": 7.05426734852055e-05,
    "i2": 92.2213860749656,
}


def _uploaded_bcg() -> pd.DataFrame:
    result = read_table(DAT_BCG_CSV, "dat.bcg.csv")
    assert result.ok
    columns = list(result.frame.columns)
    data_type = detect_data_type(columns)
    assert data_type == "binary"
    return apply_mapping(result.frame, guess_mapping(columns, data_type))


def test_dat_bcg_layout_is_recognised_without_manual_mapping():
    columns = ["trial", "author", "year", "tpos", "tneg", "cpos", "cneg", "ablat", "alloc"]
    mapping = guess_mapping(columns, "binary")
    assert {mapping[c] for c in ("tpos", "tneg", "cpos", "cneg")} == {"ai", "bi", "ci", "di"}
    assert mapping["tpos"] == "ai" and mapping["tneg"] == "bi"
    assert mapping["cpos"] == "ci" and mapping["cneg"] == "di"
    assert detect_data_type(columns) == "binary"
    # metafor's own names with non-events are recognised as well.
    assert detect_data_type(["study", "ai", "bi", "ci", "di"]) == "binary"


def test_uploaded_dat_bcg_gives_metafor_rr_and_derived_totals():
    from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis

    table = _uploaded_bcg()
    bundle = run_analysis(table, AnalysisSettings(subgroup_column=None))
    res = bundle.result
    assert res is not None and res.k == 13
    for name, expected in BCG_RR_REML.items():
        # The p-value amplifies the iterative tau2's relative error by about z^2 (~16).
        rtol = 1e-5 if name == "pval" else 1e-6
        assert getattr(res, name) == pytest.approx(expected, rel=rtol), name
    numeric = bundle.validation.numeric
    tpos, tneg = table["ai"].astype(int), table["bi"].astype(int)
    cpos, cneg = table["ci"].astype(int), table["di"].astype(int)
    assert numeric["n1i"].tolist() == (tpos + tneg).tolist()
    assert numeric["n2i"].tolist() == (cpos + cneg).tolist()
    notes = bundle.validation.issues
    derived = notes[(notes["severity"] == "info") & notes["column"].isin(["n1i", "n2i"])]
    assert sorted(derived["column"]) == ["n1i", "n2i"]
    assert derived["message"].str.contains("events \\+ non-events").all()
