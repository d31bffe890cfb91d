"""The exported R script's publication-bias section (``r_script(..., publication_bias=True)``)
run with Rscript and metafor 3.8-1 against the Publication bias page's numbers.

Rscript is required (as in tests/test_codegen.py): a missing Rscript is a failure.
"""

from __future__ import annotations

import math

import pytest

from igmeta.app.outputs.codegen import (
    bias_values,
    compare_values,
    parse_results,
    r_bias_section,
    r_script,
    result_values,
)
from igmeta.app.pipeline.analysis import PUBLISHED_COMPARISON, AnalysisSettings, run_analysis
from igmeta.datasets import load_ig_pnp_canonical
from tests.test_codegen import ATOL, RTOL, _run, rscript  # noqa: F401 (fixture)
from tests.test_metareg import BCG as METAREG_BCG

#: BCG vaccine trials (metafor's dat.bcg), the table of tests/test_metareg.py.
BCG = METAREG_BCG[["study", "ai", "n1i", "ci", "n2i"]]
#: Iterative fits (selection models, trim-and-fill) at the iterative tolerance.
ITERATIVE = (
    "trimfill_estimate",
    "trimfill_se",
    "selmodel_step_estimate",
    "selmodel_step_se",
    "selmodel_step_delta2",
    "selmodel_step_lrt_pval",
)
#: metafor integrates the beta model's likelihood with rel.tol = eps^0.25, which moves its
#: optimum in the 4th digit and its numerical Hessian by up to 1% (tests/test_bias_selmodel.py).
BETA = {
    "selmodel_beta_estimate": 2e-3,
    "selmodel_beta_delta1": 2e-3,
    "selmodel_beta_delta2": 2e-3,
    "selmodel_beta_se": 2e-2,
    "selmodel_beta_lrt_pval": 2e-2,
}

CASES = {
    "bcg_rr_reml": AnalysisSettings(),
    "bcg_or_dl": AnalysisSettings(binary_measure="OR", tau2_method="DL"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_r_bias_section_reproduces_the_bias_page(name, rscript, tmp_path):  # noqa: F811
    settings = CASES[name]
    bundle = run_analysis(BCG, settings)
    assert bundle.result is not None, bundle.error
    script = tmp_path / "analysis.R"
    script.write_text(r_script(BCG, settings, bundle, publication_bias=True), encoding="utf-8")
    got = parse_results(_run([rscript, "--vanilla", str(script)], tmp_path))
    expected = bias_values(bundle)
    assert set(expected) <= set(got)
    # Every analysis is estimable for BCG: a NaN on either side would hide a failure.
    assert not any(math.isnan(v) for v in expected.values()), expected
    closed = {k: v for k, v in expected.items() if k not in ITERATIVE and k not in BETA}
    assert compare_values(closed, got, rtol=1e-9, atol=ATOL) == []
    iterative = {k: expected[k] for k in ITERATIVE}
    assert compare_values(iterative, got, rtol=1e-5, atol=ATOL) == []
    for key, rtol in BETA.items():
        assert compare_values({key: expected[key]}, got, rtol=rtol, atol=1e-6) == []
    assert expected["trimfill_k0"] == got["trimfill_k0"]
    assert RTOL <= 1e-6


def test_no_bias_section_for_mantel_haenszel():
    ig = load_ig_pnp_canonical()
    bundle = run_analysis(ig, PUBLISHED_COMPARISON)
    assert r_bias_section(bundle) == [] and bias_values(bundle) == {}
    assert "selmodel" not in r_script(ig, PUBLISHED_COMPARISON, bundle, publication_bias=True)


def test_bias_section_is_optional():
    bundle = run_analysis(BCG, AnalysisSettings())
    assert "selmodel" not in r_script(BCG, AnalysisSettings(), bundle)
    script = r_script(BCG, AnalysisSettings(), bundle, publication_bias=True)
    assert 'selmodel(res, type = "beta", alternative = "less")' in script
    assert "steps = c(0.025, 1)" in script


@pytest.mark.parametrize("method", ["HSk", "PMM"])
@pytest.mark.parametrize("test", ["z", "knha"])
def test_r_script_newer_tau2_estimators(method, test, rscript, tmp_path):  # noqa: F811
    # HSk and PMM (sidebar choices): the export writes metafor's own method code and
    # reproduces the pooled result, also under Hartung-Knapp.
    settings = AnalysisSettings(tau2_method=method, test=test)
    bundle = run_analysis(BCG, settings)
    assert bundle.result is not None and bundle.result.tau2 > 0
    script = r_script(BCG, settings, bundle, plots=False)
    assert f'method = "{method}"' in script
    (tmp_path / "analysis.R").write_text(script, encoding="utf-8")
    got = parse_results(_run([rscript, "--vanilla", str(tmp_path / "analysis.R")], tmp_path))
    expected = result_values(bundle)
    assert compare_values(expected, got, rtol=RTOL, atol=ATOL) == []
