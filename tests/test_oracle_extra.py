"""Extra metafor 3.8-1 oracle cases (tests/oracle_extra/cases, made by
tests/oracle_extra/make_cases.R) through the same runners and comparison as test_oracle.py.

They are in the shared schema (tests/oracle/README.md) for the tau^2 estimators the shared
cases do not cover: HSk (closed form, rtol 1e-10) and PMM (root finding, rtol 1e-6).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from test_oracle import ATOL, RUNNERS, case_rtol, compare

import igmeta

EXTRA_DIR = Path(__file__).resolve().parent / "oracle_extra" / "cases"
CASE_FILES = sorted(EXTRA_DIR.glob("*.json"))
#: Iterative (root-finding) estimators beyond test_oracle.ITERATIVE.
ITERATIVE_EXTRA = {"PMM"}


def test_extra_cases_exist():
    assert {p.stem.rsplit("_", 1)[-1] for p in CASE_FILES} == {"HSk", "PMM"}
    assert ATOL == 1e-9


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_oracle_extra_case(path: Path):
    case = json.loads(path.read_text())
    assert set(case) == {"name", "source", "input", "settings", "expected"}, "schema"
    assert case["name"] == path.stem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", igmeta.MetaAnalysisWarning)
        actual = RUNNERS[case["settings"]["analysis"]](case)
    rtol = 1e-6 if case["settings"]["method"] in ITERATIVE_EXTRA else case_rtol(case)
    errors: list[str] = []
    compare(case["expected"], actual, "expected", rtol, errors)
    assert not errors, f"{path.name}: {len(errors)} mismatches\n" + "\n".join(errors[:40])
