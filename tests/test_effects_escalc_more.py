"""metafor 3.8-1 escalc for SMDH, SMD (vtype), ROM, SMCR, COR, UCOR, IR, IRLN, IRR, IRD,
IRSD, AS, PHI and YUQ.

tests/data/escalc_more_metafor.R writes tests/data/escalc_more_metafor.csv: one row per
study and escalc call, with the exact call, the inputs and metafor's yi, vi (or its error).
"""

from __future__ import annotations

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
    escalc_call,
    parse_results,
    r_script,
    result_values,
)
from igmeta.app.pipeline.analysis import AnalysisSettings, run_analysis
from igmeta.effects import (
    BINARY_MEASURES,
    CHANGE_MEASURES,
    CONTINUOUS_MEASURES,
    CORRELATION_MEASURES,
    MEASURE_INPUTS,
    RATE_MEASURES,
    RATE_PAIR_MEASURES,
    RATIO_MEASURES,
    effect_sizes,
    measure_info,
)
from igmeta.effects_correlations import _hyp2f1
from igmeta.warnings import DroppedStudiesWarning, SparseDataWarning

REFERENCE = Path(__file__).parent / "data" / "escalc_more_metafor.csv"
INPUTS = ["ai", "bi", "ci", "di", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "ri", "ni"]
INPUTS += ["xi", "ti", "x1i", "t1i", "x2i", "t2i"]
RTOL, ATOL = 1e-10, 1e-9


def _reference() -> pd.DataFrame:
    frame = pd.read_csv(REFERENCE, keep_default_na=False, na_values=["NA"])
    for col in ("vtype", "add", "to", "drop00", "note"):
        frame[col] = frame[col].astype(object).where(frame[col].notna(), "")
    return frame


# A call text repeats across cases (same data frame name d), so key by case too.
CASES = [
    pytest.param(group, id=f"{case}-{measure}-{'-'.join(str(v) for v in key if v)}")
    for (case, measure, *key), group in _reference().groupby(
        ["case", "measure", "vtype", "add", "to", "drop00"], sort=False
    )
]


def _escalc_args(group: pd.DataFrame) -> dict:
    first = group.iloc[0]
    used = [c for c in INPUTS if f"{c} = {c}" in first["call"]]
    args = {c: group[c].to_numpy(dtype=float) for c in used}
    if first["vtype"]:
        args["vtype"] = first["vtype"]
    if first["add"] != "":
        args["add"] = float(first["add"])
    if first["to"]:
        args["to"] = first["to"]
    if first["drop00"]:
        args["drop00"] = first["drop00"] == "TRUE"
    args["study"] = [f"Trial {int(r)}" for r in group["row"]]
    return args


def _impossible(args: dict) -> np.ndarray:
    """Studies with an input metafor refuses (every error case has one such study)."""
    k = len(args["study"])
    bad = np.zeros(k, dtype=bool)
    for name, values in args.items():
        if name.startswith(("sd", "x")):
            bad |= values < 0
        elif name.startswith(("n", "t")):
            bad |= values <= 0
        elif name == "ri":
            bad |= np.abs(values) > 1
    return bad


def test_reference_file_covers_every_new_measure():
    measures = set(_reference()["measure"])
    wanted = {"SMDH", "SMD", "ROM", "SMCR", "COR", "UCOR", "IR", "IRLN", "IRR", "IRD", "IRSD"}
    assert wanted | {"AS", "PHI", "YUQ"} <= measures
    assert len(CASES) > 60


@pytest.mark.parametrize("group", CASES)
def test_matches_metafor(group):
    first = group.iloc[0]
    args = _escalc_args(group)
    if first["note"].startswith("ERROR"):
        with pytest.raises(ValueError, match="Impossible input|vtype") as info:
            effect_sizes(first["measure"], **args)
        if "Impossible" in str(info.value):
            # the message names the offending study, and no other
            named = [label for label in args["study"] if label in str(info.value)]
            assert named == [args["study"][int(i)] for i in np.flatnonzero(_impossible(args))]
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (DroppedStudiesWarning, SparseDataWarning))
        es = effect_sizes(first["measure"], **args)
    r_yi, r_vi = group["yi"].to_numpy(float), group["vi"].to_numpy(float)
    defined = ~(np.isnan(r_yi) | np.isnan(r_vi))
    np.testing.assert_allclose(es.yi[defined], r_yi[defined], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(es.vi[defined], r_vi[defined], rtol=RTOL, atol=ATOL)
    # where metafor has NA, the study is left out here (never a stray number)
    assert np.isnan(es.yi[~defined]).all() and np.isnan(es.vi[~defined]).all()


def test_undefined_studies_are_named_in_a_warning():
    with pytest.warns(DroppedStudiesWarning, match="B") as record:
        es = effect_sizes(
            "SMDH",
            m1i=[10, 5],
            sd1i=[2, 0],
            n1i=[20, 10],
            m2i=[8, 5],
            sd2i=[3, 0],
            n2i=[25, 12],
            study=["A", "B"],
        )
    assert "A" not in str(record[0].message).split(":")[-1]
    assert np.isfinite(es.yi[0]) and np.isnan(es.yi[1])


@pytest.mark.parametrize(
    ("measure", "args", "column"),
    [
        (
            "ROM",
            dict(m1i=[1, 2], sd1i=[1, -1], n1i=[5, 5], m2i=[1, 1], sd2i=[1, 1], n2i=[5, 5]),
            "sd1i",
        ),
        (
            "SMDH",
            dict(m1i=[1, 2], sd1i=[1, 1], n1i=[5, 0], m2i=[1, 1], sd2i=[1, 1], n2i=[5, 5]),
            "n1i",
        ),
        ("SMCR", dict(m1i=[1, 2], m2i=[1, 1], sd1i=[1, 1], ni=[5, 5], ri=[0.2, 1.01]), "ri"),
        ("COR", dict(ri=[0.2, 0.3], ni=[10, -3]), "ni"),
        ("IR", dict(xi=[1, 2], ti=[10, 0]), "ti"),
        ("IRLN", dict(xi=[1, -2], ti=[10, 10]), "xi"),
        ("IRR", dict(x1i=[1, 2], t1i=[10, 10], x2i=[1, 2], t2i=[-1, 10]), "t2i"),
        ("IRSD", dict(x1i=[1, 2], t1i=[10, 10], x2i=[1, -2], t2i=[10, 10]), "x2i"),
    ],
)
def test_impossible_input_names_study_and_column(measure, args, column):
    wrong = "Second" if measure != "IRR" else "First"
    with pytest.raises(ValueError, match=rf"\({column}.*: {wrong}\.$"):
        effect_sizes(measure, study=["First", "Second"], **args)


def test_unknown_vtype_is_refused():
    means = dict(m1i=[1.0], sd1i=[1.0], n1i=[5], m2i=[2.0], sd2i=[1.0], n2i=[5])
    with pytest.raises(ValueError, match="vtype for SMDH"):
        effect_sizes("SMDH", vtype="UB", **means)
    with pytest.raises(ValueError, match="vtype for COR"):
        effect_sizes("COR", ri=[0.3], ni=[20], vtype="UB")


def test_smd_vtype_ub_differs_from_ls_and_is_kept():
    means = dict(m1i=[10.0], sd1i=[2.0], n1i=[8], m2i=[8.0], sd2i=[3.0], n2i=[7])
    ls = effect_sizes("SMD", **means)
    ub = effect_sizes("SMD", vtype="UB", **means)
    assert ub.yi[0] == ls.yi[0] and ub.vi[0] != ls.vi[0]
    assert ub.vtype == "UB"


def test_rate_zero_counts_get_the_correction_and_a_warning():
    with pytest.warns(SparseDataWarning, match="Zero"):
        es = effect_sizes(
            "IRR", x1i=[0, 3], t1i=[100, 80], x2i=[4, 5], t2i=[90, 70], study=["Zero", "Both"]
        )
    assert es.corrected.tolist() == [True, False]
    assert es.yi[0] == pytest.approx(np.log(0.5 / 100) - np.log(4.5 / 90), rel=1e-12)
    assert es.data["x1i"][0] == 0  # the inputs are kept as given


def test_irsd_and_as_default_to_no_correction():
    assert effect_sizes("IRSD", x1i=[0], t1i=[10], x2i=[1], t2i=[10]).add == 0
    assert effect_sizes("AS", ai=[0], n1i=[10], ci=[1], n2i=[10]).add == 0
    with pytest.warns(SparseDataWarning, match="event counts"):
        assert effect_sizes("IRD", x1i=[0], t1i=[10], x2i=[1], t2i=[10]).add == 0.5


def test_measure_tuples_and_info_are_consistent():
    groups = [BINARY_MEASURES, CONTINUOUS_MEASURES, CHANGE_MEASURES, CORRELATION_MEASURES]
    groups += [RATE_MEASURES, RATE_PAIR_MEASURES]
    codes = [code for group in groups for code in group]
    assert len(codes) == len(set(codes))
    for code in codes:
        assert measure_info(code).label != code
    assert {"IRR", "ROM"} <= set(RATIO_MEASURES)
    expected = {
        "ROM": ("exp", 1.0, True),
        "IRR": ("exp", 1.0, True),
        "IRLN": ("exp", None, False),
        "IR": ("none", None, False),
        "IRD": ("none", 0.0, False),
        "IRSD": ("none", 0.0, False),
        "COR": ("none", 0.0, False),
        "UCOR": ("none", 0.0, False),
        "SMDH": ("none", 0.0, False),
        "SMCR": ("none", 0.0, False),
        "AS": ("none", 0.0, False),
        "PHI": ("none", 0.0, False),
        "YUQ": ("none", 0.0, False),
    }
    for code, (transform, null, log_scale) in expected.items():
        info = measure_info(code)
        assert info.transform == transform, code
        assert info.log_scale is log_scale, code
        if null is None:
            assert np.isnan(info.null_value), code
        else:
            assert info.null_value == null, code


# --------------------------------------------------------------------------- R code export


def test_escalc_call_text_for_the_new_measures():
    assert escalc_call("IRR") == (
        'dat <- escalc(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, '
        'data = dat, add = 0.5, to = "only0", drop00 = FALSE)'
    )
    assert escalc_call("IRSD", drop00=True).endswith('add = 0, to = "only0", drop00 = TRUE)')
    assert escalc_call("IRLN", add=0.25, to="if0all") == (
        'dat <- escalc(measure = "IRLN", xi = xi, ti = ti, data = dat, add = 0.25, to = "if0all")'
    )
    assert escalc_call("SMCR", vtype="LS2") == (
        'dat <- escalc(measure = "SMCR", m1i = m1i, m2i = m2i, sd1i = sd1i, ni = ni, '
        'ri = ri, data = dat, vtype = "LS2")'
    )
    assert escalc_call("UCOR", vtype="UB") == (
        'dat <- escalc(measure = "UCOR", ri = ri, ni = ni, data = dat, vtype = "UB")'
    )
    assert escalc_call("ROM") == (
        'dat <- escalc(measure = "ROM", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, '
        "sd2i = sd2i, n2i = n2i, data = dat)"
    )
    assert escalc_call("AS").endswith('data = dat, add = 0, to = "only0", drop00 = FALSE)')
    with pytest.raises(CodegenError):
        escalc_call("HR")
    with pytest.raises(CodegenError):
        escalc_call("SMD", vtype='LS"); system("x')


def test_measure_inputs_are_what_effect_sizes_needs():
    reference = _reference()
    for measure in MEASURE_INPUTS:
        rows = reference[(reference["measure"] == measure) & (reference["note"] == "")]
        if rows.empty:
            continue
        group = rows[rows["case"] == rows["case"].iloc[0]].head(3)
        es = effect_sizes(measure, **_columns(measure, group))
        assert es.k == len(group) and np.isfinite(es.yi).all(), measure


def _columns(measure: str, group: pd.DataFrame) -> dict[str, np.ndarray]:
    """The MEASURE_INPUTS columns of a reference group (totals from the 2x2 cells)."""
    frame = group.assign(n1i=group["ai"] + group["bi"], n2i=group["ci"] + group["di"])
    if measure not in BINARY_MEASURES:
        frame = group
    return {n: frame[n].to_numpy(float) for n in MEASURE_INPUTS[measure]}


def _r_frame(columns: dict[str, np.ndarray]) -> str:
    def number(x: float) -> str:
        return "NA" if np.isnan(x) else repr(float(x))

    body = ", ".join(f"{k} = c({', '.join(number(x) for x in v)})" for k, v in columns.items())
    return f"dat <- data.frame({body})"


@pytest.fixture(scope="module")
def rscript() -> str:
    path = shutil.which("Rscript")
    if path is None:
        pytest.fail("Rscript is not installed: run scripts/test.sh (installs R and metafor)")
    return path


def test_generated_escalc_calls_reproduce_igmeta_in_r(rscript, tmp_path):
    reference = _reference()
    settings = [
        ("IRR", dict(to="all")),
        ("IRD", dict(drop00=True)),
        ("IRSD", {}),
        ("IR", dict(add=0.25, to="if0all")),
        ("IRLN", {}),
        ("SMDH", {}),
        ("ROM", dict(vtype="HO")),
        ("SMD", dict(vtype="UB")),
        ("SMCR", {}),
        ("COR", {}),
        ("UCOR", dict(vtype="UB")),
        ("AS", {}),
        ("PHI", dict(vtype="ST")),
        ("YUQ", {}),
    ]
    lines = ["suppressMessages(library(metafor))"]
    expected = []
    for measure, options in settings:
        rows = reference[(reference["measure"] == measure) & (reference["note"] == "")]
        group = rows[rows["case"] == rows["case"].iloc[-1]]
        columns = _columns(measure, group)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", (DroppedStudiesWarning, SparseDataWarning))
            es = effect_sizes(measure, **columns, **options)
        expected.append((measure, es))
        lines += [
            _r_frame(columns),
            f"dat <- suppressWarnings({escalc_call(measure, **options)[len('dat <- ') :]})",
            f'cat("{measure}", sprintf("%.17g", c(dat$yi, dat$vi)), "\\n")',
        ]
    script = tmp_path / "calls.R"
    script.write_text("\n".join(lines), encoding="utf-8")
    out = subprocess.run(
        [rscript, "--vanilla", str(script)], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    printed = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines()}
    for measure, es in expected:
        values = np.array([np.nan if v == "NA" else float(v) for v in printed[measure]])
        r_yi, r_vi = values[: es.k], values[es.k :]
        defined = ~(np.isnan(r_yi) | np.isnan(r_vi))
        assert defined.any(), measure
        np.testing.assert_allclose(es.yi[defined], r_yi[defined], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(es.vi[defined], r_vi[defined], rtol=RTOL, atol=ATOL)
        assert np.isnan(es.yi[~defined]).all(), measure


@pytest.mark.parametrize("measure", ["ROM", "SMDH"])
def test_continuous_analysis_with_new_measure_exports_runnable_r(measure, rscript, tmp_path):
    table = dat_normand()
    settings = AnalysisSettings(
        data_type="continuous", analysis="continuous", continuous_measure=measure
    )
    bundle = run_analysis(table, settings)
    assert bundle.result is not None, bundle.error
    script = r_script(table, settings, bundle)
    assert f'escalc(measure = "{measure}", m1i = m1i' in script
    path = tmp_path / "analysis.R"
    path.write_text(script, encoding="utf-8")
    out = subprocess.run(  # in tmp_path: the script writes its figures to the current folder
        [rscript, "--vanilla", str(path)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr[-2000:]
    expected = result_values(bundle)
    assert compare_values(expected, parse_results(out.stdout), rtol=1e-6, atol=ATOL) == []
    if measure == "ROM":
        assert measure_info(measure).transform == "exp"


def dat_normand() -> pd.DataFrame:
    """dat.normand1999 (metadat), the rows of the reference file."""
    rows = _reference()
    rows = rows[(rows["case"] == "normand1999") & (rows["measure"] == "SMDH")]
    rows = rows[rows["vtype"] == ""]
    table = rows[["m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"]].reset_index(drop=True)
    return table.assign(study=[f"Study {int(r)}" for r in rows["row"]])


@pytest.mark.parametrize("x", [0.3, 0.9975, 1 - 1e-6, 1.0])
def test_hypergeometric_function_matches_closed_forms(x):
    # 2F1(1, 1; 3; x) = 2 ((1-x) log(1-x) + x) / x^2 (Euler's integral path); at x = 1,
    # Gauss: 2F1(1, 1; c; 1) = (c-1)/(c-2) (the power series path for c >= 25).
    with np.errstate(divide="ignore", invalid="ignore"):
        exact = 2 * (np.where(x < 1, (1 - x) * np.log1p(-x), 0.0) + x) / x**2
    assert _hyp2f1(1, 1, np.array([3.0]), np.array([x]))[0] == pytest.approx(exact, rel=1e-12)
    c = np.array([30.0, 5e6])
    assert _hyp2f1(1, 1, c, np.array([1.0, 1.0])) == pytest.approx((c - 1) / (c - 2), rel=1e-14)
    assert np.isnan(_hyp2f1(0.5, 0.5, np.array([1.0]), np.array([x]))[0])  # needs c > a + b
