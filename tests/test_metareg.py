"""Meta-regression of a study table (igmeta.app.pipeline.metareg) against metafor 3.8-1.

tests/data/metareg_predict_metafor.R prints metafor's QM, QE, tau², R², coefficients and
``predict(res, newmods = ...)`` for the BCG trials with a numeric (absolute latitude) and a
categorical moderator (allocation); the R call of each fit is on its CALL line and
tests/data/metareg_predict_metafor.txt holds the output, so R is not needed here.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.app.pipeline.metareg import (
    fit_moderators,
    moderator_kinds,
    new_design,
    predict,
    r_script,
    regression_band,
)

RTOL_ITER = 1e-6  # REML tau² is iterative
RTOL = 1e-10
ATOL = 1e-9

# dat.bcg (metadat): tpos, tneg, cpos, cneg, ablat, alloc.
BCG = pd.DataFrame(
    {
        "study": [f"Trial {i}" for i in range(1, 14)],
        "ai": [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27],
        "n1i": [123, 306, 231, 13598, 5069, 1541, 2545, 88391, 7499, 1716, 50634, 2498, 16913],
        "ci": [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29],
        "n2i": [139, 303, 220, 12867, 5808, 1451, 629, 88391, 7277, 1665, 27338, 2341, 17854],
        "ablat": [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33],
        "alloc": ["random"] * 4 + ["alternate"] * 2 + ["random"] * 3 + ["systematic"] * 4,
    }
)
NEW = pd.DataFrame(
    {"ablat": [10, 30, 50, 33.5], "alloc": ["alternate", "random", "systematic", "random"]}
)
FITS = {
    "reml_z": (AnalysisSettings(model="random", tau2_method="REML"), True),
    "reml_knha": (
        AnalysisSettings(model="random", tau2_method="REML", test="knha"),
        True,
    ),
    "dl_z": (AnalysisSettings(model="random", tau2_method="DL"), False),
    "fe_z": (AnalysisSettings(model="common", pooling="IV"), True),
}


def _reference() -> dict[str, dict[str, float]]:
    out = {}
    path = Path(__file__).parent / "data" / "metareg_predict_metafor.txt"
    for line in path.read_text().splitlines():
        tag, *pairs = line.split()
        if pairs and pairs[0] == "CALL":
            continue
        out[tag] = {k: float(v) for k, v in (p.split("=", 1) for p in pairs)}
    return out


REF = _reference()


def _fit(tag: str):
    settings, with_alloc = FITS[tag]
    bundle = run_analysis(BCG, settings.with_changes(subgroup_column=None))
    assert bundle.result is not None, bundle.error
    return fit_moderators(bundle, BCG, ["ablat", "alloc"] if with_alloc else ["ablat"])


@pytest.mark.parametrize("tag", list(FITS))
def test_fit_matches_metafor(tag):
    fit = _fit(tag)
    res, ref = fit.result, REF[tag]
    rtol = RTOL_ITER if tag.startswith("reml") else RTOL
    assert res.k == ref["k"] and len(res.coef_names) == ref["p"]
    assert res.qm == pytest.approx(ref["QM"], rel=rtol, abs=ATOL)
    assert res.qm_pval == pytest.approx(ref["QMp"], rel=rtol, abs=ATOL)
    assert res.q == pytest.approx(ref["QE"], rel=RTOL, abs=ATOL)  # QE: closed form
    assert res.q_pval == pytest.approx(ref["QEp"], rel=RTOL, abs=ATOL)
    assert res.tau2 == pytest.approx(ref["tau2"], rel=rtol, abs=ATOL)
    assert res.r2 == pytest.approx(ref["R2"], rel=rtol, abs=ATOL)
    beta = REF[f"{tag}_beta"]
    assert res.coef_names == tuple(beta)
    np.testing.assert_allclose(res.estimate, list(beta.values()), rtol=rtol, atol=ATOL)


@pytest.mark.parametrize("tag", list(FITS))
def test_predict_newmods_matches_metafor(tag):
    fit = _fit(tag)
    rtol = RTOL_ITER if tag.startswith("reml") else RTOL
    new = NEW if "alloc" in fit.kinds else NEW[["ablat"]]
    got = predict(fit.result, new_design(fit, new))
    for i, row in got.iterrows():
        ref = REF[f"{tag}_pred{i + 1}"]
        assert ref["x"] == new["ablat"][i]
        for ours, theirs in [
            ("pred", "pred"),
            ("se", "se"),
            ("ci_lower", "ci_lb"),
            ("ci_upper", "ci_ub"),
            ("pi_lower", "pi_lb"),
            ("pi_upper", "pi_ub"),
        ]:
            assert row[ours] == pytest.approx(ref[theirs], rel=rtol, abs=ATOL), (i, ours)


def test_moderator_kinds_and_left_out_rows():
    table = BCG.assign(
        ablat=BCG["ablat"].astype(object), note=["a"] * 12 + [" "], mixed=["1"] * 12 + ["x"]
    )
    table.loc[2, "ablat"] = ""
    assert moderator_kinds(table, ["ablat", "alloc", "note", "mixed"]) == {
        "ablat": "numeric",
        "alloc": "categorical",
        "note": "categorical",
        "mixed": "categorical",
    }
    bundle = run_analysis(table, AnalysisSettings(subgroup_column=None))
    fit = fit_moderators(bundle, table, ["ablat"])
    assert fit.left_out == ("Trial 3",) and fit.result.k == 12


def test_errors_are_plain():
    bundle = run_analysis(BCG, AnalysisSettings(subgroup_column=None))
    with pytest.raises(ValueError, match="at least one moderator"):
        fit_moderators(bundle, BCG, [])
    fit = _fit("reml_z")
    with pytest.raises(ValueError, match="not a level"):
        new_design(fit, pd.DataFrame({"ablat": [1.0], "alloc": ["quasi"]}))
    with pytest.raises(ValueError, match="collinear"):
        fit_moderators(bundle, BCG.assign(lat2=BCG["ablat"] * 2), ["ablat", "lat2"])


def test_regression_band_holds_the_other_moderators():
    fit = _fit("reml_z")
    band = regression_band(fit, "ablat", points=5)
    assert band["x"].tolist() == [13.0, 23.5, 34.0, 44.5, 55.0]
    b = dict(zip(fit.result.coef_names, fit.result.estimate, strict=True))
    # alloc at its reference level (alternate): intercept + slope * x.
    np.testing.assert_allclose(band["pred"], b["intrcpt"] + b["ablat"] * band["x"], rtol=RTOL)
    assert (band["ci_lower"] < band["pred"]).all() and (band["pi_lower"] < band["ci_lower"]).all()
    with pytest.raises(ValueError, match="not a numeric moderator"):
        regression_band(fit, "alloc")


def test_r_script_reproduces_the_fit_with_metafor(tmp_path):
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.fail("Rscript is not installed: run scripts/test.sh (installs R and metafor)")
    table = BCG.assign(**{'alloc "x"\n': BCG["alloc"]}).drop(columns="alloc")
    bundle = run_analysis(table, AnalysisSettings(subgroup_column=None))
    fit = fit_moderators(bundle, table, ["ablat", 'alloc "x"\n'])
    new = NEW.rename(columns={"alloc": 'alloc "x"\n'})
    script = r_script(fit, new, iterations=50, plot_moderator="ablat")
    assert '# m2 = moderator "alloc \\"x\\"\\n" (categorical)' in script
    check = (
        "p <- predict(res, newmods = newmods)\n"
        'cat("OUT", sprintf("%.17g", c(res$QM, res$QE, res$tau2, res$R2, coef(res), '
        'p$pred, p$ci.lb, p$pi.ub)), "\\n")\n'
    )
    path = tmp_path / "metareg.R"
    path.write_text(script + check, encoding="utf-8")
    proc = subprocess.run(
        [rscript, str(path)], capture_output=True, text=True, cwd=tmp_path, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "igmeta_regplot.pdf").stat().st_size > 1000
    assert "Test of Moderators" in proc.stdout and "permutation testing" in proc.stdout
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("OUT "))
    got = np.array([float(v) for v in line.split()[1:]])
    res = fit.result
    pred = predict(res, new_design(fit, new))
    expected = np.concatenate(
        [
            [res.qm, res.q, res.tau2, res.r2],
            res.estimate,
            pred["pred"],
            pred["ci_lower"],
            pred["pi_upper"],
        ]
    )
    np.testing.assert_allclose(got, expected, rtol=RTOL_ITER, atol=ATOL)
