"""The printed summaries of results: every number in the text is the result's own field."""

from __future__ import annotations

import doctest
import re
import warnings

import numpy as np
import pytest

import igmeta as im
import igmeta.results
from igmeta.app.pipeline.analysis import PUBLISHED_SINGLE_ARM, AnalysisSettings, run_analysis
from igmeta.datasets import load_ig_pnp_canonical
from igmeta.formatting import format_ci
from igmeta.plots import forest_from_result
from igmeta.results import ResultSummary
from igmeta.transforms import back_transform, ipft

# Four decimals are printed: a printed value is within half a unit of the 4th decimal.
TOL = 0.5e-4 + 1e-12

AI, N1I, CI, N2I = [7, 12, 13], [11, 30, 19], [0, 9, 2], [12, 30, 20]
STUDY = ["Jann 2020", "Geerts 2021", "RCT 3"]


def _counts():
    return {"ai": AI, "n1i": N1I, "ci": CI, "n2i": N2I, "study": STUDY}


def _quiet(fit, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(*args, **kwargs)


def _close(text: str, value: float) -> bool:
    return abs(float(text) - value) <= TOL * max(1.0, abs(value))


def _line(text: str, start: str) -> str:
    matches = [line for line in text.splitlines() if line.startswith(start)]
    assert len(matches) == 1, (start, text)
    return matches[0]


def _numbers(line: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", line)]


def _results_row(text: str) -> dict[str, str]:
    """The model-results table as {column: cell}."""
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if line.split()[:1] == ["estimate"])
    header = lines[i].split()
    cells = lines[i + 1].replace("< ", "<").split()
    assert len(cells) == len(header), (header, cells)
    return dict(zip(header, cells, strict=True))


def _check_common(res) -> str:
    """Checks shared by every pooled fit; returns the text."""
    text = str(res.summary())
    assert text == repr(res)
    assert "nan" not in text.lower() and "inf" not in text.lower()
    assert text.startswith(("Random-effects", "Common-effect", "Generalized linear mixed"))
    assert f"k = {res.k}" in text.splitlines()[0]
    row = _results_row(text)
    for column, value in (
        ("estimate", res.estimate),
        ("se", res.se),
        ("ci.lb", res.ci_lower),
        ("ci.ub", res.ci_upper),
    ):
        assert _close(row[column], value), (column, row[column], value)
    stat = "tval" if res.test == "knha" else "zval"
    assert _close(row[stat], res.statistic)
    if row["pval"].startswith("<"):
        assert res.pval < 0.0001
    else:
        assert abs(float(row["pval"]) - res.pval) <= 0.5e-3
    i2 = _line(text, "I\u00b2")
    assert abs(float(i2.split()[-1].rstrip("%")) - res.i2) <= 0.005 + 1e-9  # 2 decimals
    assert _close(_line(text, "H\u00b2").split()[-1], res.h2)
    return text


def _check_tau2(res, text: str) -> None:
    tau2_line = _line(text, "tau\u00b2")
    if res.method not in ("FE", "MH", "PETO"):
        tau2, se_tau2 = _numbers(tau2_line)
        assert _close(str(tau2), res.tau2) and _close(str(se_tau2), res.se_tau2)
        assert _close(_line(text, "tau (").split()[-1], res.tau)
    else:
        assert tau2_line.split()[-1] == "\u2014"
        assert "prediction interval" not in text


def _check_back_transform(res, text: str) -> None:
    if res.transform == "none":
        assert "Back-transformed" not in text
        return
    bt = res.back_transformed()
    values = _numbers(_line(text, "Back-transformed"))
    expected = [bt["estimate"], bt["ci_lower"], bt["ci_upper"]]
    if res.is_random_effects:
        expected += [bt["pi_lower"], bt["pi_upper"]]
    assert len(values) == len(expected)
    for got, want in zip(values, expected, strict=True):
        assert _close(str(got), want), (got, want)


def _check_q(res, text: str, name: str = "Q") -> None:
    line = _line(text, f"{name}(df = ")
    assert line.startswith(f"{name}(df = {res.q_df:g}) = ")
    assert _close(_numbers(line)[0], res.q)


@pytest.mark.parametrize(
    ("method", "test"), [("FE", "z"), ("REML", "z"), ("DL", "knha"), ("PM", "z")]
)
def test_inverse_variance_summary(method, test):
    es = _quiet(im.effect_sizes, "RR", **_counts())
    res = im.meta_analysis(es, method=method, test=test)
    text = _check_common(res)
    _check_tau2(res, text)
    _check_q(res, text)
    _check_back_transform(res, text)
    assert "Model results (log scale):" in text
    if method == "FE":
        assert text.startswith("Common-effect model (k = 3)")
    else:
        assert text.startswith(f"Random-effects model (k = 3; tau\u00b2 estimator: {method})")
        lo, hi = _numbers(_line(text, "95% prediction interval"))
        assert _close(str(lo), res.pi_lower) and _close(str(hi), res.pi_upper)
    if test == "knha":
        assert _results_row(text)["df"] == f"{res.ddf:g}"


def test_mantel_haenszel_summary():
    res = _quiet(im.meta_analysis_mh, "OR", **_counts())
    text = _check_common(res)
    _check_tau2(res, text)
    _check_q(res, text)
    _check_back_transform(res, text)
    assert text.startswith("Common-effect model, Mantel-Haenszel method (k = 3)")
    assert _close(_numbers(_line(text, "Cochran-Mantel-Haenszel"))[0], res.extra["MH"])
    assert _close(_numbers(_line(text, "Tarone"))[0], res.extra["TA"])


def test_mantel_haenszel_rd_has_no_back_transform():
    res = _quiet(im.meta_analysis_mh, "RD", **_counts())
    text = _check_common(res)
    _check_back_transform(res, text)
    assert "Cochran" not in text and "Model results:" in text


def test_peto_summary():
    res = _quiet(im.meta_analysis_peto, **_counts())
    text = _check_common(res)
    _check_tau2(res, text)
    _check_q(res, text)
    _check_back_transform(res, text)
    assert text.startswith("Common-effect model, Peto method (k = 3)")


@pytest.mark.parametrize("measure", ["PFT", "PLO", "PR"])
def test_proportion_summary(measure):
    es = _quiet(im.effect_sizes, measure, xi=[7, 12, 13, 41], ni=[11, 30, 19, 55])
    res = im.meta_analysis(es, method="REML")
    text = _check_common(res)
    _check_tau2(res, text)
    _check_back_transform(res, text)


def test_glmm_summary():
    res = _quiet(im.meta_analysis_glmm, "OR", **_counts())
    text = _check_common(res)
    _check_tau2(res, text)
    _check_q(res, text, name="Wld")
    lrt = _numbers(_line(text, "LRT(df = "))[0]
    assert _close(str(lrt), res.extra["QE.LRT"])
    _check_back_transform(res, text)
    assert res.extra["model_description"] in text


def test_single_study_and_zero_tau2_have_no_nan():
    one = im.meta_analysis(yi=[0.4], vi=[0.04], study=["only"], method="REML")
    text = _check_common(one)
    _check_q(one, text)
    assert "not estimable" in text  # Q's p-value with df = 0
    flat = im.meta_analysis(yi=[0.2, 0.2, 0.2], vi=[0.01, 0.02, 0.03], method="REML")
    assert flat.tau2 == 0
    text = _check_common(flat)
    _check_tau2(flat, text)
    assert _line(text, "tau\u00b2").split()[-4] == "0.0000"


def test_summary_still_reads_like_the_old_dict():
    res = im.meta_analysis(yi=[0.1, 0.3, 0.5], vi=[0.01, 0.02, 0.04], method="REML")
    summary = res.summary()
    assert isinstance(summary, ResultSummary)
    assert summary["k"] == 3 and summary["tau2"] == res.tau2
    assert set(summary) >= {"estimate", "se", "ci_lower", "ci_upper", "pval", "i2", "q"}
    assert dict(summary)["estimate"] == res.estimate


def test_subgroup_bundle_repr():
    bundle = _quiet(run_analysis, load_ig_pnp_canonical(), PUBLISHED_SINGLE_ARM)
    text = repr(bundle)
    assert "nan" not in text.lower()
    assert str(bundle.result) in text
    groups = bundle.subgroups
    lines = text.splitlines()
    for level, fit in zip(groups.levels, groups.fits, strict=True):
        row = next(line for line in lines if line.startswith(f"{level} "))
        k, est, lo, hi, i2 = row[len(level) :].split()
        bt = fit.back_transformed() if fit.transform != "none" else None
        assert int(k) == fit.k
        want = (
            (bt["estimate"], bt["ci_lower"], bt["ci_upper"])
            if bt
            else (fit.estimate, fit.ci_lower, fit.ci_upper)
        )
        for got, value in zip((est, lo, hi), want, strict=True):
            assert _close(got, value)
        assert abs(float(i2.rstrip("%")) - fit.i2) <= 0.05 + 1e-9
    test_line = _line(text, "Test for subgroup differences")
    assert _close(_numbers(test_line)[0], groups.test.statistic)


def test_bundle_repr_without_result_says_why():
    table = load_ig_pnp_canonical().assign(include=False)
    bundle = _quiet(run_analysis, table, AnalysisSettings())
    assert bundle.result is None
    assert repr(bundle).splitlines()[2] == f"No result: {bundle.error}"


def test_docstring_examples_run():
    failures, tried = doctest.testmod(igmeta.results, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0


# --------------------------------------------------------------------------- forest


def _trace(figure, name):
    return next(trace for trace in figure.data if trace.name == name)


@pytest.mark.parametrize("kind", ["RE", "MH", "PFT"])
def test_forest_from_result_has_one_row_per_study_and_the_overall(kind):
    if kind == "RE":
        es = _quiet(im.effect_sizes, "RR", **_counts())
        res = im.meta_analysis(es, method="REML")
    elif kind == "MH":
        res = _quiet(im.meta_analysis_mh, "OR", **_counts())
    else:
        es = _quiet(
            im.effect_sizes, "PFT", xi=[7, 12, 13, 41], ni=[11, 30, 19, 55], study=STUDY + ["D"]
        )
        res = im.meta_analysis(es, method="FE")
    figure = forest_from_result(res)
    labels = _trace(figure, "label column").text
    assert list(labels[: res.k]) == list(res.study)
    assert labels[res.k].startswith("Overall: ")
    assert len(labels) == res.k + 1 + int(res.is_random_effects)
    # squares: the studies' own estimates on the natural scale; sizes follow the weights
    studies = _trace(figure, "studies included")
    frame = res.study_frame()

    def natural(column):  # per study: Freeman-Tukey with each study's own n
        values = frame[column].to_numpy()
        if res.transform == "ipft.hm":
            return ipft(values, res.transform_ni)
        return back_transform(values, res.transform)

    np.testing.assert_allclose(studies.x, natural("yi"), rtol=1e-12)
    assert np.argmax(studies.marker.size) == np.argmax(res.weights)
    weights = _trace(figure, "weight_text column").text[: res.k]
    assert [float(w.replace("&#37;", "")) for w in weights] == pytest.approx(res.weights, abs=0.05)
    # CI segments: the studies' Wald intervals, back-transformed
    segments = [x for x in _trace(figure, "CI included").x if x is not None]
    lo, hi = natural("ci_lower"), natural("ci_upper")
    np.testing.assert_allclose(segments[0::2], np.minimum(lo, hi), rtol=1e-12)
    np.testing.assert_allclose(segments[1::2], np.maximum(lo, hi), rtol=1e-12)
    # the overall diamond: the pooled estimate and CI on the natural scale
    bt = res.back_transformed()
    diamond = _trace(figure, "overall diamond").x
    assert diamond[1] == pytest.approx(bt["estimate"], rel=1e-12)
    assert min(diamond) == pytest.approx(bt["ci_lower"], rel=1e-12)
    assert max(diamond) == pytest.approx(bt["ci_upper"], rel=1e-12)
    texts = _trace(figure, "estimate_text column").text
    assert texts[res.k] == format_ci(bt["estimate"], bt["ci_lower"], bt["ci_upper"])
    if res.is_random_effects:
        pi = [x for x in _trace(figure, "prediction interval").x if x is not None]
        assert pi == pytest.approx([bt["pi_lower"], bt["pi_upper"]], rel=1e-12)


def test_forest_from_result_escapes_study_names():
    res = im.meta_analysis(yi=[0.1, 0.3], vi=[0.01, 0.02], study=["<b>A</b>", "<script>x"])
    labels = _trace(forest_from_result(res), "label column").text
    assert "<" not in "".join(labels)


@pytest.mark.parametrize(("method", "test"), [("REML", "z"), ("DL", "knha"), ("FE", "z")])
def test_meta_regression_summary(method, test):
    res = im.meta_regression(
        yi=[0.1, 0.3, 0.5, 0.4, 0.9, 0.2],
        vi=[0.01, 0.02, 0.04, 0.02, 0.03, 0.05],
        mods={"dose": [1, 2, 3, 4, 3, 1]},
        method=method,
        test=test,
    )
    text = str(res.summary())
    assert text == repr(res) and "nan" not in text.lower()
    assert f"(k = {res.k}" in text.splitlines()[0]
    lines = text.splitlines()
    for i, name in enumerate(res.coef_names):
        cells = next(line for line in lines if line.startswith(f"{name} ")).replace("< ", "<")
        cells = cells.split()[1:]
        for cell, value in zip(
            [cells[0], cells[1], cells[2], cells[-2], cells[-1]],
            [res.estimate[i], res.se[i], res.statistic[i], res.ci_lower[i], res.ci_upper[i]],
            strict=True,
        ):
            assert _close(cell, value)
    assert _close(_numbers(_line(text, "QE(df = "))[0], res.q)
    moderators = _line(text, "F(df = " if test == "knha" else "QM(df = ")
    assert _close(_numbers(moderators)[0], res.qm)
    if method != "FE":
        _check_tau2(res, text)
        assert abs(float(_line(text, "R\u00b2").split()[-1].rstrip("%")) - res.r2) <= 0.005 + 1e-9
    assert res.summary()["qm"] == res.qm
