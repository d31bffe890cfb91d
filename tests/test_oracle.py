"""metafor 3.8-1 oracle: every case in IGMETA_ORACLE_DIR, every field.

Default folder: ``../shared/oracle/cases`` beside the checkout, or the copy in
``tests/oracle/cases`` when there is no ``../shared`` (``oracle_runners.locations``).

A case whose analysis has no runner, or a field the runner does not produce, fails the
test: nothing is skipped. Tolerances (tests/oracle/README.md section 4): rtol 1e-10 for
closed forms, 1e-6 where the numbers depend on an iterative tau^2 (or a root finder), and
for p-values; atol 1e-9 always.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from oracle_runners import load_all
from oracle_runners.locations import case_dir

import igmeta

ORACLE_DIR = case_dir("IGMETA_ORACLE_DIR", "cases")
CASE_FILES = sorted(ORACLE_DIR.glob("*.json"))
RUNNERS = load_all()
ITERATIVE = {"REML", "ML", "PM", "EB"}
ATOL = 1e-9
#: Fields that are p-values (compared at rtol 1e-6 as the README allows).
P_VALUE_FIELDS = {
    "pval",
    "QEp",
    "QMp",
    "Qp",
    "p.k0",
    "COp",
    "MHp",
    "BDp",
    "TAp",
    "QEp.Wld",
    "QEp.LRT",
}
#: Informational fields the README says not to compare.
NOT_COMPARED = {"warnings"}


def case_rtol(case: dict) -> float:
    """1e-6 when any number in the case depends on an iterative solution, else 1e-10."""
    settings = case["settings"]
    methods = {settings.get("method")} | set(settings.get("subgroup_methods") or [])
    if methods & ITERATIVE or settings["analysis"] in {"confint", "subgroup"}:
        return 1e-6
    return 1e-10


def compare(expected, actual, path: str, rtol: float, errors: list[str]) -> None:
    """Recursively compare ``actual`` with ``expected``; append mismatches to ``errors``."""
    name = path.rsplit(".", 1)[-1].split("[")[0]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            errors.append(f"{path}: expected an object, got {type(actual).__name__}")
            return
        for key, value in expected.items():
            if key in NOT_COMPARED:
                continue
            if key not in actual:
                errors.append(f"{path}.{key}: not produced by igmeta")
                continue
            compare(value, actual[key], f"{path}.{key}", rtol, errors)
        return
    if isinstance(expected, list):
        values = list(actual) if isinstance(actual, list | tuple | np.ndarray) else None
        if values is None or len(values) != len(expected):
            errors.append(f"{path}: expected {len(expected)} values, got {actual!r}")
            return
        for i, (exp, act) in enumerate(zip(expected, values, strict=True)):
            compare(exp, act, f"{path}[{i}]", rtol, errors)
        return
    if expected is None:
        if actual is not None and not (isinstance(actual, float) and np.isnan(actual)):
            errors.append(f"{path}: expected null (NA), got {actual!r}")
        return
    if isinstance(expected, bool | str):
        if actual != expected:
            errors.append(f"{path}: expected {expected!r}, got {actual!r}")
        return
    tol = max(rtol, 1e-6) if name in P_VALUE_FIELDS else rtol
    try:
        value = float(actual)
    except (TypeError, ValueError):
        errors.append(f"{path}: expected {expected!r}, got {actual!r}")
        return
    if not np.isclose(value, float(expected), rtol=tol, atol=ATOL):
        errors.append(f"{path}: expected {expected!r}, got {value!r} (rtol {tol:g})")


def test_oracle_folder_is_not_empty():
    assert CASE_FILES, f"no oracle cases found in {ORACLE_DIR}"


def test_every_expected_field_is_compared():
    errors: list[str] = []
    compare({"a": 1.0, "b": [1.0, None]}, {"a": 1.0}, "x", 1e-10, errors)
    assert errors == ["x.b: expected 2 values, got None"] or errors == [
        "x.b: not produced by igmeta"
    ]
    errors.clear()
    compare({"a": 1.0}, {"a": 1.0 + 1e-6}, "x", 1e-10, errors)
    assert errors


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_oracle_case(path: Path):
    case = json.loads(path.read_text())
    assert set(case) == {"name", "source", "input", "settings", "expected"}, "schema"
    analysis = case["settings"]["analysis"]
    assert analysis in RUNNERS, f"no igmeta runner for analysis type {analysis!r}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", igmeta.MetaAnalysisWarning)
        actual = RUNNERS[analysis](case)
    errors: list[str] = []
    compare(case["expected"], actual, "expected", case_rtol(case), errors)
    assert not errors, f"{path.name}: {len(errors)} mismatches\n" + "\n".join(errors[:40])
