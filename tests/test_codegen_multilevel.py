"""The R script's three-level block (igmeta.app.outputs.codegen.r_three_level) runs under Rscript
with metafor 3.8-1 and prints the numbers of igmeta.multilevel (and of the dashboard panel)."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from igmeta.app.outputs.codegen import (
    CodegenError,
    compare_values,
    parse_results,
    r_script,
    r_three_level,
)
from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.multilevel import predict_mv, rma_mv, sigma2_profile_ci
from igmeta.robust import robust

DATA = Path(__file__).parent / "data" / "rma_mv_metafor.json"
REF = next(c for c in json.loads(DATA.read_text())["cases"] if c["name"] == "konstantopoulos_REML")
#: metafor's rma.mv with its default nlminb control (rel.tol 1e-10) in the exported script.
RTOL, ATOL = 1e-6, 1e-9


def _table() -> pd.DataFrame:
    given = REF["input"]
    k = len(given["yi"])
    # Hostile cluster labels: quotes, backslashes and R code stay data in the script.
    names = {c: f'D{c} "x\\" ); system("echo pwned") #' for c in set(given["cluster"])}
    return pd.DataFrame(
        {
            "study": [f"School {i + 1}" for i in range(k)],
            "yi": given["yi"],
            "vi": [given["V"][i][i] for i in range(k)],
            "cluster": [names[c] for c in given["cluster"]],
        }
    )


def test_three_level_block_needs_a_cluster_column():
    table = _table().drop(columns="cluster")
    bundle = run_analysis(table, AnalysisSettings(data_type="generic", analysis="generic"))
    with pytest.raises(CodegenError, match="cluster"):
        r_three_level(bundle, table)


@pytest.mark.parametrize("tau2_method, test", [("REML", "z"), ("ML", "knha")])
def test_exported_three_level_model_reproduces_the_engine(tau2_method, test, tmp_path):
    rscript = shutil.which("Rscript")
    assert rscript, "Rscript is not installed: run scripts/test.sh"
    table = _table()
    table.loc[5, "cluster"] = None  # left out of the three-level model only
    settings = AnalysisSettings(
        data_type="generic", analysis="generic", tau2_method=tau2_method, test=test
    )
    bundle = run_analysis(table, settings)
    script = r_script(table, settings, bundle, plots=False, three_level=True)
    assert "rma.mv(yi, vi, random = ~ 1 | cluster/es_id" in script
    path = tmp_path / "three_level.R"
    path.write_text(script)
    proc = subprocess.run(
        [rscript, str(path)], capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "pwned" not in proc.stdout
    got = parse_results(proc.stdout)
    keep = table["cluster"].notna().to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = rma_mv(
            table["yi"][keep],
            table["vi"][keep],
            table["cluster"][keep].tolist(),
            [str(i) for i in range(keep.sum())],
            method=tau2_method,
            test="t" if test == "knha" else "z",
        )
        ci = sigma2_profile_ci(res)
    pred = predict_mv(res)
    expected = {
        "ml_k": res.k,
        "ml_estimate": pred["pred"][0],
        "ml_se": pred["se"][0],
        "ml_ci_lb": pred["ci_lb"][0],
        "ml_ci_ub": pred["ci_ub"][0],
        "ml_pi_lb": pred["pi_lb"][0],
        "ml_pi_ub": pred["pi_ub"][0],
        "ml_pval": res.pval[0],
    }
    for j in (1, 2):
        expected[f"ml_sigma2_{j}"] = res.sigma2[j - 1]
        expected[f"ml_sigma2_{j}_lb"] = ci["ci_lb"][j - 1]
        expected[f"ml_sigma2_{j}_ub"] = ci["ci_ub"][j - 1]
    expected = {key: float(value) for key, value in expected.items()}
    assert res.k == len(table) - 1
    assert compare_values(expected, got, rtol=RTOL, atol=ATOL) == []
    assert np.isfinite(list(got.values())).all()


@pytest.mark.parametrize("kind", ["CR1", "CR2"])
def test_exported_cluster_robust_tests_reproduce_the_engine(kind, tmp_path):
    """robust(res_ml, cluster, adjust = TRUE / clubSandwich = TRUE) in the exported script
    gives igmeta.robust's numbers (rows without a cluster left out, as in the panel)."""
    rscript = shutil.which("Rscript")
    assert rscript, "Rscript is not installed: run scripts/test.sh"
    table = _table()
    table.loc[5, "cluster"] = None
    settings = AnalysisSettings(data_type="generic", analysis="generic", robust=kind)
    bundle = run_analysis(table, settings)
    script = r_script(table, settings, bundle, plots=False, three_level=True)
    args = "adjust = TRUE" if kind == "CR1" else "clubSandwich = TRUE"
    assert f"rob_ml <- robust(res_ml, cluster = cluster, {args})" in script
    path = tmp_path / "robust.R"
    path.write_text(script)
    proc = subprocess.run(
        [rscript, str(path)], capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = parse_results(proc.stdout)
    keep = table["cluster"].notna().to_numpy()
    clusters = table["cluster"][keep].tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = rma_mv(
            table["yi"][keep], table["vi"][keep], clusters, [str(i) for i in range(keep.sum())]
        )
    rob = robust(res, clusters, clubsandwich=kind == "CR2")
    expected = {
        "ml_robust_se": rob.se[0],
        "ml_robust_ci_lb": rob.ci_lb[0],
        "ml_robust_ci_ub": rob.ci_ub[0],
        "ml_robust_pval": rob.pval[0],
        "ml_robust_ddf": rob.ddf[0],
    }
    expected = {key: float(value) for key, value in expected.items()}
    assert compare_values(expected, got, rtol=RTOL, atol=ATOL) == []


def test_no_robust_lines_without_the_option():
    table = _table()
    settings = AnalysisSettings(data_type="generic", analysis="generic")
    assert "robust(" not in "\n".join(r_three_level(run_analysis(table, settings), table))
    with pytest.raises(CodegenError, match="cluster-robust"):
        r_script(table, settings.with_changes(robust="CR3"), three_level=True)
