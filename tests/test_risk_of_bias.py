"""Risk of bias engine: vocabularies, normalisation, validation, suggestions, summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from igmeta.app.intake.io import read_table
from igmeta.app.intake.schema import apply_mapping, guess_mapping, template_frame
from igmeta.app.intake.validation import validate_table
from igmeta.app.outputs.safe_export import to_excel_bytes, to_safe_csv_bytes
from igmeta.app.store.scenarios import table_from_json, table_to_json
from igmeta.risk_of_bias import (
    NOT_ASSESSED,
    ROB2,
    ROB_COLUMNS,
    ROBINS_I,
    invalid_judgements,
    judgement_frame,
    low_risk_mask,
    normalise_judgement,
    overall_judgements,
    restrict_to_low_risk,
    suggest_overall,
    table_tools,
    weighted_summary,
)


def _table(**rob) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "study": ["A", "B", "C", "D"],
            "ai": [5, 6, 7, 8],
            "n1i": [50, 60, 70, 80],
            "ci": [9, 8, 7, 6],
            "n2i": [50, 60, 70, 80],
            "include": [True, True, False, True],
        }
    )
    for column, values in rob.items():
        frame[column] = pd.Series(values, dtype=object)
    return frame


def test_vocabularies_and_columns():
    assert ROB2.judgements == ("Low", "Some concerns", "High")
    assert ROB2.columns == ("rob_d1", "rob_d2", "rob_d3", "rob_d4", "rob_d5", "rob_overall")
    assert ROBINS_I.judgements == ("Low", "Moderate", "Serious", "Critical", "No information")
    assert ROBINS_I.columns[-1] == "robins_overall" and len(ROBINS_I.domain_columns) == 7
    assert len(ROB_COLUMNS) == 14
    for tool in (ROB2, ROBINS_I):
        assert set(tool.symbols) == set(tool.colours) == set(tool.judgements)
        # Symbols carry the meaning without colour: all different within a tool.
        assert len(set(tool.symbols.values())) == len(tool.judgements)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Low", "Low"),
        (" low RISK ", "Low"),
        ("L", "Low"),
        ("+", "Low"),
        ("some", "Some concerns"),
        ("Some Concerns", "Some concerns"),
        ("S", "Some concerns"),
        ("?", "Some concerns"),
        ("high risk", "High"),
        ("H", "High"),
        ("-", "High"),
        ("x", "High"),
        ("", None),
        (None, None),
        (np.nan, None),
        ("moderate", None),
        ("lowish", None),
    ],
)
def test_normalise_rob2(typed, expected):
    assert normalise_judgement(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("moderate", "Moderate"),
        ("M", "Moderate"),
        ("serious risk", "Serious"),
        ("CRITICAL", "Critical"),
        ("NI", "No information"),
        ("no info", "No information"),
        ("Some concerns", None),
    ],
)
def test_normalise_robins(typed, expected):
    assert normalise_judgement(typed, ROBINS_I) == expected


def test_invalid_values_are_flagged_with_row_and_column_and_kept():
    frame = _table(
        rob_d1=["Low", "maybe", None, "<b>bold</b>"], robins_d2=["Serious", "", "x", "M"]
    )
    before = frame.copy()
    report = validate_table(frame, "binary")
    pd.testing.assert_frame_equal(frame, before)
    assert report.numeric["rob_d1"].tolist()[1] == "maybe"  # kept as typed
    rob = report.issues[report.issues["column"].isin(ROB_COLUMNS)]
    assert rob["row"].tolist() == [2, 3, 4]
    assert rob["column"].tolist() == ["rob_d1", "robins_d2", "rob_d1"]
    assert set(rob["severity"]) == {"warning"}
    message = rob["message"].iloc[0]
    assert (
        message.startswith("Row 2 (B), column 'rob_d1': 'maybe'") and "'Some concerns'" in message
    )
    assert "Row 3 (C), column 'robins_d2': 'x'" in rob["message"].iloc[1]
    # A bad judgement does not stop the study being analysed.
    assert report.row_valid.all()
    found = {
        column: np.flatnonzero(mask).tolist() for column, mask, _, _ in invalid_judgements(frame)
    }
    assert found == {"rob_d1": [1, 3], "robins_d2": [2]}


def test_judgement_frame_and_tools():
    frame = _table(rob_d1=["L", "bad", None, "high"])
    assert table_tools(frame) == (ROB2,)
    assert table_tools(_table()) == ()
    judged = judgement_frame(frame, ROB2)
    assert judged["rob_d1"].tolist() == ["Low", NOT_ASSESSED, NOT_ASSESSED, "High"]
    assert (judged["rob_overall"] == NOT_ASSESSED).all()


@pytest.mark.parametrize(
    ("domains", "expected"),
    [
        (["Low"] * 5, "Low"),
        (["Low", "Low", "Some concerns", "Low", "Low"], "Some concerns"),
        (["Low", "High", "Some concerns", None, "Low"], "High"),
        (["Low", "Low", None, "Low", "Low"], None),
    ],
)
def test_suggest_overall_rob2(domains, expected):
    assert suggest_overall(domains, ROB2) == expected


@pytest.mark.parametrize(
    ("domains", "expected"),
    [
        (["Low"] * 7, "Low"),
        (["Low", "Moderate", "Low", "Low", "Low", "Low", "Low"], "Moderate"),
        (["Low", "Serious", "Critical", None, "Low", "Low", "Low"], "Critical"),
        (["Low", "No information", "Moderate", "Low", "Low", "Low", "Low"], "No information"),
        (["Low", "Moderate", None, "Low", "Low", "Low", "Low"], None),
    ],
)
def test_suggest_overall_robins(domains, expected):
    assert suggest_overall(domains, ROBINS_I) == expected


def test_overall_given_wins_over_suggestion():
    frame = _table(
        **{f"rob_d{i}": ["Low", "Low", "High", None] for i in range(1, 6)},
        rob_overall=["Some concerns", None, None, "Low"],
    )
    overall = overall_judgements(frame, ROB2)
    assert overall["suggested"].tolist() == ["Low", "Low", "High", NOT_ASSESSED]
    assert overall["used"].tolist() == ["Some concerns", "Low", "High", "Low"]
    assert overall["differs"].tolist() == [True, False, False, False]


def test_low_risk_filter_keeps_rows_and_user_exclusions():
    frame = _table(rob_overall=["Low", "High", "Low", None], robins_overall=[None, None, None, "L"])
    assert low_risk_mask(frame).tolist() == [True, False, True, True]
    restricted = restrict_to_low_risk(frame)
    assert len(restricted) == len(frame)
    # C was excluded by the user and stays excluded; B is left out for its risk of bias.
    assert restricted["include"].tolist() == [True, False, False, True]
    assert restricted["include"].dtype == bool
    assert frame["include"].tolist() == [True, True, False, True]  # input untouched
    text = frame.assign(include=["yes", "yes", "no", None])
    included = restrict_to_low_risk(text)["include"].tolist()
    assert included[:3] == ["yes", False, "no"] and pd.isna(included[3])
    assert not low_risk_mask(_table()).any()


def test_weighted_summary_against_hand_computation():
    frame = _table(rob_d1=["Low", "High", "Low", "bad"], rob_overall=["Low", "Some", "High", None])
    weights = np.array([20.0, 30.0, np.nan, 50.0])  # C is not in the analysis
    summary = weighted_summary(frame, ROB2, weights)
    d1 = summary[summary["column"] == "rob_d1"].set_index("judgement")
    assert d1.loc["Low", "percent"] == pytest.approx(100 * 20 / 100)
    assert d1.loc["High", "percent"] == pytest.approx(30.0)
    assert d1.loc[NOT_ASSESSED, "percent"] == pytest.approx(50.0)
    assert d1.loc["Some concerns", "percent"] == 0.0
    assert d1.loc["Low", "studies"] == 1  # C (also Low) carries no weight
    overall = summary[summary["domain"] == "Overall"].set_index("judgement")
    assert overall.loc["Some concerns", "percent"] == pytest.approx(30.0)
    for _, shares in summary.groupby("column"):
        assert shares["percent"].sum() == pytest.approx(100.0)
    assert weighted_summary(frame, ROB2, np.full(4, np.nan)).empty
    with pytest.raises(ValueError, match="one value per row"):
        weighted_summary(frame, ROB2, [1.0])


def test_common_headers_are_mapped_without_manual_mapping():
    columns = ["Study", "ai", "n1i", "ci", "n2i", "D1", "Randomization process", "Overall"]
    mapping = guess_mapping(columns, "binary")
    assert mapping["D1"] == "rob_d1" and mapping["Overall"] == "rob_overall"
    assert "Randomization process" not in mapping  # D1 is already taken
    assert guess_mapping(["ROBINS-I D3", "Confounding"], "binary") == {
        "ROBINS-I D3": "robins_d3",
        "Confounding": "robins_d1",
    }


def test_template_has_rob_columns_and_round_trips():
    frame = template_frame("binary")
    assert set(ROB2.columns) <= set(frame.columns)
    assert not invalid_judgements(frame)
    frame.loc[1, "rob_d2"] = "not sure"
    restored = table_from_json(table_to_json(frame))
    pd.testing.assert_frame_equal(restored, frame)
    for data, name in (
        (to_safe_csv_bytes(frame), "t.csv"),
        (to_excel_bytes({"Studies": frame}), "t.xlsx"),
    ):
        read = read_table(data, name)
        mapped = apply_mapping(read.frame, guess_mapping(read.frame.columns, "binary"))
        assert mapped["rob_d2"].tolist() == ["Low", "not sure", "High"]
        assert judgement_frame(mapped, ROB2)["rob_overall"].tolist() == [
            "Low",
            "Some concerns",
            "High",
        ]


def test_grade_reads_the_overall_judgement_used_including_the_suggested_one():
    """GRADE's risk-of-bias domain counts the user's overall, else the RoB 2 algorithm's."""
    from igmeta.app.evidence.grade import grade_suggestions
    from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
    from igmeta.risk_of_bias import overall_for_grade

    table = pd.DataFrame(
        {
            "study": ["A", "B", "C"],
            "ai": [10, 12, 9],
            "n1i": [50, 60, 40],
            "ci": [5, 6, 4],
            "n2i": [50, 60, 40],
            "rob_d1": ["Low", "High", "Low"],
            "rob_d2": ["Low", "Low", "Low"],
            "rob_d3": ["Low", "Low", "Low"],
            "rob_d4": ["Low", "Low", ""],
            "rob_d5": ["Low", "Low", "Low"],
            "rob_overall": ["", "", "Some concerns"],
        }
    )
    used = overall_for_grade(table)
    # A: all domains low -> Low; B: one domain high -> High; C: the user's own.
    assert used.tolist() == ["Low", "High", "Some concerns"]
    assert overall_for_grade(table.drop(columns=[c for c in table if "rob" in c])) is None
    bundle = run_analysis(table, AnalysisSettings(model="common"))
    suggestion = grade_suggestions(bundle, rob_overall=used)["risk_of_bias"]
    weights = np.asarray(bundle.result.weights, dtype=float)
    assert suggestion.value == pytest.approx(100 * weights[1] / weights.sum())
    assert "not recognised" not in suggestion.reason and "no judgement" not in suggestion.reason
