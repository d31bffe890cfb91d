"""Reproducible code: the exported R script (run with Rscript and metafor 3.8-1) and Python
script (run with this interpreter) print the dashboard's numbers.

Rscript is required: CI installs R and metafor (scripts/test.sh); a missing Rscript is a
failure, not a skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from igmeta.app.outputs.codegen import (
    CodegenError,
    compare_values,
    parse_results,
    python_script,
    r_script,
    r_string,
    result_values,
)
from igmeta.app.pipeline.analysis import (
    PUBLISHED_COMPARISON,
    PUBLISHED_SINGLE_ARM,
    AnalysisSettings,
    run_analysis,
)
from igmeta.datasets import load_ig_pnp_canonical

ROOT = Path(__file__).resolve().parents[1]
RTOL = 1e-6
#: Absolute tolerance: the scripts print 10 decimals.
ATOL = 1e-8
#: tau^2 and I^2 (%) near 0: the R script stops iterative estimators at threshold 1e-10
#: (igmeta at 1e-13), so a boundary estimate is ~1e-10 instead of ~1e-13.
BOUNDARY_ATOL = 1e-6
INJECTION = 'x"); system("touch PWNED"); cat("'
EVIL = f"<script>alert(1)</script> {INJECTION} \\ `q` ${{x}} \n# \u00f1 \u65e5\u672c \U0001f600"


def _binary_with_subgroups() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "study": ["A 2001", EVIL, "C", "D", "E", "F", "G"],
            "include": [True] * 6 + [False],
            "design": [
                "RCT",
                "RCT",
                "RCT",
                "cohort \u00fc",
                "cohort \u00fc",
                "cohort \u00fc",
                "RCT",
            ],
            "ai": [7, 12, 0, 20, 5, 0, 3],
            "n1i": [11, 30, 19, 50, 40, 10, 20],
            "ci": [1, 9, 2, 10, 3, 0, 4],
            "n2i": [12, 30, 20, 50, 41, 12, 20],
        }
    )


def _continuous() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "study": list("abcde"),
            "design": ["x", "x", "y", "y", "y"],
            "m1i": [1.2, 2.3, 0.5, 1.1, 0.9],
            "sd1i": [1, 1.2, 0.8, 1.5, 1.1],
            "n1i": [20, 30, 25, 40, 22],
            "m2i": [0.8, 1.9, 0.6, 0.7, 0.2],
            "sd2i": [1.1, 1.0, 0.9, 1.4, 1.0],
            "n2i": [21, 28, 24, 39, 20],
        }
    )


def _weighted(table: pd.DataFrame, name: str) -> pd.DataFrame:
    """``table`` with a numeric column ``name`` of user weights (total sample sizes)."""
    out = table.copy()
    out[name] = (out["n1i"] + out["n2i"]).astype(float)
    return out


IG = load_ig_pnp_canonical()
CASES = {
    "published_mh_revman_rr": (IG, PUBLISHED_COMPARISON),
    "iv_reml_knha_rr": (
        IG,
        AnalysisSettings(pooling="IV", model="random", tau2_method="REML", test="knha"),
    ),
    "single_arm_pft_dl_subgroups": (
        IG,
        AnalysisSettings(analysis="single_arm", proportion_measure="PFT", tau2_method="DL"),
    ),
    "peto_or": (IG, AnalysisSettings(binary_measure="OR", pooling="PETO")),
    "published_single_arm_pr": (IG, PUBLISHED_SINGLE_ARM),
    "single_arm_logit_pm": (
        IG,
        AnalysisSettings(analysis="single_arm", proportion_measure="PLO", tau2_method="PM"),
    ),
    "subgroups_iv_reml": (_binary_with_subgroups(), AnalysisSettings()),
    "subgroups_common_effect": (_binary_with_subgroups(), AnalysisSettings(model="common")),
    "subgroups_mh_revman_rr": (
        _binary_with_subgroups(),
        AnalysisSettings(pooling="MH", zero_cells="revman"),
    ),
    "subgroups_mh_metafor_or": (
        _binary_with_subgroups(),
        AnalysisSettings(pooling="MH", binary_measure="OR"),
    ),
    "subgroups_peto_revman": (
        _binary_with_subgroups(),
        AnalysisSettings(pooling="PETO", binary_measure="OR", zero_cells="revman"),
    ),
    "mh_revman_rd_double_zero": (
        _binary_with_subgroups(),
        AnalysisSettings(pooling="MH", binary_measure="RD", zero_cells="revman"),
    ),
    "or_sj_knha_90_all": (
        _binary_with_subgroups(),
        AnalysisSettings(
            binary_measure="OR",
            tau2_method="SJ",
            test="knha",
            level=0.9,
            to="all",
            add=0.25,
            drop00=True,
        ),
    ),
    "eb_one_subgroup": (
        _binary_with_subgroups(),
        AnalysisSettings(tau2_method="EB", subgroup_levels=("RCT",)),
    ),
    "genq_knha_n1i": (IG, AnalysisSettings(tau2_method="GENQ", genq_weights="n1i", test="knha")),
    "genq_subgroups_odd_column_name": (
        _weighted(_binary_with_subgroups(), "n total"),
        AnalysisSettings(tau2_method="GENQ", genq_weights="n total"),
    ),
    "continuous_smd_hs": (
        _continuous(),
        AnalysisSettings(data_type="continuous", analysis="continuous", tau2_method="HS"),
    ),
    "correlation_he": (
        pd.DataFrame(
            {"study": list("abcd"), "ri": [0.1, 0.3, 0.25, -0.05], "ni": [50, 80, 120, 40]}
        ),
        AnalysisSettings(data_type="correlation", analysis="correlation", tau2_method="HE"),
    ),
    "generic_or_from_ci": (
        pd.DataFrame(
            {
                "study": list("abcd"),
                "estimate": [1.5, 2.0, 0.9, 1.3],
                "ci_lower": [0.9, 1.1, 0.5, 0.7],
                "ci_upper": [2.5, 3.6, 1.6, 2.4],
            }
        ),
        AnalysisSettings(
            data_type="generic", analysis="generic", generic_measure="OR", tau2_method="ML"
        ),
    ),
}


@pytest.fixture(scope="module")
def rscript() -> str:
    path = shutil.which("Rscript")
    if path is None:
        pytest.fail(
            "Rscript is not installed: run scripts/test.sh (installs r-base-core and "
            "r-cran-metafor)"
        )
    check = subprocess.run(
        [path, "-e", 'cat(as.character(packageVersion("metafor")))'],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check.returncode != 0:
        pytest.fail(f"metafor is not installed for R: {check.stderr[-500:]}")
    return path


def _run(cmd: list[str], cwd: Path) -> str:
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _check(expected: dict, got: dict) -> None:
    boundary = {k: v for k, v in expected.items() if k in ("tau2", "I2")}
    rest = {k: v for k, v in expected.items() if k not in boundary}
    assert compare_values(rest, got, rtol=RTOL, atol=ATOL) == []
    assert compare_values(boundary, got, rtol=RTOL, atol=BOUNDARY_ATOL) == []


@pytest.mark.parametrize("name", list(CASES))
def test_r_script_reproduces_the_dashboard(name, rscript, tmp_path):
    table, settings = CASES[name]
    bundle = run_analysis(table, settings)
    assert bundle.result is not None, bundle.error
    script = tmp_path / "analysis.R"
    script.write_text(r_script(table, settings, bundle), encoding="utf-8")
    output = _run([rscript, "--vanilla", str(script)], tmp_path)
    got = parse_results(output)
    expected = result_values(bundle)
    assert set(expected) <= set(got)
    _check(expected, got)
    if bundle.subgroups is not None:
        assert "subgroup_test_pval" in got
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    "name",
    [
        "published_mh_revman_rr",
        "iv_reml_knha_rr",
        "single_arm_pft_dl_subgroups",
        "peto_or",
        "subgroups_mh_revman_rr",
        "generic_or_from_ci",
        "genq_subgroups_odd_column_name",
    ],
)
def test_python_script_reproduces_the_dashboard(name, tmp_path):
    table, settings = CASES[name]
    bundle = run_analysis(table, settings)
    script = tmp_path / "analysis.py"
    script.write_text(python_script(table, settings), encoding="utf-8")
    got = parse_results(_run([sys.executable, str(script)], tmp_path))
    _check(result_values(bundle), got)
    assert not (tmp_path / "PWNED").exists()


def test_published_r_script_has_the_revman_comment_and_settings():
    script = r_script(IG, PUBLISHED_COMPARISON)
    assert 'rma.mh(measure = "RR"' in script
    assert 'add = 0, to = "none"' in script
    assert "RevMan 5 zero-cell convention" in script
    assert "0.5 is added to every cell" in script
    reml = r_script(IG, AnalysisSettings(test="knha"))
    assert 'method = "REML", test = "knha", level = 95' in reml
    assert "control = ctrl" in reml and "threshold = 1e-10, maxiter = 1000" in reml
    assert 'add = 0.5, to = "only0", drop00 = FALSE' in reml
    assert "control" not in r_script(IG, AnalysisSettings(tau2_method="DL")).split("res <-")[1]
    peto = r_script(IG, AnalysisSettings(binary_measure="OR", pooling="PETO"))
    assert "rma.peto(" in peto


def test_user_text_appears_only_inside_escaped_literals():
    table = _binary_with_subgroups()
    script = r_script(table, AnalysisSettings())
    assert "<script>" in script  # printable ASCII is kept inside the literal...
    assert "\n# \u00f1" not in script and "\\n# \\u{00F1}" in script  # ...newlines escaped
    for line in script.splitlines():
        if line.lstrip().startswith("#"):
            assert "alert" not in line and "PWNED" not in line
    code = python_script(table, AnalysisSettings())
    compile(code, "exported.py", "exec")
    assert "PWNED" in code and 'system("touch PWNED")' not in code.split("TABLE_JSON = ")[0]


def test_r_string_reads_back(rscript, tmp_path):
    texts = [
        "plain",
        'q"uote',
        "back\\slash",
        "tab\tnew\nline\rcr",
        "\u00e9\u00e8 \u65e5\u672c \U0001f600",
        "$x `y` %z%",
        "\x01ctrl",
        EVIL,
    ]
    script = tmp_path / "s.R"
    lines = [f'cat({r_string(text)}, "\\x1e", sep = "")' for text in texts]
    script.write_text("\n".join(lines) + "\n", encoding="ascii")
    proc = subprocess.run(
        [rscript, "--vanilla", str(script)],
        capture_output=True,
        timeout=120,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode("utf-8").split("\x1e")[:-1] == texts
    assert not (tmp_path / "PWNED").exists()


def test_no_script_without_a_result():
    empty = IG.assign(include=False)
    with pytest.raises(CodegenError):
        r_script(empty, PUBLISHED_COMPARISON)
    with pytest.raises(CodegenError):
        r_script(IG, AnalysisSettings(tau2_method="XYZ"))


def test_parse_results_and_compare_values():
    text = "noise\n# BEGIN IGMETA RESULTS\nk=3.0000000000\npval=NA\n# END IGMETA RESULTS\n"
    values = parse_results(text)
    assert values["k"] == 3 and np.isnan(values["pval"])
    with pytest.raises(CodegenError):
        parse_results("no block")
    assert compare_values({"a": 1.0, "b": 2.0}, {"a": 1.0 + 1e-9}) == ["b: missing"]
    assert compare_values({"a": 1.0}, {"a": 1.1}) != []
